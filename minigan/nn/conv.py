"""Convolution, pooling and transposed convolution from scratch, and a small CNN for the 8x8 digits.

Shapes: B batch, C_in / C_out channels, H, W image size, kH, kW kernel size,
H_out, W_out output size.

Everything here is built from one operation, :func:`extract_patches`, which
turns an image into the stack of every kH x kW window a kernel visits
(*im2col*). It copies nothing: ``Tensor.as_strided`` gives a *view* whose two
extra dimensions step through the same memory one pixel at a time while the
window position steps by ``stride`` pixels. Then

- :func:`conv2d` is one matrix product of the windows with the flattened
  kernels (every output pixel is a dot product of a window and a kernel);
- :func:`max_pool2d` / :func:`avg_pool2d` reduce each window to its max / mean;
- :func:`conv_transpose2d` is :func:`conv2d` on an input with ``stride - 1``
  zeros inserted between its pixels, with the kernel flipped.

Only the forward passes are ours; autograd differentiates them. Like
``F.conv2d``, :func:`conv2d` computes a cross-correlation (the kernel is not
flipped), which is what every deep-learning library calls convolution.
Convolutional networks go back to LeCun et al. (1998) [lecun1998gradient];
the checkerboard artifacts of transposed convolutions are analysed by
Odena, Dumoulin & Olah (2016) [odena2016deconvolution].
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import Presets

__all__ = [
    "conv_output_size", "conv_transpose_output_size", "extract_patches", "conv2d", "max_pool2d",
    "avg_pool2d", "conv_transpose2d", "Conv2d", "ConvTranspose2d", "DigitsCNN", "CNNConfig",
]

IntPair = Union[int, Tuple[int, int]]


def _pair(v: IntPair, name: str) -> tuple[int, int]:
    if isinstance(v, int):
        v = (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {v}")
    return v  # type: ignore[return-value]


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution (or pooling) along one axis.

    ``floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1``: the
    padded input has ``size + 2 * padding`` pixels, a (dilated) kernel spans
    ``dilation * (kernel - 1) + 1`` of them, and it can start at every
    ``stride``-th position where it still fits.
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis: the inverse of :func:`conv_output_size`.

    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
    A stride-s convolution maps several input sizes to the same output size
    (floor division); ``output_padding`` picks which one the transpose returns.
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def extract_patches(x: Tensor, kernel_size: IntPair, *, stride: IntPair = 1, padding: IntPair = 0,
                    dilation: IntPair = 1, pad_value: float = 0.0) -> Tensor:
    """Every ``kernel_size`` window of ``x`` (B, C, H, W): a view of shape (B, C, H_out, W_out, kH, kW).

    ``out[b, c, i, j]`` is the window whose top-left corner sits at pixel
    ``(i * stride, j * stride)`` of the padded input. How: after padding (with
    ``pad_value``) ``x`` is contiguous, with strides ``(sB, sC, sH, sW)``
    elements. Moving the window one position right skips ``stride * sW``
    elements; moving inside the window one pixel right skips ``dilation * sW``.
    ``as_strided`` builds the 6-D view from exactly those strides, so windows
    share memory and nothing is copied (this is what ``F.unfold`` computes,
    before it copies the windows into columns). Autograd's backward of
    ``as_strided`` adds up the gradients of overlapping windows.
    """
    kH, kW = _pair(kernel_size, "kernel_size")
    sH, sW = _pair(stride, "stride")
    pH, pW = _pair(padding, "padding")
    dH, dW = _pair(dilation, "dilation")
    if x.dim() != 4:
        raise ValueError(f"x must be (B, C, H, W), got shape {tuple(x.shape)}")
    if min(kH, kW, sH, sW, dH, dW) < 1 or min(pH, pW) < 0:
        raise ValueError("kernel_size, stride and dilation must be >= 1 and padding >= 0, got "
                         f"{(kH, kW)}, {(sH, sW)}, {(dH, dW)}, {(pH, pW)}")
    if pH or pW:
        x = F.pad(x, (pW, pW, pH, pH), value=pad_value)  # (B, C, H + 2 pH, W + 2 pW)
    x = x.contiguous()
    B, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, kH, sH, 0, dH), conv_output_size(W, kW, sW, 0, dW)
    if H_out < 1 or W_out < 1:
        raise ValueError(f"kernel {(kH, kW)} (dilation {(dH, dW)}) does not fit in the padded input {(H, W)}")
    bS, cS, hS, wS = x.stride()
    return x.as_strided((B, C, H_out, W_out, kH, kW), (bS, cS, hS * sH, wS * sW, hS * dH, wS * dW))


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, *, stride: IntPair = 1,
           padding: IntPair = 0, dilation: IntPair = 1) -> Tensor:
    """2-D convolution (cross-correlation) by im2col and one matrix product, as ``F.conv2d``.

    ``x`` (B, C_in, H, W), ``weight`` (C_out, C_in, kH, kW), ``bias`` (C_out,)
    -> (B, C_out, H_out, W_out), with H_out from :func:`conv_output_size`.
    Each output pixel is ``sum_{c, u, v} weight[o, c, u, v] * window[c, u, v] + bias[o]``:
    flatten every window to a row of ``C_in * kH * kW`` numbers and every
    kernel to a column, and the whole convolution is ``rows @ columns``.
    Zero padding only (``padding_mode="zeros"``); no groups.
    """
    if weight.dim() != 4 or x.dim() != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"need x (B, C_in, H, W) and weight (C_out, C_in, kH, kW) with matching C_in, "
                         f"got {tuple(x.shape)} and {tuple(weight.shape)}")
    C_out, C_in, kH, kW = weight.shape
    patches = extract_patches(x, (kH, kW), stride=stride, padding=padding, dilation=dilation)
    B, _, H_out, W_out = patches.shape[:4]  # patches: (B, C_in, H_out, W_out, kH, kW)
    rows = patches.permute(0, 2, 3, 1, 4, 5).reshape(B, H_out * W_out, C_in * kH * kW)  # im2col
    out = rows @ weight.reshape(C_out, C_in * kH * kW).T  # (B, H_out * W_out, C_out)
    if bias is not None:
        out = out + bias
    return out.transpose(1, 2).reshape(B, C_out, H_out, W_out)


def _pool_args(kernel_size: IntPair, stride: IntPair | None) -> tuple[tuple[int, int], tuple[int, int]]:
    k = _pair(kernel_size, "kernel_size")
    return k, (k if stride is None else _pair(stride, "stride"))


def max_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """The largest value of each window, as ``F.max_pool2d``; ``stride`` defaults to ``kernel_size``.

    ``x`` (B, C, H, W) -> (B, C, H_out, W_out). Padding counts as -inf, so it
    is never the maximum. The gradient flows only to the maximum of each
    window (autograd's backward of ``max`` along a dimension).
    """
    k, s = _pool_args(kernel_size, stride)
    patches = extract_patches(x, k, stride=s, padding=padding, pad_value=float("-inf"))
    return patches.flatten(-2).max(dim=-1).values  # (B, C, H_out, W_out)


def avg_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """The mean of each window, as ``F.avg_pool2d`` (zero padding counted, its default).

    ``x`` (B, C, H, W) -> (B, C, H_out, W_out); ``stride`` defaults to ``kernel_size``.
    """
    k, s = _pool_args(kernel_size, stride)
    return extract_patches(x, k, stride=s, padding=padding).mean(dim=(-2, -1))  # (B, C, H_out, W_out)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, *, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, dilation: IntPair = 1) -> Tensor:
    """Transposed convolution, as ``F.conv_transpose2d``: an upsampling layer.

    ``x`` (B, C_in, H, W), ``weight`` (C_in, C_out, kH, kW) (the layout
    ``nn.ConvTranspose2d`` uses), ``bias`` (C_out,) -> (B, C_out, H_out, W_out)
    with H_out from :func:`conv_transpose_output_size`.

    Think of it as scattering: every input pixel stamps a copy of the kernel,
    scaled by its value, onto the output, with stamps ``stride`` pixels apart,
    and overlapping stamps add up. We compute the same thing as an ordinary
    convolution (each output pixel gathers the stamps that cover it):

    1. insert ``stride - 1`` zeros between neighbouring input pixels;
    2. zero-pad by ``dilation * (kernel - 1) - padding`` on each side (a
       negative amount crops), plus ``output_padding`` extra rows/columns at
       the bottom/right;
    3. run :func:`conv2d` with stride 1 and the kernel flipped in space, with
       its in/out channel axes swapped.

    It is the *transpose* of :func:`conv2d` with the same arguments: as linear
    maps, ``<conv2d(y, W), x> = <y, conv_transpose2d(x, W)>``, so it is also
    the gradient of a convolution with respect to its input.
    """
    if weight.dim() != 4 or x.dim() != 4 or weight.shape[0] != x.shape[1]:
        raise ValueError(f"need x (B, C_in, H, W) and weight (C_in, C_out, kH, kW) with matching C_in, "
                         f"got {tuple(x.shape)} and {tuple(weight.shape)}")
    sH, sW = _pair(stride, "stride")
    pH, pW = _pair(padding, "padding")
    oH, oW = _pair(output_padding, "output_padding")
    dH, dW = _pair(dilation, "dilation")
    if not (0 <= oH < max(sH, dH) and 0 <= oW < max(sW, dW)):
        raise ValueError(f"output_padding must be smaller than stride or dilation, got {(oH, oW)}")
    B, C_in, H, W = x.shape
    kH, kW = weight.shape[2:]
    if sH > 1 or sW > 1:  # 1. zero insertion: (B, C_in, (H-1) sH + 1, (W-1) sW + 1)
        z = x.new_zeros(B, C_in, (H - 1) * sH + 1, (W - 1) * sW + 1)
        z[:, :, ::sH, ::sW] = x
    else:
        z = x
    eH, eW = dH * (kH - 1) - pH, dW * (kW - 1) - pW
    z = F.pad(z, (eW, eW + oW, eH, eH + oH))  # 2. (negative pads crop)
    flipped = weight.transpose(0, 1).flip(-2, -1)  # 3. (C_out, C_in, kH, kW)
    return conv2d(z, flipped, bias, dilation=(dH, dW))


class Conv2d(nn.Module):
    """A convolution layer that uses :func:`conv2d`; same parameters and initialisation as ``nn.Conv2d``.

    ``weight`` (C_out, C_in, kH, kW) and ``bias`` (C_out,) are drawn uniform in
    ±1/sqrt(fan_in), fan_in = C_in * kH * kW: what ``nn.Conv2d``'s
    ``kaiming_uniform_(a=sqrt(5))`` amounts to. Drawn from the same global
    seed, they are the same numbers, and ``load_state_dict`` copies across.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, dilation: IntPair = 1, bias: bool = True):
        super().__init__()
        kH, kW = _pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kH, kW))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        bound = 1 / math.sqrt(in_channels * kH * kW)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding, dilation=self.dilation)

    def extra_repr(self) -> str:
        C_out, C_in, kH, kW = self.weight.shape
        return (f"{C_in}, {C_out}, kernel_size={(kH, kW)}, stride={self.stride}, padding={self.padding}"
                f"{'' if self.bias is not None else ', bias=False'}")


