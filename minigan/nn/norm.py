"""Batch normalisation and instance normalisation from scratch (training-mode statistics).

Shapes: N batch, C channels, then any number of spatial dimensions (H, W for images).

Both subtract a mean and divide by a standard deviation, then apply a
per-channel scale ``weight`` (gamma) and shift ``bias`` (beta). They differ only
in *which* numbers the statistics are taken over:

- :func:`batch_norm`: per channel, over the batch and all positions,
  dims (0, 2, 3, ...) [ioffe2015batchnorm]. Every image's output depends on
  the other images in its batch.
- :func:`instance_norm`: per image and channel, over positions only,
  dims (2, 3, ...) [ulyanov2016instancenorm]. Every image is normalised on
  its own, which removes its brightness and contrast per channel.

The variance is the biased one (divide by the count), as PyTorch uses for
normalising; the running variance that ``batch_norm`` can update is the
unbiased one, as ``nn.BatchNorm2d`` keeps it. Only the forward passes are ours;
autograd differentiates them, and the tests check both against PyTorch.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["batch_norm", "instance_norm"]


def _normalise(x: Tensor, dims: tuple[int, ...], weight: Tensor | None, bias: Tensor | None,
               eps: float) -> tuple[Tensor, Tensor, Tensor]:
    mean = x.mean(dim=dims, keepdim=True)
    var = (x - mean).square().mean(dim=dims, keepdim=True)  # biased variance
    y = (x - mean) / torch.sqrt(var + eps)
    shape = (1, -1) + (1,) * (x.dim() - 2)  # broadcast a (C,) vector over (N, C, ...)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y, mean, var


def _check(x: Tensor) -> None:
    if x.dim() < 3:
        raise ValueError(f"x must be (N, C, ...) with at least one spatial dimension, got shape {tuple(x.shape)}")


def batch_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, *,
               running_mean: Tensor | None = None, running_var: Tensor | None = None,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch norm with the batch's statistics, as ``F.batch_norm(..., training=True)``.

    ``x`` (N, C, ...) -> same shape:
    ``y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c``, with
    ``mean_c``, ``var_c`` over the batch and every position of channel c.
    If ``running_mean`` / ``running_var`` (C,) are given they are updated in
    place, ``r <- (1 - momentum) r + momentum * stat`` (unbiased variance),
    which is what ``nn.BatchNorm2d`` uses in eval mode instead of the batch's.
    """
    _check(x)
    dims = (0, *range(2, x.dim()))
    y, mean, var = _normalise(x, dims, weight, bias, eps)
    if running_mean is not None or running_var is not None:
        count = x.numel() // x.shape[1]
        with torch.no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean.reshape(-1))
            if running_var is not None:
                unbiased = var.reshape(-1) * count / max(count - 1, 1)
                running_var.mul_(1 - momentum).add_(momentum * unbiased)
    return y


def instance_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, *,
                  eps: float = 1e-5) -> Tensor:
    """Instance norm, as ``F.instance_norm`` (and ``nn.InstanceNorm2d``, which by default has no weight).

    ``x`` (N, C, ...) -> same shape:
    ``y = (x - mean_nc) / sqrt(var_nc + eps) * weight_c + bias_c``, with
    ``mean_nc``, ``var_nc`` over the positions of channel c of image n only.
    """
    _check(x)
    return _normalise(x, tuple(range(2, x.dim())), weight, bias, eps)[0]
