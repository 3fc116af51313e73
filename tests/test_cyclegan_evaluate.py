"""The scenes benchmark's score: four parts (background, shape, colour, texture), each failed by a trivial answer."""
import math

import pytest
import torch

from minigan.cyclegan import (BAR, PARTS, CycleGANConfig, bar_ratio, baseline_translations, make_cyclegan, passes,
                              psnr, score_model, translation_scores, variogram)
from minigan.data.scenes import Pairs, Style, scene_pairs

PAIRS = scene_pairs(16, 32, seed=3)


def test_psnr_of_a_known_error():
    target = torch.zeros(2, 3, 4, 4)
    assert psnr(target + 0.1, target) == pytest.approx(10 * math.log10(4 / 0.01))  # MSE 0.01, range 2: 26.0 dB
    assert psnr(target + 0.2, target) == pytest.approx(psnr(target + 0.1, target) - 20 * math.log10(2))  # -6 dB
    assert psnr(target, target) == math.inf


def test_the_truth_scores_zero_and_identity_one_on_texture():
    perfect = translation_scores(PAIRS, PAIRS.B, PAIRS.A)
    assert all(s[p] == 0 for s in perfect.values() for p in PARTS) and bar_ratio(perfect) == 0
    assert all(s["l1"] == 0 and s["psnr"] == math.inf for s in perfect.values())
    identity = translation_scores(PAIRS, PAIRS.A, PAIRS.B)
    for s in identity.values():
        assert s["texture"] == pytest.approx(1.0)  # by definition: as far from the truth's texture as the input
        assert s["background"] > 0.8 and s["shape"] > 0.8  # sand is far from grass: everything looks like a shape
    assert identity["A→B"]["l1"] == pytest.approx((PAIRS.A - PAIRS.B).abs().mean().item())
    m = PAIRS.mask.expand_as(PAIRS.A)
    assert identity["A→B"]["l1_shapes"] == pytest.approx((PAIRS.A - PAIRS.B).abs()[m].mean().item())
    with pytest.raises(ValueError, match="shape"):
        translation_scores(PAIRS, PAIRS.B[:, :1], PAIRS.A)


def test_every_baseline_fails_a_part_that_another_passes():
    pairs = scene_pairs(64, 32, seed=1)
    failed = {}
    for name, (a2b, b2a) in baseline_translations(pairs).items():
        verdict = passes(translation_scores(pairs, a2b, b2a))
        failed[name] = {(d, p) for d, parts in verdict.items() for p, ok in parts.items() if not ok}
        assert failed[name], name  # no trivial answer passes the bar
    assert ("A→B", "background") in failed["identity"]
    assert ("A→B", "colour") in failed["recolour the background"] and ("B→A", "texture") in failed["recolour the background"]
    assert ("A→B", "shape") in failed["a real image, wrong scene"] and ("B→A", "shape") in failed["a real image, wrong scene"]
    assert failed["mean colour fill"] == {("A→B", "texture")}  # right everywhere but the stripes
    # ... and from B to A the mean colour fill is the right answer: A's shapes are plain
    a2b, b2a = baseline_translations(pairs)["mean colour fill"]
    assert torch.allclose(b2a, pairs.A, atol=1e-6)


