"""Chapter 1: the backward pass of a two-layer tanh MLP, by hand.

Shapes: B batch, D inputs, H hidden units, K classes. Weights are stored
(out, in) like ``nn.Linear`` and :class:`minigan.nn.mlp.ScratchMLP`.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import as_tensor, call, check_shape, checker, close, fail, finite, first_match, new_generator, randn, \
    shape_str

__all__ = ["check_mlp_backward"]

_NAMES = ("x", "W1", "b1", "W2", "b2", "y")
_GRADS = ("dW1", "db1", "dW2", "db2")
_CASES = [(4, 3, 5, 2), (6, 4, 3, 5), (1, 3, 5, 2)]  # (B, D, H, K), all sizes different so a transpose shows


def _inputs(g: torch.Generator, B: int, D: int, H: int, K: int) -> tuple[Tensor, ...]:
    x = randn(g, B, D)
    W1, b1 = randn(g, H, D, scale=0.7), randn(g, H, scale=0.5)
    W2, b2 = randn(g, K, H, scale=0.7), randn(g, K, scale=0.5)
    y = torch.randint(K, (B,), generator=g)
    return x, W1, b1, W2, b2, y


def _autograd(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, y: Tensor) -> dict[str, Tensor]:
    params = [p.clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    h = torch.tanh(x @ params[0].T + params[1])  # (B, H)
    loss = F.cross_entropy(h @ params[2].T + params[3], y)  # mean over the batch
    return dict(zip(_GRADS, torch.autograd.grad(loss, params)))


def _mistakes(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, y: Tensor,
              expected: dict[str, Tensor]) -> dict[str, list[tuple[str, Tensor | None, str]]]:
    """For each gradient, what the typical mistakes give: (reason, value, message)."""
    B = x.shape[0]
    z = x @ W1.T + b1  # (B, H)
    h = torch.tanh(z)
    dlogits = (torch.softmax(h @ W2.T + b2, dim=1) - F.one_hot(y, W2.shape[0]).to(x.dtype)) / B  # (B, K)
    dh = dlogits @ W2  # (B, H)
    wrong_tanh = {"no_tanh": dh, "z": dh * (1 - z * z)}  # dL/dz without tanh', or tanh' taken at z
    out: dict[str, list[tuple[str, Tensor | None, str]]] = {}
    for name, e in expected.items():
        out[name] = [
            ("sign", -e, f"{name} has the wrong sign. At the logits the gradient is (softmax - onehot(y)) / B, "
                         "not onehot(y) - softmax; the update then subtracts it."),
            ("no_mean", e * B if B > 1 else None,
             f"{name} is B times too large (B the batch size). The loss is the mean over the batch, so "
             "dlogits = (softmax(logits) - onehot(y)) / B."),
        ]
        if name.startswith("db"):
            out[name].append(("bias_mean", e / B if B > 1 else None,
                              f"{name} is B times too small: you averaged it over the batch, but the 1/B is "
                              "already inside dlogits. Sum over the batch: dz.sum(dim=0)."))
        if name in ("dW1", "db1"):
            for key, dz in wrong_tanh.items():
                value = dz.T @ x if name == "dW1" else dz.sum(0)
                message = ("dW1 and db1 skip the tanh: multiply the gradient arriving at h by tanh's derivative "
                           "1 - h**2 before going through the first layer." if key == "no_tanh" else
                           "you used 1 - z**2 with the pre-activation z; tanh's derivative is "
                           "1 - tanh(z)**2 = 1 - h**2, with h the layer's output.")
                out[name].append(("tanh_derivative", value, message))
    return out


def _in_order(got: list[Tensor], expected: dict[str, Tensor]) -> None:
    """Fail with reason "order" when the right gradients come back in another order."""
    found = []
    for e in expected.values():
        matches = [i for i, t in enumerate(got) if close(t, e)]
        if not matches:
            return
        found.append(matches[0])
    if found != list(range(4)):
        order = ", ".join(_GRADS[found.index(i)] if i in found else "?" for i in range(4))
        fail("order", f"your gradients are right but come back as ({order}); return them in the order "
                      "(dW1, db1, dW2, db2).")


@checker("mlp_backward")
def check_mlp_backward(fn: Callable[..., tuple[Tensor, Tensor, Tensor, Tensor]]) -> str:
    """Check ``fn(x, W1, b1, W2, b2, y) -> (dW1, db1, dW2, db2)``, a tanh MLP's gradients by hand (chapter 1).

    x (B, D), y (B,) class indices, W1 (H, D), b1 (H,), W2 (K, H), b2 (K,): weights (out, in) like
    ``nn.Linear``. Forward: h = tanh(x @ W1.T + b1) (B, H), logits = h @ W2.T + b2 (B, K), loss = the
    mean over the batch of softmax cross-entropy (:func:`minigan.nn.mlp.softmax_cross_entropy`). Each
    gradient has its parameter's shape. Compared with autograd on 3 random cases (batch sizes 1, 4, 6).
    """
    g = new_generator()
    for B, D, H, K in _CASES:
        inputs = _inputs(g, B, D, H, K)
        expected = _autograd(*inputs)
        result = call(fn, *(t.clone() for t in inputs), names=_NAMES)
        if not isinstance(result, (tuple, list)) or len(result) != 4:
            count = f"a {type(result).__name__} of {len(result)} items" if isinstance(result, (tuple, list)) else \
                "None" if result is None else f"a {type(result).__name__}"
            fail("type", f"return the four gradients as a tuple (dW1, db1, dW2, db2); your function returned {count}.")
        got = [as_tensor(t, name) for t, name in zip(result, _GRADS)]
        _in_order(got, expected)
        mistakes = _mistakes(*inputs, expected)
        right: list[str] = []
        for name in ("dW2", "db2", "dW1", "db1"):  # the order back-propagation computes them
            t, e = got[_GRADS.index(name)], expected[name]
            if name.startswith("db") and B > 1 and tuple(t.shape) == (B, e.shape[0]):
                fail("bias_not_summed", f"{name} has shape {shape_str(t)}, one row per example. A bias is shared "
                                        "by the whole batch, so sum its gradient over the batch: dz.sum(dim=0).")
            if e.dim() == 2 and tuple(t.shape) == tuple(e.T.shape):
                fail("shape", f"{name} has shape {shape_str(t)}, the transpose of the expected {shape_str(e)}. "
                              "Weights are stored (out, in) like nn.Linear, so dW = dz.T @ (the layer's input).")
            check_shape(t, e, name, f"Each gradient has the shape of its parameter: W1 (H, D), b1 (H,), "
                                    f"W2 (K, H), b2 (K,), here H = {H}, D = {D}, K = {K}.")
            finite(t, name)
            if not close(t, e):
                first_match(t, mistakes[name])
                done = f" ({' and '.join(right)} already match)" if right else ""
                fail("mismatch", f"{name} does not match autograd{done}. Follow the chain rule one step further "
                                 "back: dz = dh * (1 - h**2), dW = dz.T @ input, db = dz.sum(dim=0), "
                                 "and dinput = dz @ W.")
            right.append(name)
    return ("your four gradients match autograd on 3 random cases (batch sizes 1, 4 and 6, every layer "
            "size different).")
