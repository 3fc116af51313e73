"""A CycleGAN training run in a folder: checkpoints, a loss log, sample grids, and resuming where it stopped.

This is what ``minigan cyclegan train`` runs, and what chapter 9 calls. A run
folder holds::

    out/checkpoint.pt      everything needed to continue (see checkpoint.py), rewritten atomically
    out/config.json        the config, for people
    out/log.csv            one row per iteration: the losses and the learning rate
    out/samples/iter_000800.png   held-out inputs and their translations, both ways
    out/scores.csv         on the built-in scenes only: the benchmark's score against the known answer, at each sample

Data comes from one of three places: the built-in scenes benchmark (no
argument: runs anywhere, offline, with a known answer), a folder in the
reference layout (``trainA``, ``trainB``, ``testA``, ``testB``), or the name
of an official data set, downloaded on first use.

Resuming: ``resume=True`` continues from ``out/checkpoint.pt`` if there is one
(and starts afresh if not), so the same command can be repeated after every
disconnect. Without ``resume``, a folder that already holds a run is refused
rather than overwritten.

Under ``torchrun`` (several processes, see :mod:`minigan.cyclegan.distributed`)
each rank trains on its shard of every batch and only rank 0 writes the folder,
prints, and shows the progress bar. A checkpoint resumes exactly with the same
number of processes; with another number (a 4-GPU run continued on one GPU,
say) everything but the data's position carries over, and the data starts a
fresh epoch.
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
from ..train import shard_of
from ..utils import seed_everything
from .checkpoint import config_from_checkpoint, load_checkpoint, save_checkpoint
from .config import CycleGANConfig
from .distributed import Dist, cleanup, init_from_env
from .evaluate import PARTS, bar_ratio, score_model
from .trainer import CycleGAN, CycleGANTrainer, TensorPairs, check_same_networks, make_cyclegan, saved_world

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
    ``shard = (rank, world)``: this rank's share of each epoch's order
    (:func:`minigan.train.shard_of`), for data-parallel training.
    """

    def __init__(self, dataset: Dataset, *, batch_size: int, generator: torch.Generator,
                 device: torch.device | str = "cpu", workers: int = 0, shard: tuple[int, int] | None = None):
        self.dataset, self.batch_size, self.generator = dataset, batch_size, generator
        self.device, self.workers, self.shard = torch.device(device), workers, shard
        self.epoch_steps = math.ceil(len(dataset) / (batch_size * (shard[1] if shard else 1)))
        self.epoch, self.perm, self.pos = -1, None, 0  # pos: items of this rank's share of perm served
        self._batches = None  # the DataLoader iterator over the rest of this epoch

    def __next__(self) -> tuple[Tensor, Tensor]:
        if self.perm is None or self.pos >= len(shard_of(self.perm, self.shard)):
            self.epoch, self.perm, self.pos = self.epoch + 1, torch.randperm(len(self.dataset), generator=self.generator), 0
            self._batches = None
        if self._batches is None:
            self.dataset.set_epoch(self.epoch)
            order = shard_of(self.perm, self.shard)[self.pos:].tolist()
            loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=order,
                                num_workers=self.workers, pin_memory=self.device.type == "cuda")
            self._batches = iter(loader)
        real_x, real_y = next(self._batches)
        self.pos += len(real_x)
        return real_x.to(self.device, non_blocking=True), real_y.to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict, *, fresh_epoch: bool = False) -> None:
        """Continue where ``state`` stopped; with ``fresh_epoch``, start the epoch after its one at the next batch."""
        self.epoch, self.perm, self.pos = int(state["epoch"]), state["perm"], int(state["pos"])
        if fresh_epoch:
            self.perm, self.pos = None, 0
        self._batches = None


