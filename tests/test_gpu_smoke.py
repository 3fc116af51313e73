"""Every chapter's GPU configuration, run end to end on a CPU: the path a Colab reader takes, checked on every change.

Smoke mode (``MINIGAN_SMOKE``, see ``minigan/utils.py``) makes each chapter's
``"auto"`` preset the ``gpu`` one (the bigger models, ``amp="auto"`` taking an
Ampere GPU's bfloat16 path, ``channels_last``), cuts every config's loops to a
few steps (each config's ``SMOKE``), and sends chapter 9 down its horse2zebra
branch, with the data set and the authors' pretrained generator served from
this machine (tools/chapters.py). No stored output is compared and the kernel
runs as ``python -O``, so the chapters' asserts on what a full run reaches are
skipped: what fails here is a cell that raises (a shape or dtype mismatch, a
missing file, a branch nobody ran).
"""
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.chapters import chapter_notebooks, run_chapter, served_downloads, text_outputs  # noqa: E402

CHAPTERS = chapter_notebooks()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    with served_downloads(tmp_path_factory.mktemp("served")) as env:
        yield env


@pytest.fixture
def smoke(monkeypatch):
    monkeypatch.setenv("MINIGAN_SMOKE", "1")


def test_smoke_mode_takes_the_gpu_configuration_on_a_cpu(smoke):
    from minigan import auto_preset, on_gpu
    from minigan.cyclegan import CycleGANConfig, resolve_precision
    from minigan.nn.transformer import GPTConfig

    assert auto_preset("cpu") == "gpu" and on_gpu("cpu")
    gpt = GPTConfig.from_preset("auto", steps=600)  # a chapter's own budget gives way to the smoke cap too
    assert (gpt.n_layer, gpt.n_embd, gpt.steps) == (6, 384, GPTConfig.SMOKE["steps"]) != 600
    cfg, gpu = CycleGANConfig.from_preset("auto"), CycleGANConfig.PRESETS["gpu"]
    assert (cfg.n_blocks, cfg.ngf, cfg.amp, cfg.channels_last) == (gpu["n_blocks"], 64, "auto", True)
    assert (cfg.total_epochs, cfg.epoch_steps, cfg.image_size) == (1, 2, 64)
    precision = resolve_precision(cfg.amp, "cpu")  # an Ampere GPU's path: bfloat16 autocast
    assert precision.dtype == torch.bfloat16 and precision.scaler is None


def test_smoke_mode_can_take_a_t4s_path(monkeypatch):
    from minigan.cyclegan import resolve_precision

    monkeypatch.setenv("MINIGAN_SMOKE", "fp16")  # float16 with a grad scaler, as on Colab's free T4
    precision = resolve_precision("auto", "cpu")
    assert precision.dtype == torch.float16 and precision.scaler is not None


def test_without_smoke_mode_nothing_changes(monkeypatch):
    from minigan import auto_preset, on_gpu
    from minigan.cyclegan import CycleGANConfig, resolve_precision

    monkeypatch.delenv("MINIGAN_SMOKE", raising=False)
    assert auto_preset("cpu") == "cpu" and not on_gpu("cpu")
    assert CycleGANConfig.from_preset("auto") == CycleGANConfig.from_preset("cpu")
    assert resolve_precision("auto", "cpu").dtype is None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_its_gpu_configuration(path, downloads, tmp_path):
    nb, _ = run_chapter(path, env={**downloads, "MINIGAN_SMOKE": "1"}, workdir=tmp_path / "work", optimize=True)
    printed = text_outputs(nb)
    if "preset: " in printed:  # the chapter says which preset it took: the GPU one
        assert "preset: gpu" in printed and "preset: cpu" not in printed.split("preset: gpu")[0], printed[:500]
    if path.stem == "cyclegan_photos":  # the horse2zebra branch ran, on the served stand-in
        assert "real photos: True" in printed
        assert (tmp_path / "work" / "runs" / "horse2zebra" / "checkpoint.pt").is_file()
