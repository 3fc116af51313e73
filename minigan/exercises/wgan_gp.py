"""Chapter 6: WGAN-GP's gradient penalty, checked without knowing the reader's random eps.

Reference: :func:`minigan.gan.losses.gradient_penalty`. With a linear critic
f(x) = w . x + b the gradient is w everywhere, so the penalty is (||w|| - 1)**2
whatever eps is; with real == fake the interpolate x_hat is known. A critic
that records its inputs shows where the reader evaluated it.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable

import torch
from torch import Tensor, nn

from ..gan.losses import gradient_penalty
from .core import as_tensor, call, checker, close, fail, finite, first_match, new_generator, randn, seeded, \
    shape_str

__all__ = ["check_gradient_penalty"]


class _Recorder(nn.Module):
    """A critic that remembers the inputs it was called with (to see where the penalty is evaluated)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.inputs: list[tuple[Tensor, bool]] = []

    def forward(self, x: Tensor) -> Tensor:
        self.inputs.append((x.detach().clone(), x.requires_grad))
        return self.net(x)


def _gp_mistakes(grads: Tensor, lam: float = 10.0) -> list[tuple[str, Tensor | None, str]]:
    """What the typical mistakes give, from the per-sample gradients (N, ...) of the critic at x_hat."""
    N = grads.shape[0]
    n = grads.flatten(1).norm(dim=1)  # (N,)
    right = (n - 1).square().mean()
    out = [
        ("included_lambda", lam * right, "your penalty is 10 times too large: return it without its weight "
                                         "lambda = 10, which the caller multiplies in (as d_step does)."),
        ("no_minus_one", n.square().mean(), "you penalise ||grad||**2, which pushes the gradient norm to 0; "
                                            "WGAN-GP pushes it to 1: (||grad|| - 1)**2."),
        ("no_minus_one", n.mean(), "you penalise ||grad||, which pushes the gradient norm to 0; WGAN-GP pushes "
                                   "it to 1: (||grad|| - 1)**2."),
        ("no_square", (n - 1).mean(), "you forgot to square: the penalty is (||grad|| - 1)**2, which is never "
                                      "negative."),
        ("no_square", (n - 1).abs().mean(), "you take |(||grad|| - 1)|; WGAN-GP squares it: (||grad|| - 1)**2."),
        ("squared_norm", (n.square() - 1).square().mean(),
         "you used the squared norm (the sum of squares) inside; take its square root, the norm: "
         "grad.flatten(1).norm(dim=1)."),
        ("whole_batch_norm", (grads.norm() - 1).square() if N > 1 else None,
         "you took one norm over the whole batch; the gradient norm is per sample: grad.flatten(1).norm(dim=1), "
         "then the mean of (norm - 1)**2."),
        ("sum", N * right if N > 1 else None,
         "you sum over the samples; average them: ((norms - 1)**2).mean()."),
        ("grad_of_mean", (n / N - 1).square().mean() if N > 1 else None,
         "you differentiated the mean of the critic's scores, which divides every sample's gradient by N; "
         "differentiate their sum (or pass grad_outputs=torch.ones_like(scores))."),
    ]
    if grads.dim() > 2:
        per_pixel = grads.norm(dim=1)  # (N, H, W): a norm over the channels only
        out.append(("norm_dims", (per_pixel - 1).square().mean(),
                    "you took the norm over the channel dimension only; take one norm per sample over all its "
                    "values: grad.flatten(1).norm(dim=1)."))
    return out


def _interpolation(critic: _Recorder, real: Tensor, fake: Tensor) -> None:
    """Fail unless the critic was evaluated at eps * real + (1 - eps) * fake with one eps in [0, 1] per sample."""
    used = [x for x, needs_grad in critic.inputs if needs_grad and x.shape == real.shape]
    if not used:
        return
    t = ((used[-1] - fake) / (real - fake)).flatten(1)  # (N, values): eps, per value
    if bool((t - 1).abs().max() < 1e-9) or bool(t.abs().max() < 1e-9):
        side = "real" if bool((t - 1).abs().max() < 1e-9) else "fake"
        fail("no_interpolation", f"you evaluate the gradient at the {side} samples; WGAN-GP evaluates it at random "
                                 "points between real and fake ones: x_hat = eps * real + (1 - eps) * fake.")
    if bool((t.max(dim=1).values - t.min(dim=1).values).max() > 1e-6):
        fail("eps_per_element", "your x_hat is not on the line between a real and a fake sample: you drew one "
                                "eps per value. Draw one per sample, eps = torch.rand(N, 1, 1, 1), so it "
                                "broadcasts over the sample's values.")
    eps = t[:, 0]
    if bool((eps < -1e-9).any() or (eps > 1 + 1e-9).any()):
        fail("eps_range", "your eps goes outside [0, 1], so x_hat leaves the segment between real and fake: "
                          "draw it uniformly, torch.rand(...), not torch.randn(...).")
    if len(eps) > 1 and bool((eps.max() - eps.min()) < 1e-9):
        fail("eps_per_batch", "every sample uses the same eps; draw one per sample: torch.rand(N, 1, 1, 1).")


