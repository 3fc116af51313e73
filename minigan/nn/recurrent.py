"""Recurrent networks from scratch: the Elman RNN cell, the LSTM cell, and the loops that unroll them.

Shapes: B batch, T time, I input features, H hidden units.

The cells store their weights exactly as ``nn.RNN`` / ``nn.LSTM`` store
layer 0 (``weight_ih`` (H or 4H, I), ``weight_hh`` (H or 4H, H), two biases),
so ``from_torch`` / ``to_torch`` copy them 1:1 and the tests can check the
outputs and every gradient against PyTorch's cuDNN-style implementations.
Only the forward pass is ours; autograd differentiates the unrolled loop,
which is back-propagation through time. ``gradient_norms_over_time`` measures
how much of a gradient survives the trip back [bengio1994learning].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from ..config import Presets

__all__ = ["RNNCell", "rnn", "LSTMCell", "lstm", "gradient_norms_over_time", "CharLMConfig"]


def _init_uniform(params: list[Tensor], hidden_size: int, generator: torch.Generator | None) -> None:
    """PyTorch's recurrent initialisation: every weight and bias uniform in ±1/sqrt(H)."""
    bound = 1 / math.sqrt(hidden_size)
    with torch.no_grad():
        for p in params:
            p.uniform_(-bound, bound, generator=generator)


def _check_input(x: Tensor, input_size: int) -> None:
    if x.dim() != 3 or x.shape[-1] != input_size:
        raise ValueError(f"x must be (B, T, I) with I = {input_size} (batch first), got shape {tuple(x.shape)}")


class RNNCell(nn.Module):
    """One step of the Elman (tanh) RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes: x (B, I), h (B, H) -> h' (B, H). Same parameters as ``nn.RNN`` layer 0.
    """

    def __init__(self, input_size: int, hidden_size: int, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, dtype=dtype))  # (H, I)
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, dtype=dtype))  # (H, H)
        self.bias_ih = nn.Parameter(torch.empty(hidden_size, dtype=dtype))  # (H,)
        self.bias_hh = nn.Parameter(torch.empty(hidden_size, dtype=dtype))  # (H,)
        _init_uniform(list(self.parameters()), hidden_size, generator)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)  # (B, H)

    @classmethod
    def from_torch(cls, module: nn.RNN) -> "RNNCell":
        """A cell holding a copy of layer 0 of a tanh ``nn.RNN``."""
        if not isinstance(module, nn.RNN) or module.nonlinearity != "tanh":
            raise TypeError(f"expected a tanh nn.RNN, got {module!r}")
        cell = cls(module.input_size, module.hidden_size, dtype=module.weight_ih_l0.dtype)
        _copy(module, cell)
        return cell

    def to_torch(self) -> nn.RNN:
        """An ``nn.RNN(batch_first=True)`` with a copy of this cell's weights."""
        module = nn.RNN(self.input_size, self.hidden_size, batch_first=True).to(self.weight_ih.dtype)
        _copy(self, module)
        return module


