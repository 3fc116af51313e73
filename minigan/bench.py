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

import json
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from .measure import compile_module, count_flops, measure_peak_flops, profile_ops, time_alternately, time_call
from .utils import get_device

# the measuring tools live in minigan.measure; they are importable from here too, next to the workloads they time
__all__ = ["count_flops", "measure_peak_flops", "time_call", "time_alternately", "profile_ops", "compile_module",
           "Workload", "cyclegan_workload", "dcgan_workload", "gpt_workload", "WORKLOADS", "benchmark"]


def _peak_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    if device.type == "mps":
        return int(torch.mps.driver_allocated_memory())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return int(rss if sys.platform == "darwin" else rss * 1024)


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
                      channels_last: bool | None = None, amp: str | None = None, compile: bool | str = False,
                      **overrides) -> Workload:
    """A CycleGAN iteration (both generator and discriminator steps) and a G inference batch for ``preset``.

    ``compile``: ``True`` compiles the four networks with inductor; a string names another backend (``"eager"``).
    """
    from .cyclegan import CycleGANConfig, CycleGANTrainer, TensorPairs

    device = torch.device(device)
    if channels_last is not None:
        overrides["channels_last"] = channels_last
    if amp is not None:
        overrides["amp"] = amp
    cfg = _config(CycleGANConfig, preset, device, batch, overrides)

    def build(dev: torch.device) -> CycleGANTrainer:
        shape = (max(cfg.batch_size, 2), cfg.channels, cfg.image_size, cfg.image_size)
        if dev.type == "meta":
            x = y = torch.empty(shape, device=dev)
        else:
            g = torch.Generator().manual_seed(1)
            x, y = torch.rand(shape, generator=g) * 2 - 1, torch.rand(shape, generator=g) * 2 - 1
        return CycleGANTrainer(cfg, TensorPairs(x, y), seed=0, device=dev)

    trainer = build(device)
    if compile:
        for name in ("G", "F", "D_X", "D_Y"):  # the steps call the networks through these attributes
            backend = compile if isinstance(compile, str) else "inductor"
            setattr(trainer.model, name, compile_module(getattr(trainer.model, name), backend=backend))
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
