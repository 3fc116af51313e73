"""Chapter 8: CycleGAN's generator loss, the history pool of fakes, and the linear learning-rate decay.

Paper names [zhu2017cyclegan]: G: X -> Y, F: Y -> X, D_Y judges y against
G(x), D_X judges x against F(y). References: ``generator_losses`` in
:mod:`minigan.cyclegan.steps`, :class:`minigan.cyclegan.pool.ImagePool`
and :func:`minigan.cyclegan.config.linear_decay_factor` (imported when a
check runs, so importing the exercises stays quick).
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

import torch
import torch.nn.functional as F_
from torch import Tensor, nn

from ..gan.losses import g_loss_lsgan
from .core import as_tensor, call, check_shape, check_table, checker, close, fail, finite, first_match, \
    new_generator, randn, seeded, shape_str

__all__ = ["check_cyclegan_generator_loss", "check_image_pool", "check_linear_decay"]


def _nets(g: torch.Generator) -> tuple[nn.Module, ...]:
    """Tiny stand-ins: generators (B, 3, 4, 4) -> (B, 3, 4, 4), PatchGAN-like discriminators -> (B, 1, 2, 2)."""
    def gen() -> nn.Module:
        return seeded(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 3, 3, padding=1),
                                    nn.Tanh()), g, scale=0.3)

    def disc() -> nn.Module:
        return seeded(nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                    nn.Conv2d(4, 1, 3, padding=1)), g, scale=0.3)

    return gen(), gen(), disc(), disc()  # G, F, D_X, D_Y


def _reference(G, F, D_X, D_Y, x: Tensor, y: Tensor, lam: float, lam_id: float) -> Tensor:
    """The package's L_G: the sum of the terms ``minigan.cyclegan.steps.generator_losses`` returns."""
    from ..cyclegan.config import CycleGANConfig
    from ..cyclegan.model import CycleGAN
    from ..cyclegan.steps import generator_losses
    from ..gan.losses import get_loss
    cfg = CycleGANConfig(image_size=4, ngf=4, lambda_cycle=lam, lambda_identity=lam_id)
    logs, _, _ = generator_losses(CycleGAN(G, F, D_X, D_Y, cfg), x, y, get_loss("lsgan"))
    return sum(logs.values())


def _mistakes(G, F, D_X, D_Y, x: Tensor, y: Tensor, lam: float, lam_id: float,
              defaults: bool) -> list[tuple[str, Tensor | None, str]]:
    with torch.no_grad():
        fake_y, fake_x = G(x), F(y)  # G(x), F(y)
        adv = g_loss_lsgan(D_Y(fake_y)) + g_loss_lsgan(D_X(fake_x))
        cyc = F_.l1_loss(F(fake_y), x) + F_.l1_loss(G(fake_x), y)  # ||F(G(x)) - x|| + ||G(F(y)) - y||
        cyc_l2 = F_.mse_loss(F(fake_y), x) + F_.mse_loss(G(fake_x), y)
        idt = F_.l1_loss(G(y), y) + F_.l1_loss(F(x), x)  # ||G(y) - y|| + ||F(x) - x||
        idt_swapped = F_.l1_loss(fake_y, x) + F_.l1_loss(fake_x, y)  # ||G(x) - x|| + ||F(y) - y||
        adv_wrong_d = g_loss_lsgan(D_X(fake_y)) + g_loss_lsgan(D_Y(fake_x))
        adv_real = g_loss_lsgan(D_Y(y)) + g_loss_lsgan(D_X(x))
        adv_target0 = D_Y(fake_y).square().mean() + D_X(fake_x).square().mean()
        rest = lam * cyc + lam * lam_id * idt
        out = [
            ("no_identity", adv + lam * cyc if lam_id else None,
             "the identity terms are missing: add lambda_cycle * lambda_identity * (||G(y) - y||_1 + ||F(x) - x||_1), "
             "which keep each generator from changing images already in its output domain."),
            ("identity_weight", adv + lam * cyc + lam_id * idt if lam_id else None,
             "your identity terms are weighted by lambda_identity alone; lambda_identity is a fraction of "
             "lambda_cycle, so their weight is lambda_cycle * lambda_identity (5 with the defaults)."),
            ("identity_direction", adv + lam * cyc + lam * lam_id * idt_swapped if lam_id else None,
             "your identity terms compare G(x) with x and F(y) with y; identity means feeding each generator an "
             "image from its *output* domain: ||G(y) - y||_1 + ||F(x) - x||_1."),
            ("l2_cycle", adv + lam * cyc_l2 + lam * lam_id * idt,
             "your cycle terms are squared errors; CycleGAN uses the L1 distance (mean absolute error): "
             "F.l1_loss(F(G(x)), x) + F.l1_loss(G(F(y)), y)."),
            ("no_cycle_weight", adv + cyc + lam * lam_id * idt,
             "the cycle terms are not weighted: multiply them by lambda_cycle (10 by default)."),
            ("wrong_discriminator", adv_wrong_d + rest,
             "your adversarial terms ask the wrong discriminators: G(x) is an image of Y, judged by D_Y, and F(y) "
             "one of X, judged by D_X."),
            ("adv_on_real", adv_real + rest,
             "your adversarial terms score the real images; the generators are judged on their fakes: "
             "D_Y(G(x)) and D_X(F(y))."),
            ("adv_target", adv_target0 + rest,
             "your adversarial terms regress the fakes' scores onto 0, the discriminator's target for fakes; the "
             "generators want them scored 1: g_loss_lsgan(D_Y(G(x))) = mean((D_Y(G(x)) - 1)**2)."),
        ]
        if not defaults:
            out.append(("ignores_arguments", _reference(G, F, D_X, D_Y, x, y, 10.0, 0.5),
                        "you ignore the arguments lambda_cycle and lambda_identity (you always use 10 and 0.5); "
                        "use the values passed in."))
    return out


