"""Real handwritten digits that ship inside scikit-learn: 1,797 images of 8 x 8 pixels, nothing to download.

They are the UCI "Optical Recognition of Handwritten Digits" test set (43
writers), bundled with scikit-learn as ``sklearn.datasets.load_digits``.
Shapes: N images, 1 channel, 8 x 8 pixels.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["Digits", "load_digits"]


class Digits(NamedTuple):
    """A train/test split: images (N, 1, 8, 8) (or (N, 64) flattened) and labels (N,) in 0..9."""

    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor


def load_digits(*, test_fraction: float = 0.25, seed: int = 0, flatten: bool = False,
                value_range: tuple[float, float] = (0.0, 1.0), dtype: torch.dtype | None = None) -> Digits:
    """The 8 x 8 digits as float tensors, split per class so train and test have every digit.

    Pixel values (0..16 in the source) are scaled linearly to ``value_range``:
    (0, 1) for classifiers, (-1, 1) for GANs whose generator ends in tanh.
    The split is stratified and drawn from ``seed``, so it is the same on every
    machine. Images have ``dtype``, by default torch's default dtype (float32
    unless a chapter switched to float64).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits as _sk_load_digits  # bundled file, no network

    images, labels = _sk_load_digits(return_X_y=True)
    dtype = dtype or torch.get_default_dtype()
    X = torch.as_tensor(images, dtype=dtype).reshape(-1, 1, 8, 8) / 16.0  # (N, 1, 8, 8) in [0, 1]
    lo, hi = value_range
    X = lo + (hi - lo) * X
    y = torch.as_tensor(labels, dtype=torch.long)  # (N,)
    g = torch.Generator().manual_seed(seed)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = (y == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = round(test_fraction * len(idx))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train = torch.cat(train_idx)[torch.randperm(sum(map(len, train_idx)), generator=g)]
    test = torch.cat(test_idx)[torch.randperm(sum(map(len, test_idx)), generator=g)]
    if flatten:
        X = X.reshape(len(X), -1)  # (N, 64)
    return Digits(X[train], y[train], X[test], y[test])
