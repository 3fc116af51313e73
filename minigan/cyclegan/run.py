"""A CycleGAN training run in a folder: checkpoints, a loss log, sample grids, and resuming where it stopped.

This is what ``minigan cyclegan train`` runs, and what chapter 9 calls. A run
folder holds::

    out/checkpoint.pt      everything needed to continue (see checkpoint.py), rewritten atomically
    out/config.json        the config, for people
    out/log.csv            one row per iteration: the losses and the learning rate
    out/samples/iter_000600.png   held-out inputs and their translations, both ways
    out/scores.csv         on the built-in scenes only: L1 against the known answer, at each sample

Data comes from one of three places: the built-in scenes benchmark (no
argument: runs anywhere, offline, with a known answer), a folder in the
reference layout (``trainA``, ``trainB``, ``testA``, ``testB``), or the name
of an official data set, downloaded on first use.

Resuming: ``resume=True`` continues from ``out/checkpoint.pt`` if there is one
(and starts afresh if not), so the same command can be repeated after every
disconnect. Without ``resume``, a folder that already holds a run is refused
rather than overwritten.
"""
from __future__ import annotations

import csv
import functools
import json
import math
import os
import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..data.download import CYCLEGAN_DATASETS, download_cyclegan_dataset
from ..data.folders import UnpairedImageFolder, load_folder_tensors
from ..data.scenes import Pairs, scene_pairs, unpaired_scenes
from ..utils import get_device, seed_everything
from .checkpoint import config_from_checkpoint, load_checkpoint, save_checkpoint
from .config import CycleGANConfig
from .evaluate import score_model
from .trainer import CycleGAN, CycleGANTrainer, TensorPairs, check_same_networks, make_cyclegan

__all__ = ["FolderPairs", "RunData", "open_data", "train_run", "read_log", "load_size_for"]

CHECKPOINT = "checkpoint.pt"
N_SAMPLES = 4  # held-out images per direction in each sample grid


def load_size_for(image_size: int) -> int:
    """The resize before the random crop, in the reference's proportion (286 for 256): ``image_size * 286 // 256``."""
    return image_size * 286 // 256


class FolderPairs:
    """Batches ``(real_x, real_y)`` from an :class:`UnpairedImageFolder`, resumable mid-epoch.

    Each epoch visits the items in a fresh order drawn from ``generator``; the
    data set's own per-item seeds make every item the same whichever worker
    loads it. The state is the epoch, its order and how far into it we are.
    """

    def __init__(self, dataset: Dataset, *, batch_size: int, generator: torch.Generator,
                 device: torch.device | str = "cpu", workers: int = 0):
        self.dataset, self.batch_size, self.generator = dataset, batch_size, generator
        self.device, self.workers = torch.device(device), workers
        self.epoch_steps = math.ceil(len(dataset) / batch_size)
        self.epoch, self.perm, self.pos = -1, None, 0
        self._batches = None  # the DataLoader iterator over the rest of this epoch

    def __next__(self) -> tuple[Tensor, Tensor]:
        if self.perm is None or self.pos >= len(self.perm):
            self.epoch, self.perm, self.pos = self.epoch + 1, torch.randperm(len(self.dataset), generator=self.generator), 0
            self._batches = None
        if self._batches is None:
            self.dataset.set_epoch(self.epoch)
            loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=self.perm[self.pos:].tolist(),
                                num_workers=self.workers, pin_memory=self.device.type == "cuda")
            self._batches = iter(loader)
        real_x, real_y = next(self._batches)
        self.pos += len(real_x)
        return real_x.to(self.device, non_blocking=True), real_y.to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.perm, self.pos = int(state["epoch"]), state["perm"], int(state["pos"])
        self._batches = None


class RunData:
    """Where a run's images come from: a name for the log, the training batches, held-out images to show."""

    def __init__(self, name: str, make_batches: Callable[[torch.Generator, torch.device], object],
                 test_x: Tensor, test_y: Tensor, truth: Pairs | None = None):
        self.name, self.make_batches = name, make_batches
        self.test_x, self.test_y = test_x, test_y  # (M, 3, S, S) held out, for sample grids
        self.truth = truth  # held-out scenes in both styles, where the answer is known (the built-in benchmark)


