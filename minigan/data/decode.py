"""Any image file as 8-bit RGB: the one decoder behind every folder the book reads, for training and translating.

Photos come in every mode Pillow knows: grey, palette, CMYK, 16-bit grey,
with or without transparency. The networks want 8-bit RGB, so
:func:`load_rgb` converts each the way a viewer would show it.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

__all__ = ["load_rgb"]


def _to_8bit(im: Image.Image) -> Image.Image:
    """A one-channel image of more than 8 bits (modes I;16*, I, F) as mode L, scaled rather than clipped.

    Pillow's own ``convert`` clips these to 255, so a 16-bit photo would come
    out all white. 16-bit modes are divided by 257 (65535 -> 255); mode I is
    read as 16-bit if its values go above 255, and mode F as [0, 1] if they fit
    there; anything else is stretched from its own minimum to its maximum.
    """
    a = np.asarray(im, dtype=np.float64)  # (H, W)
    lo, hi = (a.min(), a.max()) if a.size else (0.0, 0.0)
    if im.mode.startswith("I;16") or (im.mode == "I" and 0 <= lo and 255 < hi <= 65535):
        a = a * (255 / 65535)
    elif im.mode == "F" and 0 <= lo and hi <= 1:
        a = a * 255
    elif not (0 <= lo and hi <= 255):
        a = (a - lo) * (255 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))  # (H, W) uint8: mode L


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """The image at ``path`` as an 8-bit RGB PIL image, decoded in full (a broken file raises here).

    Any mode Pillow opens is accepted: grey (L, 1), palette (P), CMYK, 16-bit
    and 32-bit grey (scaled to 8 bits, not clipped). Transparent pixels (RGBA,
    LA, PA, or a palette or PNG with a transparent colour) are composited over
    **white**, which is what a viewer shows; dropping the alpha channel
    instead would show whatever colour the file stores under them (often black).
    """
    with Image.open(path) as im:
        im.load()
        if im.mode in ("I", "F") or im.mode.startswith("I;16"):
            im = _to_8bit(im)
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            return Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), rgba).convert("RGB")
        return im.convert("RGB")
