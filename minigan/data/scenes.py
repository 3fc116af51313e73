"""Two image domains with a known answer: "horse2zebra in miniature".

Shapes: N scenes, C = 3 (RGB), S image side; images live in [-1, 1].

Every scene is a few random shapes (circles, squares, triangles) at random
places. The same scene can be rendered in two styles:

- **A** ("horses"): shapes filled in a plain brown, on a light sand background;
- **B** ("zebras"): the same shapes filled with black and white stripes that
  follow their outline (each pixel's stripe is set by its distance to the
  shape's edge, so the outermost stripe is always black), on a green "grass"
  background.

Going from A to B, a translator must *synthesise* a texture (the stripes), not
only change colours; going from B to A it must remove it. Training uses
unpaired samples (A from some scenes, B from others), exactly like horses and
zebras; but because any scene can be rendered in both styles, we can measure a
translation against the truth on held-out scenes (:func:`scene_pairs`), which
no photo dataset allows. Everything is computed from a seed: no files, no
network, the same images on every machine.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["SAND", "BROWN", "GRASS", "Scene", "Unpaired", "Pairs", "random_scenes", "render", "unpaired_scenes",
           "scene_pairs"]

SAND = (0.90, 0.85, 0.72)  # A background
BROWN = (0.55, 0.35, 0.20)  # A shapes
GRASS = (0.30, 0.58, 0.25)  # B background
KINDS = ("circle", "square", "triangle")


class Scene(NamedTuple):
    """Shapes as rows of (kind index, centre x, centre y, radius), in pixels of an S x S image."""

    shapes: Tensor  # (K, 4)


def _inside_distance(kind: int, cx: float, cy: float, r: float, xx: Tensor, yy: Tensor) -> Tensor:
    """Distance from each pixel centre (S, S) to the shape's edge, positive inside and <= 0 outside."""
    if KINDS[kind] == "circle":
        return r - torch.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    if KINDS[kind] == "square":  # axis-aligned, half side r
        return torch.minimum(r - (xx - cx).abs(), r - (yy - cy).abs())
    # equilateral triangle pointing up, inscribed in the circle of radius r: distance to its three edges
    d = None
    for k in range(3):
        a = math.pi / 2 + k * 2 * math.pi / 3 + math.pi / 3  # outward normal of edge k, between two vertices
        nx, ny = math.cos(a), -math.sin(a)  # image y grows downwards
        dk = r / 2 - ((xx - cx) * nx + (yy - cy) * ny)  # the inscribed circle of the triangle has radius r/2
        d = dk if d is None else torch.minimum(d, dk)
    return d


def random_scenes(n: int, size: int = 32, *, max_shapes: int = 2, generator: torch.Generator | None = None
                  ) -> list[Scene]:
    """``n`` scenes of 1 to ``max_shapes`` non-overlapping shapes, each of radius size/8 to size/4, inside the frame."""
    scenes = []
    for _ in range(n):
        k = int(torch.randint(1, max_shapes + 1, (), generator=generator))
        shapes: list[list[float]] = []
        while len(shapes) < k:
            r = size / 8 + torch.rand((), generator=generator).item() * size / 8
            cx, cy = (r + 1 + torch.rand(2, generator=generator) * (size - 2 * r - 2)).tolist()
            kind = int(torch.randint(len(KINDS), (), generator=generator))
            if all(math.hypot(cx - x, cy - y) > r + q + 1 for _, x, y, q in shapes):  # no overlap, 1 px apart
                shapes.append([kind, cx, cy, r])
        scenes.append(Scene(torch.tensor(shapes)))
    return scenes


def render(scene: Scene, size: int = 32, *, style: str = "A") -> Tensor:
    """The scene as an RGB image (3, S, S) in [-1, 1], in style "A" (plain) or "B" (striped on grass)."""
    if style not in ("A", "B"):
        raise ValueError(f"style must be 'A' or 'B', got {style!r}")
    coords = torch.arange(size, dtype=torch.float64) + 0.5  # pixel centres
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (S, S)
    depth = torch.full((size, size), -1.0, dtype=torch.float64)  # distance to the edge of the shape a pixel is in
    for kind, cx, cy, r in scene.shapes.tolist():
        depth = torch.maximum(depth, _inside_distance(int(kind), cx, cy, r, xx, yy))
    inside = depth > 0  # (S, S)
    stripe = max(1.0, size / 16)  # stripe width in pixels: 2 at 32 x 32
    if style == "A":
        bg, fg = torch.tensor(SAND), torch.tensor(BROWN)
        img = torch.where(inside, fg[:, None, None], bg[:, None, None])  # (3, S, S)
    else:
        black = (torch.floor(depth / stripe) % 2 == 0)  # outermost stripe black, then white, ...
        stripes = torch.where(black, 0.08, 0.95).float()  # (S, S)
        img = torch.where(inside, stripes, torch.tensor(GRASS)[:, None, None])  # (3, S, S)
    return img.float() * 2 - 1


class Unpaired(NamedTuple):
    """Training images of each domain, rendered from *different* scenes."""

    A: Tensor  # (N, 3, S, S)
    B: Tensor  # (N, 3, S, S)


class Pairs(NamedTuple):
    """Held-out scenes rendered in both styles: the ground truth of a translation."""

    A: Tensor  # (M, 3, S, S)
    B: Tensor  # (M, 3, S, S), B[i] is the same scene as A[i]
    mask: Tensor  # (M, 1, S, S) bool, True on the shapes' pixels (where the stripes are)


def unpaired_scenes(n: int = 512, size: int = 32, *, seed: int = 0, max_shapes: int = 2) -> Unpaired:
    """``n`` style-A images and ``n`` style-B images of 2n different random scenes (no scene in both)."""
    g = torch.Generator().manual_seed(seed)
    scenes = random_scenes(2 * n, size, max_shapes=max_shapes, generator=g)
    return Unpaired(torch.stack([render(s, size, style="A") for s in scenes[:n]]),
                    torch.stack([render(s, size, style="B") for s in scenes[n:]]))


def scene_pairs(n: int = 128, size: int = 32, *, seed: int = 1, max_shapes: int = 2) -> Pairs:
    """``n`` held-out scenes rendered in both styles (use a seed different from training's)."""
    g = torch.Generator().manual_seed(10_000 + seed)
    scenes = random_scenes(n, size, max_shapes=max_shapes, generator=g)
    A = torch.stack([render(s, size, style="A") for s in scenes])
    B = torch.stack([render(s, size, style="B") for s in scenes])
    sand = torch.tensor(SAND, dtype=A.dtype)[:, None, None] * 2 - 1
    return Pairs(A, B, mask=(A - sand).abs().amax(dim=1, keepdim=True) > 1e-6)
