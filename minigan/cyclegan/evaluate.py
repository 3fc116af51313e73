"""Scoring a translation against the ground truth, where there is one: the scenes benchmark.

Shapes: M held-out scenes, C = 3, S x S images in [-1, 1].

For every held-out scene we know what the perfect translation looks like (the
same scene rendered in the other style, :func:`minigan.data.scenes.scene_pairs`).
One number per image is not enough to say whether a translator did its job:
the background is most of every image, so "repaint the background, leave the
shapes alone" already has a small mean L1, and pixel errors punish a right
texture drawn at another phase as much as no texture at all. So the score has
four parts, each an error (0 = as the truth) that a different trivial answer
fails, each with a bar (:data:`BAR`):

- **background**: mean L1 per pixel and channel on the pixels more than
  ``tol`` pixels away from every shape. Identity fails it.
- **shape**: 1 - IoU between the output's shapes and the truth's, ignoring the
  band of ``tol`` pixels on either side of the true outlines (at 32x32, where
  a shape is 12 to 18 pixels across, a one-pixel slip is not a different
  shape). A pixel of the output belongs to a shape when one of its channels is
  more than :data:`SHAPE_THRESHOLD` away from the truth's background colour.
  A real image of the wrong scene fails it.
- **colour**: the mean colour of the shapes' interiors (the pixels at least
  ``tol`` inside an outline), pooled over all images, against the truth's:
  mean L1 over the channels. "Repaint the background only" fails it.
- **texture**: phase-invariant, inside the interiors. For each image and lag
  h = 1 .. size/8 (one stripe period), the variogram
  γ(h) = mean |x(p) - x(p + h)| over the pixel pairs h apart, across or down,
  that both lie in the interior (a variogram of absolute rather than squared
  differences, also called the madogram). It says how much two pixels h apart differ,
  not where the stripes are, so a texture shifted by half a period scores as
  well as the truth's own. The error is Σ|γ_out - γ_truth| / Σ|γ_in - γ_truth|
  over images and lags: 0 is the truth's texture, 1 is as far from it as the
  input (identity). "Fill the shapes with the target's mean colour" fails it.

The pixel scores are kept too, to show what they miss: ``l1`` and ``psnr``
over whole images (10 log10(range² / MSE) in dB, range 2) and ``l1_shapes``
on the shapes only.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F_
from torch import Tensor

from ..data.scenes import Pairs

__all__ = ["PARTS", "BAR", "SHAPE_THRESHOLD", "translation_scores", "score_model", "bar_ratio", "passes",
           "baseline_translations", "score_table", "psnr", "variogram"]

PARTS = ("background", "shape", "colour", "texture")
# background and colour in the images' [-1, 1] units (2 = as wrong as possible); shape as 1 - IoU; texture
# relative to identity's. A copy of the truth at half its contrast has texture error 0.5, so 0.35 asks for more.
BAR = {"background": 0.10, "shape": 0.25, "colour": 0.10, "texture": 0.35}
SHAPE_THRESHOLD = 0.25  # per channel, in [-1, 1] units: an eighth of the range away from the background colour


def psnr(output: Tensor, target: Tensor, *, data_range: float = 2.0) -> float:
    """Peak signal-to-noise ratio in dB over all elements (images in [-1, 1]: ``data_range`` 2); inf if equal."""
    mse = (output.double() - target.double()).pow(2).mean().item()
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def _grow(mask: Tensor, k: int) -> Tensor:
    """``mask`` (M, 1, S, S) grown by ``k`` pixels (a (2k+1)² square neighbourhood)."""
    return F_.max_pool2d(mask.float(), 2 * k + 1, stride=1, padding=k) > 0 if k else mask


def _background_colour(images: Tensor, mask: Tensor) -> Tensor:
    """(3,) the median colour of ``images`` (M, 3, S, S) off the shapes of ``mask`` (M, 1, S, S), over all images."""
    return images.permute(1, 0, 2, 3)[:, ~mask[:, 0]].median(dim=1).values


def _region_mean(images: Tensor, region: Tensor) -> Tensor:
    """(3,) the mean colour of ``images`` (M, 3, S, S) over ``region`` (M, 1, S, S), pooled over all images."""
    return images.permute(1, 0, 2, 3)[:, region[:, 0]].mean(1)


def variogram(images: Tensor, region: Tensor, lags: range) -> Tensor:
    """γ(h) per image (M, len(lags)): mean |x(p) - x(p+h)| over channels and pixel pairs h apart inside ``region``.

    Pairs run across (p + (0, h)) and down (p + (h, 0)); ``region`` is (M, 1, S, S) bool.
    An image whose region holds no pair gets 0.
    """
    rows = []
    for h in lags:
        total, count = 0.0, 0.0
        for dim in (2, 3):
            n = images.shape[dim] - h
            a, b = images.narrow(dim, 0, n), images.narrow(dim, h, n)  # (M, C, ., .)
            both = (region.narrow(dim, 0, n) & region.narrow(dim, h, n)).to(images.dtype)  # (M, 1, ., .)
            total = total + ((a - b).abs().mean(1, keepdim=True) * both).sum((1, 2, 3))
            count = count + both.sum((1, 2, 3))
        rows.append(total / count.clamp(min=1))
    return torch.stack(rows, 1)  # (M, L)


def _parts(output: Tensor, truth: Tensor, source: Tensor, mask: Tensor, tol: int) -> dict[str, float]:
    """The four parts and the pixel scores of ``output`` against ``truth``; ``source`` is what was translated."""
    out, ref, src = output.double(), truth.double(), source.double()
    mask = mask.expand(len(out), 1, *out.shape[-2:])
    near = _grow(mask, tol)
    inner = ~_grow(~mask, tol)  # at least tol pixels inside an outline
    far = ~near  # background at least tol pixels from every shape
    err = (out - ref).abs().mean(1, keepdim=True)  # (M, 1, S, S)
    background = ((err * far).sum((1, 2, 3)) / far.sum((1, 2, 3)).clamp(min=1)).mean().item()

    bg_colour = _background_colour(ref, mask)  # (3,) the truth's background
    found = (out - bg_colour[:, None, None]).abs().amax(1, keepdim=True) > SHAPE_THRESHOLD  # (M, 1, S, S)
    judged = inner | far  # the band around the outlines is not judged
    inter = (found & inner).sum((1, 2, 3)).double()
    union = ((found | mask) & judged).sum((1, 2, 3)).double()
    shape = 1 - (inter / union.clamp(min=1)).mean().item()

    colour = (_region_mean(out, inner) - _region_mean(ref, inner)).abs().mean().item()

    lags = range(1, max(2, round(out.shape[-1] / 8)) + 1)
    g_ref = variogram(ref, inner, lags)
    gap = (variogram(src, inner, lags) - g_ref).abs().sum().item()
    miss = (variogram(out, inner, lags) - g_ref).abs().sum().item()
    texture = miss / gap if gap > 0 else (0.0 if miss == 0 else math.inf)

    inside = mask.expand_as(out)
    return {"background": background, "shape": shape, "colour": colour, "texture": texture,
            "l1": (out - ref).abs().mean().item(), "psnr": psnr(out, ref),
            "l1_shapes": (out - ref).abs()[inside].mean().item()}


def translation_scores(pairs: Pairs, a2b: Tensor, b2a: Tensor, *, tol: int = 1) -> dict[str, dict[str, float]]:
    """Scores of translations ``a2b`` (M, 3, S, S) of ``pairs.A`` and ``b2a`` of ``pairs.B`` against the truth.

    Returns ``{"A→B": {part: error for part in PARTS} | {"l1", "psnr", "l1_shapes"}, "B→A": {...}}``
    (see the module's docstring). ``tol``: pixels around each outline that
    count neither as background nor as interior.
    """
    for name, out, ref in (("a2b", a2b, pairs.B), ("b2a", b2a, pairs.A)):
        if out.shape != ref.shape:
            raise ValueError(f"{name} must have the pairs' shape {tuple(ref.shape)}, got {tuple(out.shape)}")
    return {"A→B": _parts(a2b, pairs.B, pairs.A, pairs.mask, tol),
            "B→A": _parts(b2a, pairs.A, pairs.B, pairs.mask, tol)}


def bar_ratio(scores: dict[str, dict[str, float]], bar: dict[str, float] = BAR) -> float:
    """The worst part in either direction as a fraction of its bar: <= 1 passes, 0.75 passes with 25% margin."""
    return max(s[p] / bar[p] for s in scores.values() for p in bar)


def passes(scores: dict[str, dict[str, float]], bar: dict[str, float] = BAR) -> dict[str, dict[str, bool]]:
    """Which parts are within their bar, per direction: ``{"A→B": {"background": True, ...}, ...}``."""
    return {d: {p: s[p] <= bar[p] for p in bar} for d, s in scores.items()}


def baseline_translations(pairs: Pairs, *, tol: int = 1) -> dict[str, tuple[Tensor, Tensor]]:
    """Trivial answers ``{name: (a2b, b2a)}``; a score is only as good as the baselines it fails.

    - "identity": change nothing;
    - "recolour the background": the target's background colour around the
      untouched shapes (it knows where the shapes are);
    - "a real image, wrong scene": the truth of another scene (the previous
      one), perfectly realistic, unrelated to its input;
    - "mean colour fill": the target's background, and the shapes filled with
      the mean colour of the truth's shape interiors (it knows where the shapes
      are and what colour they are on average, but draws no texture). From B
      to A, where the target's shapes are plain, this is the right answer.
    """
    A, B, mask = pairs.A, pairs.B, pairs.mask
    inner = ~_grow(~mask, tol)

    background = lambda x: _background_colour(x, mask)[:, None, None]  # noqa: E731 -- (3, 1, 1)
    shape_colour = lambda x: _region_mean(x, inner)[:, None, None]  # noqa: E731 -- (3, 1, 1)

    other = torch.roll(torch.arange(len(A)), 1)
    return {
        "identity": (A, B),
        "recolour the background": (torch.where(mask, A, background(B)), torch.where(mask, B, background(A))),
        "a real image, wrong scene": (B[other], A[other]),
        "mean colour fill": (torch.where(mask, shape_colour(B), background(B)).expand_as(B),
                             torch.where(mask, shape_colour(A), background(A)).expand_as(A)),
    }


@torch.no_grad()
def score_model(model, pairs: Pairs, *, batch_size: int = 256, averaged: bool = True) -> dict[str, dict[str, float]]:
    """:func:`translation_scores` of a :class:`~minigan.cyclegan.CycleGAN`: G on ``pairs.A``, F on ``pairs.B``.

    ``averaged``: use the generators' weight averages where the model keeps them (``cfg.ema > 0``).
    """
    a2b = torch.cat([model.translate(a, to="y", averaged=averaged) for a in pairs.A.split(batch_size)])
    b2a = torch.cat([model.translate(b, to="x", averaged=averaged) for b in pairs.B.split(batch_size)])
    return translation_scores(pairs, a2b, b2a)


def score_table(rows: dict[str, dict[str, dict[str, float]]], bar: dict[str, float] = BAR) -> str:
    """The four parts of each row's scores, both ways, as a text table; ``*`` marks a part over its bar.

    The last column is :func:`bar_ratio`, the worst part as a fraction of its bar (<= 1 passes).
    """
    col = lambda text, mark=" ": f"{text:>8s}{mark}"  # noqa: E731 -- 9 characters a part
    head = "".join(col(p[:7]) for p in PARTS)
    bars = "".join(col(f"{bar[p]:.2f}") for p in PARTS)
    lines = [f"{'':26s} {'A→B':^36s} {'B→A':^36s} {'worst':>6s}", f"{'':26s} {head} {head} {'/ bar':>6s}",
             f"{'bar':26s} {bars} {bars}"]
    for name, scores in rows.items():
        cells = ["".join(col(f"{s[p]:.3f}", "*" if s[p] > bar[p] else " ") for p in PARTS) for s in scores.values()]
        lines.append(f"{name[:26]:26s} " + " ".join(cells) + f" {bar_ratio(scores, bar):6.2f}")
    return "\n".join(line.rstrip() for line in lines)
