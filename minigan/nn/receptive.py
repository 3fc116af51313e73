"""Receptive fields: how much of the input one output value of a conv stack can see (chapter 2).

A stack of convolutions and poolings is described, layer by layer, by two
numbers: the receptive field r (the side, in input pixels, of the window that
one output value depends on) and the jump j (how many input pixels apart two
neighbouring outputs are). A layer with kernel k, stride s and dilation d maps
(r, j) to (r + (k - 1) d j, j s): each extra tap of the kernel reaches one
more output of the layer below, which is j input pixels further on. Padding
changes where the windows sit, not how big they are.

:func:`receptive_fields` computes this from the modules (``nn.Conv2d``,
``nn.MaxPool2d``, ``nn.AvgPool2d`` and this package's :class:`~minigan.nn.conv.Conv2d`);
:func:`measured_receptive_field` measures it instead, by backpropagating from
one output value and finding which input pixels get a gradient. The two must
agree, and the tests check that they do.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import Tensor, nn

from .conv import Conv2d

__all__ = ["LayerField", "receptive_fields", "measured_receptive_field", "pixels_seen"]


class LayerField(NamedTuple):
    """After layer ``name`` (kernel k, stride s): one output sees ``field`` x ``field`` inputs, ``jump`` apart."""
    name: str
    kernel: int
    stride: int
    field: int
    jump: int


def _geometry(m: nn.Module) -> tuple[int, int, int] | None:
    """(kernel, stride, dilation) along the height of a conv or pooling layer, None for any other module."""
    def first(v):
        return v[0] if isinstance(v, (tuple, list)) else v

    if isinstance(m, nn.Conv2d):
        return m.kernel_size[0], m.stride[0], m.dilation[0]
    if isinstance(m, Conv2d):
        return m.weight.shape[-2], first(m.stride), first(m.dilation)
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        k = first(m.kernel_size)
        return k, first(m.stride if m.stride is not None else k), first(getattr(m, "dilation", 1))
    if isinstance(m, (nn.ConvTranspose2d, nn.Upsample)):
        raise TypeError(f"{type(m).__name__} upsamples: the receptive field of a stack with it is not "
                        "a single window size (use the layers before it)")
    return None


def receptive_fields(module: nn.Module) -> list[LayerField]:
    """One :class:`LayerField` per conv or pooling layer of ``module``, in the order ``modules()`` lists them.

    That order is the order of computation for the ``nn.Sequential`` stacks of
    this book; the last entry's ``field`` is the receptive field of the whole
    stack (70 for the 3-layer PatchGAN). Only layers that are modules count:
    a pooling written as a function call inside ``forward`` is invisible here
    (:func:`measured_receptive_field` would see it).
    """
    field, jump, out = 1, 1, []
    for name, m in module.named_modules():
        geometry = _geometry(m)
        if geometry is None:
            continue
        k, s, d = geometry
        field, jump = field + (k - 1) * d * jump, jump * s
        out.append(LayerField(name or type(m).__name__, k, s, field, jump))
    return out


def measured_receptive_field(module: nn.Module, *, in_channels: int, size: int) -> int:
    """The side of the input square that gets a gradient from the centre output value, on a ``size`` x ``size`` input.

    Measured on a copy of ``module`` whose conv weights are all 1, biases 0,
    and whose activations and normalisations are replaced by identities, so
    no gradient is zero by accident (a dead ReLU) and none spreads everywhere
    (instance norm's mean and variance depend on every pixel, so with it, in
    the strict sense, every output depends a little on the whole image: the
    receptive field counts the convolutions' windows). Max pooling is probed
    as average pooling over the same windows (a max sends its gradient to one
    input). Unlike :func:`receptive_fields` this also measures stacks that
    upsample (a generator's output pixel depends on a window of its input
    too). ``module`` maps images to images (no flattening head); ``size``
    must be large enough that the centre output's window lies inside the input.
    """
    probe = _probe(module)
    x = torch.zeros(1, in_channels, size, size, dtype=torch.double, requires_grad=True)
    y = probe(x)  # (1, C, H', W')
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows, cols = _nonzero_span(x.grad[0].abs().sum(0))
    if rows[0] == 0 or cols[0] == 0 or rows[1] == size - 1 or cols[1] == size - 1:
        raise ValueError(f"the centre output's window reaches the border of a {size}x{size} input: use a larger size")
    return max(rows[1] - rows[0], cols[1] - cols[0]) + 1


def pixels_seen(module: nn.Module, *, in_channels: int, size: int) -> Tensor:
    """How many pixels of a ``size`` x ``size`` input each output position depends on: (H_out, W_out) integers.

    Measured like :func:`measured_receptive_field` (one backward pass per
    output position), but without asking the windows to fit: near the border a
    window reaches into the padding, and only the pixels inside count.
    """
    probe = _probe(module)
    x = torch.zeros(1, in_channels, size, size, dtype=torch.double, requires_grad=True)
    y = probe(x)  # (1, C, H', W')
    seen = torch.zeros(y.shape[-2:], dtype=torch.long)
    for i in range(y.shape[-2]):
        for j in range(y.shape[-1]):
            (g,) = torch.autograd.grad(y[0, 0, i, j], x, retain_graph=True)
            seen[i, j] = int((g[0].abs().sum(0) != 0).sum())
    return seen


def _probe(module: nn.Module) -> nn.Module:
    """A float64 copy of ``module`` with conv weights 1, biases 0, and no activations or norms (see above)."""
    probe = copy.deepcopy(module).cpu().double()
    for m in list(probe.modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.MaxPool2d):  # a max routes its gradient to one input of the window
                setattr(m, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
            elif not (_is_layer(child) or list(child.children()) or _is_padding(child)):
                setattr(m, child_name, nn.Identity())  # activations, norms, dropout: out of the way
    with torch.no_grad():
        for p_name, p in probe.named_parameters():
            p.fill_(0.0 if p_name.endswith("bias") else 1.0)
    return probe


def _is_layer(m: nn.Module) -> bool:
    return isinstance(m, (nn.Conv2d, Conv2d, nn.ConvTranspose2d, nn.Upsample, nn.AvgPool2d))


def _is_padding(m: nn.Module) -> bool:
    return type(m).__module__ == nn.ZeroPad2d.__module__  # ReflectionPad2d, ZeroPad2d, ...: they stay


def _nonzero_span(g: Tensor) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first, last) row and (first, last) column where ``g`` (H, W) is non-zero."""
    rows = g.sum(1).nonzero().flatten()
    cols = g.sum(0).nonzero().flatten()
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))
