"""Training CycleGAN: the reference's ``optimize_parameters`` as two small step functions and a loop.

Paper names [zhu2017cyclegan], with the reference code's in brackets:
G: X -> Y [netG_A], F: Y -> X [netG_B], D_Y judges real y against G(x)
[netD_A], D_X judges real x against F(y) [netD_B].

One training iteration, in the reference's order:

1. **Generator step**, both discriminators frozen. The loss is

   L_G = L_GAN(D_Y(G(x)))                                  # G's fakes should look like Y
       + L_GAN(D_X(F(y)))                                  # F's fakes should look like X
       + λ ||F(G(x)) - x||₁ + λ ||G(F(y)) - y||₁            # cycle: there and back again
       + λ·λ_id ||G(y) - y||₁ + λ·λ_id ||F(x) - x||₁         # identity: leave the target domain alone

   with λ = 10, λ_id = 0.5 and L1 means over pixels. G and F share one Adam.
   For ablations, ``cfg.cycle_loss=False`` drops the cycle terms and
   ``cfg.lambda_identity=0`` the identity terms.
2. **Discriminator step**: D_Y on real y against G(x) drawn through the
   history pool of y-fakes, D_X on real x against F(y) through the x-pool,
   each with the least-squares loss halved (``d_loss_lsgan``). D_X and D_Y
   share one Adam. Fakes are detached, so no gradient reaches G or F.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Iterable

import torch
import torch.nn.functional as F_
from torch import Tensor

from ..gan.losses import GANLoss, get_loss
from ..gan.steps import frozen
from ..train import CallbackLike, History, batches, fit
from ..utils import seed_everything
from .config import CycleGANConfig, linear_decay_factor
from .networks import PatchDiscriminator, ResnetGenerator, init_weights
from .pool import ImagePool

__all__ = ["CycleGAN", "make_cyclegan", "make_optimizers", "generator_step", "discriminator_step",
           "fit_cyclegan", "train_cyclegan"]


@dataclass
class CycleGAN:
    """The four networks of a CycleGAN, its config, and what training recorded."""

    G: ResnetGenerator  # X -> Y
    F: ResnetGenerator  # Y -> X
    D_X: PatchDiscriminator  # real x vs F(y)
    D_Y: PatchDiscriminator  # real y vs G(x)
    cfg: CycleGANConfig
    history: History | None = None

    @torch.no_grad()
    def translate(self, images: Tensor, *, to: str = "y") -> Tensor:
        """``images`` (B, C, H, W) in [-1, 1] translated to domain ``to`` ("y": G(x), "x": F(y)), on the CPU."""
        if to not in ("x", "y"):
            raise ValueError(f"to must be 'x' or 'y', got {to!r}")
        net = self.G if to == "y" else self.F
        device = next(net.parameters()).device
        return net(images.to(device)).cpu()  # instance norm: no train/eval difference


def make_cyclegan(cfg: CycleGANConfig, *, device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> CycleGAN:
    """Four fresh networks for ``cfg`` with the reference's N(0, 0.02) initialisation, on ``device``."""
    gen = lambda: ResnetGenerator(cfg.channels, cfg.channels, ngf=cfg.ngf, n_blocks=cfg.n_blocks)  # noqa: E731
    disc = lambda: PatchDiscriminator(cfg.channels, ndf=cfg.ndf, n_layers=cfg.n_layers_d)  # noqa: E731
    nets = [init_weights(net, generator=generator).to(device) for net in (gen(), gen(), disc(), disc())]
    return CycleGAN(*nets, cfg=cfg)


