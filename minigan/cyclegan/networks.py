"""CycleGAN's networks, layer for layer as in the authors' reference code [zhu2017cyclegan].

Shapes: B batch, C channels (3 for RGB), H x W image size; images live in [-1, 1].

- :class:`ResnetGenerator`: the image-to-image generator (the paper's G: X -> Y
  and F: Y -> X are two of these). Reflection pad + 7x7 conv, two stride-2
  downsampling convs, ``n_blocks`` residual blocks, two stride-2 transposed
  convs (``output_padding=1``, so each exactly doubles the size), 7x7 conv,
  tanh. 9 blocks for 256x256 images, 6 for 128x128.
- :class:`PatchDiscriminator`: the 70x70 PatchGAN of pix2pix
  [isola2017pix2pix] (the paper's D_X and D_Y): C64-C128-C256-C512 with 4x4
  kernels, then a 1-channel conv. It outputs a *map* of raw scores (no
  sigmoid), one per overlapping 70x70 patch of the input: 30x30 for 256x256.

Normalisation is instance norm without learned scale or running statistics
(``InstanceNorm2d(affine=False, track_running_stats=False)``, the reference's
``--norm instance``); since it removes any per-channel shift, the reference
keeps conv biases everywhere, and so do we, which is what makes the parameter
counts match: 11,378,179 for ``ResnetGenerator(ngf=64, n_blocks=9)``,
7,837,699 with 6 blocks, 2,764,737 for ``PatchDiscriminator(ndf=64)``.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..gan.dcgan import dcgan_init_
from ..nn.receptive import receptive_fields

__all__ = ["ResnetBlock", "ResnetGenerator", "PatchDiscriminator", "init_weights", "receptive_field", "NORMS"]


NORMS = ("instance", "batch")


def _norm(channels: int, kind: str = "instance") -> nn.Module:
    """The reference's ``--norm instance`` (CycleGAN) or ``--norm batch`` (pix2pix)."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


class ResnetBlock(nn.Module):
    """x + [pad, conv3x3, norm, ReLU, pad, conv3x3, norm](x): (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, kernel_size=3), _norm(channels), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, kernel_size=3), _norm(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)  # the residual connection [he2016resnet]; no ReLU after the sum, as in the reference


class ResnetGenerator(nn.Module):
    """CycleGAN's generator: (B, C_in, H, W) -> (B, C_out, H, W) in [-1, 1]; H and W divisible by 4."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, *, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, kernel_size=7), _norm(ngf), nn.ReLU(inplace=True),
        ]  # (B, ngf, H, W)
        for mult in (1, 2):  # downsample: (B, 2ngf, H/2, W/2), then (B, 4ngf, H/4, W/4)
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1),
                       _norm(ngf * mult * 2), nn.ReLU(inplace=True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]  # (B, 4ngf, H/4, W/4)
        for mult in (4, 2):  # upsample: (B, 2ngf, H/2, W/2), then (B, ngf, H, W)
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                          output_padding=1),
                       _norm(ngf * mult // 2), nn.ReLU(inplace=True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, kernel_size=7), nn.Tanh()]  # (B, C_out, H, W)
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(f"ResnetGenerator expects images (B, C, H, W) with H and W divisible by 4 "
                             f"(two stride-2 steps down and two up), got {tuple(x.shape)}")
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN [isola2017pix2pix]: (B, C, H, W) -> (B, 1, H', W') raw scores, one per patch (30x30 for 256x256).

    With ``n_layers=3`` each score sees a 70x70 patch of the input
    (:func:`receptive_field`). The first layer has no normalisation.
    ``norm="batch"`` is pix2pix's: batch norm, whose shift makes the convs
    before it drop their biases, as the reference does (2,768,705 parameters
    for pix2pix's conditional D, which sees 6 channels: input and output).
    """

    def __init__(self, in_channels: int = 3, *, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        _norm(1, norm)  # refuse an unknown norm before building anything
        bias = norm == "instance"  # instance norm without affine keeps the biases (the reference's rule)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2, inplace=True)]  # C64, no norm
        mult = 1
        for n in range(1, n_layers + 1):  # C128, C256 with stride 2; then C512 with stride 1
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2 if n < n_layers else 1, padding=1,
                                 bias=bias),
                       _norm(ndf * mult, norm), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]  # one raw score per patch
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def receptive_field(module: nn.Module) -> int:
    """The side of the input patch that one output value of a stack of convs sees (70 for the 3-layer PatchGAN).

    The last entry of :func:`minigan.nn.receptive_fields`, which lists how it grows layer by layer.
    """
    return receptive_fields(module)[-1].field


def init_weights(module: nn.Module, *, std: float = 0.02, generator: torch.Generator | None = None) -> nn.Module:
    """The reference's ``init_type='normal'``, in place: conv weights ~ N(0, std), biases 0. Returns ``module``.

    This is DCGAN's initialisation [radford2016dcgan], so it is
    :func:`minigan.gan.dcgan.dcgan_init_` under the reference's name.
    """
    return dcgan_init_(module, std=std, generator=generator)
