"""Scaled dot-product attention, multi-head self-attention and positional encodings, from scratch.

Shapes: B batch, T query length, S key length (S = T in self-attention),
C embedding size (n_embd), nh heads, hs head size (C = nh * hs).

Everything here follows Vaswani et al. (2017) [vaswani2017attention]:
attention is ``softmax(Q K^T / sqrt(d_k)) V`` (their eq. 1), heads run side by
side on slices of the embedding, and positions enter as sinusoids (their
section 3.5) or as a learned table. The tests check each piece against
``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["causal_mask", "scaled_dot_product_attention", "MultiHeadSelfAttention",
           "sinusoidal_positions", "PositionalEmbedding"]


def causal_mask(T: int, *, device: torch.device | str | None = None) -> Tensor:
    """Boolean (T, T) mask, True where query t may look at key s, i.e. s <= t (lower triangle)."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, *, mask: Tensor | None = None,
                                 causal: bool = False, dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """``softmax(q k^T / sqrt(hs)) v``: returns ``(out, weights)``.

    Shapes: q (..., T, hs), k (..., S, hs), v (..., S, hv) -> out (..., T, hv),
    weights (..., T, S), each row a probability distribution over the keys.
    ``mask`` follows ``F.scaled_dot_product_attention``: a boolean mask is True
    where attending is allowed, a float mask is added to the scores. ``causal``
    additionally hides future keys. ``dropout_p`` > 0 drops attention weights
    (training only: pass 0 at evaluation). Eq. 1 of [vaswani2017attention].
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys need the same size, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values need the same length, got {k.shape[-2]} and {v.shape[-2]}")
    T, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., T, S)
    if causal:
        scores = scores.masked_fill(~torch.ones(T, S, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = F.softmax(scores, dim=-1)  # (..., T, S)
    if dropout_p > 0:  # drops whole links between positions; the returned weights are the dropped ones
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights  # (..., T, hv), (..., T, S)


class MultiHeadSelfAttention(nn.Module):
    """``nh`` attention heads over one sequence, with one combined q/k/v projection and an output one.

    Shapes: x (B, T, C) -> (B, T, C); with ``return_attn=True`` also the
    weights (B, nh, T, T). The combined ``qkv`` weight (3C, C) stacks W_q, W_k,
    W_v like ``nn.MultiheadAttention.in_proj_weight``, so weights copy across
    1:1. ``causal=True`` lets position t see only positions <= t (a decoder).
    Section 3.2.2 of [vaswani2017attention].
    """

    def __init__(self, n_embd: int, n_head: int, *, causal: bool = True, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head, self.causal, self.dropout = n_head, causal, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, *, mask: Tensor | None = None,
                return_attn: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Attend over ``x`` (B, T, C); an optional ``mask`` (T, T) is combined with the causal one."""
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        y, att = scaled_dot_product_attention(q, k, v, mask=mask, causal=self.causal, dropout_p=p)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, nh, T, hs) -> (B, T, C): heads side by side
        y = self.resid_dropout(self.proj(y))  # (B, T, C)
        return (y, att) if return_attn else y


def sinusoidal_positions(T: int, d: int, *, base: float = 10000.0) -> Tensor:
    """Sinusoidal position encodings (T, d): PE[t, 2i] = sin(t / base^(2i/d)), PE[t, 2i+1] = cos(same).

    Each pair (2i, 2i+1) turns at its own frequency w_i = base^(-2i/d), so
    PE[t + k] is PE[t] rotated, pair by pair, by the angle k * w_i: a fixed
    linear map for each offset k. Section 3.5 of [vaswani2017attention].
    """
    if d % 2 != 0:
        raise ValueError(f"the encoding size d must be even (sin/cos pairs), got {d}")
    t = torch.arange(T, dtype=torch.float64)[:, None]  # (T, 1)
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    angles = t * freq  # (T, d/2)
    pe = torch.stack([angles.sin(), angles.cos()], dim=2).reshape(T, d)  # (T, d): sin, cos interleaved
    return pe.to(torch.get_default_dtype())


class PositionalEmbedding(nn.Module):
    """Position vectors (T, C) to add to token embeddings: ``"learned"`` (a table) or ``"sinusoidal"`` (fixed).

    GPT-style models learn the table; the original Transformer used the fixed
    sinusoids [vaswani2017attention], which need no parameters and are defined
    for any length (the table only up to ``block_size``).
    """

    KINDS = ("learned", "sinusoidal")

    def __init__(self, block_size: int, n_embd: int, *, kind: str = "learned"):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"unknown positional embedding {kind!r}; choose one of {self.KINDS}")
        self.kind, self.block_size = kind, block_size
        if kind == "learned":
            self.table = nn.Embedding(block_size, n_embd)
        else:
            self.register_buffer("table", sinusoidal_positions(block_size, n_embd), persistent=False)

    def forward(self, T: int) -> Tensor:
        """The vectors for positions 0 .. T-1, (T, C)."""
        if T > self.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.block_size}")
        if self.kind == "learned":
            return self.table(torch.arange(T, device=self.table.weight.device))  # (T, C)
        return self.table[:T]  # (T, C)
