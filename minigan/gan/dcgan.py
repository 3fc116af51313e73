"""DCGAN: a convolutional generator and discriminator, sized for the 8x8 digits of Part I.

Shapes: B batch, Z latent size, C channels, H = W = 8 image side; images live in [-1, 1].

The architecture follows the DCGAN guidelines [radford2016dcgan]: no pooling
and no fully connected hidden layers; the generator upsamples with strided
transposed convolutions, BatchNorm and ReLU, and ends in tanh; the
discriminator downsamples with strided convolutions and LeakyReLU(0.2), with
BatchNorm everywhere except its first layer, and ends in one raw logit. Both
start from DCGAN's initialisation (:func:`dcgan_init_`). Training reuses the
step functions of :mod:`minigan.gan.steps`; there is no other training loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Iterable, Sequence

import torch
from torch import Tensor, nn

from ..config import Presets
from ..data.digits import load_digits
from ..train import CallbackLike, History, batches, fit
from ..utils import seed_everything
from .losses import get_loss
from .steps import make_gan_step

__all__ = ["DCGANConfig", "Generator", "Discriminator", "dcgan_init_", "DCGAN", "make_dcgan", "train_dcgan",
           "interpolate"]


@dataclass
class DCGANConfig(Presets):
    """A DCGAN on the 8x8 digits and its training budget. Defaults train in well under a minute on a 2-core CPU."""

    z_dim: int = 32
    ngf: int = 32  # generator width: 2*ngf channels at 2x2, ngf at 4x4
    ndf: int = 32  # discriminator width: ndf channels at 4x4, 2*ndf at 2x2
    loss: str = "nonsaturating"  # a name in minigan.gan.LOSSES; DCGAN used this one (BCE on logits)
    steps: int = 1000  # generator updates
    batch_size: int = 64
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)  # Adam; beta1 = 0.5 as in DCGAN [radford2016dcgan]

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"z_dim": 64, "ngf": 128, "ndf": 128, "steps": 6000, "batch_size": 128, "lr_g": 5e-4, "lr_d": 5e-4},
    }
    SMOKE: ClassVar[dict] = {"steps": 20}  # smoke mode only (see minigan.config.Presets)


class Generator(nn.Module):
    """DCGAN generator [radford2016dcgan]: z (B, Z) -> image (B, 1, 8, 8) in [-1, 1]."""

    def __init__(self, *, z_dim: int = 32, ngf: int = 32, channels: int = 1):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            # z seen as a 1x1 image with Z channels: (B, Z, 1, 1)
            nn.ConvTranspose2d(z_dim, 2 * ngf, kernel_size=2, stride=1, padding=0, bias=False),  # (B, 2ngf, 2, 2)
            nn.BatchNorm2d(2 * ngf),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * ngf, ngf, kernel_size=4, stride=2, padding=1, bias=False),  # (B, ngf, 4, 4)
            nn.BatchNorm2d(ngf),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf, channels, kernel_size=4, stride=2, padding=1),  # (B, 1, 8, 8)
            nn.Tanh(),  # no BatchNorm on the output layer, as in the paper
        )

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"Generator expects latent codes of shape (B, {self.z_dim}), got {tuple(z.shape)}; "
                             f"draw them with torch.randn(B, {self.z_dim}), not images")
        return self.net(z[:, :, None, None])  # (B, Z) -> (B, Z, 1, 1) -> (B, 1, 8, 8)


class Discriminator(nn.Module):
    """DCGAN discriminator [radford2016dcgan]: image (B, 1, 8, 8) -> one raw logit per image (B, 1)."""

    def __init__(self, *, ndf: int = 32, channels: int = 1):
        super().__init__()
        self.channels = channels
        self.net = nn.Sequential(
            nn.Conv2d(channels, ndf, kernel_size=4, stride=2, padding=1),  # (B, ndf, 4, 4); no BN on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, 2 * ndf, kernel_size=4, stride=2, padding=1, bias=False),  # (B, 2ndf, 2, 2)
            nn.BatchNorm2d(2 * ndf),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * ndf, 1, kernel_size=2, stride=1, padding=0),  # (B, 1, 1, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, 8, 8):
            raise ValueError(f"Discriminator expects images of shape (B, {self.channels}, 8, 8), "
                             f"got {tuple(x.shape)}")
        return self.net(x).flatten(1)  # (B, 1) logits: no sigmoid, the losses take logits


def dcgan_init_(module: nn.Module, *, std: float = 0.02, generator: torch.Generator | None = None) -> nn.Module:
    """DCGAN's initialisation, in place: conv weights ~ N(0, 0.02), BatchNorm γ ~ N(1, 0.02), biases 0.

    "All weights were initialized from a zero-centered Normal distribution with
    standard deviation 0.02" [radford2016dcgan]; the BatchNorm scale γ is drawn
    around 1, as in the authors' and PyTorch's reference code. Returns ``module``.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std, generator=generator)
            nn.init.zeros_(m.bias)
    return module


