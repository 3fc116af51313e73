"""Diagrams of the sequence models (chapters 3 and 4): the unrolled RNN, the LSTM cell, a Transformer block.

The LSTM's gates are drawn from :data:`LSTM_GATES`, which the tests check
against :class:`minigan.nn.LSTMCell`; the Transformer block's sizes are read
from the :class:`minigan.nn.Block` it is given.
"""
from __future__ import annotations

import torch
from matplotlib.figure import Figure

from ..nn.transformer import Block
from ._draw import BLUE, GREEN, GREY, LIGHT, ORANGE, PINK, arrow, box, canvas, circle

__all__ = ["LSTM_GATES", "draw_unrolled_rnn", "draw_lstm_cell", "draw_transformer_block"]

# (symbol, non-linearity, role) in PyTorch's order along the stacked weights (i, f, g, o)
LSTM_GATES = (("i", torch.sigmoid, "input gate"), ("f", torch.sigmoid, "forget gate"),
              ("g", torch.tanh, "candidate"), ("o", torch.sigmoid, "output gate"))
_SQUASH = {torch.sigmoid: "σ", torch.tanh: "tanh"}


def draw_unrolled_rnn(steps: int = 4) -> Figure:
    """The recurrent cell folded (a loop) and unrolled over ``steps`` time steps, one set of weights for all."""
    width = 4.3 + 2.1 * steps + 0.4
    fig, ax = canvas(width, 4.9, figsize=(min(1.1 * width, 10), 3.2))
    # folded: one cell with a loop
    box(ax, 0.5, 1.6, 1.4, 1.0, "cell", color="#cfe3f3")
    arrow(ax, (1.2, 0.6), (1.2, 1.6))
    ax.text(1.2, 0.35, "$x_t$", ha="center", fontsize=10)
    arrow(ax, (1.2, 2.6), (1.2, 3.6))
    ax.text(1.2, 3.8, "$h_t$", ha="center", fontsize=10)
    arrow(ax, (1.9, 2.45), (1.9, 1.75), connection="arc3,rad=-1.6")
    ax.text(2.55, 2.1, "$h_{t-1}$", fontsize=9, va="center")
    ax.text(3.35, 2.1, "=", fontsize=16, va="center")
    # unrolled
    x0 = 4.45
    ax.text(x0 - 0.1, 2.1, "$h_0$", fontsize=10, ha="right", va="center")
    for t in range(1, steps + 1):
        left = x0 + 0.3 + (t - 1) * 2.1
        arrow(ax, (left - 0.55 if t > 1 else x0, 2.1), (left, 2.1))
        box(ax, left, 1.6, 1.4, 1.0, "cell", color="#cfe3f3")
        arrow(ax, (left + 0.7, 0.6), (left + 0.7, 1.6))
        ax.text(left + 0.7, 0.35, f"$x_{t}$", ha="center", fontsize=10)
        arrow(ax, (left + 0.7, 2.6), (left + 0.7, 3.6))
        ax.text(left + 0.7, 3.8, f"$h_{t}$", ha="center", fontsize=10)
        if t < steps:
            ax.plot([left + 1.4, left + 1.55], [2.1, 2.1], color=GREY, lw=1.3)
    ax.text(width / 2, 4.6, r"the same $W_{ih}, W_{hh}, b$ in every cell:   "
            r"$h_t = \tanh(x_t W_{ih}^\top + h_{t-1} W_{hh}^\top + b)$", ha="center", fontsize=9, color=GREY)
    return fig


