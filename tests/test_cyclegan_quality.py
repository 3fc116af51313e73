"""The acceptance bar of the CycleGAN benchmark, at a fixed number of iterations (about half a minute on 2 cores).

The ``cpu`` preset, trained for its whole schedule (800 iterations) with the
seed chapter 8 uses, must pass every part of the benchmark's bar (background,
shape, colour, texture; see ``minigan/cyclegan/evaluate.py``) in both
directions with a 25% margin: the worst part at most 0.75 of its bar. Across 5
seeds and 5 CPU settings (AVX-512, ATEN_CPU_CAPABILITY=avx2, the same with
ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=default with ONEDNN_MAX_CPU_ISA=SSE41,
OMP_NUM_THREADS=1) the worst part measured 0.38 to 0.47 of its bar, always the
A→B texture; the last iteration's weights, without the preset's weight
averaging, 0.38 to 0.83 (closing note of the issue that set this bar). How fast the bar is reached is a
benchmark, not a test: ``python bench/cyclegan.py --only quality``.
"""
from minigan.cyclegan import BAR, CycleGANConfig, bar_ratio, passes, score_model, train_cyclegan
from minigan.data.scenes import scene_pairs, unpaired_scenes


def test_cpu_preset_passes_every_part_of_the_bar_with_margin():
    cfg = CycleGANConfig.from_preset("cpu")
    train = unpaired_scenes(512, cfg.image_size, seed=0)
    model = train_cyclegan(cfg, train.A, train.B, seed=0, progress=False)
    assert len(model.history["g_total"]) == cfg.total_epochs * cfg.epoch_steps == 800
    scores = score_model(model, scene_pairs(64, cfg.image_size, seed=1))
    assert all(all(parts.values()) for parts in passes(scores).values()), (scores, BAR)
    assert bar_ratio(scores) <= 0.75, scores
