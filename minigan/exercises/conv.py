"""Chapters 2 and 7: a convolution by hand, and the output sizes of convolutions and transposed convolutions.

Shapes: B batch, C input channels, O output channels, H, W image size, kh, kw
kernel size. References: ``F.conv2d`` (the package's im2col version is
:func:`minigan.nn.conv.conv2d`), :func:`minigan.nn.conv.conv_output_size` and
:func:`minigan.nn.conv.conv_transpose_output_size`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from ..nn.conv import conv_output_size, conv_transpose_output_size
from .core import as_tensor, call, check_table, checker, close, fail, finite, first_match, new_generator, randn, \
    shape_str

__all__ = ["check_conv2d", "check_conv_output_size", "check_transposed_conv_output_size"]

# (B, C, O, H, W, kh, kw, stride, padding)
_CONV_CASES = [
    (2, 2, 3, 6, 6, 3, 3, 1, 0),
    (3, 2, 2, 6, 5, 3, 3, 1, 1),
    (2, 3, 2, 7, 7, 3, 3, 2, 0),
    (1, 2, 3, 6, 7, 3, 3, 2, 1),
    (3, 1, 2, 5, 6, 2, 3, 1, 0),
    (1, 3, 4, 4, 4, 1, 1, 1, 0),
]
_SIZE_HINT = "H_out = floor((H + 2 * padding - kh) / stride) + 1, and the same for W_out with kw."


def _conv_mistakes(x: Tensor, w: Tensor, b: Tensor, s: int, p: int) -> list[tuple[str, Tensor | None, str]]:
    H_out, W_out = conv_output_size(x.shape[2], w.shape[2], s, p), conv_output_size(x.shape[3], w.shape[3], s, p)
    pad_one_side = "you padded only one side of the image; pad padding zeros on every side: F.pad(x, (p, p, p, p))."
    return [
        ("flipped", F.conv2d(x, w.flip(-2, -1), b, stride=s, padding=p) if w.shape[-1] * w.shape[-2] > 1 else None,
         "you flipped the kernel, as in the convolution of signal processing. Deep-learning convolution is a "
         "cross-correlation: out[b, o, i, j] = sum over c, u, v of weight[o, c, u, v] * x[b, c, i*s + u, j*s + v], "
         "with no flip."),
        ("no_bias", F.conv2d(x, w, None, stride=s, padding=p),
         "the bias is missing: add bias[o] to every pixel of output channel o."),
        ("stride", F.conv2d(x, w, b, padding=p)[..., :H_out, :W_out] if s > 1 else None,
         "the output has the right size, but your windows start one pixel apart: with stride s the window of "
         "output pixel (i, j) starts at input pixel (i * s, j * s)."),
        ("padding", F.conv2d(F.pad(x, (0, 2 * p, 0, 2 * p)), w, b, stride=s) if p else None, pad_one_side),
        ("padding", F.conv2d(F.pad(x, (2 * p, 0, 2 * p, 0)), w, b, stride=s) if p else None, pad_one_side),
        ("kernel_transposed", F.conv2d(x, w.transpose(-2, -1), b, stride=s, padding=p)
         if w.shape[-1] == w.shape[-2] > 1 else None,
         "you swapped the kernel's rows and columns: weight[o, c, u, v] multiplies x[b, c, i*s + u, j*s + v] "
         "(u down, v across)."),
    ]


@checker("conv2d")
def check_conv2d(fn: Callable[[Tensor, Tensor, Tensor, int, int], Tensor]) -> str:
    """Check ``fn(x, weight, bias, stride, padding) -> out``, a convolution by hand, against ``F.conv2d`` (chapter 2).

    x (B, C, H, W), weight (O, C, kh, kw), bias (O,), stride and padding ints (the same along H and W)
    -> out (B, O, H_out, W_out) with H_out = floor((H + 2 padding - kh) / stride) + 1. Like ``F.conv2d``
    and :func:`minigan.nn.conv.conv2d`, a cross-correlation (no kernel flip) with zero padding.
    Six random cases: stride 1 and 2, padding 0 and 1, batch size 1 to 3, non-square images and kernels.
    """
    g = new_generator()
    for B, C, O, H, W, kh, kw, s, p in _CONV_CASES:
        x, w, b = randn(g, B, C, H, W), randn(g, O, C, kh, kw), randn(g, O)
        expected = F.conv2d(x, w, b, stride=s, padding=p)  # (B, O, H_out, W_out)
        got = as_tensor(call(fn, x.clone(), w.clone(), b.clone(), s, p,
                             names=("x", "weight", "bias", "stride", "padding")), "your output")
        if tuple(got.shape) != tuple(expected.shape):
            setting = f"for x {shape_str(x)}, weight {shape_str(w)}, stride {s}, padding {p}"
            if s > 1 and tuple(got.shape) == tuple(F.conv2d(x, w, b, padding=p).shape):
                fail("stride", f"{setting} your output has shape {shape_str(got)}, the size of a stride-1 "
                               f"convolution; expected {shape_str(expected)}. With stride s the window moves s "
                               f"pixels at a time: {_SIZE_HINT}")
            if p and tuple(got.shape) == tuple(F.conv2d(x, w, b, stride=s).shape):
                fail("padding", f"{setting} your output has shape {shape_str(got)}, the size without padding; "
                                f"expected {shape_str(expected)}. Pad the input with padding zeros on every side "
                                f"first: {_SIZE_HINT}")
            fail("shape", f"{setting} your output has shape {shape_str(got)}, expected (B, O, H_out, W_out) = "
                          f"{shape_str(expected)}. {_SIZE_HINT}")
        finite(got, "your output")
        if not close(got, expected):
            first_match(got, _conv_mistakes(x, w, b, s, p))
            fail("mismatch", f"for x {shape_str(x)}, weight {shape_str(w)}, stride {s}, padding {p} your output "
                             "has the right shape but different values. Each output pixel is "
                             "sum over c, u, v of weight[o, c, u, v] * x_padded[b, c, i*s + u, j*s + v], plus bias[o].")
    return ("your conv2d matches F.conv2d on 6 random cases (stride 1 and 2, padding 0 and 1, batch size 1 to 3, "
            "non-square images and kernels, a 1x1 kernel).")


# (size, kernel, stride, padding); several where the floor matters
_SIZE_CASES = [(5, 3, 1, 0), (8, 3, 2, 1), (7, 3, 2, 1), (6, 4, 2, 1), (32, 5, 1, 2), (10, 3, 3, 0), (1, 1, 1, 0),
               (9, 2, 2, 0), (28, 5, 2, 2)]


@checker("conv_output_size")
def check_conv_output_size(fn: Callable[[int, int, int, int], int]) -> str:
    """Check ``fn(size, kernel, stride, padding) -> int``, a convolution's output length along one axis (chapter 2).

    Reference :func:`minigan.nn.conv.conv_output_size`: floor((size + 2 padding - kernel) / stride) + 1.
    Nine cases, several where the floor matters.
    """
    def floor_free(n: int, k: int, s: int, p: int) -> float:
        return (n + 2 * p - k) / s + 1

    check_table(fn, _SIZE_CASES, conv_output_size, [
        ("padding_once", lambda n, k, s, p: (n + p - k) // s + 1,
         "you add the padding once; it goes on both sides of the input, so the padded size is size + 2 * padding."),
        ("no_padding", lambda n, k, s, p: (n - k) // s + 1,
         "you ignore the padding; the padded input has size + 2 * padding pixels."),
        ("no_plus_one", lambda n, k, s, p: (n + 2 * p - k) // s,
         "you forgot the + 1: (size + 2 * padding - kernel) / stride counts the steps between window positions, "
         "and there is one more position than steps."),
        ("no_floor", floor_free,
         "you divide with /, which gives fractions; a window only counts if it fits completely: use integer "
         "division // (floor)."),
        ("no_floor", lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1,
         "you round up; a window only counts if it fits completely inside the padded input: round down (//)."),
    ], names=("size", "kernel", "stride", "padding"),
        hint="The formula is floor((size + 2 * padding - kernel) / stride) + 1.")
    return "your output sizes match conv_output_size on 9 cases (stride 1 to 3, padding 0 to 2, odd and even sizes)."


# (size, kernel, stride, padding[, output_padding]): DCGAN's 4/2/1 doubling and its edge cases
_TRANSPOSED_CASES = [(1, 4, 1, 0), (4, 4, 2, 1), (2, 4, 2, 1), (3, 3, 2, 1, 1), (5, 3, 1, 1), (7, 5, 3, 2, 2),
                     (1, 2, 1, 0), (8, 3, 2, 1, 1)]


@checker("transposed_conv_output_size")
def check_transposed_conv_output_size(fn: Callable[..., int]) -> str:
    """Check ``fn(size, kernel, stride, padding, output_padding=0) -> int``, a transposed conv's output length (ch. 7).

    Reference :func:`minigan.nn.conv.conv_transpose_output_size`:
    (size - 1) * stride - 2 padding + kernel + output_padding. Cases without output padding call
    ``fn`` with four arguments, so ``output_padding`` needs its default 0.
    """
    check_table(fn, _TRANSPOSED_CASES, conv_transpose_output_size, [
        ("no_output_padding", lambda n, k, s, p, o=0: (n - 1) * s - 2 * p + k,
         "you ignore output_padding; it adds that many rows (columns) at the bottom (right) of the output."),
        ("forward_formula", lambda n, k, s, p, o=0: (n + 2 * p - k) // s + 1,
         "that is an ordinary convolution's formula, which shrinks; a transposed convolution goes the other way: "
         "(size - 1) * stride - 2 * padding + kernel + output_padding."),
        ("padding_sign", lambda n, k, s, p, o=0: (n - 1) * s + 2 * p + k + o,
         "in a transposed convolution padding crops the output: subtract 2 * padding instead of adding it."),
        ("padding_once", lambda n, k, s, p, o=0: (n - 1) * s - p + k + o,
         "padding crops both sides of the output: subtract 2 * padding, not padding."),
        ("size_minus_one", lambda n, k, s, p, o=0: n * s - 2 * p + k + o,
         "you stretch all size pixels by the stride; only the size - 1 gaps between input pixels are stretched: "
         "(size - 1) * stride."),
        ("no_plus_one", lambda n, k, s, p, o=0: (n - 1) * s - 2 * p + k - 1 + o,
         "you are one short: the last kernel stamp adds kernel pixels after the last stretched position, so the "
         "formula ends in + kernel (that is, + (kernel - 1) + 1)."),
    ], names=("size", "kernel", "stride", "padding", "output_padding"),
        hint="The formula is (size - 1) * stride - 2 * padding + kernel + output_padding.")
    return ("your output sizes match conv_transpose_output_size on 8 cases (stride 1 to 3, padding 0 to 2, "
            "output_padding 0 to 2, DCGAN's kernel 4, stride 2, padding 1 doubling).")