def rnn(cell: RNNCell, x: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Run ``cell`` over the sequence ``x`` (B, T, I) from ``h0`` (B, H) (zeros if None).

    Returns the hidden state at every step (B, T, H) and the last one (B, H),
    like ``nn.RNN(batch_first=True)`` (without its leading layer axis).
    """
    _check_input(x, cell.input_size)
    B, T, _ = x.shape
    h = x.new_zeros(B, cell.hidden_size) if h0 is None else h0  # (B, H)
    outputs = []
    for t in range(T):
        h = cell(x[:, t], h)  # (B, H)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h  # (B, T, H), (B, H)


class LSTMCell(nn.Module):
    """One step of the LSTM [hochreiter1997lstm] with a forget gate [gers2000forget].

    Shapes: x (B, I), state (h, c) each (B, H) -> (h', c') each (B, H).
    The four gates are stacked in PyTorch's order i, f, g, o along the first
    axis of ``weight_ih`` (4H, I) and ``weight_hh`` (4H, H)::

        i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    The 1997 LSTM had no forget gate (its cell kept everything, f = 1);
    Gers, Schmidhuber & Cummins added it so a cell can reset itself.
    """

    def __init__(self, input_size: int, hidden_size: int, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, dtype=dtype))  # (4H, I)
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size, dtype=dtype))  # (4H, H)
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, dtype=dtype))  # (4H,)
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, dtype=dtype))  # (4H,)
        _init_uniform(list(self.parameters()), hidden_size, generator)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
        h = torch.sigmoid(o) * torch.tanh(c)  # (B, H)
        return h, c

    @classmethod
    def from_torch(cls, module: nn.LSTM) -> "LSTMCell":
        """A cell holding a copy of layer 0 of an ``nn.LSTM`` (without projections)."""
        if not isinstance(module, nn.LSTM) or module.proj_size:
            raise TypeError(f"expected an nn.LSTM without proj_size, got {module!r}")
        cell = cls(module.input_size, module.hidden_size, dtype=module.weight_ih_l0.dtype)
        _copy(module, cell)
        return cell

    def to_torch(self) -> nn.LSTM:
        """An ``nn.LSTM(batch_first=True)`` with a copy of this cell's weights."""
        module = nn.LSTM(self.input_size, self.hidden_size, batch_first=True).to(self.weight_ih.dtype)
        _copy(self, module)
        return module


def lstm(cell: LSTMCell, x: Tensor, state: tuple[Tensor, Tensor] | None = None
         ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Run ``cell`` over ``x`` (B, T, I) from ``state`` = (h0, c0), each (B, H) (zeros if None).

    Returns the hidden state h at every step (B, T, H) and the last (h, c),
    like ``nn.LSTM(batch_first=True)`` (without its leading layer axis).
    """
    _check_input(x, cell.input_size)
    B, T, _ = x.shape
    if state is None:
        state = (x.new_zeros(B, cell.hidden_size), x.new_zeros(B, cell.hidden_size))  # (B, H) each
    outputs = []
    for t in range(T):
        state = cell(x[:, t], state)  # (B, H) each
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state  # (B, T, H), ((B, H), (B, H))


_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _copy(src: nn.Module, dst: nn.Module) -> None:
    """Copy the four recurrent tensors between a cell (``weight_ih``) and a torch layer (``weight_ih_l0``)."""
    def get(m: nn.Module, name: str) -> Tensor:
        return getattr(m, name) if isinstance(m, (RNNCell, LSTMCell)) else getattr(m, name + "_l0")
    with torch.no_grad():
        for name in _NAMES:
            get(dst, name).copy_(get(src, name))


def gradient_norms_over_time(cell: RNNCell | LSTMCell, T: int, *, batch_size: int = 8, input_scale: float = 1.0,
                             generator: torch.Generator | None = None) -> Tensor:
    """How large a gradient from a loss at the last step is when it reaches each earlier step.

    Runs ``cell`` over random inputs x (B, T, I) (standard normal times
    ``input_scale``, drawn from ``generator``) from a zero state, takes a loss
    that depends only on the last hidden state, L = <h_T, v> with a random v,
    and returns ``||dL/dx_t||`` for t = 1 .. T as a (T,) tensor. The gradient
    reaching x_t has passed back through T - t recurrent steps, so the curve
    shows it vanishing or exploding [bengio1994learning, pascanu2013difficulty].
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    if not isinstance(cell, (RNNCell, LSTMCell)):
        raise TypeError(f"cell must be an RNNCell or LSTMCell, got {type(cell).__name__}")
    dtype = cell.weight_ih.dtype
    x = input_scale * torch.randn(batch_size, T, cell.input_size, generator=generator, dtype=dtype)  # (B, T, I)
    v = torch.randn(batch_size, cell.hidden_size, generator=generator, dtype=dtype)  # (B, H)
    x = x.to(cell.weight_ih.device).requires_grad_(True)
    _, last = rnn(cell, x) if isinstance(cell, RNNCell) else lstm(cell, x)
    h_T = last if isinstance(cell, RNNCell) else last[0]  # (B, H)
    (grad,) = torch.autograd.grad((h_T * v.to(h_T.device)).sum(), x)  # (B, T, I)
    return grad.detach().square().sum(dim=(0, 2)).sqrt().cpu()  # (T,)


@dataclass
class CharLMConfig(Presets):
    """Chapter 3's character-level LSTM language model and its training budget (2-core CPU by default)."""

    block_size: int = 64  # characters of context per training window (T)
    batch_size: int = 32
    steps: int = 1200
    lr: float = 1e-2  # Adam; high for a short run, with clipping to keep it stable
    grad_clip: float = 1.0  # max global gradient norm [pascanu2013difficulty]
    n_embd: int = 64
    hidden: int = 128
    num_layers: int = 1
    eval_batches: int = 20  # validation windows of block_size for estimate_loss
    eval_batch_size: int = 32

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"block_size": 128, "batch_size": 64, "steps": 6000, "lr": 2e-3, "n_embd": 128,
                "hidden": 512, "num_layers": 2, "eval_batches": 50, "eval_batch_size": 64},
    }
    SMOKE: ClassVar[dict] = {"steps": 5, "eval_batches": 2, "batch_size": 8}  # smoke mode only (see config.Presets)