@functools.lru_cache(maxsize=2)
def _scenes(size: int):
    """The built-in benchmark at ``size``, as in chapter 8: 512 unpaired training scenes, 64 held-out pairs."""
    return unpaired_scenes(512, size, seed=0), scene_pairs(64, size, seed=1)


def open_data(data: str | os.PathLike | None, cfg: CycleGANConfig, *, data_root: str | os.PathLike = "datasets",
              workers: int = 0, progress: bool = True, echo: Callable[[str], None] = print) -> RunData:
    """Resolve ``data`` (None: the built-in scenes; a folder; or an official data set's name) for ``cfg``."""
    size = cfg.image_size
    if data is None:
        train, pairs = _scenes(size)
        return RunData("scenes (built in)",
                       lambda g, dev: TensorPairs(train.A, train.B, batch_size=cfg.batch_size, generator=g, device=dev),
                       pairs.A, pairs.B, truth=pairs)
    root = Path(data)
    if not root.exists() and str(data) in CYCLEGAN_DATASETS:
        root = download_cyclegan_dataset(str(data), data_root, progress=progress)
    elif not root.exists():
        raise FileNotFoundError(f"{data} is neither a folder nor an official data set name "
                                f"({', '.join(CYCLEGAN_DATASETS)})")
    with warnings.catch_warnings(record=True) as caught:  # files that do not decode: say so in one plain line
        warnings.simplefilter("always")
        dataset = UnpairedImageFolder(root, "train", load_size=load_size_for(size), crop_size=size)
    for w in caught:
        echo(f"warning: {w.message}")
    test = "test" if (root / "testA").is_dir() and (root / "testB").is_dir() else "train"
    test_x, test_y = (load_folder_tensors(root / f"{test}{d}", size)[:N_SAMPLES] for d in "AB")
    return RunData(str(root), lambda g, dev: FolderPairs(dataset, batch_size=cfg.batch_size, generator=g, device=dev,
                                                          workers=workers),
                   test_x, test_y)


def _resolve_config(out: Path, preset: str | None, overrides: dict, device: torch.device, resume: bool
                    ) -> tuple[CycleGANConfig, dict | None]:
    """The run's config and, when resuming, the checkpoint to continue from."""
    ckpt_path = out / CHECKPOINT
    state = load_checkpoint(ckpt_path) if resume and ckpt_path.exists() else None
    if ckpt_path.exists() and not resume:
        raise FileExistsError(f"{out} already holds a run ({CHECKPOINT}); pass --resume to continue it "
                              f"or choose another output folder")
    if state is None:
        return CycleGANConfig.from_preset(preset or "auto", device=device, **overrides), None
    saved = config_from_checkpoint(state)
    cfg = CycleGANConfig.from_preset(preset, device=device, **overrides) if preset else replace(saved, **overrides)
    try:
        check_same_networks(state["config"], cfg)
    except ValueError as e:
        raise ValueError(f"cannot resume {ckpt_path}: {e}") from None
    return cfg, state


class _Log:
    """log.csv: one row per iteration, written as it goes; on resume, cut back to the checkpoint's iterations."""

    def __init__(self, path: Path, history: dict):
        self.path, self.keys = path, None
        if history.get("steps"):  # rewrite what the checkpoint knows; rows written after it are dropped
            self.keys = [k for k in history if k != "steps"]
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["iteration", *self.keys])
                for row in zip(history["steps"], *(history[k] for k in self.keys)):
                    w.writerow([row[0], *(f"{v:.6g}" for v in row[1:])])
        elif path.exists():
            path.unlink()

    def __call__(self, i: int, logs: dict, history) -> None:
        new = self.keys is None
        self.keys = self.keys or list(logs)
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", *self.keys])
            w.writerow([i, *(f"{logs[k]:.6g}" for k in self.keys)])


def _keep_rows(path: Path, last: int) -> None:
    """Drop the rows of a csv file whose iteration is above ``last`` (all of them, and the file, for 0)."""
    if not path.exists():
        return
    if last == 0:
        path.unlink()
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows[:1] + [r for r in rows[1:] if int(r[0]) <= last])


