"""GAN losses, each a small function of the discriminator's raw outputs.

Conventions, used by every GAN in the book:

- ``real`` and ``fake`` are what the discriminator (or critic) outputs for a batch
  of real and of generated samples, *before* any sigmoid: logits for the
  minimax and non-saturating losses, unbounded scores for the Wasserstein
  and hinge losses, raw predictions (regressed onto targets 1 and 0) for LSGAN. Any shape: a
  PatchGAN's (B, 1, H', W') map is fine, and every mean runs over all its
  entries, so N below counts *patch outputs*, not images.
- ``d_*`` functions are minimised by the discriminator, ``g_*`` by the generator.
- ``D(x) = sigmoid(logit)`` is the probability D assigns to "real"; the losses
  are written with ``softplus`` so they stay finite when D is very sure:
  ``-log D = softplus(-logit)`` and ``-log(1 - D) = softplus(logit)``.

Shapes: ``real`` (N_r, ...), ``fake`` (N_f, ...) -> scalar loss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "d_loss_minimax", "g_loss_saturating", "g_loss_nonsaturating",
    "d_loss_lsgan", "g_loss_lsgan",
    "d_loss_wasserstein", "g_loss_wasserstein", "clip_weights", "gradient_penalty",
    "d_loss_hinge", "g_loss_hinge",
    "GANLoss", "LOSSES", "get_loss",
]


# ---------------------------------------------------------------- the original GAN [goodfellow2014gan]

def d_loss_minimax(real: Tensor, fake: Tensor) -> Tensor:
    """Discriminator loss of the original GAN (Goodfellow et al. 2014), on logits.

    L_D = -1/N_r Σ log D(x) - 1/N_f Σ log(1 - D(G(z))),

    the binary cross-entropy of calling real samples 1 and fakes 0. D minimising
    it maximises the minimax value V(D, G); its optimum is
    D*(x) = p_data(x) / (p_data(x) + p_G(x)).
    """
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_loss_saturating(fake: Tensor) -> Tensor:
    """The generator's side of the minimax game as written (Goodfellow et al. 2014).

    L_G = 1/N Σ log(1 - D(G(z))) = -1/N Σ softplus(logit).

    It *saturates*: when D confidently rejects the fakes (D(G(z)) -> 0, early in
    training), dL_G/dlogit = -D(G(z)) -> 0 and the generator stops learning.
    """
    return -F.softplus(fake).mean()


def g_loss_nonsaturating(fake: Tensor) -> Tensor:
    """The non-saturating generator loss, proposed in the same paper (Goodfellow et al. 2014).

    L_G = -1/N Σ log D(G(z)) = 1/N Σ softplus(-logit).

    Same fixed point as the saturating loss, but dL_G/dlogit = D(G(z)) - 1 -> -1
    when D rejects the fakes: the generator gets its strongest signal exactly
    when it is worst. This is what "the GAN loss" means in most code.
    """
    return F.softplus(-fake).mean()


# ---------------------------------------------------------------- least squares [mao2017lsgan]

def d_loss_lsgan(real: Tensor, fake: Tensor) -> Tensor:
    """Least-squares discriminator loss (Mao et al. 2017), targets 1 for real and 0 for fake.

    L_D = 1/(2N) Σ (D(y) - 1)² + 1/(2N) Σ D(G(x))²,

    where D outputs raw scores (no sigmoid) and each N counts the *outputs*:
    for a PatchGAN discriminator that is batch size × H' × W' patch scores, so
    each term is a plain mean squared error over the whole output map. The
    factor 1/2 is Mao et al.'s, and it is also exactly the reference CycleGAN's
    halving of the discriminator's objective, ``(MSE(D(real), 1) + MSE(D(fake), 0)) * 0.5``,
    which Zhu et al. (2017, Sec. 4) do to slow down the rate at which D learns
    relative to G.
    """
    return 0.5 * (real - 1).square().mean() + 0.5 * fake.square().mean()


def g_loss_lsgan(fake: Tensor) -> Tensor:
    """Least-squares generator loss as the reference CycleGAN uses it: L_G = 1/N Σ (D(G(x)) - 1)².

    Mao et al. write 1/2 in front; that only rescales the gradient (the
    reference CycleGAN code, which we follow, does not halve the G loss).
    """
    return (fake - 1).square().mean()


# ---------------------------------------------------------------- Wasserstein [arjovsky2017wgan, gulrajani2017wgangp]

def d_loss_wasserstein(real: Tensor, fake: Tensor) -> Tensor:
    """Critic loss of the Wasserstein GAN (Arjovsky et al. 2017), on unbounded scores.

    L_D = 1/N_f Σ f(G(z)) - 1/N_r Σ f(x).

    Minimising it maximises E[f(x)] - E[f(G(z))], which for a 1-Lipschitz
    critic f estimates the Wasserstein-1 distance between the data and the
    generator (Kantorovich-Rubinstein duality). The Lipschitz constraint comes
    from :func:`clip_weights` (WGAN) or :func:`gradient_penalty` (WGAN-GP).
    """
    return fake.mean() - real.mean()


def g_loss_wasserstein(fake: Tensor) -> Tensor:
    """Generator loss of the Wasserstein GAN: L_G = -1/N Σ f(G(z))."""
    return -fake.mean()


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float = 0.01) -> None:
    """Clamp every parameter of ``critic`` to [-c, c] in place (Arjovsky et al. 2017, c = 0.01).

    A crude way to keep the critic K-Lipschitz for some K; call it after every
    critic update.
    """
    for p in critic.parameters():
        p.clamp_(-c, c)


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, *,
                     generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP's gradient penalty (Gulrajani et al. 2017), without its weight λ (10 in the paper).

    GP = 1/N Σ (||∇_x̂ f(x̂)||₂ - 1)²,  x̂ = ε x + (1 - ε) G(z),  ε ~ U[0, 1] per sample,

    on random points between real and fake samples. ``real`` and ``fake`` are
    samples (N, ...), not scores. The gradient is taken with ``create_graph``
    so the penalty can itself be back-propagated into the critic.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake samples need the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # (N, 1, ...): one ε per sample
    eps = torch.rand(eps_shape, generator=generator, device=real.device if generator is None else generator.device)
    eps = eps.to(real.device, real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)  # (N, ...)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (N, ...)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


# ---------------------------------------------------------------- hinge [lim2017geometric, miyato2018spectral]

def d_loss_hinge(real: Tensor, fake: Tensor) -> Tensor:
    """Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018), on unbounded scores.

    L_D = 1/N_r Σ max(0, 1 - D(x)) + 1/N_f Σ max(0, 1 + D(G(z))):

    a margin loss that stops pushing once a sample is on the right side by 1.
    """
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def g_loss_hinge(fake: Tensor) -> Tensor:
    """Hinge generator loss: L_G = -1/N Σ D(G(z)) (the same as the Wasserstein generator loss)."""
    return -fake.mean()


# ---------------------------------------------------------------- a registry for chapters and step functions

@dataclass(frozen=True)
class GANLoss:
    """A named pair of losses, with the settings its paper trains it with.

    ``d(real, fake)`` and ``g(fake)`` act on raw discriminator outputs;
    ``clip`` is the critic weight clip (WGAN) and ``gp_weight`` the gradient
    penalty's λ (WGAN-GP), both applied by :func:`minigan.gan.steps.d_step`.
    """

    name: str
    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]
    paper: str
    clip: float | None = None
    gp_weight: float = 0.0


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", d_loss_minimax, g_loss_saturating, "goodfellow2014gan"),
    "nonsaturating": GANLoss("nonsaturating", d_loss_minimax, g_loss_nonsaturating, "goodfellow2014gan"),
    "lsgan": GANLoss("lsgan", d_loss_lsgan, g_loss_lsgan, "mao2017lsgan"),
    "wgan": GANLoss("wgan", d_loss_wasserstein, g_loss_wasserstein, "arjovsky2017wgan", clip=0.01),
    "wgan-gp": GANLoss("wgan-gp", d_loss_wasserstein, g_loss_wasserstein, "gulrajani2017wgangp", gp_weight=10.0),
    "hinge": GANLoss("hinge", d_loss_hinge, g_loss_hinge, "lim2017geometric"),
}


def get_loss(name: str | GANLoss) -> GANLoss:
    """Look a loss up by name (``"minimax"``, ``"nonsaturating"``, ``"lsgan"``, ``"wgan"``, ``"wgan-gp"``, ``"hinge"``)."""
    if isinstance(name, GANLoss):
        return name
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown GAN loss {name!r}; choose one of {sorted(LOSSES)}") from None
