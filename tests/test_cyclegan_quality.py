"""The acceptance bar of the CycleGAN benchmark, measured on the machine that runs the tests (about a minute).

The ``cpu`` preset must translate the held-out scenes to within a mean L1 of
0.10 of the truth in both directions (identity scores 0.87) within 90 s of
training, evaluation excluded. Chapter 8 trains the same preset with the same
seed and shows the result.
"""
import importlib.util
from pathlib import Path

from minigan.cyclegan import CycleGANConfig

spec = importlib.util.spec_from_file_location("bench_cyclegan", Path(__file__).parent.parent / "bench" / "cyclegan.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_cpu_preset_reaches_the_bar_within_90_seconds():
    result = bench.time_to_quality(CycleGANConfig.from_preset("cpu"), bar=0.10, cap=90, every=50, seed=0)
    assert result["reached"], result
    assert result["train_seconds"] <= 90 and result["l1_a2b"] <= 0.10 and result["l1_b2a"] <= 0.10, result
