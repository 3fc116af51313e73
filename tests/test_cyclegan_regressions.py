"""Failures a new user hit with `minigan cyclegan` (issue 19), each pinned by a test: settings read by their
declared types and checked once by the config, zero counts and schedules overrun refused, accumulation that
survives an epoch's short last batch, and `translate` skipping files that do not decode."""
import json
import struct
import zlib

import pytest
import torch
from PIL import Image

from minigan.cli import build_parser, main
from minigan.config import ConfigError
from minigan.cyclegan import CycleGANConfig, generator_step, linear_decay_factor, make_cyclegan, make_optimizers
from minigan.cyclegan.batching import micro_batches
from minigan.cyclegan.run import read_log, train_run
from minigan.data.folders import make_scenes_folder

from test_cyclegan_cli import TINY, TINY_CFG, cli


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: ") and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- settings: typed, checked once, offered by the config

def test_set_values_are_read_by_each_fields_declared_type():
    parsed = CycleGANConfig.parse_overrides(["n_epochs=50", "lr=2e-4", "cycle_loss=false", "betas=0.4,0.99",
                                             "epoch_steps=None", "amp=bf16", "ema=0"])
    assert parsed == {"n_epochs": 50, "lr": 2e-4, "cycle_loss": False, "betas": (0.4, 0.99), "epoch_steps": None,
                      "amp": "bf16", "ema": 0.0}
    assert type(parsed["ema"]) is float and CycleGANConfig.parse_overrides(["betas=(0.5, 0.9)"])["betas"] == (0.5, 0.9)
    for pair, message in [("n_epochs=abc", "n_epochs expects a whole number (the default is 100), got 'abc'"),
                          ("n_epochs=1.5", "n_epochs expects a whole number"),
                          ("betas=oops", "betas expects 2 comma-separated numbers (the default is 0.5,0.999)"),
                          ("betas=0.5", "betas expects 2 comma-separated numbers"),
                          ("cycle_loss=maybe", "cycle_loss expects true or false"),
                          ("lr=nan", "lr expects a number"),
                          ("ngf=None", "ngf expects a whole number"),  # not an optional field
                          ("width=3", "CycleGANConfig has no field 'width'")]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            CycleGANConfig.parse_overrides([pair])


@pytest.mark.parametrize("field, value, message", [
    ("n_epochs", "abc", "n_epochs must be a whole number, got 'abc'"),
    ("betas", (0.5,), "betas must be 2 comma-separated numbers"),
    ("betas", (0.5, 1.0), r"betas must be in \[0, 1\)"),
    ("amp", "fp8", "amp must be one of 'off', 'auto', 'bf16', 'fp16'"),
    ("loss", "wgan", "loss must be one of"),  # the steps apply neither WGAN's clip nor its penalty
    ("lr", 0.0, r"lr must be in \(0, inf\)"),
    ("epoch_steps", 0, r"epoch_steps must be in \[1, inf\)"),
    ("ema", 1.0, r"ema must be in \[0, 1\)"),
    ("batch_size", True, "batch_size must be a whole number"),
])
def test_the_config_checks_types_choices_and_ranges(field, value, message):
    with pytest.raises(ConfigError, match=message):
        CycleGANConfig(**{field: value})


def test_rules_between_fields():
    with pytest.raises(ConfigError, match="accum_steps must be between 1 and batch_size"):
        CycleGANConfig(batch_size=2, accum_steps=3)
    with pytest.raises(ConfigError, match="n_epochs \\+ n_epochs_decay must be at least 1"):
        CycleGANConfig(n_epochs=0, n_epochs_decay=0)
    with pytest.raises(ConfigError, match="divisible by 4"):
        CycleGANConfig(image_size=30)
    assert CycleGANConfig(betas=[0.5, 0.9]).betas == (0.5, 0.9)  # as a checkpoint stores it


def test_the_command_line_offers_the_configs_choices():
    train = build_parser()._subparsers._group_actions[0].choices["cyclegan"]._subparsers._group_actions[0] \
        .choices["train"]
    options = {a.dest: a for a in train._actions}
    assert list(options["amp"].choices) == list(CycleGANConfig.CHOICES["amp"])
    assert list(options["preset"].choices) == ["auto", *CycleGANConfig.preset_names()]


def test_epoch_steps_none_reaches_the_config_as_none(tmp_path):
    out = tmp_path / "run"
    assert main(["cyclegan", "train", "--out", str(out), *TINY, "--set", "epoch_steps=None", "--set", "n_epochs=0",
                 "--set", "batch_size=4"]) == 0  # one epoch: one pass over the 512 scenes, 128 iterations of 4
    saved = json.loads((out / "config.json").read_text())
    assert saved["epoch_steps"] is None and len(read_log(out / "log.csv")["iteration"]) == 128


# ---------------------------------------------------------------- counts and the end of the schedule

