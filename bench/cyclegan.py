#!/usr/bin/env python3
"""Benchmark minigan's CycleGAN: seconds per training iteration, and time to quality on the scenes benchmark.

    python bench/cyclegan.py                 # everything (about 15 minutes on 2 CPU cores)
    python bench/cyclegan.py --only speed    # just the per-iteration times
    python bench/cyclegan.py --only quality --cap 300
    python bench/cyclegan.py --only other_pair   # the score on a domain pair nothing was tuned on (about a minute)

Prints one JSON object:

- ``speed``: median seconds per iteration (one generator step and one
  discriminator step, batch 1, as the reference's ``optimize_parameters``) for
  the architecture configs ``256/ngf64/9``, ``128/ngf64/6``, ``64/ngf32/6`` and
  ``32/ngf16/3`` (image side / generator width / residual blocks), each with a
  70x70 PatchGAN (3 layers) as wide as the generator (ndf = ngf, the reference's
  default 64 for the two large configs), next to the reference code's time on
  the same kind of machine, when given. ndf = ngf is what reproduces those
  times: on one 2-core machine the reference code took 0.064 and 0.29 s for the
  two small configs with ndf = ngf, but 0.13 and 0.37 s with ndf 64.
- ``quality``: for the ``cpu`` preset and for the ``paper`` recipe at the same
  32x32 resolution, the training seconds (evaluation excluded) and iterations
  until the translations of held-out scene pairs pass every part of the
  benchmark's bar in both directions (:func:`minigan.cyclegan.bar_ratio` <= 1:
  background, shape, colour and texture, see ``minigan/cyclegan/evaluate.py``),
  or ``null`` if not reached within ``--cap`` seconds; and the speed-up of the
  preset over the recipe.
- ``other_pair``: the score on a domain pair that neither the tests nor the
  recipe's tuning used (pink shapes on slate <-> navy dots on orange, on a pale
  yellow ground): the ``cpu`` preset trained on it for its whole schedule, next
  to the same trivial baselines, and whether it ranks above all of them (a
  lower worst-part-to-bar ratio than each).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from minigan.cyclegan import (BAR, CycleGANConfig, CycleGANTrainer, ImagePool, TensorPairs, bar_ratio,  # noqa: E402
                              baseline_translations, discriminator_step, generator_step, make_cyclegan,
                              make_optimizers, score_model, translation_scores)
from minigan.measure import time_call  # noqa: E402
from minigan.data.scenes import Style, scene_pairs, unpaired_scenes  # noqa: E402

# the held-out domain pair of ``other_pair``: not in the tests, not used to choose the cpu preset
OTHER_PAIR = (Style((0.20, 0.30, 0.38), "plain", ((0.90, 0.60, 0.70),) * 2),
              Style((0.88, 0.86, 0.62), "dots", ((0.12, 0.16, 0.45), (0.95, 0.55, 0.20))))

# (name, image side, ngf = ndf, residual blocks) and the reference code's seconds per iteration on a 2-core CPU
SPEED_CONFIGS = [("256/ngf64/9", 256, 64, 9), ("128/ngf64/6", 128, 64, 6), ("64/ngf32/6", 64, 32, 6),
                 ("32/ngf16/3", 32, 16, 3)]
REFERENCE_SECONDS = {"256/ngf64/9": 14.9, "128/ngf64/6": 2.70, "64/ngf32/6": 0.28, "32/ngf16/3": 0.050}


def seconds_per_iteration(size: int, ngf: int, n_blocks: int, *, iters: int, warmup: int = 1) -> float:
    """Median wall time of one full training iteration (G step, then D step) at batch 1."""
    cfg = CycleGANConfig(image_size=size, ngf=ngf, n_blocks=n_blocks, ndf=ngf)  # 3-layer PatchGAN, pool 50
    model = make_cyclegan(cfg, generator=torch.Generator().manual_seed(0))
    opt_G, opt_D = make_optimizers(model)
    pool_x, pool_y = ImagePool(cfg.pool_size), ImagePool(cfg.pool_size)
    g = torch.Generator().manual_seed(1)

    def iteration():
        x, y = (torch.rand(1, 3, size, size, generator=g) * 2 - 1 for _ in range(2))
        _, fake_x, fake_y = generator_step(model, opt_G, x, y)
        discriminator_step(model, opt_D, x, y, fake_x, fake_y, pool_x, pool_y)

    return statistics.median(time_call(iteration, repeats=iters, warmup=warmup))


def time_to_quality(cfg: CycleGANConfig, *, cap: float, every: int, seed: int = 0, bar: dict = BAR) -> dict:
    """Train ``cfg`` on the scenes until every part of ``bar`` holds both ways (checked every ``every`` iterations)."""
    data = unpaired_scenes(512, cfg.image_size, seed=0)
    pairs = scene_pairs(64, cfg.image_size, seed=1)  # as chapter 8 and the CLI
    trainer = CycleGANTrainer(cfg, TensorPairs(data.A, data.B), seed=seed)  # as train_cyclegan and chapter 8
    model = trainer.model
    state = {"train_s": 0.0, "last": time.perf_counter(), "result": None}

    def check(i, logs, history):
        if (i + 1) % every:
            return False
        now = time.perf_counter()
        state["train_s"] += now - state["last"]
        scores = score_model(model, pairs)
        ratio = bar_ratio(scores, bar)
        state["result"] = {"iterations": i + 1, "train_seconds": round(state["train_s"], 1),
                           "bar_ratio": round(ratio, 3), "reached": ratio <= 1,
                           "scores": {d: {k: round(v, 4) for k, v in s.items()} for d, s in scores.items()}}
        state["last"] = time.perf_counter()  # evaluation time is not training time
        return state["result"]["reached"] or state["train_s"] >= cap

    trainer.fit(callbacks=[check], progress=False)
    return state["result"]


def other_pair(cfg: CycleGANConfig, *, seed: int = 0) -> dict:
    """The ``cpu`` preset's whole schedule on :data:`OTHER_PAIR`, scored with its baselines."""
    data = unpaired_scenes(512, cfg.image_size, seed=0, styles=OTHER_PAIR)
    pairs = scene_pairs(64, cfg.image_size, seed=1, styles=OTHER_PAIR)
    trainer = CycleGANTrainer(cfg, TensorPairs(data.A, data.B), seed=seed)
    trainer.fit(progress=False)
    model = trainer.model
    ratios = {name: bar_ratio(translation_scores(pairs, a2b, b2a))
              for name, (a2b, b2a) in baseline_translations(pairs).items()}
    mine = bar_ratio(score_model(model, pairs))
    return {"model_bar_ratio": round(mine, 3), "baselines_bar_ratio": {k: round(v, 3) for k, v in ratios.items()},
            "ranks_above_every_baseline": all(mine < r for r in ratios.values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["speed", "quality", "other_pair"], help="run one part only")
    ap.add_argument("--iters", type=int, default=3,
                    help="timed iterations per speed config of 128x128 and up, after one warm-up; "
                         "the small ones, at under a second each, get 10x as many after five")
    ap.add_argument("--cap", type=float, default=600, help="training seconds allowed to reach the bar")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--configs", nargs="*", default=None, help="speed configs to run (default: all four)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                             "torch": torch.__version__}}
    if args.only in (None, "speed"):
        out["speed"] = []
        for name, size, ngf, blocks in SPEED_CONFIGS:
            if args.configs is not None and name not in args.configs:
                continue
            big = size >= 128
            s = seconds_per_iteration(size, ngf, blocks, iters=args.iters * (1 if big else 10), warmup=1 if big else 5)
            ref = REFERENCE_SECONDS.get(name)
            out["speed"].append({"config": name, "ndf": ngf, "seconds_per_iteration": round(s, 4),
                                 "reference_seconds": ref, "no_slower": None if ref is None else s <= ref})
            print(f"speed {name}: {s:.4f} s/it", file=sys.stderr, flush=True)
    if args.only in (None, "quality"):
        cpu = CycleGANConfig.from_preset("cpu")
        paper = CycleGANConfig.from_preset("paper", image_size=cpu.image_size)
        runs = {}
        for name, cfg, every in [("cpu", cpu, 50), ("paper", paper, 200)]:
            runs[name] = time_to_quality(cfg, cap=args.cap, every=every)
            print(f"quality {name}: {runs[name]}", file=sys.stderr, flush=True)
        fast, slow = runs["cpu"], runs["paper"]
        if fast["reached"]:
            ratio = slow["train_seconds"] / fast["train_seconds"]
            speedup = {"at_least" if not slow["reached"] else "equals": round(ratio, 1)}
        else:
            speedup = None
        out["quality"] = {"bar": BAR, "cap_seconds": args.cap, "cpu": fast, "paper_at_same_size": slow,
                          "cpu_speedup": speedup}
    if args.only in (None, "other_pair"):
        out["other_pair"] = other_pair(CycleGANConfig.from_preset("cpu"))
        print(f"other pair: {out['other_pair']}", file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