def read_log(path: str | os.PathLike) -> dict[str, list[float]]:
    """A run's log.csv (or scores.csv) as ``{"iteration": [...], "g_total": [...], ...}``."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    return {k: [float(r[j]) for r in body] for j, k in enumerate(header)}


def _save_samples(model: CycleGAN, data: RunData, path: Path) -> None:
    """One PNG: rows x, G(x), y, F(y) for the held-out images (N_SAMPLES per row)."""
    from torchvision.utils import save_image

    x, y = data.test_x[:N_SAMPLES], data.test_y[:N_SAMPLES]
    rows = [x, model.translate(x, to="y"), y, model.translate(y, to="x")]
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(rows), path, nrow=len(x), normalize=True, value_range=(-1, 1), padding=2)


def train_run(out: str | os.PathLike = "runs/cyclegan", *, data: str | os.PathLike | None = None,
              preset: str | None = None, device: str | torch.device = "auto", resume: bool = False, seed: int = 0,
              overrides: dict | None = None, checkpoint_every: int | None = None, sample_every: int | None = None,
              data_root: str | os.PathLike = "datasets", workers: int | None = None, steps: int | None = None,
              progress: bool = True, echo: Callable[[str], None] = print) -> CycleGANTrainer:
    """Train (or continue) the CycleGAN run in folder ``out``; returns the trainer.

    ``preset``: a :class:`CycleGANConfig` preset (None: ``"auto"`` for a new
    run, the checkpoint's own config when resuming), with ``overrides`` of
    its fields. ``checkpoint_every`` / ``sample_every``: iterations between
    checkpoints and sample grids (default: each epoch; a last checkpoint is
    always written at the end). ``steps`` stops early after that many
    iterations in all (the schedule is unchanged; resume to go on).
    ``workers``: DataLoader processes for folder data (None: up to 4 on a
    CUDA GPU, where decoding photos in the main process would hold it up; 0 elsewhere).
    """
    out, dev = Path(out), get_device(device)
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if dev.type == "cuda" else 0
    cfg, state = _resolve_config(out, preset, dict(overrides or {}), dev, resume)
    run_data = open_data(data, cfg, data_root=data_root, workers=workers, progress=progress, echo=echo)
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    model = make_cyclegan(cfg, device=dev, generator=g)
    trainer = CycleGANTrainer(model, run_data.make_batches(g, dev), generator=g)
    if state is not None:
        trainer.load_state_dict(state)
        echo(f"resuming {out} at iteration {trainer.iteration} of {trainer.total_steps}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({**asdict(cfg), "data": run_data.name, "seed": seed}, indent=1))
    checkpoint_every = checkpoint_every or trainer.epoch_steps
    sample_every = sample_every or trainer.epoch_steps
    log = _Log(out / "log.csv", state["history"] if state is not None else {})

    scores_path = out / "scores.csv"
    _keep_rows(scores_path, trainer.iteration)  # what a killed run scored after its last checkpoint goes

    def score_row(done: int) -> None:
        if run_data.truth is None:
            return
        scores = score_model(model, run_data.truth)
        row = {f"l1_{d}{part}": scores[k][f"l1{part}"] for d, k in (("a2b", "A→B"), ("b2a", "B→A"))
               for part in ("", "_shapes")}
        new = not scores_path.exists()
        with open(scores_path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", *row])
            w.writerow([done, *(f"{v:.4f}" for v in row.values())])

    def after_step(i: int, logs: dict, history) -> None:
        log(i, logs, history)
        done = i + 1
        if done % sample_every == 0 or done == trainer.total_steps:
            _save_samples(model, run_data, out / "samples" / f"iter_{done:06d}.png")
            score_row(done)
        if done % checkpoint_every == 0 or done == trainer.total_steps:
            save_checkpoint(trainer.state_dict(), out / CHECKPOINT)

    echo(f"training on {run_data.name}: {cfg.image_size}x{cfg.image_size}, ngf {cfg.ngf}, {cfg.n_blocks} blocks, "
         f"{trainer.total_steps} iterations ({cfg.total_epochs} epochs of {trainer.epoch_steps}), "
         f"{trainer.precision_G.name} on {dev.type}; writing to {out}")
    trainer.fit(callbacks=[after_step], progress=progress, steps=steps)
    save_checkpoint(trainer.state_dict(), out / CHECKPOINT)
    return trainer
