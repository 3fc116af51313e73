"""Measuring the book's models: time, throughput, memory, FLOPs, and how close to the machine's peak they run.

``minigan bench cyclegan --preset cpu`` (or :func:`benchmark`) measures one
model under one setting and returns plain numbers (JSON with ``--json``):

- **seconds per training iteration** and **per inference batch**, the median
  of several timed repeats after warm-up (a GPU is synchronised before each
  clock reading, since its kernels run asynchronously), and the **images per
  second** they imply;
- **FLOPs** per training iteration and per inference batch, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` on the *meta* device: the
  shapes flow through the real code, no arithmetic is done, so even the
  256x256 generator is counted in a fraction of a second. Only matrix
  multiplications and convolutions are counted (the rest is memory traffic,
  not arithmetic), each multiply-add as 2 FLOPs;
- **achieved FLOP/s** (FLOPs / seconds) next to the **peak** this machine
  reaches on a large matrix multiplication in the same dtype, measured in the
  same run. Their ratio is a roofline-style "fraction of peak": far below 1
  means the time goes to memory traffic, small kernels or Python, not to the
  arithmetic;
- **peak memory**: on CUDA the allocator's high-water mark during the
  measurement; on a CPU the process's peak resident set size (which also
  counts everything loaded before, so compare runs in fresh processes).

Numbers differ from machine to machine; compare settings as ratios measured
in one run, as chapter 10 does.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from .utils import get_device

__all__ = ["count_flops", "measure_peak_flops", "time_call", "profile_ops", "compile_module", "Workload", "cyclegan_workload", "dcgan_workload",
           "gpt_workload", "WORKLOADS", "benchmark"]


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of the matrix multiplications and convolutions that ``fn()`` runs (a multiply-add counts 2)."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_call(fn: Callable[[], object], *, device: torch.device | str = "cpu", repeats: int = 5,
              warmup: int = 2) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` untimed ones (GPU synchronised)."""
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return times


def measure_peak_flops(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32, *, n: int = 1024,
                       repeats: int = 5) -> float:
    """FLOP/s of an n x n matrix multiplication in ``dtype`` on ``device``: this machine's practical peak."""
    device = torch.device(device)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = statistics.median(time_call(lambda: a @ b, device=device, repeats=repeats, warmup=2))
    return 2 * n ** 3 / seconds


def _peak_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    if device.type == "mps":
        return int(torch.mps.driver_allocated_memory())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return int(rss if sys.platform == "darwin" else rss * 1024)


def compile_module(module: nn.Module) -> nn.Module:
    """``torch.compile(module)``, with inductor's CPU code for the instruction set ATen itself runs with.

    Inductor writes C++ for the vector instructions it detects on the CPU. When
    ``ATEN_CPU_CAPABILITY`` pins PyTorch's own kernels to an older instruction
    set (as a check of how a chapter runs on an older CPU does), that generated
    code must be pinned too: with ``default`` it does not build, and with
    ``avx2`` on an AVX-512 machine (torch 2.14) the compiled residual block
    returned NaNs. Scalar code (``simdlen = 1``) for ``default`` and 256-bit
    vectors for ``avx2`` match eager to float32 rounding.
    """
    simdlen = {"default": 1, "avx2": 256}.get(os.environ.get("ATEN_CPU_CAPABILITY", "").lower())
    if simdlen is not None:
        import torch._inductor.config as inductor_config

        inductor_config.cpp.simdlen = simdlen
    return torch.compile(module)


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
        _sync(device)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    return [(e.key, e.self_cpu_time_total / total) for e in events[:top]]


@dataclass
class Workload:
    """One model in one setting: a training iteration, an inference batch, and how to count both on meta."""

    name: str
    train_step: Callable[[], object]
    infer: Callable[[], object]
    images_per_step: int  # samples one training iteration consumes (per direction for CycleGAN)
    images_per_infer: int
    meta_train: Callable[[], object]  # the same iteration on meta tensors, for FLOP counting
    meta_infer: Callable[[], object]
    settings: dict