@checker("cyclegan_generator_loss")
def check_cyclegan_generator_loss(fn: Callable[..., Tensor]) -> str:
    """Check ``fn(G, F, D_X, D_Y, real_x, real_y, lambda_cycle=10.0, lambda_identity=0.5) -> scalar`` (chapter 8).

    CycleGAN's total generator loss.

    real_x, real_y (B, 3, 4, 4); G, F small conv nets (B, 3, 4, 4) -> (B, 3, 4, 4), D_X, D_Y PatchGAN-like
    -> (B, 1, 2, 2). Expected, as ``generator_losses`` in :mod:`minigan.cyclegan.steps`:
    g_loss_lsgan(D_Y(G(x))) + g_loss_lsgan(D_X(F(y))) + λ (|F(G(x)) - x|_1 + |G(F(y)) - y|_1)
    + λ λ_id (|G(y) - y|_1 + |F(x) - x|_1), L1 terms as means; its gradients must reach G and F.
    Three cases: the default weights, other weights passed by keyword, lambda_identity = 0.
    """
    g = new_generator()
    G, F, D_X, D_Y = _nets(g)
    for B, weights in ((2, None), (1, (4.0, 0.25)), (2, (10.0, 0.0))):
        x, y = randn(g, B, 3, 4, 4, scale=0.5).clamp(-1, 1), randn(g, B, 3, 4, 4, scale=0.5).clamp(-1, 1)
        lam, lam_id = weights or (10.0, 0.5)
        kwargs = {} if weights is None else {"lambda_cycle": lam, "lambda_identity": lam_id}
        expected = _reference(G, F, D_X, D_Y, x, y, lam, lam_id)
        nets = (G, F, D_X, D_Y)
        for net in nets:
            net.zero_grad(set_to_none=True)
        got = as_tensor(call(fn, *nets, x.clone(), y.clone(), names=("G", "F", "D_X", "D_Y", "real_x", "real_y"),
                             **kwargs), "your loss")
        if got.numel() != 1:
            fail("not_scalar", f"your loss has shape {shape_str(got)}; return the total, one number (the sum of "
                               "the adversarial, cycle and identity terms).")
        finite(got, "your loss")
        setting = "with the default weights" if weights is None else \
            f"with lambda_cycle={lam}, lambda_identity={lam_id}"
        if not close(got.reshape(()), expected):
            first_match(got.detach().reshape(()), _mistakes(G, F, D_X, D_Y, x, y, lam, lam_id, weights is None))
            fail("mismatch", f"{setting} your total differs from the package's. It is g_loss_lsgan(D_Y(G(x))) + "
                             "g_loss_lsgan(D_X(F(y))) + lambda_cycle * (L1(F(G(x)), x) + L1(G(F(y)), y)) + "
                             "lambda_cycle * lambda_identity * (L1(G(y), y) + L1(F(x), x)), each L1 a mean.")
        params = [p for net in (G, F) for p in net.parameters()]
        mine = torch.autograd.grad(got.sum(), params, allow_unused=True) if got.requires_grad else [None] * len(params)
        want = torch.autograd.grad(expected, params)
        if not all(m is not None and close(m, w) for m, w in zip(mine, want)):
            fail("detached", "the value is right, but G and F do not get the right gradients: some of the fakes are "
                             "detached (or made under torch.no_grad()) inside your loss. The generator loss must "
                             "back-propagate through G(x), F(y) and the reconstructions into both generators.")
    return ("your CycleGAN generator loss matches the package's on 3 cases (default weights, weights passed by "
            "keyword, no identity term), and its gradients reach G and F.")


