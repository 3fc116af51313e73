"""bench/cyclegan.py runs: its two measurements on tiny settings, and its JSON output."""
import importlib.util
import json
from pathlib import Path

from minigan.cyclegan import BAR, CycleGANConfig

spec = importlib.util.spec_from_file_location("bench_cyclegan", Path(__file__).parent.parent / "bench" / "cyclegan.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_seconds_per_iteration_is_measured():
    s = bench.seconds_per_iteration(32, 4, 1, iters=2)
    assert 0 < s < 10


def test_time_to_quality_stops_at_the_bar_or_the_cap():
    cfg = CycleGANConfig(image_size=16, ngf=4, n_blocks=1, ndf=4, n_layers_d=2, batch_size=2, epoch_steps=4,
                         n_epochs=1, n_epochs_decay=1)
    easy = bench.time_to_quality(cfg, bar={part: 10.0 for part in BAR}, cap=60, every=2)  # every error is below 10
    assert easy["reached"] and easy["iterations"] == 2 and easy["bar_ratio"] <= 1
    hard = bench.time_to_quality(cfg, bar={part: 1e-9 for part in BAR}, cap=60, every=2)  # never: the whole schedule
    assert not hard["reached"] and hard["iterations"] == 8 and hard["bar_ratio"] > 1
    assert set(hard["scores"]) == {"A→B", "B→A"} and set(BAR) <= set(hard["scores"]["A→B"])


def test_main_prints_json(capsys):
    assert bench.main(["--only", "speed", "--iters", "1", "--configs", "32/ngf16/3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["config"] for r in out["speed"]] == ["32/ngf16/3"]
    assert out["speed"][0]["reference_seconds"] == 0.050 and isinstance(out["speed"][0]["no_slower"], bool)
