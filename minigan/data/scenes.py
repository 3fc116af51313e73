"""Two image domains with a known answer: "horse2zebra in miniature".

Shapes: N scenes, C = 3 (RGB), S image side; images live in [-1, 1].

Every scene is one or two random shapes (circles, squares, triangles) at
random places. The same scene can be rendered in two styles:

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

A :class:`Style` says how a scene is drawn (a background colour and the
shapes' fill: plain, stripes or dots), so other domain pairs with a known
answer can be made too, e.g. ``scene_pairs(styles=(plain_style, dotted_style))``.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Union

import torch
from torch import Tensor

__all__ = ["SAND", "BROWN", "GRASS", "BLACK", "WHITE", "Style", "STYLES", "Scene", "Unpaired", "Pairs",
           "random_scenes", "shape_depth", "render", "unpaired_scenes", "scene_pairs"]

RGB = tuple[float, float, float]
SAND: RGB = (0.90, 0.85, 0.72)  # A background
BROWN: RGB = (0.55, 0.35, 0.20)  # A shapes
GRASS: RGB = (0.30, 0.58, 0.25)  # B background
BLACK: RGB = (0.08, 0.08, 0.08)  # B stripes
WHITE: RGB = (0.95, 0.95, 0.95)
KINDS = ("circle", "square", "triangle")
RADIUS = (3 / 16, 9 / 32)  # shape radius as a fraction of the side: 6 to 9 pixels at 32x32


class Style(NamedTuple):
    """How a scene is drawn: the background colour and the shapes' fill (colours as RGB in [0, 1]).

    ``texture``: ``"plain"`` (every shape pixel ``colours[0]``), ``"stripes"``
    (bands ``width`` wide that follow the outline, ``colours[0]`` outermost,
    then ``colours[1]``, and so on) or ``"dots"`` (``colours[0]`` dots on a
    ``colours[1]`` fill, on a square grid of period 2 x ``width``, the same
    grid for the whole image, so a dot's place within a shape is arbitrary).
    ``width`` is a fraction of the image side (1/16: 2 pixels at 32x32), at least one pixel.
    """

    background: RGB
    texture: str
    colours: tuple[RGB, RGB]
    width: float = 1 / 16


STYLES = {"A": Style(SAND, "plain", (BROWN, BROWN)),  # horses
          "B": Style(GRASS, "stripes", (BLACK, WHITE))}  # zebras
StyleLike = Union[str, Style]


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


def _reach(kind: int, r: float) -> float:
    """How far the shape reaches from its centre: r, or r√2 for a square's corners."""
    return r * math.sqrt(2) if KINDS[kind] == "square" else r


def random_scenes(n: int, size: int = 32, *, max_shapes: int = 2, radius: tuple[float, float] = RADIUS,
                  generator: torch.Generator | None = None) -> list[Scene]:
    """``n`` scenes of 1 to ``max_shapes`` shapes, inside the frame, with background between any two.

    Radii are uniform in ``radius`` (fractions of ``size``). A scene whose
    next shape finds no free place in 100 draws is drawn again from scratch,
    so every call ends, and the same generator gives the same scenes.
    """
    scenes = []
    while len(scenes) < n:
        k = int(torch.randint(1, max_shapes + 1, (), generator=generator))
        shapes: list[list[float]] = []
        tries = 0
        while len(shapes) < k and tries < 100:
            tries += 1
            r = size * (radius[0] + torch.rand((), generator=generator).item() * (radius[1] - radius[0]))
            kind = int(torch.randint(len(KINDS), (), generator=generator))
            cx, cy = (r + 1 + torch.rand(2, generator=generator) * (size - 2 * r - 2)).tolist()
            # 2 pixels apart at least, so no pixel of one shape touches one of another, not even at a corner
            if all(math.hypot(cx - x, cy - y) > _reach(kind, r) + _reach(int(q), p) + 2 for q, x, y, p in shapes):
                shapes.append([kind, cx, cy, r])
        if len(shapes) == k:
            scenes.append(Scene(torch.tensor(shapes)))
    return scenes


def shape_depth(scene: Scene, size: int = 32) -> Tensor:
    """Each pixel's distance to the edge of the shape it lies in (S, S), float64; <= 0 outside every shape."""
    coords = torch.arange(size, dtype=torch.float64) + 0.5  # pixel centres
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (S, S)
    depth = torch.full((size, size), -1.0, dtype=torch.float64)
    for kind, cx, cy, r in scene.shapes.tolist():
        depth = torch.maximum(depth, _inside_distance(int(kind), cx, cy, r, xx, yy))
    return depth


def _style(style: StyleLike) -> Style:
    if isinstance(style, Style):
        return style
    if style not in STYLES:
        raise ValueError(f"style must be 'A', 'B' or a Style, got {style!r}")
    return STYLES[style]


def render(scene: Scene, size: int = 32, *, style: StyleLike = "A") -> Tensor:
    """The scene as an RGB image (3, S, S) in [-1, 1], in style "A" (plain), "B" (striped on grass) or any :class:`Style`."""
    st = _style(style)
    depth = shape_depth(scene, size)  # (S, S)
    inside = depth > 0
    width = max(1.0, size * st.width)  # in pixels: 2 at 32 x 32
    first, second = (torch.tensor(c, dtype=torch.float64)[:, None, None] for c in st.colours)  # (3, 1, 1)
    if st.texture == "plain":
        pick = torch.ones_like(inside)
    elif st.texture == "stripes":
        pick = torch.floor(depth / width) % 2 == 0  # outermost band first, then second, ...
    elif st.texture == "dots":
        coords = torch.arange(size, dtype=torch.float64) + 0.5
        yy, xx = torch.meshgrid(coords, coords, indexing="ij")
        period = 2 * width
        dx, dy = (xx % period) - period / 2, (yy % period) - period / 2  # offset from the nearest grid point
        pick = dx ** 2 + dy ** 2 <= (width / 2 + 0.5) ** 2
    else:
        raise ValueError(f"texture must be 'plain', 'stripes' or 'dots', got {st.texture!r}")
    fill = torch.where(pick, first, second)  # (3, S, S)
    img = torch.where(inside, fill, torch.tensor(st.background, dtype=torch.float64)[:, None, None])
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


def unpaired_scenes(n: int = 512, size: int = 32, *, seed: int = 0, max_shapes: int = 2,
                    styles: tuple[StyleLike, StyleLike] = ("A", "B")) -> Unpaired:
    """``n`` images in ``styles[0]`` and ``n`` in ``styles[1]``, of 2n different random scenes (no scene in both)."""
    g = torch.Generator().manual_seed(seed)
    scenes = random_scenes(2 * n, size, max_shapes=max_shapes, generator=g)
    return Unpaired(torch.stack([render(s, size, style=styles[0]) for s in scenes[:n]]),
                    torch.stack([render(s, size, style=styles[1]) for s in scenes[n:]]))


def scene_pairs(n: int = 128, size: int = 32, *, seed: int = 1, max_shapes: int = 2,
                styles: tuple[StyleLike, StyleLike] = ("A", "B")) -> Pairs:
    """``n`` held-out scenes rendered in both styles (use a seed different from training's)."""
    g = torch.Generator().manual_seed(10_000 + seed)
    scenes = random_scenes(n, size, max_shapes=max_shapes, generator=g)
    A = torch.stack([render(s, size, style=styles[0]) for s in scenes])
    B = torch.stack([render(s, size, style=styles[1]) for s in scenes])
    mask = torch.stack([shape_depth(s, size) > 0 for s in scenes])[:, None]  # (M, 1, S, S)
    return Pairs(A, B, mask=mask)
