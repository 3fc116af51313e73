"""Toy 2-D GANs: an MLP generator and an MLP discriminator (or critic) on a known Gaussian mixture.

Shapes: B batch, Z latent size; samples are points (B, 2).

Everything chapters 5 and 6 train goes through :func:`train_toy_gan`, so
every loss is compared with the same networks, data, budget and metric
(:func:`minigan.data.mixtures.mode_stats`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Iterable

import torch
from torch import Tensor, nn

from ..config import Presets
from ..data.mixtures import ModeStats, grid_centers, mode_stats, ring_centers, sample_mixture
from ..train import CallbackLike, History, fit
from ..utils import seed_everything
from .losses import get_loss
from .steps import make_gan_step

__all__ = ["ToyGANConfig", "ToyGAN", "mlp", "make_toy_gan", "train_toy_gan"]


@dataclass
class ToyGANConfig(Presets):
    """A 2-D GAN, its data and its training budget. Defaults train in seconds on a 2-core CPU."""

    mixture: str = "ring"  # "ring": modes Gaussians on a circle; "grid": a side x side grid
    modes: int = 8  # ring only; a grid has side² modes
    side: int = 5
    radius: float = 2.0  # ring radius; grid spacing
    std: float = 0.05  # of each Gaussian
    z_dim: int = 2
    hidden: int = 128
    depth: int = 3  # hidden layers in G and in D
    loss: str = "nonsaturating"  # a name in minigan.gan.LOSSES
    steps: int = 2000  # generator updates
    n_critic: int = 1  # D updates per G update
    batch_size: int = 256
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)  # Adam, as in DCGAN [radford2016dcgan]
    n_eval: int = 2000  # samples for the mode metric

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"hidden": 256, "steps": 5000, "batch_size": 512, "n_eval": 10000},
    }
    SMOKE: ClassVar[dict] = {"steps": 20, "n_eval": 500}  # smoke mode only (see minigan.config.Presets)

    def centers(self) -> Tensor:
        """The mixture's mode centres (K, 2)."""
        if self.mixture == "ring":
            return ring_centers(self.modes, self.radius)
        if self.mixture == "grid":
            return grid_centers(self.side, self.radius)
        raise ValueError(f"mixture must be 'ring' or 'grid', got {self.mixture!r}")


def mlp(sizes: Iterable[int], *, negative_slope: float = 0.0) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU (or leaky ReLU) between them, none after the last."""
    sizes = list(sizes)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(negative_slope) if negative_slope else nn.ReLU())
    return nn.Sequential(*layers)


@dataclass
class ToyGAN:
    """A trained (or untrained) toy GAN: the networks, the config, and what training recorded."""

    G: nn.Module  # (B, Z) -> (B, 2)
    D: nn.Module  # (B, 2) -> (B, 1) logits or scores
    cfg: ToyGANConfig
    history: History | None = None

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """``n`` generated points (n, 2) on the CPU."""
        device = next(self.G.parameters()).device
        z = torch.randn(n, self.cfg.z_dim, generator=generator).to(device)  # (n, Z)
        return self.G(z).cpu()

    def stats(self, *, seed: int = 1234) -> ModeStats:
        """The ground-truth metric on ``cfg.n_eval`` samples drawn with a fixed seed."""
        samples = self.sample(self.cfg.n_eval, generator=torch.Generator().manual_seed(seed))
        return mode_stats(samples, self.cfg.centers(), self.cfg.std)


def make_toy_gan(cfg: ToyGANConfig, *, device: torch.device | str = "cpu") -> ToyGAN:
    """Fresh networks for ``cfg``: G maps z (B, Z) to points (B, 2), D maps points to one output (B, 1)."""
    G = mlp([cfg.z_dim, *[cfg.hidden] * cfg.depth, 2]).to(device)
    D = mlp([2, *[cfg.hidden] * cfg.depth, 1], negative_slope=0.2).to(device)
    return ToyGAN(G, D, cfg)


def train_toy_gan(cfg: ToyGANConfig, *, seed: int = 0, device: torch.device | str = "cpu",
                  callbacks: Iterable[CallbackLike] = (), desc: str | None = None, **overrides) -> ToyGAN:
    """Seed, build and train a toy GAN; ``overrides`` replace fields of ``cfg`` (e.g. ``loss="wgan-gp"``).

    Real batches come fresh from the mixture each step and latent codes from a
    standard normal, both from one generator seeded with ``seed``, so a run is
    reproducible on a given machine. Returns the :class:`ToyGAN` with its history
    (``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` and, for WGAN-GP, ``gp``).
    """
    cfg = replace(cfg, **overrides)
    loss = get_loss(cfg.loss)
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    gan = make_toy_gan(cfg, device=device)
    opt_G = torch.optim.Adam(gan.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_D = torch.optim.Adam(gan.D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    centers = cfg.centers()
    step = make_gan_step(
        gan.G, gan.D, opt_G, opt_D,
        next_real=lambda: sample_mixture(cfg.batch_size, centers, cfg.std, generator=g).to(device),  # (B, 2)
        sample_z=lambda n: torch.randn(n, cfg.z_dim, generator=g).to(device),  # (B, Z)
        loss=loss, n_critic=cfg.n_critic, generator=g)
    gan.history = fit(step, cfg.steps, callbacks=callbacks, desc=desc or f"toy GAN ({cfg.loss})")
    return gan
