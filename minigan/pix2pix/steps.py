"""One pix2pix iteration as the reference's ``optimize_parameters``: G(x) once, a D step, then a G step.

The objective [isola2017pix2pix], eq. 4, with x the input, y its true output:

    G* = arg min_G max_D  L_cGAN(G, D) + λ L_L1(G),   λ = 100

    L_cGAN = E[log D(x, y)] + E[log(1 - D(x, G(x)))]    # D judges pairs, not images
    L_L1   = E ||y - G(x)||₁                             # be near the right answer

1. **Discriminator step**: D on the real pair (x, y) against the fake pair
   (x, G(x)), G(x) detached. The paper halves D's objective ("we divide the
   objective by 2 while optimizing D, which slows down the rate at which D
   learns relative to G"). Real and fake pairs go through D in two calls, as
   in the reference: with batch norm, one stacked call would normalise real
   and fake pairs with shared statistics, a different network.
2. **Generator step**, D frozen: L_G = L_GAN(D(x, G(x))) + λ ||G(x) - y||₁,
   with G's non-saturating form of the cross-entropy (the reference's
   ``gan_mode="vanilla"``), on the same G(x) as the D step.

``cfg.gan_loss=False`` trains L1 alone (the paper's blurry baseline; there is
then no D step, since G would ignore D); ``cfg.lambda_l1=0`` the cGAN alone.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F_
from torch import Tensor

from ..gan.losses import GANLoss, get_loss
from ..gan.steps import frozen
from .model import Pix2Pix, conditional_input

__all__ = ["make_optimizers", "d_objective", "discriminator_step", "generator_losses", "generator_step",
           "train_step"]


def make_optimizers(model: Pix2Pix) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One Adam for G and one for D, with the config's rate and betas (0.5, 0.999), as in the reference."""
    cfg = model.cfg
    return (torch.optim.Adam(model.G.parameters(), lr=cfg.lr, betas=cfg.betas),
            torch.optim.Adam(model.D.parameters(), lr=cfg.lr, betas=cfg.betas))


def d_objective(loss: GANLoss, real: Tensor, fake: Tensor) -> Tensor:
    """D's loss, halved as the paper does: (L(D(x, y), real) + L(D(x, G(x)), fake)) / 2.

    ``d_loss_lsgan`` already holds that half (CycleGAN's convention, see
    :mod:`minigan.gan.losses`); every other loss is halved here.
    """
    return loss.d(real, fake) if loss.name == "lsgan" else 0.5 * loss.d(real, fake)


def discriminator_step(model: Pix2Pix, opt_D: torch.optim.Optimizer, x: Tensor, y: Tensor, fake: Tensor,
                       loss: GANLoss | None = None) -> dict[str, float]:
    """One update of D on the real pair (x, y) and the fake pair (x, G(x)) (``fake`` is detached here)."""
    loss = loss or get_loss(model.cfg.loss)
    opt_D.zero_grad(set_to_none=True)
    real_score = model.D(conditional_input(x, y))
    fake_score = model.D(conditional_input(x, fake.detach()))
    d = d_objective(loss, real_score, fake_score)
    d.backward()
    opt_D.step()
    return {"d": d.item()}


def generator_losses(model: Pix2Pix, x: Tensor, y: Tensor, fake: Tensor, loss: GANLoss) -> dict[str, Tensor]:
    """The terms of L_G for G(x) = ``fake``: the cGAN term (unless ``cfg.gan_loss`` is off) and λ·L1."""
    cfg = model.cfg
    terms = {}
    if cfg.gan_loss:
        terms["g_gan"] = loss.g(model.D(conditional_input(x, fake)))
    if cfg.lambda_l1 > 0:
        terms["l1"] = cfg.lambda_l1 * F_.l1_loss(fake, y)
    return terms


def generator_step(model: Pix2Pix, opt_G: torch.optim.Optimizer, x: Tensor, y: Tensor, fake: Tensor,
                   loss: GANLoss | None = None) -> dict[str, float]:
    """One update of G through a frozen D; ``fake`` is G(x) from this iteration, still attached to G's graph."""
    loss = loss or get_loss(model.cfg.loss)
    opt_G.zero_grad(set_to_none=True)
    with frozen(model.D):
        terms = generator_losses(model, x, y, fake, loss)
        total = sum(terms.values())
        total.backward()
    opt_G.step()
    return {**{k: v.item() for k, v in terms.items()}, "g_total": total.item()}


def train_step(model: Pix2Pix, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer, x: Tensor, y: Tensor,
               loss: GANLoss | None = None) -> dict[str, float]:
    """One iteration: fake = G(x), then :func:`discriminator_step`, then :func:`generator_step`. Returns the logs."""
    fake = model.G(x)
    logs = discriminator_step(model, opt_D, x, y, fake, loss) if model.cfg.gan_loss else {}
    logs.update(generator_step(model, opt_G, x, y, fake, loss))
    return logs
