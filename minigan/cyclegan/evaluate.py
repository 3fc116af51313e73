"""Scoring a translation against the ground truth, where there is one: the scenes benchmark.

Shapes: M held-out scenes, C = 3, S x S images in [-1, 1].

For every held-out scene we know what the perfect translation looks like (the
same scene rendered in the other style, :func:`minigan.data.scenes.scene_pairs`),
so a translator can be scored the way a paired problem would be:

- **L1**: mean absolute error per pixel and channel, in the images' [-1, 1]
  units (2 = as wrong as possible, 0 = exact);
- **PSNR**: 10 log10(range² / MSE) in dB with range 2 (higher is better; every
  halving of the RMS error adds 6 dB);
- both also **on the shapes only** (``pairs.mask``), since the background is
  most of every image and only a colour change, while the shapes carry the
  stripes that have to be drawn.

The identity baseline (output = input) scores what "changing nothing" gets:
``translation_scores(pairs, pairs.A, pairs.B)``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..data.scenes import Pairs

__all__ = ["translation_scores", "score_model", "psnr"]


def psnr(output: Tensor, target: Tensor, *, data_range: float = 2.0) -> float:
    """Peak signal-to-noise ratio in dB over all elements (images in [-1, 1]: ``data_range`` 2); inf if equal."""
    mse = (output.double() - target.double()).pow(2).mean().item()
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def _scores(output: Tensor, target: Tensor, mask: Tensor) -> dict[str, float]:
    err = (output.double() - target.double()).abs()  # (M, 3, S, S)
    inside = mask.expand_as(err)  # (M, 3, S, S)
    return {"l1": err.mean().item(), "psnr": psnr(output, target),
            "l1_shapes": err[inside].mean().item(), "psnr_shapes": psnr(output[inside], target[inside])}


def translation_scores(pairs: Pairs, a2b: Tensor, b2a: Tensor) -> dict[str, dict[str, float]]:
    """Scores of translations ``a2b`` (M, 3, S, S) of ``pairs.A`` and ``b2a`` of ``pairs.B`` against the truth.

    Returns ``{"A→B": {"l1", "psnr", "l1_shapes", "psnr_shapes"}, "B→A": {...}}``.
    """
    for name, out, ref in (("a2b", a2b, pairs.B), ("b2a", b2a, pairs.A)):
        if out.shape != ref.shape:
            raise ValueError(f"{name} must have the pairs' shape {tuple(ref.shape)}, got {tuple(out.shape)}")
    return {"A→B": _scores(a2b, pairs.B, pairs.mask), "B→A": _scores(b2a, pairs.A, pairs.mask)}


@torch.no_grad()
def score_model(model, pairs: Pairs, *, batch_size: int = 256) -> dict[str, dict[str, float]]:
    """:func:`translation_scores` of a :class:`~minigan.cyclegan.CycleGAN`: G on ``pairs.A``, F on ``pairs.B``."""
    a2b = torch.cat([model.translate(a, to="y") for a in pairs.A.split(batch_size)])
    b2a = torch.cat([model.translate(b, to="x") for b in pairs.B.split(batch_size)])
    return translation_scores(pairs, a2b, b2a)
