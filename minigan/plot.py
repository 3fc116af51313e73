"""Plotting helpers: image grids, training curves, 2-D decision boundaries, and a live-plot callback.

Each function returns a matplotlib ``Figure`` (or draws into an ``ax`` you
pass), so a notebook decides when to show it. Figures are small (100 dpi) to
keep notebooks light. Shapes: B batch, C channels, H, W image size.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from torch import Tensor, nn

__all__ = ["image_grid", "show_images", "show_image_rows", "plot_history", "plot_decision_boundary", "LivePlot",
           "smooth", "CLASS_COLORS"]

DPI = 100
# Colour-blind-safe class colours (Okabe & Ito), background tints derived from them.
CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def image_grid(images: Tensor, *, nrow: int = 8, padding: int = 2, value_range: tuple[float, float] = (-1, 1),
               pad_value: float = 1.0) -> Tensor:
    """Tile ``images`` (B, C, H, W) into one image (C, H', W') in [0, 1], ``nrow`` images per row.

    Values are mapped from ``value_range`` (GAN outputs live in [-1, 1]) to
    [0, 1] and clipped; ``padding`` pixels of ``pad_value`` separate the tiles
    and frame the grid, as ``torchvision.utils.make_grid`` does.
    """
    if images.dim() == 3:  # (B, H, W): one channel
        images = images.unsqueeze(1)
    if images.dim() != 4:
        raise ValueError(f"images must be (B, C, H, W) or (B, H, W), got shape {tuple(images.shape)}")
    lo, hi = value_range
    images = ((images.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
    B, C, H, W = images.shape
    ncol = min(nrow, B)
    nrows = math.ceil(B / ncol)
    grid = torch.full((C, nrows * (H + padding) + padding, ncol * (W + padding) + padding), float(pad_value))
    for k in range(B):
        r, c = divmod(k, ncol)
        top, left = padding + r * (H + padding), padding + c * (W + padding)
        grid[:, top:top + H, left:left + W] = images[k]
    return grid  # (C, H', W')


def _imshow_grid(ax: Axes, grid: Tensor) -> None:
    """Draw a grid (C, H', W') in [0, 1] from :func:`image_grid`: grayscale for C=1, RGB for C=3."""
    if grid.shape[0] == 1:
        ax.imshow(grid[0].numpy(), cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(grid.permute(1, 2, 0).numpy())  # (H', W', C)


def show_images(images: Tensor, *, nrow: int = 8, title: str | None = None,
                value_range: tuple[float, float] = (-1, 1), scale: float = 1.0, ax: Axes | None = None) -> Figure:
    """Show ``images`` (B, C, H, W) as one grid; grayscale for C=1, RGB for C=3."""
    grid = image_grid(images, nrow=nrow, value_range=value_range)  # (C, H', W')
    if ax is None:
        h, w = grid.shape[1:]
        fig, ax = plt.subplots(figsize=(max(2.0, scale * w / 40), max(1.5, scale * h / 40)), dpi=DPI)
    _imshow_grid(ax, grid)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def show_image_rows(rows: Mapping[str, Tensor], *, value_range: tuple[float, float] = (-1, 1),
                    scale: float = 1.0) -> Figure:
    """One labelled row per entry of ``rows`` (label -> images (B, C, H, W)), e.g. inputs, outputs, the truth."""
    if not rows:
        raise ValueError("rows must not be empty")
    grids = {label: image_grid(imgs, nrow=len(imgs), value_range=value_range) for label, imgs in rows.items()}
    h, w = max(g.shape[1] for g in grids.values()), max(g.shape[2] for g in grids.values())
    fig, axes = plt.subplots(len(grids), 1, figsize=(max(2.0, scale * w / 40) + 1.2, scale * h * len(grids) / 40),
                             dpi=DPI, squeeze=False)
    for ax, (label, grid) in zip(axes[:, 0], grids.items()):
        _imshow_grid(ax, grid)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average over ``window`` values (shorter at the start, so no value is lost)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None, *,
                 steps: Sequence[int] | None = None, window: int = 1, logy: bool = False,
                 ax: Axes | None = None, title: str | None = None) -> Figure:
    """Training curves: one line per key of ``history`` (raw values faint, smoothed on top if ``window`` > 1)."""
    keys = list(history) if keys is None else list(keys)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3), dpi=DPI)
    x_all = steps if steps is not None else getattr(history, "steps", None)
    for k, color in zip(keys, CLASS_COLORS * 4):
        vals = history[k]
        x = x_all if x_all is not None and len(x_all) == len(vals) else range(len(vals))
        if window > 1:
            ax.plot(x, vals, color=color, alpha=0.25, lw=0.8)
            ax.plot(x, smooth(vals, window), color=color, label=k, lw=1.5)
        else:
            ax.plot(x, vals, color=color, label=k, lw=1.5)
    ax.set_xlabel("step")
    if logy:
        ax.set_yscale("log")
    if keys:
        ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def _predict_fn(model: nn.Module | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if isinstance(model, nn.Module):
        params = list(model.parameters())
        device = params[0].device if params else torch.device("cpu")
        dtype = params[0].dtype if params else torch.float32

        def predict(x: Tensor) -> Tensor:
            was_training = model.training
            model.eval()
            out = model(x.to(device, dtype)).cpu()
            model.train(was_training)
            return out
        return predict
    return model


@torch.no_grad()
def plot_decision_boundary(model: nn.Module | Callable[[Tensor], Tensor], X: Tensor, y: Tensor, *,
                           ax: Axes | None = None, resolution: int = 200, margin: float = 0.3,
                           title: str | None = None, s: float = 6) -> Figure:
    """Colour the plane by the class ``model`` predicts there, with the points ``X`` (N, 2) on top.

    ``model`` maps (M, 2) inputs to (M, K) logits (K >= 2) or to (M,)/(M, 1)
    scores of a binary classifier (class 1 where the score is > 0).
    """
    predict = _predict_fn(model)
    X, y = X.detach().cpu().float(), y.detach().cpu()
    lo, hi = X.min(dim=0).values - margin, X.max(dim=0).values + margin
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")  # (R, R) each
    out = predict(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)).float()  # (R*R, K) or (R*R,)
    if out.dim() == 1 or out.shape[1] == 1:
        pred = (out.reshape(-1) > 0).long()
    else:
        pred = out.argmax(dim=1)
    k = int(max(int(y.max()) if len(y) else 0, int(pred.max())) + 1)
    colors = CLASS_COLORS[:k]
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2), dpi=DPI)
    Z = pred.reshape(resolution, resolution).numpy()  # (R, R)
    ax.contourf(gx.numpy(), gy.numpy(), Z, levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colors), alpha=0.3)
    ax.contour(gx.numpy(), gy.numpy(), Z, levels=np.arange(k - 1) + 0.5, colors="0.2", linewidths=0.8)
    ax.scatter(X[:, 0].numpy(), X[:, 1].numpy(), c=[colors[int(c)] for c in y], s=s, linewidths=0)
    ax.set_xlim(float(lo[0]), float(hi[0]))
    ax.set_ylim(float(lo[1]), float(hi[1]))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


class LivePlot:
    """A ``fit`` callback that redraws the training curves in place every ``every`` steps.

    In Jupyter it updates one output (a display handle, no ``clear_output``),
    so the notebook keeps exactly one figure, the final one. Outside a kernel it
    draws nothing. ``extra`` may add a panel: ``extra(ax, history)`` draws into
    a second axes (e.g. the current decision boundary).
    """

    def __init__(self, keys: Sequence[str] | None = None, *, every: int = 100, window: int = 20,
                 logy: bool = False, extra: Callable[[Axes, Mapping], None] | None = None,
                 figsize: tuple[float, float] | None = None):
        self.keys, self.every, self.window, self.logy, self.extra = keys, every, window, logy, extra
        self.figsize = figsize or ((8, 3) if extra else (5, 3))
        self._handle = None
        self._display = _ipython_display()

    def _draw(self, history: Mapping) -> Figure:
        ncols = 2 if self.extra else 1
        fig, axes = plt.subplots(1, ncols, figsize=self.figsize, dpi=DPI, squeeze=False)
        plot_history(history, self.keys, window=self.window, logy=self.logy, ax=axes[0, 0])
        if self.extra:
            self.extra(axes[0, 1], history)
        fig.tight_layout()
        plt.close(fig)  # shown through the display handle only, not again by the inline backend
        return fig

    def _show(self, history: Mapping) -> None:
        fig = self._draw(history)
        if self._handle is None:
            self._handle = self._display(fig, display_id=True)
        else:
            self._handle.update(fig)

    def on_step(self, step: int, logs: Mapping[str, float], history: Mapping) -> None:
        if self._display is not None and (step + 1) % self.every == 0:
            self._show(history)

    def on_end(self, history: Mapping) -> None:
        if self._display is not None and any(history.values()):
            self._show(history)


def _ipython_display():
    """IPython's ``display`` when running inside a kernel, else ``None``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None
