"""Scores against the scenes' ground truth: L1 and PSNR, over whole images and on the shapes only."""
import math

import pytest
import torch

from minigan.cyclegan import CycleGANConfig, make_cyclegan, psnr, score_model, translation_scores
from minigan.data.scenes import scene_pairs


def test_psnr_of_a_known_error():
    target = torch.zeros(2, 3, 4, 4)
    assert psnr(target + 0.1, target) == pytest.approx(10 * math.log10(4 / 0.01))  # MSE 0.01, range 2: 26.0 dB
    assert psnr(target + 0.2, target) == pytest.approx(psnr(target + 0.1, target) - 20 * math.log10(2))  # -6 dB
    assert psnr(target, target) == math.inf


def test_perfect_and_identity_translations():
    pairs = scene_pairs(8, 16, seed=3)
    perfect = translation_scores(pairs, pairs.B, pairs.A)
    assert all(s["l1"] == 0 and s["psnr"] == math.inf for s in perfect.values())
    identity = translation_scores(pairs, pairs.A, pairs.B)  # change nothing
    assert identity["A→B"]["l1"] == pytest.approx((pairs.A - pairs.B).abs().mean().item())
    assert identity["A→B"]["l1"] == pytest.approx(identity["B→A"]["l1"])  # |a - b| either way
    m = pairs.mask.expand_as(pairs.A)
    assert identity["A→B"]["l1_shapes"] == pytest.approx((pairs.A - pairs.B).abs()[m].mean().item())
    with pytest.raises(ValueError, match="shape"):
        translation_scores(pairs, pairs.B[:, :1], pairs.A)


def test_shape_scores_see_only_the_shapes():
    pairs = scene_pairs(8, 16, seed=3)
    wrong_background = torch.where(pairs.mask, pairs.B, -pairs.B)  # shapes exact, background negated
    s = translation_scores(pairs, wrong_background, pairs.A)["A→B"]
    assert s["l1_shapes"] == 0 and s["psnr_shapes"] == math.inf and s["l1"] > 0.1


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
