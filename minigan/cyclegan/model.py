"""The CycleGAN itself: its four networks, the weight averages of the two generators, and the factory that builds them.

Paper names [zhu2017cyclegan], with the reference code's in brackets:
G: X -> Y [netG_A], F: Y -> X [netG_B], D_Y judges real y against G(x)
[netD_A], D_X judges real x against F(y) [netD_B].
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from ..train import History
from .config import CycleGANConfig
from .networks import PatchDiscriminator, ResnetGenerator, init_weights

__all__ = ["CycleGAN", "NETS", "AVERAGED", "make_cyclegan", "update_average", "use_channels_last"]

NETS = ("G", "F", "D_X", "D_Y")
AVERAGED = ("G_avg", "F_avg")  # kept (and in a checkpoint) when the config's ema > 0


@dataclass
class CycleGAN:
    """The four networks of a CycleGAN, its config, and what training recorded."""

    G: ResnetGenerator  # X -> Y
    F: ResnetGenerator  # Y -> X
    D_X: PatchDiscriminator  # real x vs F(y)
    D_Y: PatchDiscriminator  # real y vs G(x)
    cfg: CycleGANConfig
    history: History | None = None
    G_avg: ResnetGenerator | None = None  # running averages of G's and F's weights (cfg.ema > 0; else None)
    F_avg: ResnetGenerator | None = None

    def generator(self, to: str = "y", *, averaged: bool = True) -> ResnetGenerator:
        """The network that translates to domain ``to``: G for "y", F for "x"; their weight averages if kept."""
        if to not in ("x", "y"):
            raise ValueError(f"to must be 'x' or 'y', got {to!r}")
        net, avg = (self.G, self.G_avg) if to == "y" else (self.F, self.F_avg)
        return avg if averaged and avg is not None else net

    @torch.no_grad()
    def translate(self, images: Tensor, *, to: str = "y", averaged: bool = True) -> Tensor:
        """``images`` (B, C, H, W) in [-1, 1] translated to domain ``to`` ("y": G(x), "x": F(y)), on the CPU.

        With ``cfg.ema > 0`` this uses the averaged weights (``averaged=False``: the last iteration's).
        """
        net = self.generator(to, averaged=averaged)
        device = next(net.parameters()).device
        return net(images.to(device)).cpu()  # instance norm: no train/eval difference

    def nets(self) -> dict[str, torch.nn.Module]:
        """The networks by name: G, F, D_X, D_Y, then G_avg and F_avg where kept (what a checkpoint holds)."""
        return {name: getattr(self, name) for name in NETS + AVERAGED if getattr(self, name) is not None}


def make_cyclegan(cfg: CycleGANConfig, *, device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> CycleGAN:
    """Four fresh networks for ``cfg`` with the reference's N(0, 0.02) initialisation, on ``device`` (NHWC if ``cfg.channels_last``)."""
    gen = lambda: ResnetGenerator(cfg.channels, cfg.channels, ngf=cfg.ngf, n_blocks=cfg.n_blocks)  # noqa: E731
    disc = lambda: PatchDiscriminator(cfg.channels, ndf=cfg.ndf, n_layers=cfg.n_layers_d)  # noqa: E731
    memory_format = torch.channels_last if use_channels_last(cfg, device) else torch.contiguous_format
    nets = [init_weights(net, generator=generator).to(device, memory_format=memory_format)
            for net in (gen(), gen(), disc(), disc())]
    model = CycleGAN(*nets, cfg=cfg)
    if cfg.ema > 0:  # the averages start from the initial weights and are never trained directly
        model.G_avg, model.F_avg = (copy.deepcopy(n).requires_grad_(False) for n in (model.G, model.F))
    return model


@torch.no_grad()
def update_average(avg: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    """One step of an exponential moving average of weights: avg <- decay * avg + (1 - decay) * net.

    Averaging a generator's weights over the last few hundred iterations
    damps the back-and-forth of the adversarial game without slowing it
    [yazici2019unusual]; buffers (none in these networks) are copied.
    """
    for a, p in zip(avg.parameters(), net.parameters()):
        a.lerp_(p, 1.0 - decay)
    for a, b in zip(avg.buffers(), net.buffers()):
        a.copy_(b)


def use_channels_last(cfg: CycleGANConfig, device: torch.device | str) -> bool:
    """Whether to use NHWC on ``device``: as ``cfg`` says, except on Apple's MPS, where PyTorch's support is partial."""
    return cfg.channels_last and torch.device(device).type != "mps"