class RunData:
    """Where a run's images come from: a name for the log, the training batches, held-out images to show."""

    def __init__(self, name: str, make_batches: Callable[..., object],
                 test_x: Tensor, test_y: Tensor, truth: Pairs | None = None):
        self.name, self.make_batches = name, make_batches  # make_batches(generator, device, shard=None)
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
                       lambda g, dev, shard=None: TensorPairs(train.A, train.B, batch_size=cfg.batch_size, generator=g,
                                                              device=dev, shard=shard),
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
    return RunData(str(root), lambda g, dev, shard=None: FolderPairs(dataset, batch_size=cfg.batch_size, generator=g,
                                                                      device=dev, workers=workers, shard=shard),
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

    Under ``torchrun`` every process calls this alike: it joins the process
    group (:func:`~minigan.cyclegan.distributed.init_from_env`; and leaves it
    at the end if it was the one to start it), trains on its rank's shard,
    and only rank 0 writes files, echoes and shows progress. ``batch_size``
    is per process: the global batch is ``batch_size`` x the number of processes.
    """
    started_here = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    d = init_from_env(device)
    try:
        return _train_run(Path(out), d, data=data, preset=preset, resume=resume, seed=seed,
                          overrides=dict(overrides or {}), checkpoint_every=checkpoint_every,
                          sample_every=sample_every, data_root=data_root, workers=workers, steps=steps,
                          progress=progress and d.is_main, echo=echo if d.is_main else _silent)
    finally:
        if started_here:
            cleanup()


def _silent(text: str) -> None:
    """The echo of ranks other than 0."""


def _train_run(out: Path, d: Dist, *, data, preset, resume, seed, overrides, checkpoint_every, sample_every,
               data_root, workers, steps, progress, echo) -> CycleGANTrainer:
    dev = d.device
    if workers is None:  # shared among the processes on this machine
        per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        workers = max(1, min(4, (os.cpu_count() or 1) // per_machine)) if dev.type == "cuda" else 0
    cfg, state = _resolve_config(out, preset, overrides, dev, resume)
    # A named data set is downloaded by one process at a time: rank 0 first, then the first process on each other
    # machine (which finds it there already if the machines share the folder), then all the others.
    turn = 0 if d.is_main else 1 if d.local_rank == 0 else 2
    for t in range(3 if d.parallel else 1):
        if t == turn:
            run_data = open_data(data, cfg, data_root=data_root, workers=workers, progress=progress, echo=echo)
        d.barrier()
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)  # alike on every rank: the same weights, epochs in the same order
    model = make_cyclegan(cfg, device=dev, generator=g)
    shard = {"shard": (d.rank, d.world_size)} if d.parallel else {}  # this rank's share of every epoch
    trainer = CycleGANTrainer(model, run_data.make_batches(g, dev, **shard), generator=g, dist=d)
    if state is not None:
        trainer.load_state_dict(state)
        echo(f"resuming {out} at iteration {trainer.iteration} of {trainer.total_steps}")
        if saved_world(state) != d.world_size:
            echo(f"the checkpoint is from {saved_world(state)} process(es), this run has {d.world_size}: "
                 f"the data starts a fresh epoch")
    d.barrier()  # every rank has read the checkpoint before rank 0 rewrites the folder
    checkpoint_every = checkpoint_every or trainer.epoch_steps
    sample_every = sample_every or trainer.epoch_steps
    scores_path = out / "scores.csv"
    if d.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps({**asdict(cfg), "data": run_data.name, "seed": seed}, indent=1))
        log = _Log(out / "log.csv", state["history"] if state is not None else {})
        _keep_rows(scores_path, trainer.iteration)  # what a killed run scored after its last checkpoint goes

    def score_row(done: int) -> None:
        if run_data.truth is None:
            return
        scores = score_model(model, run_data.truth)
        row = {f"{part}_{way}": scores[k][part] for way, k in (("a2b", "A→B"), ("b2a", "B→A"))
               for part in (*PARTS, "l1")}
        row["bar_ratio"] = bar_ratio(scores)  # the worst part as a fraction of its bar: <= 1 passes
        new = not scores_path.exists()
        with open(scores_path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", *row])
            w.writerow([done, *(f"{v:.4f}" for v in row.values())])

    def checkpoint() -> None:
        state = trainer.state_dict()  # on every rank: it gathers the ranks' pools
        if d.is_main:
            save_checkpoint(state, out / CHECKPOINT)

    def after_step(i: int, logs: dict, history) -> None:
        done = i + 1
        if d.is_main:  # the others go on to the next iteration and wait for rank 0 at its first all-reduce
            log(i, logs, history)
            if done % sample_every == 0 or done == trainer.total_steps:
                _save_samples(model, run_data, out / "samples" / f"iter_{done:06d}.png")
                score_row(done)
        if done % checkpoint_every == 0 or done == trainer.total_steps:
            checkpoint()

    batch = f"batch {cfg.batch_size}" + (f" x {d.world_size} processes = {cfg.batch_size * d.world_size}"
                                         if d.parallel else "")
    blocks = f"{cfg.n_blocks} block" + "s" * (cfg.n_blocks != 1)
    echo(f"training on {run_data.name}: {cfg.image_size}x{cfg.image_size}, ngf {cfg.ngf}, {blocks}, "
         f"{batch}, {trainer.total_steps} iterations ({cfg.total_epochs} epochs of {trainer.epoch_steps}), "
         f"{trainer.precision_G.name} on {dev.type}; writing to {out}")
    trainer.fit(callbacks=[after_step], progress=progress, steps=steps)
    checkpoint()
    return trainer
