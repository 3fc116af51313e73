"""Measuring any piece of code: its time, its FLOPs, the machine's peak, where the time goes.

- **Time**: every timing in the book and the benchmarks goes through
  :func:`time_call`. A GPU runs its kernels asynchronously, so the clock is
  read only after :func:`synchronize` has waited for them; the first calls
  pay one-off costs (cuDNN choosing algorithms, memory allocation,
  compilation) and are not timed. Report the median of the repeats: it is
  robust to one slowed by something else.
- **FLOPs** (:func:`count_flops`), counted on the meta device, and the
  **peak** FLOP/s of a large matrix multiplication (:func:`measure_peak_flops`).
- **Where the time goes** (:func:`profile_ops`) and a ``torch.compile`` that
  respects a pinned instruction set (:func:`compile_module`).

:mod:`minigan.bench` applies these to the book's models.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from typing import Callable, Hashable, Mapping, TypeVar

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["synchronize", "time_call", "time_alternately", "count_flops", "measure_peak_flops", "compile_module",
           "profile_ops"]

K = TypeVar("K", bound=Hashable)


def synchronize(device: torch.device | str) -> None:
    """Wait until ``device`` has finished the work queued on it (nothing to wait for on a CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_call(fn: Callable[[], object], *, device: torch.device | str = "cpu", repeats: int = 5,
              warmup: int = 2) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` untimed ones (GPU synchronised)."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return times


def time_alternately(fns: Mapping[K, Callable[[], object]], *, device: torch.device | str = "cpu", repeats: int = 5,
                     warmup: int = 1) -> dict[K, list[float]]:
    """Wall-clock seconds of ``repeats`` calls of each function, taken in turns: a, b, c, a, b, c, ...

    Timing one function after another lets a busy spell of the machine (another
    job, a background task) slow only some of them, which can reverse a
    comparison. Taken in turns, a busy spell slows them alike, so their ratios
    hold; :func:`time_call` is the same for one function.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[K, list[float]] = {key: [] for key in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            synchronize(device)
            t0 = time.perf_counter()
            fn()
            synchronize(device)
            times[key].append(time.perf_counter() - t0)
    return times


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of the matrix multiplications and convolutions that ``fn()`` runs (a multiply-add counts 2)."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def measure_peak_flops(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32, *, n: int = 1024,
                       repeats: int = 5) -> float:
    """FLOP/s of an n x n matrix multiplication in ``dtype`` on ``device``: this machine's practical peak."""
    device = torch.device(device)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = statistics.median(time_call(lambda: a @ b, device=device, repeats=repeats, warmup=2))
    return 2 * n ** 3 / seconds


def compile_module(module: nn.Module, *, backend: str = "inductor") -> nn.Module:
    """``torch.compile(module)``, with inductor's CPU code for the instruction set ATen itself runs with.

    Inductor writes C++ for the vector instructions it detects on the CPU. When
    ``ATEN_CPU_CAPABILITY`` pins PyTorch's own kernels to an older instruction
    set (as a check of how a chapter runs on an older CPU does), that generated
    code must be pinned too: with ``default`` it does not build, and with
    ``avx2`` on an AVX-512 machine (torch 2.14) the compiled residual block
    returned NaNs. Scalar code (``simdlen = 1``) for ``default`` and 256-bit
    vectors for ``avx2`` match eager to float32 rounding. ``backend="eager"``
    traces the module without generating code (a quick check that it compiles
    at all, as ``tools/gpu_check.py --dry-run`` makes).
    """
    simdlen = {"default": 1, "avx2": 256}.get(os.environ.get("ATEN_CPU_CAPABILITY", "").lower())
    if simdlen is not None:
        import torch._inductor.config as inductor_config

        inductor_config.cpp.simdlen = simdlen
    return torch.compile(module, backend=backend)


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what native code writes to file descriptor 2 inside the block (Python's own stderr is untouched).

    Some PyTorch builds' profiler library prints trace markers ("profiler_start") there.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def profile_ops(fn: Callable[[], object], *, repeats: int = 3, device: torch.device | str = "cpu",
                top: int = 8) -> list[tuple[str, float]]:
    """The ``top`` operations by self time (CPU side) over ``repeats`` calls of ``fn()``, with their share of it.

    "Self" time excludes the operations an operation calls, so the shares add
    up to at most 1. One call runs first, unprofiled, as a warm-up.
    """
    from torch.profiler import ProfilerActivity, profile

    device = torch.device(device)
    fn()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with _quiet_native_stderr(), profile(activities=activities) as prof:
        for _ in range(repeats):
            fn()
        synchronize(device)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return [(e.key, e.self_cpu_time_total / total) for e in events[:top]]
