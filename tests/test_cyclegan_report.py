"""What a run keeps and shows: checkpoints kept every few epochs, TensorBoard scalars, and the offline test page
(`minigan cyclegan test`) with inputs, translations, round trips and, on the scenes, scores next to baselines."""
import re
import sys
import types

import pytest
import torch

from minigan.cli import main
from minigan.cyclegan import load_checkpoint, write_test_page
from minigan.cyclegan.run import train_run
from minigan.data.folders import make_scenes_folder

from test_cyclegan_cli import TINY, TINY_CFG


def test_keep_every_keeps_a_checkpoint_every_few_epochs(tmp_path):
    out = tmp_path / "run"
    cfg = {**TINY_CFG, "n_epochs": 2, "n_epochs_decay": 2}  # 4 epochs of 5 iterations
    assert main(["cyclegan", "train", "--out", str(out), *TINY, "--set", "n_epochs=2", "--set", "n_epochs_decay=2",
                 "--keep-every", "2"]) == 0
    kept = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert kept == ["epoch_002.pt", "epoch_004.pt"]
    assert [load_checkpoint(out / "checkpoints" / k)["iteration"] for k in kept] == [10, 20]
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 20
    # a kept checkpoint is a whole training state: a run resumed from it ends where the uninterrupted one did
    again = tmp_path / "again"
    again.mkdir()
    (again / "checkpoint.pt").write_bytes((out / "checkpoints" / "epoch_002.pt").read_bytes())
    trainer = train_run(again, overrides=cfg, resume=True, progress=False, echo=lambda s: None)
    final = load_checkpoint(out / "checkpoint.pt")
    assert trainer.iteration == 20
    for name, net in trainer.model.nets().items():
        for a, b in zip(net.state_dict().values(), final["nets"][name].values()):
            assert torch.equal(a, b), name


def test_tensorboard_logs_every_value_where_the_package_is_installed(tmp_path, monkeypatch):
    calls = []

    class SummaryWriter:  # stands in for torch.utils.tensorboard's, which needs the tensorboard package
        def __init__(self, log_dir):
            calls.append(("dir", log_dir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, step))

        def flush(self):
            pass

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=SummaryWriter))
    train_run(tmp_path / "run", overrides=TINY_CFG, steps=3, tensorboard=True, progress=False, echo=lambda s: None)
    assert calls[0] == ("dir", str(tmp_path / "run" / "tensorboard"))
    assert {(tag, step) for tag, step in calls[1:]} >= {("g_total", 1), ("d_x", 3), ("lr", 2), ("cycle_y", 3)}
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed: import fails
    assert main(["cyclegan", "train", "--out", str(tmp_path / "other"), *TINY, "--tensorboard"]) == 1


def test_the_test_page_on_the_built_in_scenes_has_scores_next_to_baselines(tmp_path, capsys):
    out = tmp_path / "run"
    train_run(out, overrides=TINY_CFG, steps=4, progress=False, echo=lambda s: None)
    assert main(["cyclegan", "test", str(out), "--how-many", "3", "--device", "cpu"]) == 0
    page = out / "test_iter_000004" / "index.html"
    assert f"wrote {page}" in capsys.readouterr().out
    text = page.read_text()
    for name in ("this model", "identity", "A→B", "B→A", "round trip", "right answer"):
        assert name in text
    images = re.findall(r"src='(images/[^']+)'", text)
    assert len(images) == 2 * 3 * 4  # two directions, three images, input/translation/round trip/answer
    assert all((page.parent / src).is_file() for src in images)
    assert "http" not in text  # nothing to fetch: it opens offline


def test_the_test_page_of_a_folder_run_and_of_a_kept_checkpoint(tmp_path):
    data = make_scenes_folder(tmp_path / "scenes", n_train=8, n_test=3, size=16)
    out = tmp_path / "run"
    assert main(["cyclegan", "train", "--data", str(data), "--out", str(out), *TINY, "--keep-every", "1"]) == 0
    page = write_test_page(out / "checkpoints" / "epoch_001.pt")  # the data found from the run's config.json
    assert page == out / "test_iter_000005" / "index.html"
    text = page.read_text()
    assert "right answer" not in text and "Scores" not in text  # a folder of photos has no known answer
    assert len(re.findall(r"<img ", text)) == 2 * 3 * 3
    data.rename(tmp_path / "moved")  # the data set is no longer where the run found it
    with pytest.raises(FileNotFoundError, match="pass its folder with --data"):
        write_test_page(out)
    assert write_test_page(out, data=tmp_path / "moved", out=tmp_path / "page").is_file()


def test_a_new_run_never_writes_over_files_that_are_not_a_runs(tmp_path, capsys):
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "config.json").write_text('{"learning_rate": 3}')
    (mine / "notes.txt").write_text("my notes")
    for argv in ([], ["--resume"]):  # with --resume too: there is no checkpoint to continue
        assert main(["cyclegan", "train", "--out", str(mine), *TINY, *argv]) == 1
        err = capsys.readouterr().err
        assert "holds files that are not a run's (notes.txt, config.json (not a run's))" in err
    assert sorted(p.name for p in mine.iterdir()) == ["config.json", "notes.txt"]
    assert (mine / "config.json").read_text() == '{"learning_rate": 3}'
    # a run killed before its first checkpoint left only a run's own files: the same command starts it again
    killed = tmp_path / "killed"
    train_run(killed, overrides=TINY_CFG, steps=2, progress=False, echo=lambda s: None)
    (killed / "checkpoint.pt").unlink()
    assert main(["cyclegan", "train", "--out", str(killed), *TINY, "--resume", "--steps", "3"]) == 0
    assert load_checkpoint(killed / "checkpoint.pt")["iteration"] == 3
