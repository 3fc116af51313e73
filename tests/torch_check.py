"""Shared helpers for checking from-scratch pieces against PyTorch's own (float64, tolerance TOL)."""
import torch

TOL = 1e-5  # the project's bar; float64 agreement is in fact ~1e-13


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference of two tensors of the same shape."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def leaves(*shapes, seed=0):
    """Seeded float64 leaf tensors of the given shapes, with ``requires_grad``."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes]


def check_forward_and_grads(ours, ref, inputs, seed=1):
    """``ours(*inputs)`` vs ``ref(*inputs)``: outputs, and the gradient of a random linear loss for every input."""
    out, ref_out = ours(*inputs), ref(*inputs)
    assert max_diff(out, ref_out) < TOL
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    grads = torch.autograd.grad((out * w).sum(), inputs)
    ref_grads = torch.autograd.grad((ref_out * w).sum(), inputs)
    for g, r in zip(grads, ref_grads):
        assert max_diff(g, r) < TOL
