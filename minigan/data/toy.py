"""Small 2-D classification sets, generated on the fly: nothing to download.

Every function returns ``(X, y)`` with ``X`` float32 (N, 2) and ``y`` int64 (N,),
drawn from a ``torch.Generator`` seeded with ``seed`` so the same call gives the
same points. Classes are balanced (N is split as evenly as it divides).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["make_moons", "make_spirals", "make_circles", "make_xor", "make_toy", "TOY_SETS"]


def _split(n: int, k: int) -> list[int]:
    """``n`` items into ``k`` near-equal parts: 10 into 3 -> [4, 3, 3]."""
    if n < k:
        raise ValueError(f"need at least one point per class: n={n} < classes={k}")
    return [n // k + (i < n % k) for i in range(k)]


def _finish(parts: list[Tensor], noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    X = torch.cat(parts)  # (N, 2)
    y = torch.cat([torch.full((len(p),), c, dtype=torch.long) for c, p in enumerate(parts)])  # (N,)
    X = X + noise * torch.randn(X.shape, generator=g, dtype=X.dtype)
    perm = torch.randperm(len(X), generator=g)  # shuffle, so any slice holds every class
    return X[perm].float(), y[perm]


def make_moons(n: int = 500, *, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (the classic 'moons'); not linearly separable."""
    g = torch.Generator().manual_seed(seed)
    n0, n1 = _split(n, 2)
    t0 = torch.rand(n0, generator=g, dtype=torch.float64) * math.pi
    t1 = torch.rand(n1, generator=g, dtype=torch.float64) * math.pi
    upper = torch.stack([t0.cos(), t0.sin()], dim=1)  # (n0, 2)
    lower = torch.stack([1 - t1.cos(), 0.5 - t1.sin()], dim=1)  # (n1, 2)
    return _finish([upper, lower], noise, g)


def make_spirals(n: int = 500, *, classes: int = 2, turns: float = 1.5, noise: float = 0.1,
                 seed: int = 0) -> tuple[Tensor, Tensor]:
    """``classes`` interleaved spiral arms that each wind ``turns`` times around the origin."""
    g = torch.Generator().manual_seed(seed)
    parts = []
    for c, m in enumerate(_split(n, classes)):
        r = torch.rand(m, generator=g, dtype=torch.float64) ** 0.5  # uniform density along the arm
        angle = 2 * math.pi * (turns * r + c / classes)
        parts.append(torch.stack([r * angle.cos(), r * angle.sin()], dim=1))  # (m, 2)
    return _finish(parts, noise, g)


def make_circles(n: int = 500, *, factor: float = 0.5, noise: float = 0.05,
                 seed: int = 0) -> tuple[Tensor, Tensor]:
    """A ring (class 0) around a smaller ring (class 1) of radius ``factor``."""
    g = torch.Generator().manual_seed(seed)
    parts = []
    for radius, m in zip((1.0, factor), _split(n, 2)):
        t = torch.rand(m, generator=g, dtype=torch.float64) * 2 * math.pi
        parts.append(radius * torch.stack([t.cos(), t.sin()], dim=1))  # (m, 2)
    return _finish(parts, noise, g)


def make_xor(n: int = 500, *, noise: float = 0.35, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Four blobs at (±1, ±1); the class is the XOR of the two signs. No single line separates it."""
    g = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    sizes = _split(n, 4)
    same = torch.cat([corners[0].expand(sizes[0], 2), corners[1].expand(sizes[1], 2)])
    diff = torch.cat([corners[2].expand(sizes[2], 2), corners[3].expand(sizes[3], 2)])
    return _finish([same, diff], noise, g)


TOY_SETS = {"moons": make_moons, "spirals": make_spirals, "circles": make_circles, "xor": make_xor}


def make_toy(name: str, n: int = 500, **kwargs) -> tuple[Tensor, Tensor]:
    """One of :data:`TOY_SETS` by name, e.g. ``make_toy("spirals", 1000, noise=0.2, seed=1)``."""
    if name not in TOY_SETS:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {sorted(TOY_SETS)}")
    return TOY_SETS[name](n, **kwargs)
