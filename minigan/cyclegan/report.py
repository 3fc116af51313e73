"""A test page for a trained CycleGAN, as the reference's ``test.py`` writes: every held-out image, both ways.

``minigan cyclegan test RUN`` translates the held-out images of each domain
(``testA`` and ``testB``; the built-in scenes' held-out pairs) with the run's
checkpoint and writes ``RUN/test_iter_000800/index.html``: one row per image
with the input, its translation and the round trip back, and, where the right
answer is known (the scenes), the answer and the benchmark's scores next to
the trivial baselines'. The page and its PNGs sit in one folder and need
nothing else: it opens offline, from a copy, or from Google Drive.

Any checkpoint can be tested, not only the latest: CycleGAN's quality is not
monotonic in training time, and ``--keep-every`` keeps the checkpoints to pick from.
"""
from __future__ import annotations

import html
import json
import os
from pathlib import Path

import torch
from torch import Tensor

from .checkpoint import load_checkpoint, model_from_state
from .data import BUILT_IN, builtin_scenes, held_out_images
from .evaluate import baseline_translations, score_model, score_table, translation_scores
from .runfolder import CHECKPOINT

__all__ = ["write_test_page"]

def _run_folder(path: Path) -> tuple[Path, Path]:
    """(the checkpoint, the run folder holding its config.json) for a run folder or a checkpoint inside one."""
    if path.is_dir():
        return path / CHECKPOINT, path
    for folder in (path.parent, path.parent.parent):  # RUN/checkpoint.pt or RUN/checkpoints/epoch_010.pt
        if (folder / "config.json").is_file():
            return path, folder
    return path, path.parent


def write_test_page(run_or_checkpoint: str | os.PathLike, *, data: str | os.PathLike | None = None,
                    out: str | os.PathLike | None = None, how_many: int = 50,
                    device: str | torch.device = "cpu") -> Path:
    """Translate the held-out images of a run both ways and write an offline HTML page; returns its path.

    ``data``: the data set folder (default: the one the run trained on, from
    its config.json). ``out``: the page's folder (default:
    ``RUN/test_iter_NNNNNN``, after the checkpoint's iteration). ``how_many``:
    images per direction, at most.
    """
    ckpt, run = _run_folder(Path(run_or_checkpoint))
    state = load_checkpoint(ckpt)
    model = model_from_state(state, device=device)
    size, iteration = model.cfg.image_size, int(state["iteration"])
    info = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else {}
    source = str(data) if data is not None else info.get("data")
    truth = None
    if source == BUILT_IN:
        truth = builtin_scenes(size)[1]
        test_a, test_b = truth.A, truth.B
    elif source is not None and Path(source).is_dir():
        test_a, test_b = held_out_images(source, size)
    else:
        raise FileNotFoundError(f"cannot find the data {ckpt} was trained on ({source!r}); pass its folder with --data")
    if how_many < 1:
        raise ValueError(f"how_many must be at least 1, got {how_many}")
    out = Path(out) if out is not None else run / f"test_iter_{iteration:06d}"
    rows = {"A→B": _translate_both_ways(model, test_a[:how_many], to="y"),
            "B→A": _translate_both_ways(model, test_b[:how_many], to="x")}
    answers = {"A→B": test_b[:how_many], "B→A": test_a[:how_many]} if truth is not None else None
    scores = None
    if truth is not None:
        table = {"this model": score_model(model, truth)}
        table.update({name: translation_scores(truth, a2b, b2a) for name, (a2b, b2a) in baseline_translations(truth).items()})
        scores = score_table(table)
    return _write_page(out, title=f"{run.name}: iteration {iteration}", source=source, rows=rows, answers=answers,
                       scores=scores)


def _translate_both_ways(model, images: Tensor, *, to: str) -> dict[str, Tensor]:
    """Inputs, their translations and the round trips back: each (N, 3, S, S) in [-1, 1]."""
    back = "x" if to == "y" else "y"
    fake = model.translate(images, to=to)
    return {"input": images, "translated": fake, "round trip": model.translate(fake, to=back)}


def _write_page(out: Path, *, title: str, source: str, rows: dict, answers: dict | None, scores: str | None) -> Path:
    from torchvision.utils import save_image

    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:1em}td{padding:2px 6px;text-align:center}"
             "img{width:128px;image-rendering:pixelated}th{font-weight:normal;color:#555}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>held-out images of {html.escape(str(source))}</p>"]
    if scores is not None:
        parts.append("<h2>Scores against the known answer, next to the baselines</h2>"
                     f"<pre>{html.escape(scores)}</pre>")
    for way, columns in rows.items():
        names = list(columns) + (["right answer"] if answers is not None else [])
        parts.append(f"<h2>{html.escape(way)}</h2><table><tr><th></th>"
                     + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>")
        tag = way.replace("→", "2")
        for i in range(len(columns["input"])):
            cells = []
            for name in names:
                tensor = answers[way] if name == "right answer" else columns[name]
                file = f"{tag}_{i:04d}_{name.replace(' ', '_')}.png"
                save_image(tensor[i], images / file, normalize=True, value_range=(-1, 1))
                cells.append(f"<td><img src='images/{file}' alt='{html.escape(name)}'></td>")
            parts.append(f"<tr><th>{i}</th>{''.join(cells)}</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    page = out / "index.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
