"""Multi-layer perceptrons: one written from scratch with a hand-derived backward pass, one in torch.

Shapes: B batch, D_in input features, H hidden units, K classes.

``ScratchMLP`` never touches autograd: ``forward`` keeps what ``backward``
needs, and ``backward`` applies the chain rule layer by layer, exactly as
Rumelhart, Hinton & Williams (1986) describe back-propagation
[rumelhart1986backprop]. Chapter 1 derives it; the tests check its
gradients against autograd's to 1e-6 in float64. Both classes store a layer's
weight as ``(out, in)`` like ``nn.Linear``, so parameters copy across 1:1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar, Sequence

import torch
from torch import Tensor, nn

from ..config import Presets

__all__ = ["ACTIVATIONS", "ScratchMLP", "MLP", "MLPConfig", "softmax_cross_entropy"]


# name -> (f, f' written in terms of the layer's pre-activation z and output a = f(z))
ACTIVATIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor, Tensor], Tensor]]] = {
    "tanh": (torch.tanh, lambda z, a: 1 - a * a),
    "relu": (torch.relu, lambda z, a: (z > 0).to(z.dtype)),
    "sigmoid": (torch.sigmoid, lambda z, a: a * (1 - a)),
    "identity": (lambda z: z, lambda z, a: torch.ones_like(z)),
}

_TORCH_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
}


def _check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")


def softmax_cross_entropy(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy of ``logits`` (B, K) against class indices ``y`` (B,), and its gradient.

    Returns ``(loss, dlogits)`` with ``dlogits = (softmax(logits) - onehot(y)) / B``,
    the famously simple gradient of softmax followed by the negative log-likelihood.
    """
    B = logits.shape[0]
    shifted = logits - logits.max(dim=1, keepdim=True).values  # (B, K), for a stable exp
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (B, K)
    loss = -log_probs[torch.arange(B), y].mean()
    dlogits = log_probs.exp()  # softmax, (B, K)
    dlogits[torch.arange(B), y] -= 1
    return loss, dlogits / B


class ScratchMLP:
    """An MLP ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with a hand-written backward pass.

    Hidden layers apply ``activation``; the last layer is linear (it outputs logits).
    Weights start like ``nn.Linear``'s: uniform in ±1/sqrt(fan_in).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", *,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        _check_activation(activation)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs an input and an output size, got {list(sizes)}")
        self.sizes, self.activation = list(sizes), activation
        self.weights: list[Tensor] = []
        self.biases: list[Tensor] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(fan_in)
            self.weights.append((torch.rand(fan_out, fan_in, generator=generator, dtype=dtype) * 2 - 1) * bound)
            self.biases.append((torch.rand(fan_out, generator=generator, dtype=dtype) * 2 - 1) * bound)
        self._cache: list[tuple[Tensor, Tensor, Tensor]] = []

    def parameters(self) -> list[Tensor]:
        """``[W1, b1, W2, b2, ...]``: the same order as ``MLP.parameters()``."""
        return [p for wb in zip(self.weights, self.biases) for p in wb]

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, K) for inputs ``x`` (B, D_in); remembers each layer's input, z and a."""
        f = ACTIVATIONS[self.activation][0]
        self._cache = []
        a = x
        last = len(self.weights) - 1
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W.T + b  # (B, out)
            out = z if i == last else f(z)
            self._cache.append((a, z, out))
            a = out
        return a

    __call__ = forward

    def backward(self, dout: Tensor) -> list[Tensor]:
        """Gradients of the loss w.r.t. ``parameters()``, given dL/dlogits (B, K) from the last forward."""
        if not self._cache:
            raise RuntimeError("call forward() before backward()")
        df = ACTIVATIONS[self.activation][1]
        grads: list[Tensor] = []
        delta = dout  # dL/dz of the last layer, which is linear
        for i in reversed(range(len(self.weights))):
            a_in, z, a = self._cache[i]
            if i != len(self.weights) - 1:
                delta = delta * df(z, a)  # dL/dz = dL/da * f'(z), (B, out)
            grads.append(delta.sum(dim=0))  # dL/db, (out,)
            grads.append(delta.T @ a_in)  # dL/dW, (out, in)
            delta = delta @ self.weights[i]  # dL/da of the layer below, (B, in)
        return grads[::-1]  # -> [dW1, db1, dW2, db2, ...]

    def sgd_step(self, grads: Sequence[Tensor], lr: float) -> None:
        """Plain gradient descent, in place: p <- p - lr * dL/dp."""
        for p, g in zip(self.parameters(), grads):
            p -= lr * g

    def to_torch(self) -> "MLP":
        """An ``MLP`` (nn.Module) with the same architecture and a copy of these weights."""
        model = MLP(self.sizes[0], self.sizes[-1], hidden=self.sizes[1:-1], activation=self.activation)
        model = model.to(self.weights[0].dtype)
        with torch.no_grad():
            for p, q in zip(model.parameters(), self.parameters()):
                p.copy_(q)
        return model


class MLP(nn.Sequential):
    """The torch MLP: ``Linear -> act -> ... -> Linear``, with ``hidden`` a width per hidden layer.

    ``hidden`` is a list of widths, or one width repeated ``depth`` times.
    """

    def __init__(self, in_features: int, out_features: int, *, hidden: int | Sequence[int] = 32,
                 depth: int = 2, activation: str = "tanh"):
        _check_activation(activation)
        widths = [hidden] * depth if isinstance(hidden, int) else list(hidden)
        sizes = [in_features, *widths, out_features]
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(_TORCH_ACTIVATIONS[activation]())
        super().__init__(*layers)


@dataclass
class MLPConfig(Presets):
    """Chapter 1's classifier and its training budget. Defaults run in seconds on a 2-core CPU."""

    n_train: int = 800  # points in the generated training set
    n_test: int = 800
    noise: float = 0.08  # spiral arms 1/3 apart: more noise than this and no boundary can be clean
    hidden: int = 32
    depth: int = 2
    activation: str = "tanh"
    steps: int = 1500
    batch_size: int = 64
    lr: float = 0.01  # Adam

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"n_train": 20_000, "n_test": 5_000, "hidden": 128, "depth": 3, "steps": 6000,
                "batch_size": 512},
    }
    SMOKE: ClassVar[dict] = {"steps": 10}  # smoke mode only (see minigan.config.Presets)
