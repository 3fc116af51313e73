"""One CycleGAN iteration as the reference's ``optimize_parameters``: a generator step, then a discriminator step.

Paper names [zhu2017cyclegan], with the reference code's in brackets:
G: X -> Y [netG_A], F: Y -> X [netG_B], D_Y judges real y against G(x)
[netD_A], D_X judges real x against F(y) [netD_B].

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

Both steps take ``precision`` (autocast and fp16's grad scaler, see
:mod:`~minigan.cyclegan.precision`) and honour ``cfg.accum_steps``
(micro-batches, see :func:`~minigan.cyclegan.batching.micro_batches`).
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F_
from torch import Tensor

from ..gan.losses import GANLoss, get_loss
from ..gan.steps import frozen
from .batching import apply_stacked, as_float, logged, micro_batches
from .model import CycleGAN
from .pool import ImagePool
from .precision import Precision

__all__ = ["make_optimizers", "generator_losses", "generator_step", "discriminator_step"]


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


def generator_losses(m: CycleGAN, real_x: Tensor, real_y: Tensor, loss: GANLoss
                     ) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """Every term of L_G for one (micro-)batch, by name, and the fakes G(x), F(y)."""
    cfg = m.cfg
    lam, lam_id = cfg.lambda_cycle, cfg.lambda_cycle * cfg.lambda_identity
    widest = cfg.ngf * real_x.shape[-2] * real_x.shape[-1]  # the generator's first and last layers: ngf x H x W
    fake_y, *idt_y = apply_stacked(m.G, real_x, *([real_y] if lam_id > 0 else []), widest=widest)  # G(x), G(y)
    fake_x, *idt_x = apply_stacked(m.F, real_y, *([real_x] if lam_id > 0 else []), widest=widest)  # F(y), F(x)
    terms = {"g_gan": loss.g(m.D_Y(fake_y)), "f_gan": loss.g(m.D_X(fake_x))}
    if cfg.cycle_loss:
        terms["cycle_x"] = lam * F_.l1_loss(m.F(fake_y), real_x)  # || F(G(x)) - x ||
        terms["cycle_y"] = lam * F_.l1_loss(m.G(fake_x), real_y)  # || G(F(y)) - y ||
    if lam_id > 0:
        terms["idt_y"] = lam_id * F_.l1_loss(idt_y[0], real_y)  # || G(y) - y ||
        terms["idt_x"] = lam_id * F_.l1_loss(idt_x[0], real_x)  # || F(x) - x ||
    return terms, fake_x, fake_y


def generator_step(model: CycleGAN, opt_G: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                   loss: GANLoss | None = None, precision: Precision | None = None
                   ) -> tuple[dict[str, float], Tensor, Tensor]:
    """One update of G and F through frozen discriminators. Returns the logs and the fakes (G(x), F(y)).

    G's two inputs, x (to make fakes) and y (for the identity loss), may go
    through it as one stacked batch, and F's likewise.
    ``precision`` (default: float32) runs the forward passes under autocast.
    With ``cfg.accum_steps = k`` the batch goes through in k micro-batches whose
    gradients add up before the one optimizer step: the same gradient (every
    loss is a mean, instance norm is per image) with a k-th of the activations in memory.
    """
    m = model
    loss = loss or get_loss(m.cfg.loss)
    precision = precision or Precision()
    totals: dict[str, Tensor] = {}
    fakes_x, fakes_y = [], []
    opt_G.zero_grad(set_to_none=True)
    with frozen(m.D_X, m.D_Y):
        for share, (x, y) in micro_batches(m.cfg.accum_steps, real_x, real_y, sync=(m.G, m.F)):
            with precision.autocast():
                terms, fake_x, fake_y = generator_losses(m, x, y, loss)
                terms["g_total"] = sum(terms.values())
            precision.backward(terms["g_total"] if share == 1 else terms["g_total"] * share)
            for k, v in terms.items():
                totals[k] = totals.get(k, 0.0) + logged(v) * share
            fakes_x.append(fake_x.detach())
            fakes_y.append(fake_y.detach())
        precision.step(opt_G)
    return {k: as_float(v) for k, v in totals.items()}, torch.cat(fakes_x), torch.cat(fakes_y)


def discriminator_step(model: CycleGAN, opt_D: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                       fake_x: Tensor, fake_y: Tensor, pool_x: ImagePool, pool_y: ImagePool,
                       loss: GANLoss | None = None, precision: Precision | None = None) -> dict[str, float]:
    """One update of D_X and D_Y on real images and on fakes drawn through the history pools."""
    m = model
    loss = loss or get_loss(m.cfg.loss)
    precision = precision or Precision()
    fake_y, fake_x = pool_y.query(fake_y), pool_x.query(fake_x)  # detached, partly older fakes
    widest = m.cfg.ndf * real_x.shape[-2] * real_x.shape[-1] // 4  # the PatchGAN's first layer: ndf x H/2 x W/2
    d_x_total, d_y_total = 0.0, 0.0
    opt_D.zero_grad(set_to_none=True)
    for share, (rx, ry, fx, fy) in micro_batches(m.cfg.accum_steps, real_x, real_y, fake_x, fake_y,
                                                 sync=(m.D_X, m.D_Y)):
        with precision.autocast():
            d_y = loss.d(*apply_stacked(m.D_Y, ry, fy.to(ry.dtype), widest=widest))  # the lsgan loss is already halved
            d_x = loss.d(*apply_stacked(m.D_X, rx, fx.to(rx.dtype), widest=widest))
        precision.backward(d_x + d_y if share == 1 else (d_x + d_y) * share)
        d_x_total = d_x_total + logged(d_x) * share
        d_y_total = d_y_total + logged(d_y) * share
    precision.step(opt_D)
    return {"d_x": as_float(d_x_total), "d_y": as_float(d_y_total)}
