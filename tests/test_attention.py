"""From-scratch attention against PyTorch's: forward and gradients in float64 (1e-5), and positional encodings."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minigan.nn.attention import (MultiHeadSelfAttention, PositionalEmbedding, causal_mask,
                                  scaled_dot_product_attention, sinusoidal_positions)

TOL = 1e-5


def _close(a, b):
    return (a - b).abs().max().item() < TOL


def _qkv(T=6, S=6, hs=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(2, 3, T, hs, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, S, hs, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, S, 5, generator=g, dtype=torch.float64, requires_grad=True)
    return q, k, v


def _grads(fn, tensors):
    for t in tensors:
        t.grad = None
    out = fn()
    out.backward(torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape))
    return out.detach(), [t.grad.clone() for t in tensors]


@pytest.mark.parametrize("kind", ["plain", "causal", "bool_mask", "float_mask", "cross"])
def test_sdpa_matches_torch_forward_and_backward(kind):
    T, S = (4, 7) if kind == "cross" else (6, 6)
    q, k, v = _qkv(T, S)
    mask = None
    if kind == "bool_mask":
        mask = torch.rand(T, S, generator=torch.Generator().manual_seed(1)) > 0.4
        mask[:, 0] = True  # every query keeps at least one key (an all-masked row is NaN in both)
    elif kind == "float_mask":
        mask = torch.randn(T, S, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    causal = kind == "causal"
    ours, g_ours = _grads(lambda: scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)[0], (q, k, v))
    ref, g_ref = _grads(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal),
                        (q, k, v))
    assert ours.shape == ref.shape == (2, 3, T, 5)
    assert _close(ours, ref)
    assert all(_close(a, b) for a, b in zip(g_ours, g_ref))


def test_attention_weights_are_distributions_and_causal_ones_never_look_ahead():
    q, k, v = _qkv()
    _, w = scaled_dot_product_attention(q, k, v, causal=True)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3, 6, dtype=torch.float64))
    assert torch.equal(w[..., ~causal_mask(6)], torch.zeros_like(w[..., ~causal_mask(6)]))
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    with pytest.raises(ValueError, match="same size"):
        scaled_dot_product_attention(q, k[..., :4], v)


def _copy_into_torch_mha(ours: MultiHeadSelfAttention, n_embd, n_head):
    ref = nn.MultiheadAttention(n_embd, n_head, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)  # (3C, C): W_q, W_k, W_v stacked, as ours
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.proj.weight)
        ref.out_proj.bias.copy_(ours.proj.bias)
    return ref


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n_head", [1, 4])
def test_multi_head_self_attention_matches_nn_multihead_attention(causal, n_head):
    torch.manual_seed(0)
    C, T = 16, 7
    ours = MultiHeadSelfAttention(C, n_head, causal=causal).double()
    ref = _copy_into_torch_mha(ours, C, n_head)
    x = torch.randn(3, T, C, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    attn_mask = ~causal_mask(T) if causal else None  # nn.MultiheadAttention: True means "may NOT attend"

    y, att = ours(x, return_attn=True)
    y_ref, att_ref = ref(x_ref, x_ref, x_ref, attn_mask=attn_mask, need_weights=True, average_attn_weights=False)
    assert y.shape == (3, T, C) and att.shape == (3, n_head, T, T)
    assert _close(y, y_ref) and _close(att, att_ref)

    upstream = torch.randn(3, T, C, dtype=torch.float64)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert _close(x.grad, x_ref.grad)
    pairs = [(ours.qkv.weight, ref.in_proj_weight), (ours.qkv.bias, ref.in_proj_bias),
             (ours.proj.weight, ref.out_proj.weight), (ours.proj.bias, ref.out_proj.bias)]
    assert all(_close(a.grad, b.grad) for a, b in pairs)


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    attn = MultiHeadSelfAttention(8, 2, causal=False).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    perm = torch.tensor([3, 0, 4, 1, 2])
    assert torch.allclose(attn(x[:, perm]), attn(x)[:, perm])


def test_multi_head_attention_rejects_indivisible_sizes():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 3)


def test_sinusoidal_positions_closed_form_values():
    pe = sinusoidal_positions(50, 16).double()
    assert pe.shape == (50, 16)
    assert torch.equal(pe[0, 0::2], torch.zeros(8, dtype=torch.float64))  # sin(0)
    assert torch.equal(pe[0, 1::2], torch.ones(8, dtype=torch.float64))  # cos(0)
    assert abs(pe[1, 0].item() - math.sin(1.0)) < 1e-7 and abs(pe[1, 1].item() - math.cos(1.0)) < 1e-7
    # pair i = 1 has frequency 10000^(-2/16)
    w1 = 10000 ** (-2 / 16)
    assert abs(pe[7, 2].item() - math.sin(7 * w1)) < 1e-7 and abs(pe[7, 3].item() - math.cos(7 * w1)) < 1e-7
    assert abs(pe[49, 15].item() - math.cos(49 * 10000 ** (-14 / 16))) < 1e-7
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(4, 5)


@pytest.mark.parametrize("k", [1, 5, 17])
def test_sinusoidal_shift_by_k_is_a_fixed_rotation_of_each_frequency_pair(k):
    d = 16
    pe = sinusoidal_positions(64, d).double()
    w = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    c, s = torch.cos(k * w), torch.sin(k * w)
    rot = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)  # (d/2, 2, 2), independent of t
    pairs = pe.reshape(64, d // 2, 2)  # (T, d/2, 2): (sin, cos) per frequency
    shifted = torch.einsum("pij,tpj->tpi", rot, pairs[:-k])
    assert (shifted - pairs[k:]).abs().max().item() < 1e-6


def test_positional_embedding_kinds():
    learned = PositionalEmbedding(10, 8, kind="learned")
    fixed = PositionalEmbedding(10, 8, kind="sinusoidal")
    assert learned(6).shape == fixed(6).shape == (6, 8)
    assert sum(p.numel() for p in learned.parameters()) == 80
    assert sum(p.numel() for p in fixed.parameters()) == 0
    assert torch.allclose(fixed(10), sinusoidal_positions(10, 8))
    with pytest.raises(ValueError, match="exceeds block_size"):
        learned(11)
    with pytest.raises(ValueError, match="unknown positional"):
        PositionalEmbedding(10, 8, kind="rotary")
