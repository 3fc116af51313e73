"""Activation functions and their derivatives (chapter 1), both computed by PyTorch, not drawn by hand."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor
from torch.nn import functional as F

from ._draw import BLUE, DPI, GREEN, ORANGE, PINK, RED

__all__ = ["ACTIVATIONS", "activation_curves", "draw_activations"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "ReLU": torch.relu,
    "leaky ReLU (0.2)": lambda x: F.leaky_relu(x, 0.2),
    "GELU": F.gelu,
}
_COLORS = [BLUE, ORANGE, GREEN, PINK, RED]


def activation_curves(name: str, x: Tensor) -> tuple[Tensor, Tensor]:
    """f(x) and f'(x) for the activation ``name`` of :data:`ACTIVATIONS`; f' by autograd, element by element.

    At ReLU's kink (x = 0) autograd's derivative is 0, PyTorch's convention.
    """
    x = x.detach().clone().requires_grad_(True)
    y = ACTIVATIONS[name](x)
    (dy,) = torch.autograd.grad(y.sum(), x)  # each y_i depends on x_i only, so this is f'(x_i)
    return y.detach(), dy


def draw_activations(names: Sequence[str] = tuple(ACTIVATIONS), *, lim: float = 4.0) -> Figure:
    """Two panels over [-lim, lim]: the activations, and their derivatives (the factor backprop multiplies by)."""
    x = torch.linspace(-lim, lim, 401, dtype=torch.float64)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3.3), dpi=DPI)
    for name, color in zip(names, _COLORS):
        y, dy = activation_curves(name, x)
        ax_f.plot(x, y, color=color, label=name, lw=1.8)
        ax_d.plot(x, dy, color=color, label=name, lw=1.8)
    ax_f.set(title="activation f(x)", xlabel="x", ylim=(-1.5, lim))
    ax_d.set(title="derivative f'(x), by autograd", xlabel="x", ylim=(-0.2, 1.25))
    ax_d.axhline(0.25, color="grey", lw=0.8, ls=":")
    ax_d.annotate("sigmoid's largest slope: 1/4", (-lim + 0.2, 0.27), fontsize=8, color="grey")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="black", lw=0.5)
        ax.axvline(0, color="black", lw=0.5)
        ax.grid(alpha=0.3)
    ax_f.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