def test_texture_ignores_the_phase_and_counts_the_contrast():
    # one big square of vertical stripes, period 4; a copy shifted by half a period is another phase of one texture
    size = 32
    mask = torch.zeros(1, 1, size, size, dtype=torch.bool)
    mask[..., 4:28, 4:28] = True
    columns = torch.arange(size)
    stripes = torch.where((columns // 2) % 2 == 0, -0.8, 0.8).expand(1, 3, size, size)
    shifted = torch.roll(stripes, 2, dims=-1)
    plain = torch.full_like(stripes, 0.0)
    bg = torch.full_like(stripes, -0.5)
    truth, source = torch.where(mask, stripes, bg), torch.where(mask, plain, bg)
    pairs = Pairs(A=source, B=truth, mask=mask)
    score = lambda out: translation_scores(pairs, out, source)["A→B"]  # noqa: E731
    moved = score(torch.where(mask, shifted, bg))
    assert moved["texture"] == pytest.approx(0.0, abs=0.02) and moved["l1_shapes"] > 1.5  # pixels say: all wrong
    half = score(torch.where(mask, stripes / 2, bg))  # the same stripes at half the contrast
    assert half["texture"] == pytest.approx(0.5)
    assert score(torch.where(mask, plain, bg))["texture"] == pytest.approx(1.0)  # no texture at all: as identity


def test_variogram_counts_only_pairs_inside_the_region():
    x = torch.zeros(1, 1, 4, 4)
    x[..., :, 2:] = 1.0  # left half 0, right half 1
    everywhere = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    left = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    left[..., :, :2] = True
    g = variogram(x, everywhere, range(1, 3))
    assert g[0].tolist() == pytest.approx([4 / 24, 8 / 16])  # h=1: 4 of 12 across pairs + 12 down pairs differ
    assert variogram(x, left, range(1, 3))[0].tolist() == [0.0, 0.0]  # inside the left half nothing changes


def test_the_band_around_the_outlines_is_not_judged():
    pairs = scene_pairs(16, 32, seed=3)
    grass = pairs.B[:, :, :1, :1]  # the top-left pixel: every scene has background there
    grown = torch.nn.functional.max_pool2d(pairs.mask.float(), 3, stride=1, padding=1) > 0  # one pixel fatter
    fat = torch.where(grown & ~pairs.mask, torch.full_like(pairs.B, -0.8), pairs.B)  # a black rim outside
    s = translation_scores(pairs, fat, pairs.A)["A→B"]
    assert s["shape"] == 0 and s["background"] == 0 and s["texture"] == 0
    assert s["l1"] > 0  # the pixel score does see the rim
    much = torch.nn.functional.max_pool2d(pairs.mask.float(), 7, stride=1, padding=3) > 0  # three pixels fatter
    blob = torch.where(much & ~pairs.mask, torch.full_like(pairs.B, -0.8), pairs.B)
    assert translation_scores(pairs, blob, pairs.A)["A→B"]["shape"] > BAR["shape"]
    assert torch.all(grass == pairs.B[:, :, :1, :1])


def test_another_domain_pair_is_scored_from_its_truth_alone():
    plain = Style((0.20, 0.22, 0.30), "plain", ((0.85, 0.55, 0.65),) * 2)
    dots = Style((0.80, 0.82, 0.55), "dots", ((0.15, 0.20, 0.55), (0.95, 0.60, 0.25)))
    pairs = scene_pairs(32, 32, seed=2, styles=(plain, dots))
    assert bar_ratio(translation_scores(pairs, pairs.B, pairs.A)) == 0
    for name, (a2b, b2a) in baseline_translations(pairs).items():
        assert bar_ratio(translation_scores(pairs, a2b, b2a)) > 1, name


def test_bar_ratio_and_passes():
    scores = {"A→B": {"background": 0.05, "shape": 0.05, "colour": 0.05, "texture": 0.35},
              "B→A": {"background": 0.01, "shape": 0.30, "colour": 0.0, "texture": 0.0}}
    assert bar_ratio(scores) == pytest.approx(0.30 / BAR["shape"])
    assert passes(scores) == {"A→B": dict.fromkeys(PARTS, True),
                              "B→A": {"background": True, "shape": False, "colour": True, "texture": True}}


def test_score_model_translates_each_way():
    pairs = scene_pairs(6, 16, seed=3)
    model = make_cyclegan(CycleGANConfig(image_size=16, ngf=4, n_blocks=1, ndf=4, n_layers_d=2),
                          generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = translation_scores(pairs, model.G(pairs.A), model.F(pairs.B))
    got = score_model(model, pairs, batch_size=4)  # two batches each way
    assert got.keys() == expected.keys()
    for k in got:
        assert got[k] == pytest.approx(expected[k], rel=1e-6)
