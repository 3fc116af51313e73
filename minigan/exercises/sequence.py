"""Chapters 3 and 4: one step of an LSTM cell, and causal self-attention, by hand.

Shapes: B batch, I input features, H hidden units, nh heads, T time, hs head
size. References: ``nn.LSTMCell`` (the package's :class:`minigan.nn.recurrent.LSTMCell`)
and ``F.scaled_dot_product_attention`` (the package's
:func:`minigan.nn.attention.scaled_dot_product_attention`).
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .core import as_tensor, call, check_shape, checker, close, fail, finite, first_match, new_generator, randn, \
    shape_str

__all__ = ["check_lstm_cell", "check_causal_self_attention"]

_LSTM_NAMES = ("x", "h", "c", "W_ih", "W_hh", "b_ih", "b_hh")
_GATES = "ifgo"


def _lstm_with(gates: Tensor, c: Tensor, *, order: str = _GATES, act: str = "sstst", forget: str = "yes",
               h_tanh: bool = True) -> tuple[Tensor, Tensor]:
    """An LSTM step from the pre-activations (B, 4H), with one thing changed: the mistakes below."""
    chunks = dict(zip(order, gates.chunk(4, dim=1)))  # which slice the code reads as which gate
    fs = {"s": torch.sigmoid, "t": torch.tanh}
    i, f, gg, o = (fs[a](chunks[k]) for a, k in zip(act, _GATES))  # act: activations of i, f, g, o, then c_new
    c_new = {"yes": f * c + i * gg, "none": i * gg, "keep": c + i * gg}[forget]
    return (o * fs[act[4]](c_new) if h_tanh else o * c_new), c_new


def _lstm_mistakes(gates: Tensor, c: Tensor, right: tuple[Tensor, Tensor]) -> list[tuple[str, Tensor, str]]:
    """(reason, h_new and c_new stacked, message) for the typical mistakes."""
    out = [("swapped", torch.stack([right[1], right[0]]),
            "you return (c_new, h_new); return (h_new, c_new), hidden state first, like nn.LSTMCell.")]
    for order in ("".join(p) for p in itertools.permutations(_GATES)):
        if order != _GATES:
            out.append(("gate_order", torch.stack(_lstm_with(gates, c, order=order)),
                        f"you read the four slices of the pre-activations as the gates ({', '.join(order)}). "
                        "PyTorch stacks them in the order i, f, g, o: input gate, forget gate, candidate, "
                        "output gate."))
    out += [
        ("activation", torch.stack(_lstm_with(gates, c, act="ttsts")),
         "the gates i, f and o use sigmoid (values between 0 and 1, how much to let through), the candidate "
         "g and the output's squash tanh(c_new) use tanh; you have them the other way round."),
        ("activation", torch.stack(_lstm_with(gates, c, act="ttstt")),
         "the gates i, f and o use sigmoid (values between 0 and 1, how much to let through) and the candidate "
         "g uses tanh; you have them the other way round."),
        ("activation", torch.stack(_lstm_with(gates, c, act="sssst")),
         "the candidate g uses tanh, not sigmoid (it is the new content, between -1 and 1)."),
        ("no_forget", torch.stack(_lstm_with(gates, c, forget="none")),
         "your cell forgets everything: c_new = f * c + i * g keeps a fraction f of the old cell state c."),
        ("no_forget", torch.stack(_lstm_with(gates, c, forget="keep")),
         "your cell keeps all of c (the 1997 LSTM, without forget gate); multiply the old state by the forget "
         "gate: c_new = f * c + i * g."),
        ("h_no_tanh", torch.stack(_lstm_with(gates, c, h_tanh=False)),
         "h_new = o * tanh(c_new): squash the cell state with tanh before the output gate."),
    ]
    return out


@checker("lstm_cell")
def check_lstm_cell(fn: Callable[..., tuple[Tensor, Tensor]]) -> str:
    """Check ``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_new, c_new)``, one LSTM step, vs ``nn.LSTMCell`` (chapter 3).

    x (B, I), h and c (B, H), W_ih (4H, I), W_hh (4H, H), b_ih and b_hh (4H,): ``nn.LSTMCell``'s layout,
    gates stacked in the order i, f, g, o. h_new and c_new are (B, H). Three random cases: batch sizes
    1 and 4, random and zero initial state.
    """
    g = new_generator()
    I, H = 3, 4  # different, so a weight used without .T shows
    for B, zero_state in ((4, False), (1, False), (2, True)):
        cell = nn.LSTMCell(I, H).double()
        with torch.no_grad():
            for p in cell.parameters():
                p.copy_(randn(g, *p.shape, scale=0.6))
        x = randn(g, B, I)
        h, c = (torch.zeros(B, H, dtype=x.dtype), torch.zeros(B, H, dtype=x.dtype)) if zero_state else \
            (randn(g, B, H, scale=0.8), randn(g, B, H))
        weights = [p.detach().clone() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
        with torch.no_grad():
            right = cell(x, (h, c))  # (h_new, c_new), each (B, H)
        result = call(fn, x.clone(), h.clone(), c.clone(), *weights, names=_LSTM_NAMES)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            fail("type", "return the pair (h_new, c_new).")
        h_new, c_new = (as_tensor(t, name) for t, name in zip(result, ("h_new", "c_new")))
        for t, name in ((h_new, "h_new"), (c_new, "c_new")):
            check_shape(t, (B, H), name, f"Both states are (B, H), here B = {B}, H = {H}; the four gates are the "
                                         "four (B, H) slices of x @ W_ih.T + b_ih + h @ W_hh.T + b_hh (B, 4H).")
            finite(t, name)
        if close(h_new, right[0]) and close(c_new, right[1]):
            continue
        gates = x @ weights[0].T + weights[2] + h @ weights[1].T + weights[3]  # (B, 4H)
        got = torch.stack([h_new.detach(), c_new.detach()]).to(x.dtype)  # (2, B, H)
        first_match(got, _lstm_mistakes(gates, c, right))
        for name, bias in (("b_hh", weights[2]), ("b_ih", weights[3])):
            one_bias = x @ weights[0].T + h @ weights[1].T + bias
            first_match(got, [("bias", torch.stack(_lstm_with(one_bias, c)),
                               f"you left out {name}: the pre-activations add both biases, "
                               "x @ W_ih.T + b_ih + h @ W_hh.T + b_hh.")])
        which = "h_new and c_new" if not close(c_new, right[1]) else "h_new (c_new is right)"
        fail("mismatch", f"{which} differ from nn.LSTMCell. The step is: gates = x @ W_ih.T + b_ih + h @ W_hh.T + "
                         "b_hh; i, f, g, o = gates.chunk(4, dim=1); c_new = sigmoid(f) * c + sigmoid(i) * tanh(g); "
                         "h_new = sigmoid(o) * tanh(c_new).")
    return ("your LSTM cell matches nn.LSTMCell on 3 random cases (batch sizes 1, 2 and 4, random and zero "
            "initial state).")


def _attention(q: Tensor, k: Tensor, v: Tensor, *, scale: float, mask: str = "before", dim: int = -1) -> Tensor:
    """Causal attention with one thing changed: the scale, where the mask goes, or the softmax's dimension."""
    T = q.shape[-2]
    allowed = torch.ones(T, T, dtype=torch.bool).tril()  # (T, T), True where s <= t
    scores = q @ k.transpose(-2, -1) * scale  # (B, nh, T, T)
    if mask == "before":
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    if mask == "after":
        weights = weights.masked_fill(~allowed, 0.0)
    return weights @ v  # (B, nh, T, hs)


