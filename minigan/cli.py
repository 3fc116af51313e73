"""The ``minigan`` command (also ``python -m minigan``).

::

    minigan cyclegan train                      # the built-in scenes, cpu preset here: about a minute
    minigan cyclegan train --data horse2zebra --preset gpu --out runs/h2z --resume
    minigan cyclegan translate runs/h2z/checkpoint.pt my_photos/ --out zebras/
    minigan cyclegan translate --pretrained horse2zebra my_photos/ --out zebras/   # the authors' generator
    torchrun --nproc_per_node=4 -m minigan cyclegan train ...   # data-parallel on 4 GPUs (README)

Every failure the user can fix (a bad argument, a missing folder, a checkpoint
of another architecture) ends with one line on stderr, ``minigan: error: ...``,
and a non-zero exit status: 2 for a wrong command line, 1 otherwise.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]


class UsageError(Exception):
    """A command line that cannot be run as written (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``minigan: error: ...``) instead of the usage block."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"minigan: error: {message} (see `{self.prog} --help`)\n")


def _overrides(pairs: Sequence[str], config: type | None = None) -> dict:
    """``--set KEY=VALUE`` pairs as overrides of ``config``'s fields (default: CycleGANConfig), each read by its type."""
    if config is None:
        from .cyclegan import CycleGANConfig as config
    from .config import ConfigError

    try:
        return config.parse_overrides(pairs)
    except ConfigError as e:
        raise UsageError(str(e) if str(e).startswith("--set") else f"--set: {e}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .cyclegan.config import CycleGANConfig
    from .cyclegan.pretrained import PRETRAINED

    presets, amp_modes = ["auto", *CycleGANConfig.preset_names()], list(CycleGANConfig.CHOICES["amp"])
    p = _Parser(prog="minigan", description="minigan: train and use the book's models from a terminal.")
    models = p.add_subparsers(dest="model", metavar="MODEL", required=True)
    cg = models.add_parser("cyclegan", help="unpaired image-to-image translation (chapters 8 and 9)")
    cmds = cg.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = cmds.add_parser("train", help="train a CycleGAN (or continue one with --resume)",
                        description="Train a CycleGAN into an output folder: checkpoint.pt, log.csv, samples/. "
                                    "With no --data it trains on the built-in scenes benchmark (offline).")
    t.add_argument("--data", help="a folder with trainA/ trainB/ (testA/ testB/), or an official data set name "
                                  "such as horse2zebra (downloaded into --data-root on first use)")
    t.add_argument("--data-root", default="datasets", help="where named data sets are downloaded (default: datasets)")
    t.add_argument("--preset", choices=presets,
                   help="config preset (default: auto = gpu on a GPU, cpu otherwise; on --resume: the checkpoint's)")
    t.add_argument("--out", default="runs/cyclegan", help="output folder (default: runs/cyclegan)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out if it has a checkpoint")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps (default: auto)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--amp", choices=amp_modes, help="mixed precision (default: the preset's)")
    t.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="NHWC memory layout (default: the preset's)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set n_epochs=50 (repeatable)")
    t.add_argument("--checkpoint-every", type=_positive, metavar="N",
                   help="iterations between checkpoints (default: an epoch)")
    t.add_argument("--sample-every", type=_positive, metavar="N", help="iterations between sample grids (default: an epoch)")
    t.add_argument("--keep-every", type=_positive, metavar="E",
                   help="also keep the checkpoint of every E-th epoch in checkpoints/ (default: only the latest)")
    t.add_argument("--tensorboard", action="store_true",
                   help="also log the losses to OUT/tensorboard (needs the tensorboard package)")
    t.add_argument("--steps", type=_positive, metavar="N",
                   help="stop at iteration N, within the schedule (resume to go on)")
    t.add_argument("--workers", type=_count, help="DataLoader workers for folder data (default: up to 4 on a CUDA GPU, "
                                                  "0 otherwise)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    r = cmds.add_parser("translate", help="translate an image or a folder of images with a trained checkpoint",
                        description="Translate images with the generators of a checkpoint, or with one of the "
                                    "authors' pretrained generators (--pretrained NAME); writes PNG files.")
    r.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a checkpoint.pt written by `minigan cyclegan train` (left out with --pretrained)")
    r.add_argument("input", nargs="?", metavar="INPUT", help="an image file or a folder of images (searched recursively)")
    r.add_argument("--pretrained", metavar="NAME",
                   help="one of the authors' generators instead of a checkpoint, downloaded once into the cache: "
                        + ", ".join(PRETRAINED))
    r.add_argument("--out", default="translated", help="output folder (default: translated)")
    r.add_argument("--direction", choices=["AtoB", "BtoA"], default="AtoB",
                   help="AtoB uses G (e.g. horse to zebra), BtoA uses F (default: AtoB)")
    r.add_argument("--size", type=_count, help="resize to SIZE x SIZE first (default: the training size, 256 for "
                                            "--pretrained; 0 keeps each image's size, rounded down to a multiple of 4)")
    r.add_argument("--device", default="auto")
    r.add_argument("--no-progress", action="store_true")

    e = cmds.add_parser("test", help="translate a run's held-out images both ways into an HTML page",
                        description="Translate testA and testB of the data a run trained on, both ways, with its "
                                    "checkpoint (or any kept one), and write RUN/test_iter_N/index.html: input, "
                                    "translation and round trip per image, with scores where the answer is known.")
    e.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder, or a checkpoint .pt inside one")
    e.add_argument("--data", help="the data set folder (default: the one the run trained on)")
    e.add_argument("--out", help="the page's folder (default: RUN/test_iter_N)")
    e.add_argument("--how-many", type=_positive, default=50, metavar="N", help="images per direction (default: 50)")
    e.add_argument("--device", default="auto")

    b = models.add_parser("bench", help="measure a model: time, throughput, FLOPs, fraction of peak, memory (JSON)",
                          description="Benchmark a training iteration and an inference batch of one of the book's "
                                      "models; prints JSON (see minigan/bench.py for what is measured).")
    b.add_argument("bench_model", choices=["cyclegan", "dcgan", "gpt"], metavar="MODEL", help="cyclegan, dcgan or gpt")
    b.add_argument("--preset", default="cpu", help="the model's config preset (default: cpu)")
    b.add_argument("--device", default="auto")
    b.add_argument("--batch", type=_count, help="batch size (default: the preset's)")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    b.add_argument("--amp", choices=amp_modes, help="cyclegan only: mixed precision")
    b.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None, help="cyclegan only")
    b.add_argument("--compile", action="store_true", help="cyclegan only: torch.compile the four networks")
    b.add_argument("--repeats", type=_count, default=5, help="timed repeats (default: 5)")
    b.add_argument("--warmup", type=_count, default=2, help="untimed warm-up calls (default: 2)")
    b.add_argument("--json", metavar="FILE", help="also write the result to FILE")
    return p


