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

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable

import torch

from ..utils import on_gpu, seed_everything
from .checkpoint import config_from_checkpoint, load_checkpoint, saved_world
from .config import CycleGANConfig
from .data import load_size_for, open_data
from .distributed import Dist, cleanup, init_from_env
from .runfolder import CHECKPOINT, RunFolder, check_fresh_folder, read_log
from .trainer import CycleGANTrainer

__all__ = ["RunFolder", "train_run", "read_log", "load_size_for"]


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
        check_fresh_folder(out)
    if state is None or preset:
        cfg = CycleGANConfig.from_preset(preset or "auto", device=d.device, **overrides)
    else:
        cfg = replace(config_from_checkpoint(state), **overrides)
    if workers is None:  # shared among the processes on this machine
        per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        workers = max(1, min(4, (os.cpu_count() or 1) // per_machine)) if on_gpu(d.device) else 0
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
