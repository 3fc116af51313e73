"""Chapter 10: counting a convolution's FLOPs, and gradient accumulation over micro-batches.

References: :func:`minigan.bench.count_flops` (a multiply-add counts 2 FLOPs;
only convolutions and matrix products are counted) and the micro-batches of
:func:`minigan.cyclegan.steps.generator_step` (``accum_steps``).
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor, nn

from .core import call, check_table, checker, close, fail, new_generator, randn, seeded

__all__ = ["check_conv_flops", "check_accumulated_gradient"]

# (c_in, c_out, k, h_out, w_out)
_FLOP_CASES = [(3, 8, 3, 16, 16), (1, 1, 1, 1, 1), (64, 32, 5, 7, 9), (16, 3, 7, 32, 30), (2, 5, 4, 3, 6)]


def _counted(c_in: int, c_out: int, k: int, h_out: int, w_out: int) -> int:
    """What count_flops reports for one image through a k x k convolution with that output size (on the meta device)."""
    from ..bench import count_flops
    conv = nn.Conv2d(c_in, c_out, k, device="meta")
    x = torch.empty(1, c_in, h_out + k - 1, w_out + k - 1, device="meta")  # stride 1, no padding
    return count_flops(lambda: conv(x))


@checker("conv_flops")
def check_conv_flops(fn: Callable[[int, int, int, int, int], int]) -> str:
    """Check ``fn(c_in, c_out, k, h_out, w_out) -> int``, the FLOPs of one k x k convolution on one image (chapter 10).

    Counted as :func:`minigan.bench.count_flops` counts them: a multiply-add is 2 FLOPs and the bias is not
    counted, so 2 * c_in * c_out * k**2 * h_out * w_out. The reference is count_flops itself, run on
    PyTorch's meta device for each of 5 cases.
    """
    check_table(fn, _FLOP_CASES, _counted, [
        ("macs", lambda ci, co, k, h, w: ci * co * k * k * h * w,
         "that is the number of multiply-adds (MACs); count_flops counts each multiply-add as 2 FLOPs (a "
         "multiplication and an addition): multiply by 2."),
        ("kernel_not_squared", lambda ci, co, k, h, w: 2 * ci * co * k * h * w,
         "a k x k kernel has k**2 weights per input and output channel, not k."),
        ("kernel_not_squared", lambda ci, co, k, h, w: ci * co * k * h * w,
         "a k x k kernel has k**2 weights per input and output channel, not k; and a multiply-add counts 2 FLOPs."),
        ("no_c_in", lambda ci, co, k, h, w: 2 * co * k * k * h * w,
         "each output value sums over all c_in input channels: multiply by c_in too."),
        ("no_c_out", lambda ci, co, k, h, w: 2 * ci * k * k * h * w,
         "every one of the c_out output channels has its own kernel: multiply by c_out too."),
        ("bias", lambda ci, co, k, h, w: 2 * ci * co * k * k * h * w + co * h * w,
         "count_flops counts only the multiply-adds of the convolution, not the bias additions; leave them out."),
        ("per_pixel", lambda ci, co, k, h, w: 2 * ci * co * k * k,
         "that is the count for one output pixel; multiply by the h_out * w_out output pixels."),
    ], names=("c_in", "c_out", "k", "h_out", "w_out"),
        hint="Each of the c_out * h_out * w_out output values is c_in * k**2 multiply-adds, and a multiply-add "
             "is 2 FLOPs.")
    return ("your count matches count_flops on 5 convolutions (1 to 64 channels, kernels 1 to 7): 2 FLOPs per "
            "multiply-add, c_in * k**2 of them per output value.")


def _grads(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor) -> list[Tensor]:
    copy_ = copy.deepcopy(model)
    return list(torch.autograd.grad(loss_fn(copy_(x), y), list(copy_.parameters())))


@checker("accumulated_gradient")
def check_accumulated_gradient(fn: Callable[..., object]) -> str:
    """Check ``fn(model, loss_fn, x, y, k)``: gradients from k micro-batches that equal the full batch's (chapter 10).

    x (N, 3) and y (N, 2) with N divisible by k; ``loss_fn`` is a mean (``nn.MSELoss()``). Afterwards every
    parameter's ``.grad`` must equal the gradient of ``loss_fn(model(x), y)``, computed with k forward and
    backward passes of N / k samples, as ``generator_step`` does with ``accum_steps``. ``.grad`` holds the
    previous step's gradients when ``fn`` is called; the return value is ignored. Four cases, k = 1 to 4.
    """
    g = new_generator()
    model, loss_fn = seeded(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), g), nn.MSELoss()
    seen: list[int] = []
    model.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].shape[0]))
    for N, k in ((6, 2), (6, 3), (4, 1), (8, 4)):
        x, y = randn(g, N, 3), randn(g, N, 2)
        stale = [randn(g, *p.shape) for p in model.parameters()]
        for p, s in zip(model.parameters(), stale):
            p.grad = s.clone()  # what the previous step left behind
        full = _grads(model, loss_fn, x, y)
        seen.clear()
        call(fn, model, loss_fn, x.clone(), y.clone(), k, names=("model", "loss_fn", "x", "y", "k"))
        got = [p.grad for p in model.parameters()]
        if all(gr is not None and torch.equal(gr, s) for gr, s in zip(got, stale)):
            fail("no_backward", "the gradients did not change: call .backward() on each micro-batch's loss.")
        if any(gr is None for gr in got):
            fail("no_backward", "some parameters have no gradient afterwards (.grad is None): back-propagate every "
                                "micro-batch's loss, and don't zero the gradients after the last one.")
        if k > 1 and N in seen:
            fail("full_batch", f"your function runs the model on the whole batch of {N} at once; the point is to "
                               f"run k = {k} micro-batches of {N // k} samples, so only one micro-batch's "
                               "activations are in memory at a time.")
        if all(close(gr, f) for gr, f in zip(got, full)):
            continue
        mb = N // k
        last = _grads(model, loss_fn, x[-mb:], y[-mb:])
        for reason, wanted, message in [
            ("no_scale", [k * f for f in full],
             f"your gradients are k = {k} times too large: each micro-batch's loss is a mean over its own samples, "
             "so divide it by k before .backward() (the gradients add up over the micro-batches)."),
            ("no_zero_grad", [f + s for f, s in zip(full, stale)],
             "your gradients include what the previous step left in .grad: zero them once before the first "
             "micro-batch (model.zero_grad()), since .backward() adds to .grad."),
            ("no_zero_grad", [k * f + s for f, s in zip(full, stale)],
             "your gradients include what the previous step left in .grad (zero them once, before the first "
             f"micro-batch), and are k = {k} times too large (divide each micro-batch's loss by k)."),
            ("last_only", [lg / k for lg in last],
             "only the last micro-batch's gradient is left: zero the gradients once, before the loop, not for "
             "every micro-batch; .backward() then adds the micro-batches up."),
            ("last_only", last,
             "only the last micro-batch's gradient is left: zero the gradients once, before the loop, not for "
             "every micro-batch, and divide each micro-batch's loss by k."),
        ]:
            if all(close(gr, w) for gr, w in zip(got, wanted)):
                fail(reason, message)
        fail("mismatch", f"with N = {N} and k = {k} your gradients differ from the full batch's. Zero the gradients "
                         "once, then for each of the k micro-batches call (loss_fn(model(x_i), y_i) / k).backward().")
    return ("your accumulated gradients equal the full batch's for k = 1 to 4 micro-batches, starting from stale "
            "gradients and running one micro-batch at a time.")
