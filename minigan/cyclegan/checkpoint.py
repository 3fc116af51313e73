"""Checkpoints that never lose work: atomic writes, safe loading, everything a run needs to continue.

A checkpoint is :meth:`~minigan.cyclegan.trainer.CycleGANTrainer.state_dict`: the config, the iteration,
the four networks, both optimizers and schedules, the grad scalers, the two
history pools, the data's position and the random generators, and the loss
history. Resuming from it continues the run exactly: on a CPU the losses after
a resume are the ones an uninterrupted run logs (a test kills a training
process with SIGKILL and checks this).

- **Atomic**: the file is written to a temporary name in the same folder,
  flushed to disk, then renamed over the old one (``os.replace`` is atomic on
  POSIX and Windows). A run killed mid-write leaves the previous checkpoint
  intact, never half a file.
- **Safe to load**: ``torch.load(weights_only=True)`` only rebuilds tensors
  and plain containers, so a checkpoint from somewhere else cannot run code.
  That is why the state holds the config as a dict, not the dataclass.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from .config import CycleGANConfig
from .model import CycleGAN, make_cyclegan

__all__ = ["save_checkpoint", "load_checkpoint", "config_from_checkpoint", "model_from_checkpoint", "model_from_state",
           "saved_world"]


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; a missing or unreadable file raises a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated file, or not a checkpoint at all
        raise ValueError(f"{path} is not a readable minigan checkpoint ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(state, dict) or "config" not in state or "nets" not in state:
        raise ValueError(f"{path} is not a minigan CycleGAN checkpoint (no config or networks in it)")
    return state


def config_from_checkpoint(state: dict) -> CycleGANConfig:
    """The :class:`CycleGANConfig` a checkpoint was trained with (its betas, stored as a list, become a tuple again)."""
    return CycleGANConfig(**state["config"])


def saved_world(state: dict) -> int:
    """How many processes trained the checkpoint ``state`` (1 for checkpoints older than data parallelism)."""
    return int(state.get("world_size", 1))


def model_from_checkpoint(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> CycleGAN:
    """The four trained networks of a checkpoint, built from its own config, on ``device``."""
    return model_from_state(load_checkpoint(path, map_location=device), device=device)


def model_from_state(state: dict, *, device: str | torch.device = "cpu") -> CycleGAN:
    """The trained networks of a checkpoint already read (:func:`load_checkpoint`), on ``device``."""
    cfg = config_from_checkpoint(state)
    model = make_cyclegan(cfg, device=device)
    for name, net in model.nets().items():
        net.load_state_dict(state["nets"][name])
    return model
