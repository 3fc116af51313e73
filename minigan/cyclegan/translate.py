"""Applying a trained CycleGAN to image files: the reference's test-time preprocessing, and a folder in, PNGs out.

This is what ``minigan cyclegan translate`` runs and what chapter 9 calls on
a reader's own photos. The reference's ``test.py`` resizes every image to the
training size and maps [0, 255] to [-1, 1] (no crop, no flip); ``size=0``
keeps each image's own size instead, cut down to a multiple of 4 (the
generator halves the resolution twice and doubles it back). Files that do
not decode are skipped and named in one warning line, as in training.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from PIL import Image
from torch import Tensor, nn
from torchvision import transforms as T

from ..data.folders import cyclegan_transform, list_images, load_rgb, skipped_message
from ..utils import progress_bar
from .model import CycleGAN

__all__ = ["prepare_image", "translate_files"]


def prepare_image(image: Image.Image, size: int) -> Tensor:
    """An RGB image as a generator's input (1, 3, H, W) in [-1, 1]: resized to size x size, or (``size=0``) kept."""
    if size:  # the reference's test preprocessing: resize, then [-1, 1]
        return cyclegan_transform(size, size, train=False)(image)[None]  # (1, 3, size, size)
    w, h = image.size
    if w < 4 or h < 4:
        raise ValueError(f"an image of {w}x{h} pixels is too small to translate (at least 4x4)")
    image = image.crop((0, 0, w - w % 4, h - h % 4))
    return T.Normalize((0.5,) * 3, (0.5,) * 3)(T.functional.to_tensor(image))[None]  # (1, 3, H, W)


def translate_files(model: CycleGAN | nn.Module, src: str | os.PathLike, out: str | os.PathLike, *, to: str = "y",
                    size: int | None = None, progress: bool = True,
                    echo: Callable[[str], None] = print) -> list[Path]:
    """Translate the image ``src``, or every image under the folder ``src``, into PNGs under ``out``; returns them.

    ``model``: a trained :class:`CycleGAN`, whose ``to="y"`` applies G (A to
    B) and ``"x"`` F; or one generator network, such as a pretrained one
    (:func:`~minigan.cyclegan.pretrained.pretrained_generator`). ``size``: the
    side to resize to (None: the training size, 256 for a lone generator;
    0: each image's own). The
    folder structure under ``src`` is kept. Files that do not decode (a
    truncated download, a decompression bomb) are skipped and named in one
    ``echo``-ed warning line; if none decodes (or ``src`` is one file that
    does not), a ``ValueError``.
    """
    from torchvision.utils import save_image

    src, out = Path(src), Path(out)
    if src.is_dir():
        files, base = list_images(src), src
    elif src.is_file():
        files, base = [src], src.parent
    else:
        raise FileNotFoundError(f"no image or folder at {src}")
    if isinstance(model, CycleGAN):
        net, trained_size = model.generator(to), model.cfg.image_size
    else:
        net, trained_size = model, 256  # the authors' pretrained generators were trained at 256x256
    size = trained_size if size is None else size
    device = next(net.parameters()).device
    written, bad = [], []
    for path in progress_bar(files, desc="translating", disable=not progress):
        try:
            x = prepare_image(load_rgb(path), size)
        except Exception as e:  # noqa: BLE001 -- Pillow raises OSError, ValueError, DecompressionBombError, ...
            if not src.is_dir():
                raise ValueError(f"could not read {src} as an image ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else ''})") from None
            bad.append(path)
            continue
        dest = out / path.relative_to(base).with_suffix(".png")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with torch.no_grad():
            y = net(x.to(device)).cpu()
        save_image(y, dest, normalize=True, value_range=(-1, 1))
        written.append(dest)
    if bad:
        echo(f"warning: {skipped_message(bad, base)}")
    if not written:
        raise ValueError(f"no readable image in {src}: nothing was translated")
    return written
