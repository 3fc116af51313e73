#!/usr/bin/env python3
"""The book on a GPU: every chapter's wall time with the ``gpu`` preset, and the CycleGAN step's precisions.

    python tools/gpu_check.py                    # on a CUDA machine: about 8 minutes at most (--budget)
    python tools/gpu_check.py --chapters mlp dcgan --no-steps
    python tools/gpu_check.py --dry-run          # on a CPU: the same code, in smoke mode and at a tiny size

Two parts, each printed as it goes and written as one JSON object to ``--json``:

1. **Chapters.** Each chapter runs top to bottom in a fresh kernel, in a
   folder of its own, the way a Colab reader runs it: ``device="auto"`` finds
   the GPU and every chapter takes its ``gpu`` preset; the chapters' asserts
   are on. The machine this is for reaches no network, so chapter 9's
   horse2zebra and the authors' pretrained generator are small stand-ins in
   the real layouts, served from this machine (tools/chapters.py): chapter 9's
   time is that of its whole schedule on 4 photos per folder, not on
   horse2zebra's 1,334 (its per-iteration time comes from part 2's 128x128
   figures). A chapter that would take the run past ``--budget`` seconds is
   stopped and reported as such.
2. **The CycleGAN step** in the reference configuration (256x256, ngf 64,
   9 residual blocks, 70x70 PatchGAN, batch 1): float32, bf16 and fp16
   autocast, each in NCHW, in ``channels_last`` and compiled
   (``torch.compile``, with ``channels_last``), as the median seconds of one
   iteration and its ratio to float32 NCHW measured in the same run; and the
   ``gpu`` preset's 128x128 step in its own setting.

``--dry-run`` runs both parts on the CPU: the chapters in smoke mode (a few
steps each, asserts off, tests/test_gpu_smoke.py), the step at 32x32 with
narrow networks and ``torch.compile``'s ``eager`` backend. The figures it
prints say nothing about a GPU; it checks that the script runs.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.chapters import chapter_notebooks, run_chapter, served_downloads  # noqa: E402

PRECISIONS = ("off", "bf16", "fp16")  # amp settings: float32, bf16 autocast, fp16 autocast with a grad scaler
LAYOUTS = (("NCHW", False, False), ("channels_last", True, False), ("compiled", True, True))
STEP_RESERVE_S = 150  # of the budget, kept for part 2 (compiling three variants takes most of it)


def run_chapters(names: list[str] | None, *, dry_run: bool, deadline: float, echo=print) -> list[dict]:
    results = []
    chapters = [p for p in chapter_notebooks() if not names or p.stem in names]
    with tempfile.TemporaryDirectory(prefix="minigan-gpu-check-") as tmp, served_downloads(Path(tmp)) as env:
        if dry_run:
            env = {**env, "MINIGAN_SMOKE": "1"}
        for path in chapters:
            left = int(deadline - time.monotonic())
            if left < 10:
                results.append({"chapter": path.stem, "status": "not run: budget spent"})
                echo(f"{path.stem:>16}: not run, the budget is spent")
                continue
            try:
                _, seconds = run_chapter(path, env=env, workdir=Path(tmp) / path.stem, optimize=dry_run, timeout=left)
                results.append({"chapter": path.stem, "status": "ok", "seconds": round(seconds, 1)})
                echo(f"{path.stem:>16}: {seconds:7.1f} s")
            except Exception as e:  # a failing chapter is a finding: report it and go on
                timed_out = isinstance(e, TimeoutError) or "Timeout" in type(e).__name__
                status = f"stopped after {left} s (the budget)" if timed_out else "FAILED"
                message = str(e).strip().splitlines()[-1][:300] if str(e).strip() else type(e).__name__
                results.append({"chapter": path.stem, "status": status, "error": message})
                echo(f"{path.stem:>16}: {status}: {message}")
    return results


def median_step(workload, device: torch.device, repeats: int) -> float:
    from minigan.measure import time_call

    return statistics.median(time_call(workload.train_step, device=device, repeats=repeats, warmup=3))


def run_steps(*, dry_run: bool, device: torch.device, echo=print) -> dict:
    from minigan.bench import cyclegan_workload

    if dry_run:  # the reference's shape of network, narrow and small, so a CPU gets through it in seconds
        size = dict(image_size=32, ngf=8, ndf=8, n_blocks=1)
        backend, repeats = "eager", 2
    else:
        size, backend, repeats = {}, True, 10
    rows = []
    for amp in PRECISIONS:
        for layout, channels_last, compiled in LAYOUTS:
            name = f"{amp if amp != 'off' else 'fp32'} {layout}"
            w = None
            try:
                w = cyclegan_workload("paper", device=device, amp=amp, channels_last=channels_last,
                                      compile=backend if compiled else False, **size)
                rows.append({"variant": name, "seconds": median_step(w, device, repeats)})
            except Exception as e:  # e.g. bf16 on a GPU without it: say so, measure the rest
                rows.append({"variant": name, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
            del w
            if device.type == "cuda":
                torch.cuda.empty_cache()
    base = next((r["seconds"] for r in rows if r["variant"] == "fp32 NCHW" and "seconds" in r), None)
    echo(f"CycleGAN step, reference config{' (dry run: 32x32, ngf 8)' if dry_run else ''}, batch 1:")
    for r in rows:
        if "seconds" in r and base:
            r["ratio_to_fp32"] = round(base / r["seconds"], 2)  # > 1: faster than float32 NCHW
            echo(f"  {r['variant']:>22}: {r['seconds'] * 1e3:8.1f} ms/iteration, {r['ratio_to_fp32']:.2f}x fp32")
        else:
            echo(f"  {r['variant']:>22}: {r.get('error')}")
    gpu_preset = cyclegan_workload("gpu", device=device, **size)  # 128x128, 6 blocks, amp auto, channels_last
    preset_s = median_step(gpu_preset, device, repeats)
    echo(f"  gpu preset ({gpu_preset.settings['image_size']}x{gpu_preset.settings['image_size']}, "
         f"amp {gpu_preset.settings['amp']}): {preset_s * 1e3:.1f} ms/iteration")
    return {"reference_config": rows, "gpu_preset_seconds": preset_s}


def describe(device: torch.device) -> dict:
    info = {"device": str(device), "torch": torch.__version__, "python": platform.python_version()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    capability=".".join(map(str, torch.cuda.get_device_capability(device))))
    else:
        info["cpu"] = platform.processor() or platform.machine()
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="on a CPU: smoke mode and a tiny step (a test runs this)")
    parser.add_argument("--chapters", nargs="*", help="chapter file names without .ipynb (default: all)")
    parser.add_argument("--no-chapters", action="store_true", help="only the CycleGAN step")
    parser.add_argument("--no-steps", action="store_true", help="only the chapters")
    parser.add_argument("--budget", type=float, default=480, help="seconds for the whole run (default 480)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        parser.error("no CUDA device here; use --dry-run to check the script on a CPU")
    device = torch.device("cpu" if args.dry_run else "cuda")
    start = time.monotonic()
    report = {"machine": describe(device), "dry_run": args.dry_run}
    print("machine:", ", ".join(f"{k} {v}" for k, v in report["machine"].items()), flush=True)
    failed = False
    if not args.no_chapters:
        reserve = 0 if args.no_steps else STEP_RESERVE_S
        report["chapters"] = run_chapters(args.chapters, dry_run=args.dry_run,
                                          deadline=start + args.budget - reserve)
        failed = any(r["status"] != "ok" for r in report["chapters"])
    if not args.no_steps:
        try:
            report["steps"] = run_steps(dry_run=args.dry_run, device=device)
            failed = failed or any("error" in r for r in report["steps"]["reference_config"])
        except Exception:
            traceback.print_exc()
            failed = True
    report["seconds"] = round(time.monotonic() - start, 1)
    print(f"total: {report['seconds']:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