def _attention_mistakes(q: Tensor, k: Tensor, v: Tensor) -> list[tuple[str, Tensor, str]]:
    B, nh, T, hs = q.shape
    right = 1 / math.sqrt(hs)
    return [
        ("future_leak", _attention(q, k, v, scale=right, mask="none"),
         "future tokens leak: position t attends to every position, also s > t. Before the softmax, set the "
         "scores of future keys to -inf: scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), "
         "float('-inf'))."),
        ("mask_after_softmax", _attention(q, k, v, scale=right, mask="after"),
         "you mask after the softmax: the remaining weights of a row no longer sum to 1, and the softmax's "
         "denominator still includes the future, so future tokens leak. Mask the scores (with -inf) before "
         "the softmax."),
        ("softmax_dim", _attention(q, k, v, scale=right, dim=-2),
         "your softmax runs over the queries (dim=-2); each query's weights over the keys must sum to 1: "
         "softmax(scores, dim=-1)."),
        ("no_scale", _attention(q, k, v, scale=1.0),
         "you forgot the 1/sqrt(hs) scaling: divide the scores q @ k.transpose(-2, -1) by sqrt(hs), the head "
         "size, so their spread does not grow with hs and the softmax does not saturate."),
        ("wrong_scale", _attention(q, k, v, scale=1 / hs),
         "you divide the scores by hs; the scaling is 1/sqrt(hs), the square root of the head size."),
        ("wrong_scale", _attention(q, k, v, scale=1 / math.sqrt(T)),
         "you divide the scores by sqrt(T), the sequence length; the scaling is 1/sqrt(hs), the head size "
         "(the last dimension of q)."),
        ("wrong_scale", _attention(q, k, v, scale=math.sqrt(hs)),
         "you multiply the scores by sqrt(hs); divide by it instead."),
    ]