def draw_lstm_cell() -> Figure:
    """One LSTM step: the cell state runs along the top, changed only by a product (forget) and a sum (write)."""
    fig, ax = canvas(11.0, 6.4, figsize=(8.0, 4.6))
    box(ax, 1.0, 0.9, 8.3, 4.9, color="#f7f7f7", round_=True)
    gates = {sym: (fn, role) for sym, fn, role in LSTM_GATES}
    xs = {"f": 2.0, "i": 3.55, "g": 5.1, "o": 6.9}
    colors = {"f": ORANGE, "i": BLUE, "g": GREEN, "o": PINK}
    top, mid, gate_y = 5.0, 3.6, 1.9
    # the cell state: c_{t-1} -> x f -> + i*g -> c_t
    arrow(ax, (0.2, top), (xs["f"] + 0.55 - 0.22, top), lw=2.2, color="black")
    ax.text(0.2, top + 0.25, "$c_{t-1}$", fontsize=11)
    circle(ax, xs["f"] + 0.55, top, "×")
    arrow(ax, (xs["f"] + 0.77, top), (5.6 - 0.22, top), lw=2.2, color="black")
    circle(ax, 5.6, top, "+")
    arrow(ax, (5.82, top), (10.6, top), lw=2.2, color="black")
    ax.text(10.2, top + 0.25, "$c_t$", fontsize=11)
    # the input: [h_{t-1}, x_t] feeds every gate
    ax.plot([0.2, xs["o"] + 0.55], [1.1, 1.1], color=GREY, lw=1.6)
    ax.text(0.2, 1.3, "$h_{t-1}$", fontsize=11)
    arrow(ax, (1.5, 0.1), (1.5, 1.1))
    ax.text(1.65, 0.15, "$x_t$", fontsize=11)
    for sym, x in xs.items():
        fn, role = gates[sym]
        arrow(ax, (x + 0.55, 1.1), (x + 0.55, gate_y))
        box(ax, x, gate_y, 1.1, 0.7, f"{_SQUASH[fn]}", color=colors[sym], fontsize=10)
        ax.text(x + 0.45, gate_y + 0.85, f"${sym}$", ha="right", fontsize=10, color=colors[sym])
        ax.text(x + 0.55, gate_y - 0.3, role, ha="center", fontsize=8, color=colors[sym])
    # forget: f goes up into the product on the cell line
    arrow(ax, (xs["f"] + 0.55, gate_y + 0.7), (xs["f"] + 0.55, top - 0.22))
    # write: i * g goes up into the sum
    circle(ax, 5.6, mid, "×")
    arrow(ax, (xs["i"] + 0.55, gate_y + 0.7), (5.6 - 0.22, mid), connection="angle,angleA=90,angleB=180,rad=0")
    arrow(ax, (xs["g"] + 0.55, gate_y + 0.7), (5.6, mid - 0.22), connection="angle,angleA=90,angleB=0,rad=0")
    arrow(ax, (5.6, mid + 0.22), (5.6, top - 0.22))
    # read: h_t = o * tanh(c_t)
    circle(ax, 8.6, 4.2, "tanh", r=0.3, fontsize=8)
    arrow(ax, (8.6, top), (8.6, 4.5))
    circle(ax, 8.6, 2.9, "×")
    arrow(ax, (8.6, 3.9), (8.6, 3.12))
    arrow(ax, (xs["o"] + 0.55, gate_y + 0.7), (8.6 - 0.22, 2.9), connection="angle,angleA=90,angleB=180,rad=0")
    arrow(ax, (8.82, 2.9), (10.6, 2.9), lw=2.0, color="black")
    ax.text(9.6, 3.1, "$h_t$", fontsize=11)
    ax.text(5.5, 6.15, r"$c_t = f \odot c_{t-1} + i \odot g$,     $h_t = o \odot \tanh(c_t)$",
            ha="center", fontsize=10)
    return fig


def draw_transformer_block(block: Block) -> Figure:
    """A pre-LayerNorm block, bottom to top, with the sizes of ``block``: x + attn(LN(x)), then + MLP(LN(.))."""
    n_embd = block.ln_1.normalized_shape[0]
    n_head = block.attn.n_head
    hidden = block.mlp.fc.out_features
    act = type(block.mlp.act).__name__
    causal = "causal " if block.attn.causal else ""
    fig, ax = canvas(7.0, 9.4, figsize=(4.4, 5.9))
    stream = 1.4
    arrow(ax, (stream, 0.3), (stream, 9.0), lw=2.2, color="black")
    ax.text(stream, 0.0, f"x  (B, T, {n_embd})", ha="center", fontsize=9)
    ax.text(stream - 0.25, 4.7, "residual stream", rotation=90, ha="right", va="center", fontsize=8, color=GREY)
    ax.text(stream, 9.15, f"out  (B, T, {n_embd})", ha="center", fontsize=9)
    for y0, first, second, second_color, join in (
            (1.0, "LayerNorm", f"{causal}self-attention\n{n_head} heads of {n_embd // n_head}", "#cfe3f3", 3.9),
            (5.0, "LayerNorm", f"MLP  {n_embd} → {hidden}\n{act}, {hidden} → {n_embd}", "#fde2bd", 7.9)):
        arrow(ax, (stream, y0 + 0.1), (4.0, y0 + 0.45), connection="angle,angleA=0,angleB=90,rad=0")
        box(ax, 2.3, y0 + 0.45, 3.4, 0.6, first, color=LIGHT)
        arrow(ax, (4.0, y0 + 1.05), (4.0, y0 + 1.45))
        box(ax, 2.3, y0 + 1.45, 3.4, 1.0, second, color=second_color)
        arrow(ax, (4.0, y0 + 2.45), (stream + 0.22, join), connection="angle,angleA=90,angleB=0,rad=0")
        circle(ax, stream, join, "+", color="white")
    return fig
