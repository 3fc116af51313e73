"""Small drawing helpers the diagrams share: boxes, arrows, labelled grids, on a blank matplotlib axis."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from ..plot import CLASS_COLORS, DPI

# the book's Okabe & Ito colours (minigan.plot), by name
BLUE, ORANGE, GREEN, PINK, SKY, RED, YELLOW = CLASS_COLORS[:7]
GREY, LIGHT = "#666666", "#EEEEEE"


def canvas(width: float, height: float, *, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one blank axis whose data coordinates run over [0, width] x [0, height], aspect 1."""
    fig, ax = plt.subplots(figsize=figsize, dpi=DPI)
    blank(ax, width, height)
    return fig, ax


def blank(ax: Axes, width: float, height: float) -> Axes:
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def box(ax: Axes, x: float, y: float, w: float, h: float, text: str = "", *, color: str = LIGHT,
        edge: str = GREY, fontsize: float = 9, round_: bool = True, **text_kw) -> FancyBboxPatch:
    """A box with its lower-left corner at (x, y) and ``text`` in its centre; returns the patch."""
    style = "round,pad=0,rounding_size=0.15" if round_ else "square,pad=0"
    patch = FancyBboxPatch((x, y), w, h, boxstyle=style, facecolor=color, edgecolor=edge, linewidth=1.2)
    ax.add_patch(patch)
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, **text_kw)
    return patch


def circle(ax: Axes, x: float, y: float, text: str, *, r: float = 0.22, color: str = "white",
           fontsize: float = 10) -> None:
    """A small round operator node (×, +, tanh) centred at (x, y)."""
    ax.add_patch(plt.Circle((x, y), r, facecolor=color, edgecolor=GREY, linewidth=1.2, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], *, color: str = GREY,
          connection: str = "arc3", lw: float = 1.3, style: str = "-|>", **kw) -> FancyArrowPatch:
    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, color=color, lw=lw,
                            connectionstyle=connection, shrinkA=0, shrinkB=0, zorder=2, **kw)
    ax.add_patch(patch)
    return patch


def grid(ax: Axes, values: np.ndarray | None, x: float, y: float, *, cell: float = 1.0,
         colors: np.ndarray | None = None, fmt: str = "{:g}", fontsize: float = 8,
         edge: str = GREY) -> None:
    """A table of cells, row 0 at the top, lower-left corner at (x, y); ``values`` written in the cells if given.

    ``colors`` is an array of face colours with the same (rows, cols) shape, or None for white.
    """
    shape = (values if values is not None else colors).shape[:2]
    rows, cols = shape
    for r in range(rows):
        for c in range(cols):
            face = colors[r][c] if colors is not None else "white"
            cx, cy = x + c * cell, y + (rows - 1 - r) * cell
            ax.add_patch(Rectangle((cx, cy), cell, cell, facecolor=face, edgecolor=edge, linewidth=0.8))
            if values is not None:
                ax.text(cx + cell / 2, cy + cell / 2, fmt.format(values[r][c]), ha="center", va="center",
                        fontsize=fontsize)


def outline(ax: Axes, x: float, y: float, w: float, h: float, *, color: str, lw: float = 2.2,
            linestyle: str = "-") -> Rectangle:
    patch = Rectangle((x, y), w, h, fill=False, edgecolor=color, linewidth=lw, linestyle=linestyle, zorder=5)
    ax.add_patch(patch)
    return patch