@checker("causal_self_attention")
def check_causal_self_attention(fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> str:
    """Check ``fn(q, k, v) -> out``, causal attention, against ``F.scaled_dot_product_attention`` (chapter 4).

    q, k, v (B, nh, T, hs) -> out (B, nh, T, hs): softmax(q k^T / sqrt(hs)) v with position t seeing only
    positions s <= t. Four random cases (batch size 1 and 2, 1 to 3 heads, T = 1 to 6), and a test that
    changing future queries, keys and values leaves earlier outputs alone.
    """
    g = new_generator()
    for B, nh, T, hs in ((2, 3, 5, 4), (1, 1, 6, 9), (2, 2, 4, 16), (1, 2, 1, 4)):
        q, k, v = randn(g, B, nh, T, hs), randn(g, B, nh, T, hs), randn(g, B, nh, T, hs)
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        result = call(fn, q.clone(), k.clone(), v.clone(), names=("q", "k", "v"))
        if isinstance(result, (tuple, list)) and len(result) == 2:
            fail("type", "your function returns two things (the output and the weights?); return only the output "
                         "tensor (B, nh, T, hs).")
        got = as_tensor(result, "your output")
        check_shape(got, expected, "your output", "The output has one hs-vector per head and position, like q: "
                                                  "(weights (B, nh, T, T)) @ v (B, nh, T, hs).")
        finite(got, "your output", "A row of scores that is -inf everywhere gives 0/0 in the softmax: the "
                                   "diagonal (s = t) must stay visible, so mask with tril, which keeps it.")
        if close(got, expected):
            continue
        first_match(got, _attention_mistakes(q, k, v))
        t0 = T // 2  # change everything after t0: outputs up to t0 must not move
        q2, k2, v2 = q.clone(), k.clone(), v.clone()
        for t in (q2, k2, v2):
            t[..., t0 + 1:, :] = randn(g, B, nh, T - t0 - 1, hs)
        got2 = as_tensor(call(fn, q2, k2, v2, names=("q", "k", "v")), "your output")
        if not close(got2[..., :t0 + 1, :], got[..., :t0 + 1, :]):
            fail("future_leak", f"future tokens leak: changing positions after t = {t0} changed your outputs at "
                                f"positions up to {t0}. Position t may only look at positions s <= t: mask the "
                                "scores of later keys with -inf before the softmax.")
        fail("mismatch", f"for q, k, v {shape_str(q)} your output has the right shape and no future leak, but "
                         "different values. Compute softmax(q @ k.transpose(-2, -1) / sqrt(hs) with the future "
                         "masked, dim=-1) @ v.")
    return ("your attention matches F.scaled_dot_product_attention(is_causal=True) on 4 random cases (batch size "
            "1 and 2, 1 to 3 heads, T = 1 to 6, head sizes 4 to 16).")
