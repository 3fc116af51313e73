"""Chapter 9 never destroys a reader's work: its setup and data cells, run as on a Colab runtime without a GPU
(Colab's default, and what a reader gets when the GPU quota runs out), leave an existing run, the working folder
and Google Drive untouched, and do not mount Drive."""
import json
import os
import sys
import types
from pathlib import Path

import pytest

CHAPTER = Path(__file__).resolve().parent.parent / "book" / "cyclegan_photos.ipynb"


def code_cells(upto: str) -> list[str]:
    """The chapter's code cells, from the first after the Colab setup cell to the first containing ``upto``."""
    cells = [c for c in json.loads(CHAPTER.read_text())["cells"] if c["cell_type"] == "code"]
    out = []
    for c in cells:
        if "colab-setup" in c["metadata"].get("tags", []):
            continue
        out.append("".join(c["source"]))
        if upto in out[-1]:
            return out
    raise AssertionError(f"no cell with {upto!r}")


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.skipif(Path("/content").exists(), reason="this machine has a /content folder: a Colab runtime itself")
@pytest.mark.parametrize("accelerator", ["cpu", "mps"])  # mps: an Apple GPU runs the CPU demonstration too
def test_a_colab_runtime_without_a_gpu_touches_nothing_of_the_readers(tmp_path, monkeypatch, accelerator):
    import torch

    import minigan.utils

    work = tmp_path / "notebook_folder"
    (work / "runs" / "scenes_run").mkdir(parents=True)  # a reader's earlier run where the chapter runs
    (work / "runs" / "scenes_run" / "checkpoint.pt").write_bytes(b"hours of training")
    (work / "runs" / "datasets" / "horse2zebra" / "trainA").mkdir(parents=True)
    (work / "runs" / "datasets" / "horse2zebra" / "trainA" / "0001.jpg").write_bytes(b"a horse")
    before = snapshot(work)
    mounted = []
    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=lambda path: mounted.append(path))
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(minigan.utils, "get_device", lambda device="auto": torch.device(accelerator))
    monkeypatch.chdir(work)
    namespace = {"__name__": "__main__"}
    try:
        for source in code_cells(upto="make_scenes_folder("):  # setup, mounting Drive, pretrained, the data
            exec(compile(source, str(CHAPTER), "exec"), namespace)
        demo = Path.cwd()
    finally:
        os.chdir(tmp_path)
    assert namespace["ON_COLAB"] and not namespace["REAL_PHOTOS"] and namespace["device"].type == accelerator
    assert snapshot(work) == before  # the reader's run and data set, byte for byte
    assert not mounted and not Path("/content").exists()  # Drive neither mounted nor written
    assert demo != work and demo.name.startswith("minigan-chapter9-")  # a fresh folder of its own
    assert (demo / "runs" / "scenes" / "trainA").is_dir()
    assert namespace["cfg"].image_size == 32  # the CPU demonstration, whatever the accelerator
