"""pix2pix's networks, layer for layer as in the authors' reference code [isola2017pix2pix].

Shapes: B batch, C channels (3 for RGB), S x S images in [-1, 1].

- :class:`UnetGenerator`: an encoder of ``num_downs`` stride-2 4x4 convs
  (S -> S/2 -> ... -> S / 2^num_downs, so 8 for 256x256 images reach 1x1),
  a decoder of as many stride-2 4x4 transposed convs, and *skip connections*:
  decoder stage k gets the output of decoder stage k+1 concatenated with the
  encoder's output at the same size. Widths ngf, 2ngf, 4ngf, 8ngf, then 8ngf.
  Encoder: LeakyReLU(0.2) -> conv -> norm; decoder: ReLU -> transposed conv
  -> norm. The outermost and innermost encoder convs have no norm, the last
  decoder stage ends in tanh. Dropout(0.5) follows the decoder's inner 8ngf
  stages (``num_downs - 5`` of them): the paper's only noise, kept at test
  time ("we apply dropout at test time", section 3.1). ``unet_256`` (8 downs)
  has 54,413,955 parameters, ``unet_128`` (7 downs) 41,828,995.
- The conditional discriminator is CycleGAN's :class:`PatchDiscriminator`
  with ``norm="batch"``, fed the input and the output concatenated
  (``in_channels = 6``): it judges whether y is a right answer *for x*, not
  only whether y looks real.

Batch norm makes the convs before it drop their biases, as in the reference.
The reference builds the U-Net recursively, one block inside another; here the
encoder and decoder are two lists, and ``forward`` is the loop that shows where
each skip goes.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..cyclegan.networks import _norm

__all__ = ["UnetGenerator", "unet_256", "unet_128", "unet_widths"]


def unet_widths(num_downs: int, ngf: int = 64) -> list[int]:
    """The encoder's output channels, outermost first: ngf, 2ngf, 4ngf, 8ngf, then 8ngf to ``num_downs`` entries."""
    if num_downs < 5:
        raise ValueError(f"the reference's U-Net has at least 5 downsamplings (widths ngf..8ngf), got {num_downs}")
    return [ngf * min(2 ** i, 8) for i in range(num_downs)]


class UnetGenerator(nn.Module):
    """pix2pix's U-Net: (B, C_in, S, S) -> (B, C_out, S, S) in [-1, 1]; S divisible by 2 ** num_downs.

    ``norm`` is "batch" (the paper's) or "instance"; ``dropout=False`` drops
    the decoder's noise (the reference's ``--no_dropout``). ``skips=False``
    builds the same encoder and decoder without the skip connections (an
    ablation: the paper's encoder-decoder, figure 3), so each decoder stage
    sees only the stage below it.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, *, num_downs: int = 8, ngf: int = 64,
                 norm: str = "batch", dropout: bool = True, skips: bool = True):
        super().__init__()
        w = unet_widths(num_downs, ngf)
        n, bias = num_downs, norm == "instance"
        self.num_downs, self.skips = num_downs, skips
        self.down = nn.ModuleList()
        for i in range(n):  # encoder stage i: (B, w[i-1], s, s) -> (B, w[i], s/2, s/2)
            conv = nn.Conv2d(in_channels if i == 0 else w[i - 1], w[i], kernel_size=4, stride=2, padding=1, bias=bias)
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers += [conv] + ([_norm(w[i], norm)] if 0 < i < n - 1 else [])
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in reversed(range(n)):  # decoder stage i: (B, w[i] or 2 w[i], s, s) -> (B, w[i-1], 2s, 2s)
            c_in = w[i] if i == n - 1 or not skips else 2 * w[i]
            if i == 0:
                layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, kernel_size=4, stride=2, padding=1),
                          nn.Tanh()]
            else:
                layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, w[i - 1], kernel_size=4, stride=2, padding=1, bias=bias),
                          _norm(w[i - 1], norm)]
                if dropout and 4 <= i <= n - 2:  # the inner 8ngf -> 8ngf stages
                    layers.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: Tensor) -> Tensor:
        side = 2 ** self.num_downs
        if x.dim() != 4 or x.shape[-2] % side or x.shape[-1] % side:
            raise ValueError(f"this U-Net halves the image {self.num_downs} times, so it expects (B, C, H, W) with "
                             f"H and W divisible by {side}, got {tuple(x.shape)}")
        skips = []
        for stage in self.down:  # outermost first: S/2, S/4, ..., S / 2^n
            x = stage(x)
            skips.append(x)
        skips.pop()  # the bottleneck has no mirror
        for k, stage in enumerate(self.up):  # innermost first
            if k > 0 and self.skips:
                x = torch.cat([skips.pop(), x], dim=1)  # the encoder's features at this size, then the decoder's
            x = stage(x)
        return x


def unet_256(in_channels: int = 3, out_channels: int = 3, **kwargs) -> UnetGenerator:
    """The reference's ``--netG unet_256``: 8 downsamplings, 256x256 -> 1x1 at the bottleneck."""
    return UnetGenerator(in_channels, out_channels, num_downs=8, **kwargs)


def unet_128(in_channels: int = 3, out_channels: int = 3, **kwargs) -> UnetGenerator:
    """The reference's ``--netG unet_128``: 7 downsamplings, 128x128 -> 1x1."""
    return UnetGenerator(in_channels, out_channels, num_downs=7, **kwargs)
