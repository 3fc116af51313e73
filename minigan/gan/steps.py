"""Small pure step functions for GAN training, reused by every GAN in the book.

A GAN trains two networks against each other. One *discriminator step*
updates D (or the critic) on real samples and on generated samples that are
*detached*, so no gradient reaches G. One *generator step* updates G through a
frozen D: gradients flow through D's layers to G's output, but D's own
parameters get no gradient and are not changed. Both take a loss from
:mod:`minigan.gan.losses` by name or as a :class:`~minigan.gan.losses.GANLoss`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from .losses import GANLoss, clip_weights, get_loss, gradient_penalty

__all__ = ["frozen", "d_step", "g_step", "make_gan_step"]


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Switch off ``requires_grad`` for every parameter of ``modules`` inside the block, then restore it.

    This is the reference CycleGAN's ``set_requires_grad(D, False)`` during the
    generator update: D still passes gradients back to its input, but computes
    none for its own weights.
    """
    params = [p for m in modules for p in m.parameters()]
    before = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, before):
            p.requires_grad_(flag)


def d_step(D: nn.Module, opt_D: torch.optim.Optimizer, real: Tensor, fake: Tensor,
           loss: str | GANLoss = "nonsaturating", *, generator: torch.Generator | None = None) -> dict[str, float]:
    """One update of D on ``real`` (N, ...) and generated ``fake`` (N, ...) samples.

    ``fake`` is detached here, so calling this never changes G. With a loss that
    has a gradient-penalty weight, the penalty (random interpolates drawn from
    ``generator``) is added; with a clipping loss, D's weights are clipped after
    the update. Returns ``d_loss`` (without the penalty), ``gp`` when used, and
    the mean raw outputs ``d_real`` and ``d_fake``.
    """
    loss = get_loss(loss)
    fake = fake.detach()
    out_real, out_fake = D(real), D(fake)  # raw outputs: logits or scores
    d_loss = loss.d(out_real, out_fake)
    total = d_loss
    logs = {"d_loss": d_loss.item()}
    if loss.gp_weight:
        gp = gradient_penalty(D, real, fake, generator=generator)
        total = total + loss.gp_weight * gp
        logs["gp"] = gp.item()
    opt_D.zero_grad(set_to_none=True)
    total.backward()
    opt_D.step()
    if loss.clip is not None:
        clip_weights(D, loss.clip)
    logs["d_real"] = out_real.mean().item()
    logs["d_fake"] = out_fake.mean().item()
    return logs


def g_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, z: Tensor,
           loss: str | GANLoss = "nonsaturating") -> dict[str, float]:
    """One update of G on latent codes ``z`` (N, ...), through a frozen D. Returns ``g_loss``."""
    loss = get_loss(loss)
    with frozen(D):
        g_loss = loss.g(D(G(z)))
        opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_G.step()
    return {"g_loss": g_loss.item()}


def make_gan_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
                  next_real: Callable[[], Tensor], sample_z: Callable[[int], Tensor],
                  loss: str | GANLoss = "nonsaturating", *, n_critic: int = 1,
                  generator: torch.Generator | None = None) -> Callable[[int], dict[str, float]]:
    """A ``step(i)`` for :func:`minigan.train.fit`: ``n_critic`` D updates, then one G update.

    ``next_real()`` returns a batch of real samples (N, ...) and ``sample_z(n)``
    a batch of n latent codes. The logs of the last D update and of the G update
    are returned, so ``fit`` records ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake``.
    """
    loss = get_loss(loss)
    if n_critic < 1:
        raise ValueError(f"n_critic must be at least 1, got {n_critic}")

    def step(i: int) -> dict[str, float]:
        for _ in range(n_critic):
            real = next_real()
            with torch.no_grad():
                fake = G(sample_z(real.shape[0]))
            logs = d_step(D, opt_D, real, fake, loss, generator=generator)
        logs.update(g_step(G, D, opt_G, sample_z(real.shape[0]), loss))
        return logs

    return step
