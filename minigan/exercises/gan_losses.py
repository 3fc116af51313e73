"""Chapters 5 and 6: the GAN losses, all checked by one table-driven helper.

Each loss is written as per-sample terms (one for the real outputs, one for
the fake outputs) so the typical mistakes come for free: the sign flipped, a
sum instead of a mean, real and fake averaged together, the roles of real and
fake swapped, a term missing, or another loss of the book altogether. Each loss
adds its own (the LSGAN 1/2, the hinge's max, an extra sigmoid, ...).
References: :mod:`minigan.gan.losses`.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..gan import losses as L
from .core import CheckResult, as_tensor, call, checker, close, fail, finite, first_match, \
    new_generator, randn, shape_str

__all__ = ["check_d_loss_minimax", "check_g_loss_nonsaturating", "check_g_loss_saturating", "check_d_loss_lsgan",
           "check_g_loss_lsgan", "check_d_loss_wasserstein", "check_g_loss_wasserstein", "check_d_loss_hinge",
           "check_g_loss_hinge"]

Term = Callable[[Tensor], Tensor]
Mistakes = Callable[[Tensor, Optional[Tensor]], list]  # (real or None, fake) -> [(reason, value, message)]


@dataclass(frozen=True)
class _Loss:
    """A loss as means of per-sample terms: ``mean(real_term(real)) + mean(fake_term(fake))`` (G: the second)."""

    title: str  # "minimax discriminator loss"
    reference: Callable[..., Tensor]  # the package's function
    fake_term: Term
    real_term: Term | None = None  # None for a generator loss
    formula: str = ""  # in the reader's argument names
    targets: str = ""  # what the roles-swapped message says
    logits: bool = False  # inputs are logits (a sigmoid belongs inside the loss)

    @property
    def is_d(self) -> bool:
        return self.real_term is not None

    def value(self, real: Tensor | None, fake: Tensor) -> Tensor:
        out = self.fake_term(fake).mean()
        return out + self.real_term(real).mean() if self.is_d else out


_SP = F.softplus
LOSSES: dict[str, _Loss] = {
    "d_loss_minimax": _Loss("minimax discriminator loss", L.d_loss_minimax, lambda f: _SP(f), lambda r: _SP(-r),
                            "-mean(log(sigmoid(real))) - mean(log(1 - sigmoid(fake))), stably written "
                            "mean(softplus(-real)) + mean(softplus(fake))",
                            "real outputs should be called 1 (real) and fakes 0", logits=True),
    "g_loss_nonsaturating": _Loss("non-saturating generator loss", L.g_loss_nonsaturating, lambda f: _SP(-f),
                                  formula="-mean(log(sigmoid(fake))) = mean(softplus(-fake))", logits=True),
    "g_loss_saturating": _Loss("saturating generator loss", L.g_loss_saturating, lambda f: -_SP(f),
                               formula="mean(log(1 - sigmoid(fake))) = -mean(softplus(fake))", logits=True),
    "d_loss_lsgan": _Loss("LSGAN discriminator loss", L.d_loss_lsgan, lambda f: 0.5 * f ** 2,
                          lambda r: 0.5 * (r - 1) ** 2,
                          "0.5 * mean((real - 1)**2) + 0.5 * mean(fake**2)",
                          "real outputs should be regressed onto 1 and fakes onto 0"),
    "g_loss_lsgan": _Loss("LSGAN generator loss", L.g_loss_lsgan, lambda f: (f - 1) ** 2,
                          formula="mean((fake - 1)**2)"),
    "d_loss_wasserstein": _Loss("Wasserstein critic loss", L.d_loss_wasserstein, lambda f: f, lambda r: -r,
                                "mean(fake) - mean(real)", "the critic should score real samples high and fakes low"),
    "g_loss_wasserstein": _Loss("Wasserstein generator loss", L.g_loss_wasserstein, lambda f: -f,
                                formula="-mean(fake)"),
    "d_loss_hinge": _Loss("hinge discriminator loss", L.d_loss_hinge, lambda f: F.relu(1 + f), lambda r: F.relu(1 - r),
                          "mean(relu(1 - real)) + mean(relu(1 + fake))",
                          "real scores should be pushed above +1 and fake scores below -1"),
    "g_loss_hinge": _Loss("hinge generator loss", L.g_loss_hinge, lambda f: -f, formula="-mean(fake)"),
}


def _generic(loss: _Loss, real: Tensor | None, fake: Tensor) -> list[tuple[str, Tensor | None, str]]:
    """The mistakes any loss can have, from its per-sample terms."""
    who = "the discriminator" if loss.is_d else "the generator"
    out = [("sign", -loss.value(real, fake), f"your loss has the wrong sign: {who} minimises {loss.formula}.")]
    fake_sum = loss.fake_term(fake).sum()
    if loss.is_d:
        real_sum = loss.real_term(real).sum()
        out += [
            ("sum", real_sum + fake_sum if len(real) * len(fake) > 1 else None,
             "you sum over the outputs; take means, so the loss does not grow with the batch size: "
             f"{loss.formula}."),
            ("pooled_mean", (real_sum + fake_sum) / (real.numel() + fake.numel()),
             "you average the real and the fake terms together in one mean (as one BCE over the concatenated "
             "batch does); take one mean per term and add them: "
             f"{loss.formula}."),
            ("labels_swapped", loss.real_term(fake).mean() + loss.fake_term(real).mean(),
             f"you swapped the roles of real and fake: {loss.targets}. The loss is {loss.formula}."),
            ("missing_term", loss.real_term(real).mean(),
             f"your loss only has the term of the real samples; add the fakes' term: {loss.formula}."),
            ("missing_term", loss.fake_term(fake).mean(),
             f"your loss only has the term of the fake samples; add the real samples' term: {loss.formula}."),
        ]
    elif fake.numel() > 1:
        out.append(("sum", fake_sum, f"you sum over the outputs; take the mean: {loss.formula}."))
    for other in LOSSES.values():
        if other.is_d == loss.is_d and other.formula != loss.formula:
            out.append(("wrong_loss", other.value(real, fake),
                        f"that is the {other.title}, not the {loss.title}: {loss.formula}."))
    return out


def _specific(name: str, real: Tensor | None, fake: Tensor) -> list[tuple[str, Tensor | None, str]]:
    """The mistakes particular to one loss."""
    ref = LOSSES[name].value
    sigmoid_twice = ("extra_sigmoid", ref(None if real is None else torch.sigmoid(real), torch.sigmoid(fake)),
                     "you applied a sigmoid to the inputs first, but the loss already treats them as logits; pass "
                     "the raw outputs straight in." if LOSSES[name].logits else
                     "you applied a sigmoid; this loss works on D's raw outputs, with no sigmoid anywhere.")
    out = {  # thunks: only the named loss's list is built (a generator loss has no real outputs)
        "d_loss_minimax": lambda: [sigmoid_twice],
        "g_loss_nonsaturating": lambda: [
            ("saturating", L.g_loss_saturating(fake),
             "that is the saturating loss log(1 - D(G(z))); the non-saturating one is -log D(G(z)) = softplus(-fake)."),
            ("labels_swapped", _SP(fake).mean(),
             "you give the fakes target 0, D's label for fakes; the generator wants D to call them real (target 1): "
             "-mean(log(sigmoid(fake)))."),
            sigmoid_twice],
        "g_loss_saturating": lambda: [
            ("nonsaturating", L.g_loss_nonsaturating(fake),
             "that is the non-saturating loss -log D(G(z)); the saturating one is log(1 - D(G(z))) = "
             "-softplus(fake)."),
            sigmoid_twice],
        "d_loss_lsgan": lambda: [
            ("half_factor", 2 * L.d_loss_lsgan(real, fake),
             "your loss is twice the package's: it halves the discriminator's loss, as Mao et al. write it and "
             "the reference CycleGAN trains it: 0.5 * mean((real - 1)**2) + 0.5 * mean(fake**2)."),
            ("half_factor", (real - 1).square().mean() * 0.5 + fake.square().mean(),
             "you halved only the real term; both terms get the 1/2: 0.5 * mean((real - 1)**2) + 0.5 * mean(fake**2)."),
            ("half_factor", (real - 1).square().mean() + 0.5 * fake.square().mean(),
             "you halved only the fake term; both terms get the 1/2: 0.5 * mean((real - 1)**2) + 0.5 * mean(fake**2)."),
            ("targets", 0.5 * (real - 1).square().mean() + 0.5 * (fake + 1).square().mean(),
             "you regress fakes onto -1; in the book's LSGAN (and CycleGAN's) the targets are 1 for real and 0 "
             "for fake."),
            ("not_squared", 0.5 * (real - 1).abs().mean() + 0.5 * fake.abs().mean(),
             "you used absolute differences; least squares means squared ones: (real - 1)**2 and fake**2."),
            sigmoid_twice],
        "g_loss_lsgan": lambda: [
            ("half_factor", 0.5 * L.g_loss_lsgan(fake),
             "your loss is half the package's: the discriminator's LSGAN loss is halved, the generator's is not "
             "(as in the reference CycleGAN): mean((fake - 1)**2)."),
            ("labels_swapped", fake.square().mean(),
             "you regress the fakes onto 0, D's target for fakes; the generator wants them scored as real, 1: "
             "mean((fake - 1)**2)."),
            ("not_squared", (fake - 1).abs().mean(),
             "you used absolute differences; least squares means squared ones: mean((fake - 1)**2)."),
            sigmoid_twice],
        "d_loss_wasserstein": lambda: [sigmoid_twice],
        "g_loss_wasserstein": lambda: [
            ("hinge_on_g", F.relu(1 - fake).mean(),
             "the generator's loss has no max and no margin: -mean(fake)."), sigmoid_twice],
        "d_loss_hinge": lambda: [
            ("no_relu", (1 - real).mean() + (1 + fake).mean(),
             "you forgot the max(0, .) (relu): without it the loss keeps pushing samples that are already beyond "
             "the margin, and is just the Wasserstein loss plus 2. Use mean(relu(1 - real)) + mean(relu(1 + fake))."),
            ("margin", F.relu(-real).mean() + F.relu(fake).mean(),
             "you left out the margin 1: mean(relu(1 - real)) + mean(relu(1 + fake))."),
            ("margin_sign", F.relu(real - 1).mean() + F.relu(-1 - fake).mean(),
             "the signs inside relu are flipped: a real sample costs max(0, 1 - D(x)), a fake max(0, 1 + D(G(z)))."),
            sigmoid_twice],
        "g_loss_hinge": lambda: [
            ("hinge_on_g", F.relu(1 - fake).mean(),
             "only the discriminator's hinge loss has a max; the generator's is -mean(fake)."), sigmoid_twice],
    }
    return out[name]()


# (N_real, N_fake, shape of one output): different batch sizes, a batch of one, a PatchGAN-like map
_CASES = [(5, 3, (1,)), (1, 1, (1,)), (2, 4, (1, 2, 2))]


def _check_loss(name: str, fn: Callable[..., Tensor]) -> str:
    loss = LOSSES[name]
    g = new_generator()
    for n_real, n_fake, shape in _CASES:
        real, fake = randn(g, n_real, *shape, scale=1.5), randn(g, n_fake, *shape, scale=1.5)
        real_in, fake_in = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
        args, names = ((real_in, fake_in), ("real", "fake")) if loss.is_d else ((fake_in,), ("fake",))
        result = call(fn, *args, names=names)
        if isinstance(result, numbers.Real) and not isinstance(result, bool):
            fail("no_grad", "your loss is a Python number; return the tensor (no .item()) so the gradient can flow "
                            "back into the network.")
        got = as_tensor(result, "your loss")
        if got.numel() != 1:
            fail("not_scalar", f"your loss has shape {shape_str(got)}; a loss is one number. Average over every "
                               "output with .mean().")
        finite(got, "your loss", "The inputs are logits, any real number: take D = sigmoid(logit) first, or "
                                 "better write -log D = softplus(-logit)." if loss.logits else "")
        expected = loss.reference(*((real, fake) if loss.is_d else (fake,)))
        if not close(got.reshape(()), expected):
            reshaped = got.detach().reshape(())
            first_match(reshaped, _specific(name, real if loss.is_d else None, fake))
            first_match(reshaped, _generic(loss, real if loss.is_d else None, fake))
            fail("mismatch", f"your loss differs from minigan.gan.losses.{name} on real {shape_str(real)} and fake "
                             f"{shape_str(fake)} outputs. It is {loss.formula}.")
        if not got.requires_grad:
            fail("no_grad", "your loss has the right value but no gradient flows back to the inputs: don't use "
                            ".item(), .detach(), NumPy or torch.no_grad() inside the loss.")
        grads = torch.autograd.grad(got.sum(), args, allow_unused=True)
        ref_args = [t.detach().clone().requires_grad_(True) for t in args]
        want = torch.autograd.grad(loss.reference(*ref_args), ref_args)
        if not all(gr is not None and close(gr, w) for gr, w in zip(grads, want)):
            fail("no_grad", "your loss has the right value but the wrong gradient: part of it is cut from the "
                            "graph (.detach(), .item() or .data inside).")
    batches = "real and fake batches of different sizes" if loss.is_d else "batch sizes 3 and 4"
    return (f"your {loss.title} matches minigan.gan.losses.{name} on 3 random cases ({batches}, a batch of one, "
            "PatchGAN-like (B, 1, 2, 2) outputs), gradients included.")


def _make(name: str, doc: str) -> Callable[[Callable[..., Tensor]], CheckResult]:
    def check(fn: Callable[..., Tensor]) -> str:
        return _check_loss(name, fn)
    check.__name__ = check.__qualname__ = f"check_{name}"
    check.__doc__ = doc
    return checker(name)(check)


_D_DOC = ("Check ``fn(real, fake) -> scalar``, the {title} ({chapter}).\n\n"
          "``real`` (N_r, ...) and ``fake`` (N_f, ...) are D's raw outputs ({kind}) for real and generated samples;\n"
          "N_r and N_f may differ. Expected: {formula}, as :func:`minigan.gan.losses.{name}`, with its gradient.\n")
_G_DOC = ("Check ``fn(fake) -> scalar``, the {title} ({chapter}).\n\n"
          "``fake`` (N, ...) is D's raw output ({kind}) for generated samples. Expected: {formula},\n"
          "as :func:`minigan.gan.losses.{name}`, with its gradient.\n")


def _doc(name: str, chapter: str, kind: str) -> str:
    loss = LOSSES[name]
    return (_D_DOC if loss.is_d else _G_DOC).format(title=loss.title, chapter=chapter, kind=kind,
                                                      formula=loss.formula, name=name)


check_d_loss_minimax = _make("d_loss_minimax", _doc("d_loss_minimax", "chapter 5", "logits"))
check_g_loss_nonsaturating = _make("g_loss_nonsaturating", _doc("g_loss_nonsaturating", "chapter 6", "logits"))
check_g_loss_saturating = _make("g_loss_saturating", _doc("g_loss_saturating", "chapter 6", "logits"))
check_d_loss_lsgan = _make("d_loss_lsgan", _doc("d_loss_lsgan", "chapter 6", "scores, no sigmoid"))
check_g_loss_lsgan = _make("g_loss_lsgan", _doc("g_loss_lsgan", "chapter 6", "scores, no sigmoid"))
check_d_loss_wasserstein = _make("d_loss_wasserstein", _doc("d_loss_wasserstein", "chapter 6", "critic scores"))
check_g_loss_wasserstein = _make("g_loss_wasserstein", _doc("g_loss_wasserstein", "chapter 6", "critic scores"))
check_d_loss_hinge = _make("d_loss_hinge", _doc("d_loss_hinge", "chapter 6", "scores"))
check_g_loss_hinge = _make("g_loss_hinge", _doc("g_loss_hinge", "chapter 6", "scores"))
