"""Convolution diagrams (chapters 2 and 8): padding and stride, im2col, and the receptive field of a conv stack.

Every cell these diagrams colour or number comes from the package's own
functions (``extract_patches``, ``conv_output_size``, ``receptive_fields``),
so a diagram cannot drift from what the code computes.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..nn.conv import conv_output_size, extract_patches
from ..nn.receptive import receptive_fields
from ._draw import BLUE, DPI, GREEN, GREY, LIGHT, ORANGE, PINK, RED, SKY, blank, grid, outline

__all__ = ["window_cells", "draw_conv_geometry", "im2col", "draw_im2col", "draw_receptive_field"]

_WINDOW_COLORS = [BLUE, ORANGE, GREEN, PINK, RED, SKY]


def window_cells(size: int, kernel: int, stride: int, padding: int) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """For each output position (i, j), the (row, col) cells of the padded input its window covers.

    Read off :func:`extract_patches` applied to an image of cell indices, so it is the code's geometry.
    """
    side = size + 2 * padding
    index = torch.arange(side * side, dtype=torch.float64).reshape(1, 1, side, side)
    patches = extract_patches(index, kernel, stride=stride)[0, 0]  # (H_out, W_out, k, k) of cell indices
    return {(i, j): [divmod(int(v), side) for v in patches[i, j].flatten()]
            for i in range(patches.shape[0]) for j in range(patches.shape[1])}


def draw_conv_geometry(cases: Sequence[tuple[int, int, int, int]] = ((5, 3, 1, 1), (5, 3, 2, 1), (5, 3, 2, 0))
                       ) -> Figure:
    """One panel per (size, kernel, stride, padding): the padded input with the windows of the first output row.

    Grey cells are padding; each coloured outline is one window (the first
    three of the top row), and the output grid beside it has the matching cell
    coloured. The title gives the
    output-size formula with the case's numbers.
    """
    fig, axes = plt.subplots(1, len(cases), figsize=(3.3 * len(cases), 2.6), dpi=DPI)
    for ax, (size, k, s, p) in zip(np.atleast_1d(axes), cases):
        out = conv_output_size(size, k, s, p)
        side = size + 2 * p
        cells = window_cells(size, k, s, p)
        colors = np.full((side, side), "white", dtype=object)
        colors[:p, :], colors[side - p:, :], colors[:, :p], colors[:, side - p:] = LIGHT, LIGHT, LIGHT, LIGHT
        blank(ax, side + out + 1.5, max(side, out) + 0.2)
        grid(ax, None, 0, 0, colors=colors)
        out_colors = np.full((out, out), "white", dtype=object)
        for j in range(min(out, 3)):
            window = cells[(0, j)]
            (r0, c0), (r1, c1) = window[0], window[-1]
            inset = 0.08 * (j + 1)  # overlapping windows stay distinguishable
            outline(ax, c0 + inset, side - 1 - r1 + inset, c1 - c0 + 1 - 2 * inset, r1 - r0 + 1 - 2 * inset,
                    color=_WINDOW_COLORS[j])
            out_colors[0, j] = _WINDOW_COLORS[j]
        grid(ax, None, side + 1.5, side - out, colors=out_colors)
        ax.set_title(f"{size}x{size}, kernel {k}, stride {s}, padding {p}\n"
                     f"out = ⌊({size} + 2·{p} − {k}) / {s}⌋ + 1 = {out}", fontsize=9)
    fig.tight_layout()
    return fig


def im2col(x: Tensor, kernel: Tensor) -> tuple[Tensor, Tensor]:
    """Convolution as one matrix product: ``x`` (H, W), ``kernel`` (k, k) -> (patches (H_out W_out, k k), out (H_out, W_out)).

    Row r of ``patches`` is the window of output position r (row-major), flattened; ``out = patches @ kernel.flatten()``.
    """
    windows = extract_patches(x[None, None], kernel.shape[-1])[0, 0]  # (H_out, W_out, k, k)
    H_out, W_out = windows.shape[:2]
    patches = windows.reshape(H_out * W_out, -1)
    return patches, (patches @ kernel.flatten()).reshape(H_out, W_out)


def draw_im2col(x: Tensor, kernel: Tensor) -> Figure:
    """The input with its first window, the patch matrix, the flattened kernel and the product, all numbered."""
    patches, out = im2col(x, kernel)
    k = kernel.shape[-1]
    H, W = x.shape
    n, kk = patches.shape
    c = 0.5
    height = max(n, H, kk) * c + 0.8
    width = W * c + kk * c + out.shape[1] * c + 5.3
    fig, ax = plt.subplots(figsize=(width * 0.72, height * 0.72), dpi=DPI)
    blank(ax, width, height)
    top = height - 0.5
    grid(ax, x.numpy(), 0, top - H * c, cell=c)
    outline(ax, 0, top - k * c, k * c, k * c, color=BLUE)
    ax.text(W * c / 2, top + 0.25, f"input {H}x{W}", ha="center", fontsize=9)
    x0 = W * c + 1.0
    colors = np.full((n, kk), "white", dtype=object)
    colors[0, :] = "#cfe3f3"
    grid(ax, patches.numpy(), x0, top - n * c, cell=c, colors=colors)
    ax.text(x0 + kk * c / 2, top + 0.25, f"patches: {n} windows x {kk} pixels", ha="center", fontsize=9)
    ax.annotate("", (x0 - 0.1, top - 0.25), (W * c + 0.1, top - 0.25), arrowprops=dict(arrowstyle="->", color=BLUE))
    x1 = x0 + kk * c + 0.5
    ax.text(x1 + 0.1, top - n * c / 2, "@", fontsize=12, va="center")
    grid(ax, kernel.flatten()[:, None].numpy(), x1 + 0.5, top - kk * c, cell=c)
    ax.text(x1 + 0.75, top + 0.25, "kernel", ha="center", fontsize=9)
    x2 = x1 + 1.5
    ax.text(x2, top - n * c / 2, "=", fontsize=12, va="center")
    grid(ax, out.flatten()[:, None].numpy(), x2 + 0.45, top - n * c, cell=c)
    x3 = x2 + 1.4
    ax.text(x3 - 0.15, top - n * c / 2, "→", fontsize=12, va="center")
    grid(ax, out.numpy(), x3 + 0.35, top - out.shape[0] * c, cell=c)
    ax.text(x3 + 0.35 + out.shape[1] * c / 2, top + 0.25, f"output {out.shape[0]}x{out.shape[1]}", ha="center",
            fontsize=9)
    return fig


def _layer_label(m: nn.Module) -> str:
    return "pool" if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) else "conv"


def draw_receptive_field(module: nn.Module, *, size: int, in_channels: int = 3, image: Tensor | None = None,
                         title: str = "") -> Figure:
    """Left: a ``size`` x ``size`` input (``image`` (C, H, W) in [-1, 1] if given) with the window one output sees
    after each layer, nested; right: the output map with that output marked.

    The windows come from :func:`minigan.nn.receptive_fields`; they are drawn
    centred on one point (each layer's window of a centre unit sits inside the
    next one's). A window larger than the input reaches into the padding.
    """
    fields = receptive_fields(module)
    kinds = {name: _layer_label(m) for name, m in module.named_modules()}
    with torch.no_grad():
        first = next(module.parameters(), None)
        probe = torch.zeros(1, in_channels, size, size, dtype=first.dtype if first is not None else torch.float32)
        out_side = module(probe).shape[-1]
    biggest = fields[-1].field
    margin = max(0.0, (biggest - size) / 2) + size * 0.04
    fig, (ax, ax_out) = plt.subplots(1, 2, figsize=(8, 3.8), dpi=DPI, gridspec_kw={"width_ratios": [1.6, 1]})
    blank(ax, size + margin, size + margin)
    ax.set_xlim(-margin, size + margin)
    ax.set_ylim(-margin, size + margin)
    if image is not None:
        shown = ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).squeeze(-1).numpy()
        ax.imshow(shown, extent=(0, size, 0, size), cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
    else:
        ax.add_patch(plt.Rectangle((0, 0), size, size, facecolor=LIGHT, edgecolor=GREY))
    ax.add_patch(plt.Rectangle((0, 0), size, size, fill=False, edgecolor="black", lw=1))
    centre = size / 2
    for n, (f, color) in enumerate(zip(fields, _WINDOW_COLORS * 3)):
        outline(ax, centre - f.field / 2, centre - f.field / 2, f.field, f.field, color=color, lw=1.8)
        ax.text(size + margin, size + margin - (n + 0.5) * (size + 2 * margin) / (len(fields) + 1),
                f"{kinds.get(f.name, 'conv')} {f.kernel}x{f.kernel}, stride {f.stride}: {f.field}x{f.field}",
                color=color, fontsize=8, ha="left", va="center")
    ax.set_title(title or f"input {size}x{size}: what one output sees", fontsize=9)
    colors = np.full((out_side, out_side), "white", dtype=object)
    colors[out_side // 2, out_side // 2] = _WINDOW_COLORS[(len(fields) - 1) % len(_WINDOW_COLORS)]
    blank(ax_out, out_side, out_side)
    grid(ax_out, None, 0, 0, colors=colors, edge=GREY if out_side <= 16 else "#BBBBBB")
    ax_out.set_title(f"output {out_side}x{out_side}: one value per window", fontsize=9)
    fig.tight_layout()
    return fig
