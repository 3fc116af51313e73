"""A run's folder as it trains: the loss log, sample grids, scores against a known answer, and checkpoints.

:class:`RunFolder` is the callback :func:`~minigan.cyclegan.run.train_run`
hands to :meth:`CycleGANTrainer.fit`; the folder's layout is described in
:mod:`minigan.cyclegan.run`.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from .checkpoint import save_checkpoint
from .data import N_SAMPLES, RunData
from .evaluate import PARTS, bar_ratio, score_model
from .trainer import CycleGANTrainer

__all__ = ["RunFolder", "read_log", "check_fresh_folder", "CHECKPOINT"]

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


def check_fresh_folder(out: Path) -> None:
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