@dataclass
class DCGAN:
    """A DCGAN: the networks, the config, what training recorded, and sample grids taken during training."""

    G: Generator
    D: Discriminator
    cfg: DCGANConfig
    history: History | None = None
    snapshots: dict[int, Tensor] = field(default_factory=dict)  # step -> G(fixed z) (n, 1, 8, 8), CPU

    @torch.no_grad()
    def generate(self, z: Tensor, *, train_mode: bool = False) -> Tensor:
        """Images (B, 1, 8, 8) on the CPU for latent codes ``z`` (B, Z).

        By default G runs in eval mode: BatchNorm normalises with the running
        statistics it kept during training, so each image depends only on its
        own z (not on the rest of the batch) and a batch of one works. With
        ``train_mode=True`` BatchNorm uses the statistics of this batch, as
        during training. G's mode is restored afterwards.
        """
        was_training = self.G.training
        self.G.train(train_mode)
        try:
            device = next(self.G.parameters()).device
            return self.G(z.to(device)).cpu()
        finally:
            self.G.train(was_training)

    def sample(self, n: int, *, generator: torch.Generator | None = None, train_mode: bool = False) -> Tensor:
        """``n`` generated digits (n, 1, 8, 8) from fresh z ~ N(0, I) drawn with ``generator``."""
        return self.generate(torch.randn(n, self.cfg.z_dim, generator=generator), train_mode=train_mode)


def make_dcgan(cfg: DCGANConfig, *, device: torch.device | str = "cpu",
               generator: torch.Generator | None = None) -> DCGAN:
    """Fresh G and D for ``cfg`` with DCGAN's initialisation, on ``device``."""
    G = dcgan_init_(Generator(z_dim=cfg.z_dim, ngf=cfg.ngf), generator=generator).to(device)
    D = dcgan_init_(Discriminator(ndf=cfg.ndf), generator=generator).to(device)
    return DCGAN(G, D, cfg)


def train_dcgan(cfg: DCGANConfig, *, seed: int = 0, device: torch.device | str = "cpu",
                data: Tensor | None = None, snapshot_z: Tensor | None = None,
                snapshot_steps: Sequence[int] = (), callbacks: Iterable[CallbackLike] = (),
                desc: str | None = None, **overrides) -> DCGAN:
    """Seed, build and train a DCGAN on ``data`` (N, 1, 8, 8) in [-1, 1] (default: the digits' training split).

    ``overrides`` replace fields of ``cfg`` (e.g. ``steps=200``). After each
    (0-based) step listed in ``snapshot_steps``, G's images for the fixed
    ``snapshot_z`` (n, Z) are stored in ``.snapshots[step]`` (drawn in eval
    mode, like :meth:`DCGAN.generate`). Real batches and latent codes come
    from one generator seeded with ``seed``. Returns the trained DCGAN.
    """
    cfg = replace(cfg, **overrides)
    if data is None:
        data = load_digits(value_range=(-1, 1)).X_train  # (N, 1, 8, 8)
    if data.dim() != 4 or data.shape[1:] != (1, 8, 8):
        raise ValueError(f"data must be images of shape (N, 1, 8, 8), got {tuple(data.shape)}")
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    gan = make_dcgan(cfg, device=device, generator=g)
    opt_G = torch.optim.Adam(gan.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_D = torch.optim.Adam(gan.D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    real_batches = batches(data, batch_size=cfg.batch_size, generator=g, device=device)
    step = make_gan_step(
        gan.G, gan.D, opt_G, opt_D,
        next_real=lambda: next(real_batches)[0],  # (B, 1, 8, 8)
        sample_z=lambda n: torch.randn(n, cfg.z_dim, generator=g).to(device),  # (B, Z)
        loss=get_loss(cfg.loss))
    wanted = set(snapshot_steps)
    if wanted and snapshot_z is None:
        raise ValueError("snapshot_steps needs snapshot_z, the fixed latent codes (n, Z) to draw")

    def snapshot(i: int, logs, history) -> None:
        if i in wanted:
            gan.snapshots[i] = gan.generate(snapshot_z)

    gan.history = fit(step, cfg.steps, callbacks=[snapshot, *callbacks], desc=desc or f"DCGAN ({cfg.loss})")
    return gan


def interpolate(z0: Tensor, z1: Tensor, steps: int = 8, *, spherical: bool = False) -> Tensor:
    """Latent codes (steps, Z) on the way from ``z0`` (Z,) to ``z1`` (Z,), both ends included.

    Linear: z(t) = (1 - t) z0 + t z1. Spherical (slerp) follows the great
    circle instead, so the norm of z stays typical of N(0, I) all the way
    (a straight line passes closer to the origin, where few training codes were).
    """
    if z0.shape != z1.shape or z0.dim() != 1:
        raise ValueError(f"z0 and z1 must be two latent codes of the same shape (Z,), got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype)[:, None]  # (steps, 1)
    if not spherical:
        return (1 - t) * z0 + t * z1  # (steps, Z)
    omega = torch.arccos((z0 / z0.norm()) @ (z1 / z1.norm())).clamp_min(1e-7)  # angle between them
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)  # (steps, Z)
