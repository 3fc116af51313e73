"""Chapter 5, the GAN game: the optimal discriminator, and a discriminator step that leaves G alone.

References: D*(x) = p_data(x) / (p_data(x) + p_G(x)) (the docstring of
:func:`minigan.gan.losses.d_loss_minimax`) and :func:`minigan.gan.steps.d_step`.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn

from ..gan.losses import d_loss_minimax
from .core import as_number, as_tensor, call, check_shape, checker, close, fail, finite, first_match, \
    new_generator, randn, seeded

__all__ = ["check_optimal_discriminator", "check_d_step_detach"]

_LR = 0.1


@checker("optimal_discriminator")
def check_optimal_discriminator(fn: Callable[[Tensor, Tensor], Tensor]) -> str:
    """Check ``fn(p_data, p_g) -> D_star``, the optimal discriminator p_data / (p_data + p_g), pointwise (chapter 5).

    ``p_data`` and ``p_g`` are densities at the same points, any shape (both the same); D_star has that
    shape. Three cases: random densities (N,), equal densities (D* = 1/2 everywhere), a 2-D grid.
    """
    g = new_generator()
    for shape, equal in (((7,), False), ((5,), True), ((3, 4), False)):
        p_data = torch.rand(shape, generator=g, dtype=torch.float64) * 2 + 0.05
        p_g = p_data.clone() if equal else torch.rand(shape, generator=g, dtype=torch.float64) * 2 + 0.05
        expected = p_data / (p_data + p_g)
        got = as_tensor(call(fn, p_data.clone(), p_g.clone(), names=("p_data", "p_g")), "your D_star")
        check_shape(got, expected, "your D_star", "D*(x) is computed at every point separately, so it has the "
                                                  "shape of p_data.")
        finite(got, "your D_star")
        if close(got, expected):
            continue
        first_match(got, [
            ("swapped", p_g / (p_data + p_g),
             "you have p_g on top: that is the probability of fake. D*(x), the probability of real, is "
             "p_data / (p_data + p_g)."),
            ("ratio", p_data / p_g,
             "that is the density ratio p_data / p_g, which is not a probability (it can exceed 1); divide by the "
             "sum: p_data / (p_data + p_g)."),
            ("no_denominator", p_data,
             "the denominator is missing: D*(x) = p_data / (p_data + p_g)."),
            ("not_pointwise", p_data / (p_data + p_g).sum(),
             "you divide by a total over all points; D*(x) is a ratio at each point x: "
             "p_data / (p_data + p_g), elementwise."),
        ])
        fail("mismatch", "your D_star differs from p_data / (p_data + p_g).")
    return ("your optimal discriminator matches p_data / (p_data + p_g) on 3 cases (random densities, equal "
            "densities giving 1/2, a 2-D grid).")


def _sgd_target(D: nn.Module, G: nn.Module, real: Tensor, z: Tensor) -> tuple[float, list[Tensor], list[Tensor]]:
    """The loss before the step, D's gradients, and D's parameters after one SGD step, on a copy of D."""
    D_copy = copy.deepcopy(D)
    with torch.no_grad():
        fake = G(z)
    loss = d_loss_minimax(D_copy(real), D_copy(fake))
    grads = torch.autograd.grad(loss, list(D_copy.parameters()))
    after = [(p - _LR * gr).detach() for p, gr in zip(D_copy.parameters(), grads)]
    return loss.item(), list(grads), after


def _d_loss_at(params: list[Tensor], D: nn.Module, G: nn.Module, real: Tensor, z: Tensor) -> float:
    D_copy = copy.deepcopy(D)
    with torch.no_grad():
        for p, q in zip(D_copy.parameters(), params):
            p.copy_(q)
        return d_loss_minimax(D_copy(real), D_copy(G(z))).item()


@checker("d_step_detach")
def check_d_step_detach(fn: Callable[..., object]) -> str:
    """Check ``fn(G, D, opt_D, real, z) -> loss``, one discriminator update that leaves G alone (chapter 5).

    G maps z (N, 2) to samples (N, 3), D maps samples to logits (N, 1); ``opt_D`` is an SGD optimizer over
    D's parameters. ``fn`` minimises ``d_loss_minimax(D(real), D(fake))`` with ``fake = G(z).detach()``
    by one ``opt_D`` step and returns the loss (a tensor or a float), as :func:`minigan.gan.steps.d_step`.
    Checked: D takes exactly that step, G gets no gradient, and a second call starts from zeroed gradients.
    """
    g = new_generator()
    G = seeded(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)), g)  # z (N, 2) -> samples (N, 3)
    D = seeded(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), g)  # samples -> logits (N, 1)
    opt_D = torch.optim.SGD(D.parameters(), lr=_LR)
    names = ("G", "D", "opt_D", "real", "z")
    for step in (1, 2):
        real, z = randn(g, 6, 3), randn(g, 6, 2)
        before = [p.detach().clone() for p in D.parameters()]
        G_before = [p.detach().clone() for p in G.parameters()]
        old_grads = [None if p.grad is None else p.grad.clone() for p in D.parameters()]
        loss_before, grads, target = _sgd_target(D, G, real, z)
        result = call(fn, G, D, opt_D, real.clone(), z.clone(), names=names)
        if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in G.parameters()):
            fail("not_detached", "G's parameters received gradients from the discriminator's loss: G(z) was not "
                                 "detached, so loss.backward() ran back through G. Write fake = G(z).detach() (or "
                                 "make the fakes under torch.no_grad()): the D step must not touch G, and those "
                                 "stray gradients would be added to G's next update.")
        if not all(torch.equal(p, q) for p, q in zip(G.parameters(), G_before)):
            fail("g_changed", "your step changed G's parameters; a discriminator step updates only D.")
        after = [p.detach() for p in D.parameters()]
        if all(torch.equal(p, q) for p, q in zip(after, before)):
            if all(p.grad is None or not bool(p.grad.abs().sum() > 0) for p in D.parameters()):
                fail("no_backward", "D's parameters did not change and got no gradient: call loss.backward(), "
                                    "then opt_D.step().")
            fail("no_step", "D got gradients but its parameters did not change: call opt_D.step() after "
                            "loss.backward().")
        if not all(close(p, q) for p, q in zip(after, target)):
            stale = [gr if o is None else gr + o for gr, o in zip(grads, old_grads)]
            accumulated = [b - _LR * s for b, s in zip(before, stale)]
            if step == 2 and all(close(p, q) for p, q in zip(after, accumulated)):
                fail("no_zero_grad", "your first step was right, but the second added the first step's gradients "
                                     "to its own: .backward() accumulates into .grad. Call opt_D.zero_grad() "
                                     "before loss.backward() in every step.")
            if all(close(p, b - _LR * gr / 2) for p, b, gr in zip(after, before, grads)):
                fail("half_loss", "your step is half as big as expected: your loss is half of d_loss_minimax (the "
                                  "mean of the real and fake terms, or one BCE over the concatenated batch). The "
                                  "book's loss adds the two means: BCE(D(real), 1) + BCE(D(fake), 0).")
            if _d_loss_at(after, D, G, real, z) > loss_before:
                fail("sign", "your update increased the discriminator's loss on this batch: D is maximising it. "
                             "Check the loss's sign and that real samples get label 1 and fakes label 0: "
                             "minimise d_loss_minimax(D(real), D(fake)).")
            fail("mismatch", "D changed, but not by one step of opt_D on d_loss_minimax(D(real), D(fake)) (the "
                             "binary cross-entropy on logits, real labelled 1 and fake 0). Check the loss and call "
                             "opt_D.step() once.")
        if result is None:
            fail("no_return", "the update is right, but your function returns None; return the loss (for "
                              "example loss.item()).")
        value = as_number(result, "the returned loss")
        if not math.isclose(value, loss_before, rel_tol=1e-4, abs_tol=1e-6):
            fail("return_value", "the update is right, but the returned number is not the loss of this batch "
                                 "before the update; return the loss you called .backward() on (loss.item()).")
    return ("your discriminator step takes one opt_D step on the minimax D loss, sends no gradient into G, "
            "starts from zeroed gradients and returns the loss (checked on two steps in a row).")