class ConvTranspose2d(nn.Module):
    """A transposed convolution layer that uses :func:`conv_transpose2d`; initialised like ``nn.ConvTranspose2d``.

    ``weight`` is (C_in, C_out, kH, kW); PyTorch computes its fan-in from
    dimension 1, so the bound is 1/sqrt(C_out * kH * kW) for weight and bias.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, output_padding: IntPair = 0, bias: bool = True, dilation: IntPair = 1):
        super().__init__()
        kH, kW = _pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels, kH, kW))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        bound = 1 / math.sqrt(out_channels * kH * kW)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                output_padding=self.output_padding, dilation=self.dilation)

    def extra_repr(self) -> str:
        C_in, C_out, kH, kW = self.weight.shape
        return (f"{C_in}, {C_out}, kernel_size={(kH, kW)}, stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}{'' if self.bias is not None else ', bias=False'}")


class DigitsCNN(nn.Module):
    """A small CNN for the 8x8 digits, built from this module's from-scratch layers.

    (B, 1, 8, 8) -> [3x3 conv, pad 1 -> ReLU -> 2x2 max pool] per entry of
    ``channels`` (8 -> 4 -> 2 pixels for two blocks) -> flatten -> linear ->
    (B, n_classes) logits.
    """

    def __init__(self, channels: Sequence[int] = (16, 32), *, in_channels: int = 1, image_size: int = 8,
                 n_classes: int = 10):
        super().__init__()
        if image_size % 2 ** len(channels):
            raise ValueError(f"{len(channels)} pooling steps need image_size divisible by {2 ** len(channels)}, "
                             f"got {image_size}")
        sizes = [in_channels, *channels]
        self.convs = nn.ModuleList(Conv2d(c_in, c_out, 3, padding=1) for c_in, c_out in zip(sizes[:-1], sizes[1:]))
        side = image_size // 2 ** len(channels)
        self.head = nn.Linear(sizes[-1] * side * side, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = max_pool2d(torch.relu(conv(x)), 2)  # (B, C, H/2, W/2)
        return self.head(x.flatten(1))  # (B, n_classes)


@dataclass
class CNNConfig(Presets):
    """Chapter 2's CNN-vs-MLP comparison on the 8x8 digits: both train with this same budget."""

    channels: Tuple[int, ...] = (16, 32)  # DigitsCNN: conv widths (about 6k parameters)
    mlp_hidden: int = 128  # the MLP of chapter 1: 64 -> 128 -> 128 -> 10, about 26k parameters
    mlp_depth: int = 2
    steps: int = 1000
    batch_size: int = 64
    lr: float = 3e-3  # Adam, for both

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"channels": (24, 48), "steps": 4000, "batch_size": 128},
    }
    SMOKE: ClassVar[dict] = {"steps": 10}  # smoke mode only (see minigan.config.Presets)
