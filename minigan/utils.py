"""Seeding, device choice and small helpers every chapter uses."""
from __future__ import annotations

import os
import random

import numpy as np
import torch
from torch import nn

__all__ = ["seed_everything", "get_device", "is_accelerator", "on_gpu", "smoke_mode", "count_parameters", "SMOKE_ENV",
           "progress_bar", "PROGRESS_REFRESH_S"]

# Smoke mode: the test that runs every chapter's GPU configuration on a CPU (tests/test_gpu_smoke.py) sets this.
# Readers never need it. With it set, "auto" presets pick "gpu", configs cap their loops at a few steps
# (each config's SMOKE), on_gpu() is True, and amp="auto" takes a GPU's precision path (see cyclegan/precision.py).
SMOKE_ENV = "MINIGAN_SMOKE"

# Seconds between two redraws of a progress bar (tqdm's default is 0.1). In Jupyter a redraw of the widget
# bar is about two messages on the kernel's output channel, and nbval reads that channel only after a cell
# has finished: what the kernel's and nbval's queues cannot hold (about 1,200 messages, measured) is dropped,
# the cell's last outputs with it, and nbval fails with "Timeout of 5 seconds exceeded waiting for output".
# At tqdm's default that happens to any cell that trains for more than about a minute; at one redraw a
# second a cell stays under 600 messages within nbval's 300 s cell limit. tests/test_progress.py measures it.
PROGRESS_REFRESH_S = 1.0


def progress_bar(iterable=None, **kwargs):
    """A ``tqdm.auto`` bar (a widget in Jupyter, text in a terminal) redrawn at most once a second.

    Takes tqdm's arguments; see ``PROGRESS_REFRESH_S`` for why the package's bars redraw less often than
    tqdm's default.
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("mininterval", PROGRESS_REFRESH_S)
    return tqdm(iterable, **kwargs)


def seed_everything(seed: int = 0, *, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and every GPU); return a ``torch.Generator`` seeded too.

    The same seed then gives the same run on the same machine: torch's CPU
    kernels are deterministic. ``deterministic=True`` also asks for
    deterministic GPU kernels (slower; cuDNN autotuning off). Across different
    CPUs, floating-point results can still differ in the last digits, which is
    why chapters print rounded figures.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matmuls (CUDA >= 10.2).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def get_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``"auto"`` to the best available device: CUDA, then Apple MPS, then CPU.

    Any other value (``"cpu"``, ``"cuda:1"``, a ``torch.device``) is returned
    as a ``torch.device``; asking for a device that is not there raises a
    ``RuntimeError`` that says which devices are. Under ``torchrun``, where
    each process drives one GPU, ``"auto"`` picks ``cuda:LOCAL_RANK``.
    """
    if isinstance(device, torch.device):
        return device
    if device != "auto":
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device={device!r} asked for, but CUDA is not available here; "
                               f"use device='auto' or 'cpu'.")
        if dev.type == "mps" and not _mps_available():
            raise RuntimeError(f"device={device!r} asked for, but Apple MPS is not available here; "
                               f"use device='auto' or 'cpu'.")
        return dev
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "-1"))  # set by torchrun: this process's GPU on its machine
        return torch.device("cuda", local) if 0 <= local < torch.cuda.device_count() else torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def is_accelerator(device: str | torch.device) -> bool:
    """True for a GPU-like device (CUDA or MPS), where chapters pick their bigger preset."""
    return get_device(device).type in ("cuda", "mps")


def smoke_mode() -> str | None:
    """``$MINIGAN_SMOKE`` when smoke mode is on (``"1"``, or ``"fp16"`` for a T4's precision), else None."""
    value = os.environ.get(SMOKE_ENV, "").strip()
    return value if value not in ("", "0") else None


def on_gpu(device: str | torch.device) -> bool:
    """Whether a chapter takes its CUDA path (real photos, data-loading workers) on ``device``.

    True on a CUDA GPU; also True in smoke mode, where the test runs those
    paths on a CPU (with a few steps and locally served data) to catch their
    errors before a reader does.
    """
    return get_device(device).type == "cuda" or smoke_mode() is not None


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``model`` (optionally only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