def make_optimizers(model: CycleGAN) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One Adam for G and F together, one for D_X and D_Y together, as in the reference.

    On a CPU or CUDA device the Adams are PyTorch's fused kernels: the same
    algorithm in one pass over memory instead of a dozen, which matters here
    because the discriminators hold most of the parameters.
    """
    cfg = model.cfg
    fused = next(model.G.parameters()).device.type in ("cpu", "cuda")
    adam = lambda *nets: torch.optim.Adam(itertools.chain(*(n.parameters() for n in nets)),  # noqa: E731
                                          lr=cfg.lr, betas=cfg.betas, fused=fused)
    return adam(model.G, model.F), adam(model.D_X, model.D_Y)


# Stacking several inputs into one call of a network computes exactly what separate calls would (instance
# norm normalises each image on its own) and saves per-call overhead. On a CPU that pays while one image's
# widest activation stays small. Measured on 2 cores (forward + backward, a pair stacked vs one by one):
# generator 64x64/ngf 32 8% faster, 128x128/ngf 64 even, 256x256/ngf 64 5% slower; PatchGAN (ndf 64)
# 32% faster at 64x64, 9% at 128x128, 4% at 256x256.
STACK_MAX_FLOATS = 2 ** 20  # per image, in the network's widest layer


def _apply(net: torch.nn.Module, *inputs: Tensor, widest: int) -> list[Tensor]:
    """``[net(t) for t in inputs]``, in one stacked call when that is faster (``widest``: floats per image)."""
    if len(inputs) > 1 and (inputs[0].is_cuda or widest <= STACK_MAX_FLOATS):
        return list(net(torch.cat(inputs)).split([len(t) for t in inputs]))
    return [net(t) for t in inputs]


def generator_step(model: CycleGAN, opt_G: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                   loss: GANLoss | None = None) -> tuple[dict[str, float], Tensor, Tensor]:
    """One update of G and F through frozen discriminators. Returns the logs and the fakes (G(x), F(y)).

    G's two inputs, x (to make fakes) and y (for the identity loss), may go
    through it as one stacked batch (see :data:`STACK_MAX_FLOATS`), and F's likewise.
    """
    m, cfg = model, model.cfg
    loss = loss or get_loss(cfg.loss)
    lam, lam_id = cfg.lambda_cycle, cfg.lambda_cycle * cfg.lambda_identity
    widest = cfg.ngf * real_x.shape[-2] * real_x.shape[-1]  # the generator's first and last layers: ngf x H x W
    with frozen(m.D_X, m.D_Y):
        fake_y, *idt_y = _apply(m.G, real_x, *([real_y] if lam_id > 0 else []), widest=widest)  # G(x), G(y)
        fake_x, *idt_x = _apply(m.F, real_y, *([real_x] if lam_id > 0 else []), widest=widest)  # F(y), F(x)
        logs = {"g_gan": loss.g(m.D_Y(fake_y)), "f_gan": loss.g(m.D_X(fake_x))}
        if cfg.cycle_loss:
            logs["cycle_x"] = lam * F_.l1_loss(m.F(fake_y), real_x)  # || F(G(x)) - x ||
            logs["cycle_y"] = lam * F_.l1_loss(m.G(fake_x), real_y)  # || G(F(y)) - y ||
        if lam_id > 0:
            logs["idt_y"] = lam_id * F_.l1_loss(idt_y[0], real_y)  # || G(y) - y ||
            logs["idt_x"] = lam_id * F_.l1_loss(idt_x[0], real_x)  # || F(x) - x ||
        total = sum(logs.values())
        opt_G.zero_grad(set_to_none=True)
        total.backward()
        opt_G.step()
    out = {k: v.item() for k, v in logs.items()}
    out["g_total"] = total.item()
    return out, fake_x.detach(), fake_y.detach()


def discriminator_step(model: CycleGAN, opt_D: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                       fake_x: Tensor, fake_y: Tensor, pool_x: ImagePool, pool_y: ImagePool,
                       loss: GANLoss | None = None) -> dict[str, float]:
    """One update of D_X and D_Y on real images and on fakes drawn through the history pools."""
    m = model
    loss = loss or get_loss(m.cfg.loss)
    fake_y, fake_x = pool_y.query(fake_y), pool_x.query(fake_x)  # detached, partly older fakes
    widest = m.cfg.ndf * real_x.shape[-2] * real_x.shape[-1] // 4  # the PatchGAN's first layer: ndf x H/2 x W/2
    d_y = loss.d(*_apply(m.D_Y, real_y, fake_y, widest=widest))  # the lsgan loss is already halved
    d_x = loss.d(*_apply(m.D_X, real_x, fake_x, widest=widest))
    opt_D.zero_grad(set_to_none=True)
    (d_x + d_y).backward()
    opt_D.step()
    return {"d_x": d_x.item(), "d_y": d_y.item()}


def fit_cyclegan(model: CycleGAN, data_x: Tensor, data_y: Tensor, *, generator: torch.Generator | None = None,
                 callbacks: Iterable[CallbackLike] = (), progress: bool = True, desc: str = "CycleGAN") -> History:
    """Train ``model`` in place on unpaired images ``data_x`` (N, C, H, W) and ``data_y`` (M, C, H, W).

    Batches of x and y are drawn independently (the data are unpaired), with
    ``generator``. One epoch is ``cfg.epoch_steps`` iterations, or one pass
    over the larger domain; the learning rate of both optimisers follows
    :func:`linear_decay_factor`, stepped once per epoch, as in the reference.
    ``callbacks`` run after every iteration (any returning True stops
    training). Returns every iteration's losses and learning rate, also stored
    as ``model.history``.
    """
    cfg = model.cfg
    for name, d in (("data_x", data_x), ("data_y", data_y)):
        if d.dim() != 4 or d.shape[1] != cfg.channels:
            raise ValueError(f"{name} must be images (N, {cfg.channels}, H, W), got {tuple(d.shape)}")
    device = next(model.G.parameters()).device
    opt_G, opt_D = make_optimizers(model)
    lr_factor = lambda e: linear_decay_factor(e, cfg.n_epochs, cfg.n_epochs_decay)  # noqa: E731
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) for opt in (opt_G, opt_D)]
    epoch_steps = cfg.epoch_steps or -(-max(len(data_x), len(data_y)) // cfg.batch_size)
    xs = batches(data_x, batch_size=cfg.batch_size, generator=generator, device=device)
    ys = batches(data_y, batch_size=cfg.batch_size, generator=generator, device=device)
    pool_x, pool_y = ImagePool(cfg.pool_size, generator=generator), ImagePool(cfg.pool_size, generator=generator)
    loss = get_loss(cfg.loss)

    def step(i: int) -> dict[str, float]:
        real_x, real_y = next(xs)[0], next(ys)[0]
        logs = {"lr": opt_G.param_groups[0]["lr"]}
        g_logs, fake_x, fake_y = generator_step(model, opt_G, real_x, real_y, loss)
        logs.update(g_logs)
        logs.update(discriminator_step(model, opt_D, real_x, real_y, fake_x, fake_y, pool_x, pool_y, loss))
        if (i + 1) % epoch_steps == 0:
            for s in schedulers:
                s.step()
        return logs

    model.history = fit(step, cfg.total_epochs * epoch_steps, callbacks=callbacks, progress=progress, desc=desc)
    return model.history


def train_cyclegan(cfg: CycleGANConfig, data_x: Tensor, data_y: Tensor, *, seed: int = 0,
                   device: torch.device | str = "cpu", callbacks: Iterable[CallbackLike] = (),
                   progress: bool = True, desc: str = "CycleGAN", **overrides) -> CycleGAN:
    """Seed, build (:func:`make_cyclegan`) and train (:func:`fit_cyclegan`) a CycleGAN; returns it.

    ``overrides`` replace fields of ``cfg``. Initial weights, batches and the
    pools' coin flips all come from one generator seeded with ``seed``.
    """
    cfg = replace(cfg, **overrides)
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    model = make_cyclegan(cfg, device=device, generator=g)
    fit_cyclegan(model, data_x, data_y, generator=g, callbacks=callbacks, progress=progress, desc=desc)
    return model