def _ids(ids: list[int]) -> Tensor:
    """A batch (B, 1, 2, 2) whose image k is filled with the number ids[k], so every image can be recognised."""
    return torch.tensor(ids, dtype=torch.float64)[:, None, None, None].expand(-1, 1, 2, 2).clone()


def _image_id(image: Tensor) -> int | None:
    v = image.detach().flatten()
    if v.numel() == 0 or bool(v.max() - v.min() > 1e-9) or not float(v[0]).is_integer():
        return None
    return int(v[0])


@checker("image_pool")
def check_image_pool(cls: Callable[[int], object]) -> str:
    """Check ``cls(size)`` with ``.query(images) -> images``, CycleGAN's history pool of fakes (chapter 8).

    images (B, C, H, W) -> (B, C, H, W), detached. While fewer than ``size`` images are stored, each new one
    is stored (as a copy) and returned; once full, each is swapped with probability 1/2 for a random stored
    one (returned, the new one takes its place), else returned as it is. ``size=0`` returns the input. As
    :class:`minigan.cyclegan.pool.ImagePool`; its coin flips may come from ``random`` or torch's generator.
    Checked on 300 queries of batch sizes 1, 3 and 4 into a pool of 6.
    """
    x = _ids([1, 2, 3])
    off = call(cls, 0, names=("size",), what="your class")
    out = as_tensor(call(off.query, x.clone(), names=("images",), what="your query"), "query's result",
                    what="your query")
    if not close(out, x):
        fail("size_zero", "with size 0 the pool is off: query must return its input as it is.")
    size = 6
    pool = call(cls, size, names=("size",), what="your class")
    stored: Counter = Counter()  # what the pool must hold now, replayed from what it returns
    handed_out: set[int] = set()
    next_id, after_full, old = 1, 0, 0
    for q in range(300):
        ids = list(range(next_id, next_id + (4, 1, 3)[q % 3]))
        next_id += len(ids)
        leaf = _ids(ids).requires_grad_(q == 0)
        batch = leaf * 1 if q == 0 else leaf  # the first batch comes out of a graph, like G's fakes
        out = as_tensor(call(pool.query, batch, names=("images",), what="your query"), "query's result",
                        what="your query")
        if out.requires_grad:
            fail("not_detached", "query returns images that are still attached to the generator's graph: detach "
                                 "them (images.detach()), so the discriminator's step cannot reach G and the pool "
                                 "does not keep old graphs alive.")
        check_shape(out, batch, "query's result", "Return one image for each image passed in.")
        for new, image in zip(ids, out):
            r = _image_id(image)
            if sum(stored.values()) < size:
                if r != new:
                    fail("fill_first", "while the pool holds fewer than size images, store each new image and "
                                       "return it unchanged.")
                stored[new] += 1
                continue
            after_full += 1
            if r == new:
                continue
            if r == -1:
                fail("no_clone", "an image came back changed: the caller overwrote its batch after the query, and "
                                 "your pool had stored the caller's tensor, not a copy. Store image.clone().")
            if r is not None and stored[r] > 0:
                stored[r] -= 1
                stored[new] += 1
                handed_out.add(r)
                old += 1
            elif r in handed_out:
                fail("not_replaced", "an old image came back twice: when you return a stored image, put the new one "
                                     "in its place (self.images[i] = image), so the pool keeps size images.")
            elif r is not None and 0 < r < next_id:
                fail("grows", "your pool returned an image it should no longer hold: once full, it keeps exactly "
                              "size images, and a new image only goes in when it takes the place of the old one "
                              "returned instead.")
            else:
                fail("wrong_image", "query returned an image that is neither the new one nor one stored earlier.")
        with torch.no_grad():
            batch.fill_(-1.0)  # the caller reuses its tensor: the pool must have kept copies
    if hasattr(pool, "__len__") and len(pool) > size:
        fail("grows", "your pool holds more than size images; it should never grow beyond size.")
    share = old / after_full
    if old == 0:
        fail("never_old", "your pool never hands back an older image: once it is full, each new image should, "
                          "with probability 1/2, be swapped for a random stored one, which is returned.")
    if old == after_full:
        fail("always_old", "once full, your pool always returns older images; it should do so only half the time "
                           "(a coin flip per image) and otherwise return the new image itself.")
    if not 0.4 < share < 0.6:
        fail("wrong_probability", f"once full, your pool returns older images {'less' if share < 0.5 else 'more'} "
                                  "often than half the time; flip a fair coin for each image.")
    return ("your pool returns its input while filling up, then swaps about half of the new images for stored "
            "ones, never holds more than size, stores copies, returns detached images, and size 0 turns it off "
            "(300 queries of batch sizes 1, 3 and 4).")


