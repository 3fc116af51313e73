"""A CycleGAN training run in a folder: checkpoints, a loss log, sample grids, and resuming where it stopped.

This is what ``minigan cyclegan train`` runs, and what chapter 9 calls. A run
folder holds::

    out/checkpoint.pt      everything needed to continue (see checkpoint.py), rewritten atomically
    out/checkpoints/epoch_010.pt   with keep_every: the same, kept every few epochs (quality is not monotonic)
    out/config.json        the config, for people
    out/log.csv            one row per iteration: the losses and the learning rate
    out/samples/iter_000800.png   held-out inputs and their translations, both ways
    out/scores.csv         on the built-in scenes only: the benchmark's score against the known answer, at each sample
    out/tensorboard/       with tensorboard=True: the log's values as TensorBoard scalars

Data comes from one of three places (:func:`~minigan.cyclegan.data.open_data`):
the built-in scenes benchmark (no argument: runs anywhere, offline, with a
known answer), a folder in the reference layout (``trainA``, ``trainB``,
``testA``, ``testB``), or the name of an official data set, downloaded on first use.

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
import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import torch

from ..utils import seed_everything
from .checkpoint import config_from_checkpoint, load_checkpoint, save_checkpoint, saved_world
from .config import CycleGANConfig
from .data import N_SAMPLES, RunData, load_size_for, open_data
from .distributed import Dist, cleanup, init_from_env
from .evaluate import PARTS, bar_ratio, score_model
from .trainer import CycleGANTrainer

__all__ = ["RunFolder", "train_run", "read_log", "load_size_for"]

CHECKPOINT = "checkpoint.pt"


class RunFolder:
    """What a run writes into ``out``, as a callback for :meth:`CycleGANTrainer.fit`.

    After every iteration: a row of log.csv (and TensorBoard scalars with
    ``tensorboard=True``, where the ``tensorboard`` package is installed).
    Every ``sample_every`` iterations and at the end: a sample grid and, where
    the answer is known, a row of scores.csv. Every ``checkpoint_every``
    iterations and at the end: the checkpoint (default for both: once an
    epoch); every ``keep_every`` epochs, a copy in ``checkpoints/`` that later
    ones do not replace. In a data-parallel run every rank calls it (the
    checkpoint gathers the ranks' pools) and only rank 0 writes.
    """

    def __init__(self, out: str | os.PathLike, trainer: CycleGANTrainer, data: RunData, *, seed: int,
                 checkpoint_every: int | None = None, sample_every: int | None = None, keep_every: int | None = None,
                 tensorboard: bool = False):
        for name, every in (("checkpoint_every", checkpoint_every), ("sample_every", sample_every),
                            ("keep_every", keep_every)):
            if every is not None and every < 1:
                raise ValueError(f"{name} must be at least 1, got {every}")
        self.out, self.trainer, self.data = Path(out), trainer, data
        self.checkpoint_every = checkpoint_every or trainer.epoch_steps
        self.sample_every = sample_every or trainer.epoch_steps
        self.keep_every = keep_every and keep_every * trainer.epoch_steps  # in iterations
        self.main = trainer.dist.is_main
        self.scores = self.out / "scores.csv"
        self.board = _summary_writer(self.out / "tensorboard") if tensorboard and self.main else None
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            info = {**asdict(trainer.cfg), "data": data.name, "seed": seed}
            (self.out / "config.json").write_text(json.dumps(info, indent=1))
            self._start_log(trainer.history)
            _keep_rows(self.scores, trainer.iteration)  # what a killed run scored after its last checkpoint goes

    def __call__(self, i: int, logs: dict, history) -> None:
        done, total = i + 1, self.trainer.total_steps
        if self.main:  # the others go on to the next iteration and wait for rank 0 at its first all-reduce
            self._log_row(i, logs)
            if self.board is not None:
                for k, v in logs.items():
                    self.board.add_scalar(k, v, done)
            if done % self.sample_every == 0 or done == total:
                self.save_samples(self.out / "samples" / f"iter_{done:06d}.png")
                self._score_row(done)
        latest = done % self.checkpoint_every == 0 or done == total
        kept = bool(self.keep_every) and done % self.keep_every == 0
        if latest or kept:
            self.save_checkpoint(kept=kept, latest=latest)

    def save_checkpoint(self, *, kept: bool = False, latest: bool = True) -> None:
        """checkpoint.pt (``latest``) and/or ``checkpoints/epoch_NNN.pt`` (``kept``), from one state."""
        state = self.trainer.state_dict()  # on every rank: it gathers the ranks' pools
        if self.main:
            if latest:
                save_checkpoint(state, self.out / CHECKPOINT)
            if kept:
                save_checkpoint(state, self.out / "checkpoints" / f"epoch_{self.trainer.epoch:03d}.pt")
            if self.board is not None:
                self.board.flush()

    def save_samples(self, path: Path) -> None:
        """One PNG: rows x, G(x), y, F(y) for the held-out images (N_SAMPLES per row)."""
        from torchvision.utils import save_image

        model = self.trainer.model
        x, y = self.data.test_x[:N_SAMPLES], self.data.test_y[:N_SAMPLES]
        rows = [x, model.translate(x, to="y"), y, model.translate(y, to="x")]
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(torch.cat(rows), path, nrow=len(x), normalize=True, value_range=(-1, 1), padding=2)

    def _start_log(self, history) -> None:
        """log.csv: on resume, rewritten from the checkpoint's history (rows written after it are dropped)."""
        self.log, self.keys = self.out / "log.csv", None
        if history.steps:
            self.keys = list(history)
            with open(self.log, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["iteration", *self.keys])
                for row in zip(history.steps, *(history[k] for k in self.keys)):
                    w.writerow([row[0], *(f"{v:.6g}" for v in row[1:])])
        elif self.log.exists():
            self.log.unlink()

    def _log_row(self, i: int, logs: dict) -> None:
        new = self.keys is None
        self.keys = self.keys or list(logs)
        with open(self.log, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", *self.keys])
            w.writerow([i, *(f"{logs[k]:.6g}" for k in self.keys)])

    def _score_row(self, done: int) -> None:
        if self.data.truth is None:
            return
        scores = score_model(self.trainer.model, self.data.truth)
        row = {f"{part}_{way}": scores[k][part] for way, k in (("a2b", "A→B"), ("b2a", "B→A"))
               for part in (*PARTS, "l1")}
        row["bar_ratio"] = bar_ratio(scores)  # the worst part as a fraction of its bar: <= 1 passes
        new = not self.scores.exists()
        with open(self.scores, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iteration", *row])
            w.writerow([done, *(f"{v:.4f}" for v in row.values())])


RUN_FILES = {CHECKPOINT, "config.json", "log.csv", "scores.csv", "samples", "checkpoints", "tensorboard"}


def _check_fresh_folder(out: Path) -> None:
    """A new run writes into an empty folder or one holding only a run's own files (of a run killed before its
    first checkpoint); anything else in it is someone's work, never to be overwritten."""
    if not out.exists():
        return
    if not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a folder for a run")
    other = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES
                   and not p.name.startswith((f".{CHECKPOINT}.", "test_iter_")))
    config = out / "config.json"
    if config.is_file():
        try:
            ours = {"ngf", "n_blocks", "seed", "data"} <= set(json.loads(config.read_text()))
        except (ValueError, UnicodeDecodeError):
            ours = False
        other += [] if ours else ["config.json (not a run's)"]
    if other:
        raise FileExistsError(f"{out} holds files that are not a run's ({', '.join(other[:5])}"
                              f"{', ...' if len(other) > 5 else ''}); nothing is overwritten: choose another output "
                              f"folder")


def _summary_writer(folder: Path):
    """TensorBoard's ``SummaryWriter`` for ``folder``; a one-line error where the package is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError("TensorBoard logging needs the tensorboard package: pip install tensorboard "
                         "(Colab has it)") from None
    return SummaryWriter(str(folder))


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


def train_run(out: str | os.PathLike = "runs/cyclegan", *, data: str | os.PathLike | None = None,
              preset: str | None = None, device: str | torch.device = "auto", resume: bool = False, seed: int = 0,
              overrides: dict | None = None, checkpoint_every: int | None = None, sample_every: int | None = None,
              data_root: str | os.PathLike = "datasets", workers: int | None = None, steps: int | None = None,
              keep_every: int | None = None, tensorboard: bool = False, progress: bool = True,
              echo: Callable[[str], None] = print) -> CycleGANTrainer:
    """Train (or continue) the CycleGAN run in folder ``out``; returns the trainer.

    ``preset``: a :class:`CycleGANConfig` preset (None: ``"auto"`` for a new
    run, the checkpoint's own config when resuming), with ``overrides`` of
    its fields. ``checkpoint_every`` / ``sample_every``: iterations between
    checkpoints and sample grids (default: each epoch; a last checkpoint is
    always written at the end). ``keep_every``: also keep a checkpoint every
    that many epochs in ``checkpoints/`` (CycleGAN quality is not monotonic
    in training time; pick one with ``minigan cyclegan test``).
    ``tensorboard``: also log to ``out/tensorboard``. ``steps`` stops early at that iteration (at
    least 1, at most the schedule's length; the schedule is unchanged: resume
    to go on). ``workers``: DataLoader processes for folder data (None: up to
    4 on a CUDA GPU, where decoding photos in the main process would hold it
    up; 0 elsewhere).

    Under ``torchrun`` every process calls this alike: it joins the process
    group (:func:`~minigan.cyclegan.distributed.init_from_env`; and leaves it
    at the end if it was the one to start it), trains on its rank's shard,
    and only rank 0 writes files, echoes and shows progress. ``batch_size``
    is per process: the global batch is ``batch_size`` x the number of processes.
    """
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be at least 1 (the iteration to stop at), got {steps}")
    started_here = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    d = init_from_env(device)
    try:
        return _train_run(Path(out), d, data=data, preset=preset, resume=resume, seed=seed,
                          overrides=dict(overrides or {}), checkpoint_every=checkpoint_every,
                          sample_every=sample_every, data_root=data_root, workers=workers, steps=steps,
                          keep_every=keep_every, tensorboard=tensorboard, progress=progress and d.is_main,
                          echo=echo if d.is_main else _silent)
    finally:
        if started_here:
            cleanup()


def _silent(text: str) -> None:
    """The echo of ranks other than 0."""


def _train_run(out: Path, d: Dist, *, data, preset, resume, seed, overrides, checkpoint_every, sample_every,
               data_root, workers, steps, keep_every, tensorboard, progress, echo) -> CycleGANTrainer:
    ckpt = out / CHECKPOINT
    if ckpt.exists() and not resume:
        raise FileExistsError(f"{out} already holds a run ({CHECKPOINT}); pass --resume to continue it "
                              f"or choose another output folder")
    state = load_checkpoint(ckpt) if resume and ckpt.exists() else None
    if state is None:
        _check_fresh_folder(out)
    if state is None or preset:
        cfg = CycleGANConfig.from_preset(preset or "auto", device=d.device, **overrides)
    else:
        cfg = replace(config_from_checkpoint(state), **overrides)
    if workers is None:  # shared among the processes on this machine
        per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        workers = max(1, min(4, (os.cpu_count() or 1) // per_machine)) if d.device.type == "cuda" else 0
    # A named data set is downloaded by one process at a time: rank 0 first, then the first process on each other
    # machine (which finds it there already if the machines share the folder), then all the others.
    turn = 0 if d.is_main else 1 if d.local_rank == 0 else 2
    for t in range(3 if d.parallel else 1):
        if t == turn:
            run_data = open_data(data, cfg, data_root=data_root, workers=workers, progress=progress, echo=echo)
        d.barrier()
    seed_everything(seed)
    trainer = CycleGANTrainer(cfg, run_data.source, seed=seed, dist=d)  # alike on every rank: same weights and order
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except ValueError as e:
            raise ValueError(f"cannot resume {ckpt}: {e}") from None
        echo(f"resuming {out} at iteration {trainer.iteration} of {trainer.total_steps}")
        if saved_world(state) != d.world_size:
            echo(f"the checkpoint is from {saved_world(state)} process(es), this run has {d.world_size}: "
                 f"the data starts a fresh epoch")
    trainer.check_steps(steps)  # before anything is written
    d.barrier()  # every rank has read the checkpoint before rank 0 rewrites the folder
    folder = RunFolder(out, trainer, run_data, seed=seed, checkpoint_every=checkpoint_every, sample_every=sample_every,
                       keep_every=keep_every, tensorboard=tensorboard)
    batch = f"batch {cfg.batch_size}" + (f" x {d.world_size} processes = {cfg.batch_size * d.world_size}"
                                         if d.parallel else "")
    blocks = f"{cfg.n_blocks} block" + "s" * (cfg.n_blocks != 1)
    echo(f"training on {run_data.name}: {cfg.image_size}x{cfg.image_size}, ngf {cfg.ngf}, {blocks}, "
         f"{batch}, {trainer.total_steps} iterations ({cfg.total_epochs} epochs of {trainer.epoch_steps}), "
         f"{trainer.precision_G.name} on {d.device.type}; writing to {out}")
    trainer.fit(callbacks=[folder], progress=progress, steps=steps)
    folder.save_checkpoint()
    return trainer
