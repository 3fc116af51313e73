"""The scenes benchmark: two styles of the same scene, deterministic, unpaired for training, paired for testing."""
import math

import pytest
import torch

from minigan.data.scenes import (BROWN, GRASS, RADIUS, SAND, Scene, Style, random_scenes, render, scene_pairs,
                                 shape_depth, unpaired_scenes)


def colour(rgb):
    return (torch.tensor(rgb) * 2 - 1)[:, None, None]  # (3, 1, 1) in [-1, 1]


def shape_mask(img, background):
    return (img != colour(background)).any(dim=0)  # (S, S) pixels that are not background


def test_both_styles_draw_the_same_shapes():
    for scene in random_scenes(20, 32, generator=torch.Generator().manual_seed(0)):
        a, b = render(scene, 32, style="A"), render(scene, 32, style="B")
        assert a.shape == b.shape == (3, 32, 32) and a.min() >= -1 and a.max() <= 1
        mask = shape_mask(a, SAND)
        assert torch.equal(mask, shape_mask(b, GRASS)) and mask.any()
        assert torch.all(a[:, mask] == colour(BROWN)[:, :, 0])  # A: plain brown shapes
        stripes = b[:, mask]
        assert torch.all(stripes[0] == stripes[1]) and torch.all(stripes[1] == stripes[2])  # B: grey levels only
        assert (stripes[0] < 0).any() and (stripes[0] > 0).any()  # both black and white stripes


def test_stripes_follow_the_outline_with_black_outside():
    scene = Scene(torch.tensor([[0, 16.0, 16.0, 8.0]]))  # one circle of radius 8 in the middle
    b = render(scene, 32, style="B")[0]
    coords = torch.arange(32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    depth = 8 - torch.sqrt((xx - 16) ** 2 + (yy - 16) ** 2)
    assert torch.all(b[(depth > 0) & (depth < 2)] < 0)  # the outer ring (width 2 at 32x32) is black
    assert torch.all(b[(depth >= 2) & (depth < 4)] > 0)  # then white
    assert ((depth > 0).sum().item()) == pytest.approx(math.pi * 64, rel=0.05)


def test_square_and_triangle_geometry():
    square = render(Scene(torch.tensor([[1, 16.0, 16.0, 4.0]])), 32)
    assert shape_mask(square, SAND).sum() == 64  # half side 4: an 8x8 square
    tri = shape_mask(render(Scene(torch.tensor([[2, 16.0, 16.0, 8.0]])), 32), SAND)
    area = 3 * math.sqrt(3) / 4 * 8 ** 2  # equilateral triangle inscribed in a circle of radius 8
    assert tri.sum().item() == pytest.approx(area, rel=0.1)
    rows = tri.any(dim=1).nonzero().flatten()
    assert tri[rows[0]].sum() < tri[rows[-1]].sum()  # pointing up: narrow at the top


def test_scenes_fit_the_frame_and_do_not_touch():
    scenes = random_scenes(200, 32, max_shapes=3, generator=torch.Generator().manual_seed(1))  # 3 seldom fit: redrawn
    assert {1, 2} <= {len(s.shapes) for s in scenes} <= {1, 2, 3}
    for scene in scenes:
        s = scene.shapes
        assert torch.all((s[:, 3] >= RADIUS[0] * 32) & (s[:, 3] <= RADIUS[1] * 32))  # 6 to 9 pixels at 32x32
        assert torch.all(s[:, 1] - s[:, 3] >= 0) and torch.all(s[:, 1] + s[:, 3] <= 32)
        masks = [(shape_depth(Scene(row[None]), 32) > 0)[None, None].float() for row in s]
        for i in range(len(s)):
            for j in range(i):
                touching = torch.nn.functional.max_pool2d(masks[j], 3, stride=1, padding=1) * masks[i]
                assert not touching.any()  # a pixel of background between any two shapes, corners too


def test_other_styles_plain_and_dots():
    scene = Scene(torch.tensor([[1, 16.0, 16.0, 8.0]]))  # a 16x16 square
    plain = Style((0.2, 0.2, 0.3), "plain", ((0.9, 0.5, 0.6),) * 2)
    dots = Style((0.8, 0.8, 0.5), "dots", ((0.1, 0.2, 0.5), (0.9, 0.6, 0.2)))
    p, d = render(scene, 32, style=plain), render(scene, 32, style=dots)
    inside = shape_depth(scene, 32) > 0
    assert torch.all(p[:, inside] == colour((0.9, 0.5, 0.6))[:, :, 0])
    assert torch.all(p[:, ~inside] == colour((0.2, 0.2, 0.3))[:, :, 0])
    dot = (d[:, inside] == colour((0.1, 0.2, 0.5))[:, :, 0]).all(dim=0)
    assert 0.15 < dot.float().mean() < 0.5  # dots on a fill
    grid = (d == colour((0.1, 0.2, 0.5))).all(dim=0)
    assert torch.equal(grid[8:12, 8:12], grid[12:16, 12:16])  # one grid of period 4 for the whole image
    pairs = scene_pairs(4, 32, seed=0, styles=(plain, dots))
    assert torch.equal(pairs.mask[:, 0], (pairs.A != colour((0.2, 0.2, 0.3))).any(dim=1))
    with pytest.raises(ValueError, match="texture"):
        render(scene, 32, style=Style((0, 0, 0), "spots", ((1, 1, 1),) * 2))


def test_unpaired_is_deterministic_and_from_different_scenes():
    u, again = unpaired_scenes(16, 32, seed=0), unpaired_scenes(16, 32, seed=0)
    assert torch.equal(u.A, again.A) and torch.equal(u.B, again.B)
    assert u.A.shape == u.B.shape == (16, 3, 32, 32)
    masks_a = [shape_mask(x, SAND) for x in u.A]
    masks_b = [shape_mask(x, GRASS) for x in u.B]
    assert not any(torch.equal(ma, mb) for ma in masks_a for mb in masks_b)  # no scene in both domains


def test_pairs_are_the_same_scene_and_held_out():
    p = scene_pairs(16, 32, seed=1)
    assert all(torch.equal(shape_mask(a, SAND), shape_mask(b, GRASS)) for a, b in zip(p.A, p.B))
    assert all(torch.equal(m[0], shape_mask(a, SAND)) for m, a in zip(p.mask, p.A))  # the mask is the shapes
    assert p.mask.shape == (16, 1, 32, 32) and p.mask.dtype == torch.bool
    train = unpaired_scenes(64, 32, seed=0)
    train_masks = [shape_mask(x, SAND) for x in train.A]
    # other scenes than training's; a square of half side 7.3 and one of 7.4 can still cover the same pixels
    assert sum(any(torch.equal(shape_mask(a, SAND), m) for m in train_masks) for a in p.A) <= 1
    assert render(random_scenes(1, 64, generator=torch.Generator().manual_seed(0))[0], 64).shape == (3, 64, 64)
    with pytest.raises(ValueError, match="style"):
        render(random_scenes(1)[0], style="C")
