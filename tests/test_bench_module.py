"""minigan.bench: FLOPs counted exactly on the meta device, and the benchmark's JSON for each model."""
import json
import statistics

import pytest
import torch

from minigan.bench import benchmark, compile_module, count_flops, cyclegan_workload, measure_peak_flops
from minigan.cli import main
from minigan.cyclegan import PatchDiscriminator, ResnetGenerator


def test_the_reference_generator_does_99_gflops_per_256x256_image():
    with torch.device("meta"):  # shapes only: the count costs no arithmetic
        G = ResnetGenerator(3, 3, ngf=64, n_blocks=9)
        x = torch.empty(1, 3, 256, 256)
    flops = count_flops(lambda: G(x))
    assert flops == pytest.approx(99.1e9, rel=1e-3)  # 49.55 G multiply-adds, the reference's figure
    with torch.device("meta"):
        D = PatchDiscriminator(3, ndf=64, n_layers=3)
    assert count_flops(lambda: D(x)) == pytest.approx(6.2e9, rel=0.05)


def test_flops_are_exact_conv_arithmetic():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    x = torch.rand(2, 3, 10, 10)
    assert count_flops(lambda: conv(x)) == 2 * (2 * 10 * 10) * 8 * 3 * 3 * 3  # 2 x outputs x C_in x k x k


def test_a_training_iteration_is_counted_forward_and_backward():
    w = cyclegan_workload("cpu", batch=1, image_size=16, ngf=4, ndf=4, n_blocks=1)
    train, infer = count_flops(w.meta_train), count_flops(w.meta_infer)
    assert infer > 0 and 10 * infer < train < 40 * infer  # G, F thrice each, 2 Ds, and about 2x for backward
    big = cyclegan_workload("cpu", batch=1, image_size=32, ngf=4, ndf=4, n_blocks=1)
    assert count_flops(big.meta_infer) == 4 * infer  # twice the side, four times the arithmetic


@pytest.mark.parametrize("model, settings", [
    ("cyclegan", dict(batch=2, image_size=16, ngf=4, ndf=4, n_blocks=1)),
    ("dcgan", dict(batch=8)),
    ("gpt", dict(batch=2, block_size=16)),
])
def test_benchmark_reports_consistent_numbers(model, settings):
    r = benchmark(model, "cpu", device="cpu", repeats=2, warmup=1, peak=1e10, **settings)
    json.dumps(r)  # plain numbers and strings only
    assert r["train_s_per_iter"] == statistics.median(r["train_times_s"]) > 0
    assert r["train_images_per_s"] == pytest.approx(r["settings"]["batch_size"] / r["train_s_per_iter"])
    assert r["train_flops_per_iter"] > r["infer_flops_per_batch"] > 0
    assert r["train_fraction_of_peak"] == pytest.approx(r["train_flops_per_s"] / 1e10)
    assert r["peak_memory_bytes"] > 0


def test_peak_flops_is_a_plausible_rate():
    peak = measure_peak_flops("cpu", n=256, repeats=2)
    assert 1e8 < peak < 1e14


def test_bench_command_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["bench", "gpt", "--batch", "2", "--set", "block_size=8", "--repeats", "1", "--warmup", "0",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["model"] == "gpt"
    assert main(["bench", "dcgan", "--amp", "bf16"]) == 2
    assert "apply to cyclegan only" in capsys.readouterr().err
    assert main(["bench", "gpt", "--preset", "huge"]) == 2


def test_profile_ops_names_the_convolutions():
    from minigan.bench import profile_ops

    conv = torch.nn.Conv2d(3, 16, 3)
    x = torch.rand(4, 3, 32, 32)
    ops = profile_ops(lambda: conv(x).sum().backward(), repeats=2, top=5)
    assert 0 < len(ops) <= 5 and 0 < sum(share for _, share in ops) <= 1 + 1e-9
    assert any("conv" in name for name, _ in ops)


@pytest.mark.parametrize("capability, simdlen", [("default", 1), ("avx2", 256), ("AVX2", 256)])
def test_compiled_code_uses_the_instruction_set_aten_is_pinned_to(monkeypatch, capability, simdlen):
    import torch._inductor.config as inductor_config

    monkeypatch.setenv("ATEN_CPU_CAPABILITY", capability)
    before = inductor_config.cpp.simdlen
    try:
        compile_module(torch.nn.Identity())  # torch.compile is lazy: nothing is built here
        assert inductor_config.cpp.simdlen == simdlen
    finally:
        inductor_config.cpp.simdlen = before


def test_time_alternately_takes_the_functions_in_turns():
    from minigan.bench import time_alternately
    calls = []
    times = time_alternately({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-up of each, then rounds of a then b
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3}
    assert all(t >= 0 for v in times.values() for t in v)
    with pytest.raises(ValueError, match="repeats"):
        time_alternately({"a": lambda: None}, repeats=0)
