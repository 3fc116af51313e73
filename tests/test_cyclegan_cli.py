"""The `minigan cyclegan` command: train -> translate round trips (built-in scenes, a folder, a downloaded
data set from a local server), a SIGKILLed run resumed to the same losses, and one-line errors."""
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from minigan.cli import main
from minigan.cyclegan import PARTS
from minigan.cyclegan.run import read_log, train_run
from minigan.data.folders import make_scenes_folder

# a 16x16 CycleGAN with 1 block: 2 epochs of 5 iterations, a second or two on a CPU
TINY = ["--set", "image_size=16", "--set", "ngf=4", "--set", "ndf=4", "--set", "n_blocks=1", "--set", "batch_size=2",
        "--set", "n_epochs=1", "--set", "n_epochs_decay=1", "--set", "epoch_steps=5", "--no-progress"]
TINY_CFG = dict(image_size=16, ngf=4, ndf=4, n_blocks=1, batch_size=2, n_epochs=1, n_epochs_decay=1, epoch_steps=5)


def cli(*args, cwd=None, env=None, check=True):
    """Run the installed command the way a user does (a subprocess, `python -m minigan`)."""
    r = subprocess.run([sys.executable, "-m", "minigan", *map(str, args)], capture_output=True, text=True,
                       cwd=cwd, env={**os.environ, **(env or {})}, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_train_then_translate_on_the_built_in_scenes(tmp_path):
    out = tmp_path / "run"
    r = cli("cyclegan", "train", "--out", out, *TINY)
    assert "finished at iteration 10 of 10" in r.stdout and "held-out A→B against the known answer" in r.stdout
    assert "worst part / its bar" in r.stdout  # 10 iterations of a tiny model: far from the bar, and it says so
    assert {p.name for p in out.iterdir()} == {"checkpoint.pt", "config.json", "log.csv", "samples", "scores.csv"}
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["iter_000005.png", "iter_000010.png"]
    log = read_log(out / "log.csv")
    assert log["iteration"] == list(range(10)) and len(log["g_total"]) == 10 and min(log["d_x"]) > 0
    scores = read_log(out / "scores.csv")
    assert scores["iteration"] == [5, 10]
    assert {f"{part}_{way}" for part in PARTS for way in ("a2b", "b2a")} < set(scores) and "bar_ratio" in scores
    assert scores["bar_ratio"][-1] > 1 and "fails the benchmark's bar" in r.stdout
    # translate one image and a folder (with a sub-folder), both directions
    photos = tmp_path / "photos"
    (photos / "more").mkdir(parents=True)
    Image.new("RGB", (40, 30), (200, 180, 150)).save(photos / "a.jpg")
    Image.new("L", (20, 20), 128).save(photos / "more" / "b.png")
    cli("cyclegan", "translate", out / "checkpoint.pt", photos, "--out", tmp_path / "t", "--no-progress")
    assert sorted(str(p.relative_to(tmp_path / "t")) for p in (tmp_path / "t").rglob("*.png")) == ["a.png", "more/b.png"]
    assert Image.open(tmp_path / "t" / "a.png").size == (16, 16)  # the training size by default
    assert main(["cyclegan", "translate", str(out / "checkpoint.pt"), str(photos / "a.jpg"), "--out",
                 str(tmp_path / "u"), "--size", "0", "--direction", "BtoA", "--no-progress"]) == 0
    assert Image.open(tmp_path / "u" / "a.png").size == (40, 28)  # own size, cut to a multiple of 4


def test_a_killed_run_resumes_to_the_same_losses(tmp_path):
    data = make_scenes_folder(tmp_path / "scenes", n_train=8, n_test=2, size=16)
    args = ["cyclegan", "train", "--data", data, *TINY, "--set", "n_epochs=6", "--set", "n_epochs_decay=6",
            "--checkpoint-every", "3"]
    proc = subprocess.Popen([sys.executable, "-m", "minigan", *map(str, args), "--out", tmp_path / "killed"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, log = tmp_path / "killed" / "checkpoint.pt", tmp_path / "killed" / "log.csv"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists() and log.exists() and len(read_log(log).get("iteration", [])) >= 10:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = torch.load(ckpt, weights_only=True)["iteration"]
    assert 0 < done < 60
    r = cli(*args, "--out", tmp_path / "killed", "--resume")
    assert f"resuming {tmp_path / 'killed'} at iteration {done} of 60" in r.stdout
    assert "finished at iteration 60 of 60" in r.stdout
    straight = train_run(tmp_path / "straight", data=data, overrides={**TINY_CFG, "n_epochs": 6, "n_epochs_decay": 6},
                         progress=False, echo=lambda s: None)  # the same run, never interrupted
    resumed = read_log(log)
    assert resumed["iteration"] == list(range(60))
    for key in straight.history:  # every iteration's losses; the rows after the last checkpoint redone identically
        assert resumed[key] == [float(f"{v:.6g}") for v in straight.history[key]], key


def test_folder_data_resumes_exactly_and_workers_do_not_change_the_batches(tmp_path):
    data = make_scenes_folder(tmp_path / "scenes", n_train=12, n_test=4, size=16)
    Image.new("L", (16, 16), 60).save(data / "trainA" / "grey.png")  # a grayscale file among the RGB ones
    (data / "trainB" / "broken.jpg").write_bytes(b"not a JPEG")
    said = []
    kw = dict(data=data, overrides=TINY_CFG, progress=False, echo=lambda s: None)
    straight = train_run(tmp_path / "a", **{**kw, "echo": said.append})
    assert said[0] == f"warning: skipped 1 image file(s) under {data} that could not be read: trainB/broken.jpg"
    train_run(tmp_path / "b", steps=4, **kw)  # stops mid-epoch (epochs of ceil(13 / 2) = 7 batches)
    resumed = train_run(tmp_path / "b", resume=True, **kw)
    assert resumed.history == straight.history and resumed.history.steps == list(range(10))
    workers = train_run(tmp_path / "c", workers=2, **kw)
    assert workers.history == straight.history
    assert sorted(p.name for p in (tmp_path / "a" / "samples").iterdir()) == ["iter_000005.png", "iter_000010.png"]


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_named_data_set_is_downloaded_from_the_configured_server_and_trained_on(tmp_path):
    # the official zip's layout: horse2zebra/trainA, ... served from 127.0.0.1 only
    make_scenes_folder(tmp_path / "src" / "horse2zebra", n_train=6, n_test=2, size=16)
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "horse2zebra.zip", "w") as z:
        for p in sorted((tmp_path / "src").rglob("*.png")):
            z.write(p, p.relative_to(tmp_path / "src").as_posix())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cli("cyclegan", "train", "--data", "horse2zebra", "--data-root", tmp_path / "datasets", "--out",
            tmp_path / "run", *TINY, env={"MINIGAN_DATASETS_URL": url})
    finally:
        server.shutdown()
    assert len(list((tmp_path / "datasets" / "horse2zebra" / "trainB").iterdir())) == 6
    assert not list((tmp_path / "datasets").glob("*.zip"))  # the archive is removed once unpacked
    assert (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "scores.csv").exists()


@pytest.mark.parametrize("argv, status, message", [
    ([], 2, "the following arguments are required"),
    (["cyclegan"], 2, "the following arguments are required"),
    (["cyclegan", "train", "--preset", "huge"], 2, "invalid choice: 'huge'"),
    (["cyclegan", "train", "--steps", "-3"], 2, "expected a number >= 0"),
    (["cyclegan", "train", "--steps", "0"], 2, "expected a number >= 1"),
    (["cyclegan", "train", "--checkpoint-every", "0"], 2, "expected a number >= 1"),
    (["cyclegan", "train", "--sample-every", "0"], 2, "expected a number >= 1"),
    (["cyclegan", "train", "--set", "n_epochs=abc"], 2, "n_epochs expects a whole number (the default is 100), got 'abc'"),
    (["cyclegan", "train", "--set", "betas=oops"], 2, "betas expects 2 comma-separated numbers"),
    (["cyclegan", "train", "--set", "ema=1.5"], 2, "ema must be in [0, 1), got 1.5"),
    (["cyclegan", "train", "--set", "amp=fp8"], 2, "amp must be one of 'off', 'auto', 'bf16', 'fp16'"),
    (["cyclegan", "train", "--steps", "ten"], 2, "expected a whole number"),
    (["cyclegan", "train", "--set", "ngf"], 2, "--set expects KEY=VALUE"),
    (["cyclegan", "train", "--set", "width=3"], 2, "has no field 'width'"),
    (["cyclegan", "train", "--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
    (["cyclegan", "train", "--device", "cuda:7", "--no-progress"], 1, "CUDA is not available"),
    (["cyclegan", "train", "--data", "no/such/folder", "--no-progress"], 1, "neither a folder nor an official"),
    (["cyclegan", "translate", "missing.pt", "."], 1, "no checkpoint at missing.pt"),
])
def test_bad_arguments_exit_non_zero_with_one_line(argv, status, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own exit
        code = e.code
    err = capsys.readouterr().err
    assert code == status and message in err
    assert err.count("\n") == 1 and err.startswith("minigan: error: ") and "Traceback" not in err


def test_run_folder_rules_and_mismatched_resume(tmp_path, capsys):
    out = tmp_path / "run"
    train_run(out, overrides=TINY_CFG, steps=2, progress=False, echo=lambda s: None)
    assert main(["cyclegan", "train", "--out", str(out), *TINY]) == 1  # never overwrite a run
    assert "already holds a run" in capsys.readouterr().err
    assert main(["cyclegan", "train", "--out", str(out), "--resume", *TINY, "--set", "ngf=8"]) == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and "ngf=4 in the checkpoint but 8 here" in err and err.count("\n") == 1
    r = cli("cyclegan", "train", "--out", out, "--resume", "--preset", "paper", check=False)  # the real process
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "image_size=16 in the checkpoint but 256 here" in r.stderr
    assert main(["cyclegan", "train", "--out", str(out), "--resume", "--no-progress"]) == 0  # the checkpoint's config
    assert "finished at iteration 10 of 10" in capsys.readouterr().out
    (out / "checkpoint.pt").write_bytes(b"truncated")
    assert main(["cyclegan", "train", "--out", str(out), "--resume"]) == 1
    assert "not a readable minigan checkpoint" in capsys.readouterr().err


def test_python_dash_m_and_the_console_script_agree():
    r = cli("--help")
    assert "cyclegan" in r.stdout
    exe = shutil.which("minigan", path=str(Path(sys.executable).parent))
    assert exe is not None, "the `minigan` console script is not installed next to this Python"
    assert subprocess.run([exe, "cyclegan", "train", "--help"], capture_output=True, text=True).stdout.startswith(
        "usage: minigan cyclegan train")