def _config(config_cls, preset: str, device: torch.device, batch: int | None, overrides: dict):
    """``config_cls.from_preset(preset)`` with ``overrides`` and, if given, the batch size."""
    if batch is not None:
        overrides["batch_size"] = batch
    return config_cls.from_preset(preset, device=device, **overrides)


def cyclegan_workload(preset: str = "cpu", *, device: torch.device | str = "cpu", batch: int | None = None,
                      channels_last: bool | None = None, amp: str | None = None, compile: bool = False,
                      **overrides) -> Workload:
    """A CycleGAN iteration (both generator and discriminator steps) and a G inference batch for ``preset``."""
    from .cyclegan import CycleGANConfig, CycleGANTrainer, TensorPairs, make_cyclegan

    device = torch.device(device)
    if channels_last is not None:
        overrides["channels_last"] = channels_last
    if amp is not None:
        overrides["amp"] = amp
    cfg = _config(CycleGANConfig, preset, device, batch, overrides)

    def build(dev: torch.device) -> CycleGANTrainer:
        g = torch.Generator().manual_seed(0)
        model = make_cyclegan(cfg, device=dev, generator=g)
        shape = (max(cfg.batch_size, 2), cfg.channels, cfg.image_size, cfg.image_size)
        if dev.type == "meta":
            x = y = torch.empty(shape, device=dev)
        else:
            x, y = torch.rand(shape, generator=g) * 2 - 1, torch.rand(shape, generator=g) * 2 - 1
        data = TensorPairs(x, y, batch_size=cfg.batch_size, generator=g, device=dev)
        return CycleGANTrainer(model, data, generator=g)

    trainer = build(device)
    if compile:
        for name in ("G", "F", "D_X", "D_Y"):  # the steps call the networks through these attributes
            setattr(trainer.model, name, compile_module(getattr(trainer.model, name)))
    x_inf = torch.rand(cfg.batch_size, cfg.channels, cfg.image_size, cfg.image_size, device=device) * 2 - 1
    if cfg.channels_last and device.type != "mps":
        x_inf = x_inf.contiguous(memory_format=torch.channels_last)
    meta = build(torch.device("meta"))
    x_meta = torch.empty(cfg.batch_size, cfg.channels, cfg.image_size, cfg.image_size, device="meta")

    @torch.no_grad()
    def infer():
        return trainer.model.G(x_inf)

    return Workload("cyclegan", trainer.step, infer, cfg.batch_size, cfg.batch_size, meta.step,
                    lambda: meta.model.G(x_meta),
                    {"preset": preset, **{k: v for k, v in asdict(cfg).items() if k != "betas"}, "compile": compile})


