"""Paired images from folders, in the two layouts pix2pix's reference code reads [isola2017pix2pix].

Shapes: N pairs, 3 channels, S x S images in [-1, 1].

- **Side by side** (the reference's ``aligned`` data sets: facades, maps,
  edges2shoes, ...): each file holds the input A on the left half and its
  output B on the right half, ``train/``, ``val/`` and ``test/`` folders of them.
- **Two aligned folders**: ``folder_a/name`` and ``folder_b/name`` are the two
  sides of one pair (the reference's ``combine_A_and_B.py`` joins such folders
  into the first layout). Pairs are matched by their path inside each folder,
  without the suffix, so ``a/12.png`` pairs with ``b/12.jpg``.

Both give two tensors whose rows are pairs; ``direction="BtoA"`` swaps them,
as the reference's ``--direction``. Each side is resized to S x S (bicubic),
as the reference's test transform; files that do not decode are skipped with
one warning, and a file without a partner is an error that names it.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from .folders import _warn_skipped, cyclegan_transform, list_images, load_rgb

__all__ = ["split_pair", "load_side_by_side", "load_aligned_folders", "DIRECTIONS"]

DIRECTIONS = ("AtoB", "BtoA")


def split_pair(image: Image.Image) -> tuple[Image.Image, Image.Image]:
    """A side-by-side pair -> (A, B): the left and the right half (an odd width's last column is dropped)."""
    w, h = image.size
    if w < 2:
        raise ValueError(f"a side-by-side pair needs at least 2 columns, got an image {w} wide")
    half = w // 2
    return image.crop((0, 0, half, h)), image.crop((half, 0, 2 * half, h))


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def _oriented(a: Tensor, b: Tensor, direction: str) -> tuple[Tensor, Tensor]:
    return (a, b) if direction == "AtoB" else (b, a)


def load_side_by_side(folder: str | os.PathLike, size: int, *, direction: str = "AtoB") -> tuple[Tensor, Tensor]:
    """Every A|B image under ``folder``, in sorted order, split and resized: (x, y), each (N, 3, size, size)."""
    _check_direction(direction)
    folder = Path(folder)
    transform = cyclegan_transform(size, size, train=False)
    xs, ys, bad = [], [], []
    for path in list_images(folder):
        try:
            a, b = split_pair(load_rgb(path))
            xs.append(transform(a))
            ys.append(transform(b))
        except Exception:  # noqa: BLE001 -- Pillow raises OSError, ValueError, DecompressionBombError, ...
            bad.append(path)
    _warn_skipped(bad, folder)
    if not xs:
        raise FileNotFoundError(f"no readable side-by-side images under {folder}")
    return _oriented(torch.stack(xs), torch.stack(ys), direction)


def load_aligned_folders(folder_a: str | os.PathLike, folder_b: str | os.PathLike, size: int, *,
                         direction: str = "AtoB") -> tuple[Tensor, Tensor]:
    """Pairs ``folder_a/p`` and ``folder_b/p`` (the same path without its suffix), sorted: (x, y), each (N, 3, S, S)."""
    _check_direction(direction)
    folder_a, folder_b = Path(folder_a), Path(folder_b)
    keyed = []
    for folder in (folder_a, folder_b):
        files: dict[Path, Path] = {}
        for path in list_images(folder):
            key = path.relative_to(folder).with_suffix("")
            if key in files:
                raise ValueError(f"{files[key]} and {path} would be the same pair's side; rename one")
            files[key] = path
        keyed.append(files)
    only_a, only_b = sorted(keyed[0].keys() - keyed[1].keys()), sorted(keyed[1].keys() - keyed[0].keys())
    if only_a or only_b:
        named = [f"{folder_a / k} has no partner in {folder_b}" for k in only_a[:5]]
        named += [f"{folder_b / k} has no partner in {folder_a}" for k in only_b[:5]]
        raise ValueError(f"{len(only_a) + len(only_b)} image(s) without a partner: " + "; ".join(named))
    transform = cyclegan_transform(size, size, train=False)
    xs, ys, bad = [], [], []
    for key in sorted(keyed[0]):
        pa, pb = keyed[0][key], keyed[1][key]
        try:
            a, b = transform(load_rgb(pa)), transform(load_rgb(pb))
        except Exception:  # noqa: BLE001 -- as above; the pair is skipped as a whole
            bad.append(pa)
            continue
        xs.append(a)
        ys.append(b)
    _warn_skipped(bad, folder_a)
    if not xs:
        raise FileNotFoundError(f"no readable pairs in {folder_a} and {folder_b}")
    return _oriented(torch.stack(xs), torch.stack(ys), direction)