def test_steps_past_the_schedule_are_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["cyclegan", "train", "--out", str(out), *TINY, "--steps", "11"]) == 1
    err = one_line_error(capsys)
    assert "steps 11 is past the end of the schedule, 10 iterations (2 epochs of 5)" in err
    assert not out.exists()
    # the rate multiplier never turns negative, wherever a caller asks
    assert [linear_decay_factor(e, 2, 2) for e in range(6)] == pytest.approx([1, 1, 2 / 3, 1 / 3, 0, 0])


def test_steps_behind_a_resumed_run_are_refused(tmp_path, capsys):
    out = tmp_path / "run"
    train_run(out, overrides=TINY_CFG, steps=6, progress=False, echo=lambda s: None)
    assert main(["cyclegan", "train", "--out", str(out), "--resume", "--steps", "4", "--no-progress"]) == 1
    assert "steps 4 is behind the run, which is already at iteration 6" in one_line_error(capsys)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["iteration"] == 6  # the run is untouched
    assert main(["cyclegan", "train", "--out", str(out), "--resume", "--steps", "8", "--no-progress"]) == 0
    assert "stopped at iteration 8 of 10" in capsys.readouterr().out


# ---------------------------------------------------------------- accumulation at an epoch's end

def test_accumulation_survives_the_short_last_batch_of_a_folder(tmp_path):
    data = make_scenes_folder(tmp_path / "scenes", n_train=10, n_test=2, size=16)  # batches of 4, 4, 2
    out = tmp_path / "run"
    assert main(["cyclegan", "train", "--data", str(data), "--out", str(out), *TINY, "--set", "batch_size=4",
                 "--set", "accum_steps=4", "--set", "epoch_steps=None"]) == 0
    log = read_log(out / "log.csv")
    assert log["iteration"] == list(range(6)) and all(v == v for v in log["g_total"])  # 2 epochs of 3; no NaN
    assert torch.load(out / "checkpoint.pt", weights_only=True)["iteration"] == 6


def test_micro_batches_are_never_empty_when_the_domains_batches_differ():
    x, y = torch.zeros(1, 3, 8, 8), torch.zeros(4, 3, 8, 8)  # x's epoch ended on a batch of 1, y's did not
    parts = list(micro_batches(4, x, y))
    assert len(parts) == 1 and parts[0][0] == 1.0  # one micro-batch of everything
    parts = list(micro_batches(4, torch.zeros(3, 1), torch.zeros(4, 1)))
    assert [len(p[0]) for _, p in parts] == [1, 1, 1] and all(len(p[1]) for _, p in parts)
    assert sum(share for share, _ in parts) == pytest.approx(1)
    cfg = CycleGANConfig(**{**TINY_CFG, "n_layers_d": 2, "batch_size": 4, "accum_steps": 4})
    model = make_cyclegan(cfg, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    logs, fake_x, fake_y = generator_step(model, make_optimizers(model)[0], torch.rand(1, 3, 16, 16, generator=g),
                                          torch.rand(4, 3, 16, 16, generator=g))
    assert all(v == v for v in logs.values()) and len(fake_y) == 1 and len(fake_x) == 4


# ---------------------------------------------------------------- translate skips what does not decode

def bomb_png(path):
    """A real PNG file whose header claims 20000 x 20000 pixels: Pillow refuses it as a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 20001 * 4)  # a few rows; the rest is never read
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)


def test_translate_skips_undecodable_files_and_says_so(tmp_path):
    out = tmp_path / "run"
    train_run(out, overrides=TINY_CFG, steps=1, progress=False, echo=lambda s: None)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (20, 12), (200, 40, 40)).save(photos / "fine.jpg")
    bomb_png(photos / "bomb.png")
    (photos / "not_an_image.png").write_text("hello")
    r = cli("cyclegan", "translate", out / "checkpoint.pt", photos, "--out", tmp_path / "zebras", "--size", "0",
            "--no-progress")
    assert "Traceback" not in r.stderr
    assert "warning: skipped 2 image file(s) under" in r.stdout and "bomb.png, not_an_image.png" in r.stdout
    assert "translated 1 image(s) AtoB" in r.stdout
    assert Image.open(tmp_path / "zebras" / "fine.png").size == (20, 12)  # size 0: its own size, a multiple of 4
    for src, message in [(photos / "bomb.png", "as an image (DecompressionBombError: Image size (400000000 pixels)"),
                         (photos / "not_an_image.png", "as an image (UnidentifiedImageError")]:
        r = cli("cyclegan", "translate", out / "checkpoint.pt", src, "--no-progress", check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    (photos / "fine.jpg").unlink()
    r = cli("cyclegan", "translate", out / "checkpoint.pt", photos, "--no-progress", check=False)  # none readable
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no readable image in" in r.stderr
    assert "warning: skipped 2 image file(s)" in r.stdout
