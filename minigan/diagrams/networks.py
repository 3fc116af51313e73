"""CycleGAN's generator, stage by stage (chapter 8), drawn from the shapes a real forward pass produces."""
from __future__ import annotations

from typing import NamedTuple

import torch
from matplotlib.figure import Figure
from torch import nn

from ..cyclegan.networks import ResnetBlock, ResnetGenerator
from ._draw import BLUE, GREEN, GREY, ORANGE, arrow, box, canvas

__all__ = ["Stage", "generator_stages", "draw_resnet_generator"]


class Stage(NamedTuple):
    """One stage of the generator, named as in the CycleGAN paper's appendix (c7s1-64, d128, R256, u128, ...)."""
    name: str
    layers: int  # how many modules of ``model`` it spans
    shape: tuple[int, int, int]  # (C, H, W) of its output
    parameters: int


def _stage_name(modules: list[nn.Module], blocks: int) -> str:
    conv = next((m for m in modules if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))), None)
    if blocks:
        return f"R{modules[0].block[1].out_channels}" + (f" x {blocks}" if blocks > 1 else "")
    if isinstance(conv, nn.ConvTranspose2d):
        return f"u{conv.out_channels}"
    if conv.kernel_size[0] == 7:
        return f"c7s1-{conv.out_channels}"
    return f"d{conv.out_channels}"


def generator_stages(G: ResnetGenerator, *, size: int = 256) -> list[Stage]:
    """The stages of ``G`` with the (C, H, W) each outputs on a ``size`` x ``size`` input, measured by hooks."""
    shapes: dict[int, tuple[int, int, int]] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, i=i: shapes.__setitem__(i, tuple(out.shape[1:])))
             for i, m in enumerate(G.model)]
    try:
        first = next(G.parameters())
        with torch.no_grad():
            G(torch.zeros(1, G.model[1].in_channels, size, size, dtype=first.dtype, device=first.device))
    finally:
        for h in hooks:
            h.remove()
    stages, current = [], []
    children = list(G.model)
    for i, m in enumerate(children):
        current.append(i)
        nxt = children[i + 1] if i + 1 < len(children) else None
        if isinstance(m, (nn.ReLU, nn.Tanh)) or isinstance(m, ResnetBlock) and not isinstance(nxt, ResnetBlock):
            modules = [children[j] for j in current]
            blocks = sum(isinstance(x, ResnetBlock) for x in modules)
            stages.append(Stage(_stage_name(modules, blocks), len(current), shapes[current[-1]],
                                sum(p.numel() for x in modules for p in x.parameters())))
            current = []
    return stages


def draw_resnet_generator(G: ResnetGenerator, *, size: int = 256) -> Figure:
    """Boxes whose height follows each stage's image size, labelled with the paper's names, shapes and parameters."""
    stages = generator_stages(G, size=size)
    width = 1.6 * len(stages) + 1.6
    fig, ax = canvas(width, 6.2, figsize=(min(1.25 * width, 10), 4.4))
    mid = 3.2
    ax.text(0.4, mid, f"image\n{G.model[1].in_channels}x{size}x{size}", ha="center", va="center", fontsize=8)
    colours = {"c": GREY, "d": BLUE, "R": GREEN, "u": ORANGE}
    for n, stage in enumerate(stages):
        C, H, W = stage.shape
        h = 0.6 + 3.0 * H / size
        x = 1.2 + 1.6 * n
        box(ax, x, mid - h / 2, 1.1, h, color=colours[stage.name[0]] + "55", edge=colours[stage.name[0]], round_=False)
        above = 0.75 if stage.name.startswith("R") else 0.25  # clear of the skip arc
        ax.text(x + 0.55, mid + h / 2 + above, stage.name, ha="center", fontsize=9, weight="bold")
        ax.text(x + 0.55, mid - h / 2 - 0.3, f"{C}x{H}x{W}", ha="center", fontsize=7.5)
        ax.text(x + 0.55, mid - h / 2 - 0.62, f"{stage.parameters / 1e6:.2f}M" if stage.parameters >= 1e4
                else f"{stage.parameters:,}", ha="center", fontsize=7.5, color=GREY)
        arrow(ax, (x - 0.5, mid), (x, mid))
        if stage.name.startswith("R"):
            arrow(ax, (x + 0.1, mid + h / 2), (x + 1.0, mid + h / 2), connection="arc3,rad=-0.9", color=GREEN,
                  style="-|>")
    ax.text(width - 0.3, mid, "image", ha="center", va="center", fontsize=8)
    arrow(ax, (width - 1.0, mid), (width - 0.65, mid))
    total = sum(s.parameters for s in stages)
    ax.text(width / 2, 0.0, "c7s1-k: 7x7 conv with k filters, stride 1;  dk: 3x3 conv, stride 2;  "
            "uk: 3x3 transposed conv, stride 2; each followed by instance norm\nand ReLU, "
            "except the last c7s1 (tanh).  Rk: residual block x + [3x3 conv, norm, ReLU, 3x3 conv, norm](x).  "
            f"{total:,} parameters in all", ha="center", va="bottom", fontsize=7, color=GREY)
    return fig