def dcgan_workload(preset: str = "cpu", *, device: torch.device | str = "cpu", batch: int | None = None,
                   **overrides) -> Workload:
    """A DCGAN iteration (one D and one G update, non-saturating loss) and a G inference batch."""
    from .gan.dcgan import DCGANConfig, make_dcgan
    from .gan.steps import d_step, g_step

    device = torch.device(device)
    cfg = _config(DCGANConfig, preset, device, batch, overrides)

    def build(dev: torch.device):
        m = make_dcgan(cfg, device=dev, generator=torch.Generator().manual_seed(0))
        opt_G = torch.optim.Adam(m.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        opt_D = torch.optim.Adam(m.D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
        real = torch.rand(cfg.batch_size, 1, 8, 8, device=dev) * 2 - 1
        z = torch.randn(cfg.batch_size, cfg.z_dim, device=dev)
        return m, opt_G, opt_D, real, z

    m, opt_G, opt_D, real, z = build(device)

    def train_step():
        with torch.no_grad():
            fake = m.G(z)
        d_step(m.D, opt_D, real, fake, cfg.loss)
        g_step(m.G, m.D, opt_G, z, cfg.loss)

    mm, _, _, real_m, z_m = build(torch.device("meta"))

    def meta_train():  # the same arithmetic without .item(): D's and G's losses, forward and backward
        from .gan.losses import get_loss
        loss = get_loss(cfg.loss)
        fake = mm.G(z_m)
        loss.d(mm.D(real_m), mm.D(fake.detach())).backward()
        loss.g(mm.D(fake)).backward()

    @torch.no_grad()
    def infer():
        return m.G(z)

    return Workload("dcgan", train_step, infer, cfg.batch_size, cfg.batch_size, meta_train, lambda: mm.G(z_m),
                    {"preset": preset, **{k: v for k, v in asdict(cfg).items() if k != "betas"}})


def gpt_workload(preset: str = "cpu", *, device: torch.device | str = "cpu", batch: int | None = None,
                 **overrides) -> Workload:
    """A tiny-GPT training step (next-character cross-entropy, AdamW) and a forward pass over a batch."""
    from .nn.transformer import GPTConfig, TinyGPT

    device = torch.device(device)
    cfg = _config(GPTConfig, preset, device, batch, overrides)

    def build(dev: torch.device):
        torch.manual_seed(0)
        model = TinyGPT.from_config(cfg).to(dev)
        idx = torch.randint(cfg.vocab_size, (cfg.batch_size, cfg.block_size + 1)).to(dev)
        return model, idx

    model, idx = build(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)

    def loss_of(m: nn.Module, batch: Tensor) -> Tensor:
        logits = m(batch[:, :-1])  # (B, T, V)
        return nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())

    def train_step():
        loss = loss_of(model, idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    meta_model, meta_idx = build(torch.device("meta"))

    @torch.no_grad()
    def infer():
        return model(idx[:, :-1])

    return Workload("gpt", train_step, infer, cfg.batch_size, cfg.batch_size,
                    lambda: loss_of(meta_model, meta_idx).backward(), lambda: meta_model(meta_idx[:, :-1]),
                    {"preset": preset, **asdict(cfg)})


WORKLOADS = {"cyclegan": cyclegan_workload, "dcgan": dcgan_workload, "gpt": gpt_workload}


def benchmark(model: str = "cyclegan", preset: str = "cpu", *, device: torch.device | str = "auto", repeats: int = 5,
              warmup: int = 2, peak: float | None = None, **settings) -> dict:
    """Measure ``model`` (a key of :data:`WORKLOADS`) under ``preset`` and ``settings``; a JSON-ready dict.

    ``peak``: the machine's matmul FLOP/s if already measured (else measured here, in float32, or in
    bfloat16/float16 when the workload runs under that autocast).
    """
    if model not in WORKLOADS:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(WORKLOADS)}")
    device = get_device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t_build = time.perf_counter()
    w = WORKLOADS[model](preset, device=device, **settings)
    train = time_call(w.train_step, device=device, repeats=repeats, warmup=warmup)
    infer = time_call(w.infer, device=device, repeats=repeats, warmup=warmup)
    seconds = time.perf_counter() - t_build
    train_flops, infer_flops = count_flops(w.meta_train), count_flops(w.meta_infer)
    amp = w.settings.get("amp", "off")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp, torch.float32)
    if peak is None:
        peak = measure_peak_flops(device, dtype)
    s_train, s_infer = statistics.median(train), statistics.median(infer)
    return {
        "model": model, "device": str(device), "torch": torch.__version__, "settings": w.settings,
        "train_s_per_iter": s_train, "train_images_per_s": w.images_per_step / s_train,
        "infer_s_per_batch": s_infer, "infer_images_per_s": w.images_per_infer / s_infer,
        "train_flops_per_iter": train_flops, "infer_flops_per_batch": infer_flops,
        "train_flops_per_s": train_flops / s_train, "infer_flops_per_s": infer_flops / s_infer,
        "peak_matmul_flops_per_s": peak,
        "train_fraction_of_peak": train_flops / s_train / peak, "infer_fraction_of_peak": infer_flops / s_infer / peak,
        "peak_memory_bytes": _peak_memory(device), "train_times_s": train, "infer_times_s": infer,
        "wall_s": seconds,
    }


def main_bench(args, settings: dict) -> None:
    """``minigan bench``: print :func:`benchmark`'s result as JSON (and write it to ``args.json`` if given)."""
    result = benchmark(args.bench_model, args.preset, device=args.device, repeats=args.repeats, warmup=args.warmup,
                       **settings)
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