_DECAY_CASES = ([(e, 100, 100) for e in (0, 50, 99, 100, 101, 150, 199)] + [(e, 3, 4) for e in range(7)]
                + [(e, 0, 5) for e in range(5)] + [(e, 2, 1) for e in range(3)])


@checker("linear_decay")
def check_linear_decay(fn: Callable[[int, int, int], float]) -> str:
    """Check ``fn(epoch, n_epochs, n_epochs_decay) -> float``, CycleGAN's learning-rate multiplier (chapter 8).

    ``epoch`` counts from 0.

    As :func:`minigan.cyclegan.config.linear_decay_factor`: 1 for the first n_epochs epochs, then
    1 - (epoch + 1 - n_epochs) / (n_epochs_decay + 1), so the last epoch trains at 1 / (n_epochs_decay + 1)
    of the rate. Checked on every epoch of short schedules and on the paper's 100 + 100.
    """
    from ..cyclegan.config import linear_decay_factor
    check_table(fn, _DECAY_CASES, linear_decay_factor, [
        ("off_by_one", lambda e, n, d: 1 - max(0, e - n) / (d + 1),
         "your decay starts one epoch late: epoch n_epochs (0-based) already trains at n_epochs_decay / "
         "(n_epochs_decay + 1) of the rate. Use 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)."),
        ("off_by_one", lambda e, n, d: 1 - max(0, e + 1 - n) / d,
         "your rate reaches 0 in the last epoch, which then learns nothing; the reference divides by "
         "n_epochs_decay + 1, so the last epoch trains at 1 / (n_epochs_decay + 1) of the rate."),
        ("off_by_one", lambda e, n, d: 1 - max(0, e - n) / d,
         "your decay is one epoch late, and the last epoch gets a rate of 0; use "
         "1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)."),
        ("decays_from_start", lambda e, n, d: 1 - (e + 1) / (n + d + 1),
         "your rate decays from the first epoch; it stays at the full rate for n_epochs epochs, then decays over "
         "n_epochs_decay."),
        ("decays_from_start", lambda e, n, d: 1 - e / (n + d),
         "your rate decays from the first epoch; it stays at the full rate for n_epochs epochs, then decays over "
         "n_epochs_decay."),
        ("no_decay", lambda e, n, d: 1.0,
         "your multiplier is always 1 (integer division // rounds the fraction down to 0?); use / for the "
         "fraction."),
    ], names=("epoch", "n_epochs", "n_epochs_decay"), integer=False,
        hint="The multiplier is 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1).")
    return ("your multiplier matches linear_decay_factor on 22 epochs of 4 schedules (including the paper's "
            "100 + 100 and a schedule that decays from the start).")