def _bench(args) -> None:
    from .bench import main_bench
    from .cyclegan import CycleGANConfig
    from .gan.dcgan import DCGANConfig
    from .nn.transformer import GPTConfig

    config = {"cyclegan": CycleGANConfig, "dcgan": DCGANConfig, "gpt": GPTConfig}[args.bench_model]
    if args.preset not in config.PRESETS and args.preset != "auto":
        raise UsageError(f"{config.__name__} has no preset {args.preset!r}; choose one of {list(config.PRESETS)}")
    settings = _overrides(args.set, config)
    if args.batch:
        settings["batch"] = args.batch
    extra = {"amp": args.amp, "channels_last": args.channels_last, "compile": args.compile or None}
    extra = {k: v for k, v in extra.items() if v is not None}
    if extra and args.bench_model != "cyclegan":
        raise UsageError(f"--amp, --channels-last and --compile apply to cyclegan only, not {args.bench_model}")
    main_bench(args, {**settings, **extra})


def _train(args) -> None:
    from .cyclegan.run import train_run

    overrides = _overrides(args.set)
    if args.amp is not None:
        overrides["amp"] = args.amp
    if args.channels_last is not None:
        overrides["channels_last"] = args.channels_last
    trainer = train_run(args.out, data=args.data, preset=args.preset, device=args.device, resume=args.resume,
                        seed=args.seed, overrides=overrides, checkpoint_every=args.checkpoint_every,
                        sample_every=args.sample_every, data_root=args.data_root, workers=args.workers,
                        steps=args.steps, keep_every=args.keep_every, tensorboard=args.tensorboard,
                        progress=not args.no_progress)
    if not trainer.dist.is_main:  # under torchrun: rank 0 reports
        return
    out = Path(args.out)
    done = "finished" if trainer.iteration >= trainer.total_steps else "stopped"
    print(f"{done} at iteration {trainer.iteration} of {trainer.total_steps}; "
          f"checkpoint {out / 'checkpoint.pt'}, log {out / 'log.csv'}, samples in {out / 'samples'}")
    scores = out / "scores.csv"
    if scores.exists():
        from .cyclegan.run import read_log

        from .cyclegan.evaluate import PARTS

        last = {k: v[-1] for k, v in read_log(scores).items()}
        for way, name in (("a2b", "A→B"), ("b2a", "B→A")):
            print(f"held-out {name} against the known answer: "
                  + ", ".join(f"{part} {last[f'{part}_{way}']:.3f}" for part in PARTS))
        verdict = "passes" if last["bar_ratio"] <= 1 else "fails"
        print(f"worst part / its bar: {last['bar_ratio']:.2f} ({verdict} the benchmark's bar; see {scores})")


def _translate(args) -> None:
    from .cyclegan import model_from_checkpoint, pretrained_generator, translate_files
    from .utils import get_device

    device = get_device(args.device)
    if args.pretrained:
        if args.input is not None:
            raise UsageError("with --pretrained give only the INPUT, no CHECKPOINT")
        if args.direction != "AtoB":
            raise UsageError("a pretrained model is one generator, one way; for the other way use its partner "
                             "(zebra2horse for horse2zebra, and so on)")
        model, src = pretrained_generator(args.pretrained, device=device, progress=not args.no_progress), args.checkpoint
    else:
        if args.input is None:
            raise UsageError("translate needs a CHECKPOINT and an INPUT (or --pretrained NAME and an INPUT)")
        model, src = model_from_checkpoint(args.checkpoint, device=device), args.input
    written = translate_files(model, src, args.out, to="y" if args.direction == "AtoB" else "x",
                              size=args.size, progress=not args.no_progress)
    print(f"translated {len(written)} image(s) {args.direction} into {args.out}")


def _test(args) -> None:
    from .cyclegan import write_test_page
    from .utils import get_device

    page = write_test_page(args.run, data=args.data, out=args.out, how_many=args.how_many,
                           device=get_device(args.device))
    print(f"wrote {page}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a failure, 2 a bad command line)."""
    args = build_parser().parse_args(argv)
    from .data.download import DownloadError

    from .config import ConfigError

    try:
        if args.model == "bench":
            _bench(args)
        else:
            {"train": _train, "translate": _translate, "test": _test}[args.command](args)
    except (UsageError, ConfigError) as e:  # a setting the config cannot take is a wrong command line too
        print(f"minigan: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, RuntimeError, DownloadError) as e:
        print(f"minigan: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("minigan: interrupted; the last checkpoint is kept (continue with --resume)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
