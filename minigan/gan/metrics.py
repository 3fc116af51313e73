"""Judging generated digits with a digit classifier from Part I: class coverage and confidence.

Shapes: B batch, K classes (10); images (B, 1, 8, 8).

A GAN's losses say little about how good its samples are. For the 8x8 digits
we can do better: train the CNN of chapter 2 on the real training digits, let
it classify a batch of generated digits, and ask two questions.

- **Coverage**: does the generator produce every digit? Count the predicted
  classes that get at least ``min_share`` of the batch, and measure the
  entropy of the predicted-class histogram relative to log K (1.0 = all
  classes equally often). A collapsed generator scores low on both.
- **Confidence**: does each sample look like *some* digit? The mean of the
  classifier's largest softmax probability. Blurry in-between shapes score low.

This is the idea behind the Inception Score [salimans2016improved] (whose value,
``exp(H(mean p(y|x)) - mean H(p(y|x)))``, is reported too), with a classifier
trained on the very data the GAN learns, so the scores are only meaningful
*next to the same scores on real held-out digits*. What it does not measure:
whether samples are copies of training digits, variety *within* a class, or
anything the classifier is blind to (it can be confidently wrong on odd
images, e.g. on noise). For large images the standard measure is FID
[heusel2017fid], which compares feature statistics of real and generated sets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..data.digits import load_digits
from ..nn.conv import DigitsCNN
from ..train import evaluate, fit_classifier

__all__ = ["DigitScore", "digit_probabilities", "digit_score", "train_digit_classifier"]


@dataclass
class DigitScore:
    """What the classifier thinks of a batch of images."""

    counts: Tensor  # (K,) how many images were predicted as each class
    coverage: int  # classes predicted for at least min_share of the images
    n_classes: int
    entropy: float  # of the predicted-class histogram, divided by log K: 1.0 = uniform
    confidence: float  # mean max softmax probability
    inception_score: float  # exp(H(mean p(y|x)) - mean H(p(y|x))), between 1 and K

    def __str__(self) -> str:
        return (f"coverage {self.coverage}/{self.n_classes}, class entropy {self.entropy:.2f} of max, "
                f"confidence {self.confidence:.2f}")


def train_digit_classifier(*, steps: int = 500, seed: int = 0, device: torch.device | str = "cpu",
                           dtype: torch.dtype = torch.float64, progress: bool = True) -> nn.Module:
    """Chapter 2's ``DigitsCNN`` trained on the real training digits, in eval mode, for :func:`digit_score`.

    It is trained on pixel values in [0, 1], the range of Part I; pass
    ``value_range=(-1, 1)`` to :func:`digit_score` for GAN outputs. Its test
    accuracy is stored as ``.test_accuracy``. It trains in float64 by default:
    the judge of every GAN in the book then comes out the same on every CPU
    (in float32, rounding differences between CPU kernels change its weights in
    the last bits), and it is small enough that this costs a few seconds.
    Use float32 on devices without float64 (Apple's MPS).
    """
    digits = load_digits(dtype=dtype)  # values in [0, 1]
    torch.manual_seed(seed)
    model = DigitsCNN().to(device=device, dtype=dtype)
    fit_classifier(model, digits.X_train, digits.y_train, steps=steps, lr=3e-3, seed=seed,
                   progress=progress, desc="digit classifier")
    model.test_accuracy = evaluate(model, digits.X_test, digits.y_test)
    return model.eval()


@torch.no_grad()
def digit_probabilities(classifier: nn.Module, images: Tensor, *, value_range: tuple[float, float] = (-1, 1),
                        batch_size: int = 2048) -> Tensor:
    """The classifier's softmax (B, K), float64 on the CPU, for ``images`` (B, 1, 8, 8) in ``value_range``.

    ``images`` are mapped to [0, 1], the range the classifier was trained on,
    and cast to its dtype. The classifier runs in eval mode; its mode is restored.
    """
    if images.dim() != 4 or images.shape[1:] != (1, 8, 8):
        raise ValueError(f"images must be a batch of digits of shape (B, 1, 8, 8), got {tuple(images.shape)}")
    param = next(classifier.parameters())
    lo, hi = value_range
    x = (images.to(param.dtype) - lo) / (hi - lo)  # (B, 1, 8, 8) in [0, 1], in the classifier's dtype
    was_training = classifier.training
    classifier.eval()
    try:
        return torch.cat([classifier(x[i:i + batch_size].to(param.device)).softmax(dim=1).cpu()
                          for i in range(0, len(x), batch_size)]).double()  # (B, K)
    finally:
        classifier.train(was_training)


@torch.no_grad()
def digit_score(classifier: nn.Module, images: Tensor, *, value_range: tuple[float, float] = (-1, 1),
                min_share: float = 0.02, batch_size: int = 2048) -> DigitScore:
    """Coverage, class entropy, confidence and Inception Score of ``images`` (B, 1, 8, 8) under ``classifier``.

    ``images`` are mapped from ``value_range`` to [0, 1], the range the
    classifier was trained on. A class is covered when at least ``min_share``
    of the images are predicted as it (0.02 = a fifth of the uniform share for
    10 classes). The classifier runs in eval mode; its mode is restored.
    """
    if len(images) < 2:
        raise ValueError(f"need at least 2 images to measure coverage, got {len(images)}")
    if not 0 < min_share < 1:
        raise ValueError(f"min_share must be between 0 and 1, got {min_share}")
    probs = digit_probabilities(classifier, images, value_range=value_range, batch_size=batch_size)  # (B, K)
    K = probs.shape[1]
    counts = torch.bincount(probs.argmax(dim=1), minlength=K)  # (K,)
    share = counts.double() / len(images)
    hist_entropy = max(0.0, -(share[share > 0] * share[share > 0].log()).sum().item())  # no -0.0 for one class
    entropy = lambda p: -(p * p.clamp_min(1e-12).log()).sum(dim=-1)  # noqa: E731
    is_ = math.exp((entropy(probs.mean(dim=0)) - entropy(probs).mean()).item())
    return DigitScore(counts=counts, coverage=int((share >= min_share).sum()), n_classes=K,
                      entropy=hist_entropy / math.log(K), confidence=probs.max(dim=1).values.mean().item(),
                      inception_score=is_)
