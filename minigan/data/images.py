"""Real photographs that ship inside an installed package (matplotlib's sample data): nothing to download."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

__all__ = ["PHOTOS", "load_photo"]

# name -> file in matplotlib's bundled sample data
PHOTOS = {
    # Rear Admiral Grace Hopper in uniform, 1984 (U.S. Navy photograph, public domain); 512 x 600 RGB.
    "grace_hopper": "grace_hopper.jpg",
}


def load_photo(name: str = "grace_hopper", *, size: int | tuple[int, int] | None = None,
               gray: bool = False) -> Tensor:
    """A photo as a float32 tensor (C, H, W) in [0, 1]; C is 1 if ``gray`` else 3.

    ``size`` resizes (bilinear, antialiased): an int sets the shorter side and
    keeps the aspect ratio; a pair is (H, W).
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {sorted(PHOTOS)}")
    from matplotlib import cbook

    path = cbook.get_sample_data(PHOTOS[name], asfileobj=False)
    with Image.open(path) as im:
        im = im.convert("L" if gray else "RGB")
        if size is not None:
            if isinstance(size, int):
                w, h = im.size
                scale = size / min(w, h)
                new = (max(1, round(w * scale)), max(1, round(h * scale)))
            else:
                new = (size[1], size[0])
            im = im.resize(new, Image.Resampling.BILINEAR, reducing_gap=None)
        arr = np.asarray(im, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3)
    t = torch.from_numpy(arr.copy())
    return t.unsqueeze(0) if gray else t.permute(2, 0, 1).contiguous()  # (C, H, W)