@checker("gradient_penalty")
def check_gradient_penalty(fn: Callable[[nn.Module, Tensor, Tensor], Tensor]) -> str:
    """Check ``fn(critic, real, fake) -> scalar``, WGAN-GP's gradient penalty without its weight lambda (chapter 6).

    ``real`` and ``fake`` are samples (N, ...) of the same shape, ``critic`` maps them to scores (N, 1).
    Expected: mean over samples of (||grad of critic at x_hat||_2 - 1)**2 with x_hat = eps real + (1 - eps)
    fake, one eps ~ U[0, 1] per sample, and the graph kept (create_graph=True), as
    :func:`minigan.gan.losses.gradient_penalty`. Checked with a linear critic (the penalty is then the same
    for every eps), non-linear critics at real == fake, and by watching where the critic is evaluated.
    """
    g = new_generator()
    cases = [("linear", (4, 2, 3, 3)), ("mlp", (3, 1, 2, 2)), ("mlp", (1, 6))]
    for kind, shape in cases:
        n_in = math.prod(shape[1:])
        net = seeded(nn.Sequential(nn.Linear(n_in, 5), nn.Tanh(), nn.Linear(5, 1)) if kind == "mlp" else
                     nn.Linear(n_in, 1), g)
        critic = _Recorder(nn.Sequential(nn.Flatten(), net))
        real = randn(g, *shape)
        if kind == "linear":  # fake at least 0.5 away from real in every value, so eps can be read off x_hat
            step = torch.rand(shape, generator=g, dtype=real.dtype) + 0.5
            fake = real + step * torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).to(real.dtype)
        else:  # real == fake: x_hat is known whatever eps is
            fake = real.clone()
        x = real.clone().requires_grad_(True)
        grads = torch.autograd.grad(critic.net(x).sum(), x)[0]  # (N, ...): the same everywhere for a linear critic
        expected = gradient_penalty(critic.net, real, fake)
        result = call(fn, critic, real.clone(), fake.clone(), names=("critic", "real", "fake"))
        if isinstance(result, numbers.Real) and not isinstance(result, bool):
            fail("no_create_graph", "your penalty is a Python number; return the tensor (no .item()), so it can be "
                                    "back-propagated into the critic.")
        got = as_tensor(result, "your penalty")
        if got.numel() != 1:
            fail("not_scalar", f"your penalty has shape {shape_str(got)}; average over the samples to one number.")
        finite(got, "your penalty")
        if not close(got.reshape(()), expected.detach()):
            first_match(got.detach().reshape(()), _gp_mistakes(grads))
            fail("mismatch", f"for samples {shape_str(real)} your penalty differs from mean((||grad|| - 1)**2), "
                             "with the gradient of critic(x_hat).sum() with respect to x_hat and one norm per sample.")
        used = torch.autograd.grad(got.sum(), list(net.parameters()), allow_unused=True) if got.requires_grad else []
        if not used or all(u is None or not bool(u.abs().sum() > 0) for u in used):
            fail("no_create_graph", "the value is right, but no gradient flows from your penalty back into the "
                                    "critic's weights: the penalty is added to the critic's loss, so it must be "
                                    "differentiable. Pass create_graph=True to torch.autograd.grad.")
        if kind == "linear":
            _interpolation(critic, real, fake)
    return ("your gradient penalty matches gradient_penalty on 3 cases (a linear critic, whose penalty is the same "
            "for every eps; non-linear critics; batch size 1), interpolates with one eps in [0, 1] per sample, and "
            "keeps the graph so it trains the critic.")
