"""The pix2pix model: the U-Net generator G: x -> y, the conditional PatchGAN D(x, y), and the factory that builds them."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..cyclegan.networks import PatchDiscriminator, init_weights
from ..train import History
from .config import Pix2PixConfig
from .networks import UnetGenerator

__all__ = ["Pix2Pix", "NETS", "make_pix2pix", "conditional_input"]

NETS = ("G", "D")


def conditional_input(x: Tensor, y: Tensor) -> Tensor:
    """What the conditional D sees: the input and a candidate output side by side in the channels, (B, C_x + C_y, S, S).

    The order is the reference's: ``torch.cat((real_A, fake_B), 1)``.
    """
    if x.shape[0] != y.shape[0] or x.shape[-2:] != y.shape[-2:]:
        raise ValueError(f"x and y must be the same batch of the same size, got {tuple(x.shape)} and {tuple(y.shape)}")
    return torch.cat([x, y], dim=1)


@dataclass
class Pix2Pix:
    """G and D of a pix2pix model, its config, and what training recorded."""

    G: UnetGenerator
    D: PatchDiscriminator
    cfg: Pix2PixConfig
    history: History | None = None

    @torch.no_grad()
    def translate(self, images: Tensor, *, as_trained: bool = True, seed: int | None = 0) -> Tensor:
        """``images`` (B, C_in, S, S) in [-1, 1] -> G(x) (B, C_out, S, S), on the CPU.

        ``as_trained=True`` runs G as the paper does at test time, "in exactly
        the same manner as during the training phase": dropout on, batch norm
        with the statistics of the batch being translated. ``seed`` fixes the
        dropout masks (None: the global generator's), so the same call gives
        the same images. The running statistics are left as they were.
        ``as_trained=False`` is ``G.eval()``: no dropout, batch norm's running
        averages (the reference's ``--eval``).
        """
        device = next(self.G.parameters()).device
        was_training = self.G.training
        norms = [m for m in self.G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None)
                 for m in norms]
        try:
            self.G.train(as_trained)
            for m in norms:
                m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch: unchanged
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                if seed is not None:
                    torch.manual_seed(seed)
                return self.G(images.to(device)).cpu()
        finally:
            self.G.train(was_training)
            for m, (momentum, tracked) in zip(norms, saved):
                m.momentum = momentum
                if tracked is not None:
                    m.num_batches_tracked.copy_(tracked)

    def nets(self) -> dict[str, nn.Module]:
        """The networks by name (what a checkpoint holds)."""
        return {"G": self.G, "D": self.D}


def make_pix2pix(cfg: Pix2PixConfig, *, device: torch.device | str = "cpu",
                 generator: torch.Generator | None = None) -> Pix2Pix:
    """G and D for ``cfg`` with the reference's N(0, 0.02) initialisation (batch norm's scale N(1, 0.02)), on ``device``."""
    G = UnetGenerator(cfg.in_channels, cfg.out_channels, num_downs=cfg.num_downs, ngf=cfg.ngf, norm=cfg.norm,
                      dropout=cfg.dropout, skips=cfg.skips)
    D = PatchDiscriminator(cfg.in_channels + cfg.out_channels, ndf=cfg.ndf, n_layers=cfg.n_layers_d, norm=cfg.norm)
    G, D = (init_weights(net, generator=generator).to(device) for net in (G, D))
    return Pix2Pix(G, D, cfg)
