#!/usr/bin/env python3
"""Re-execute chapter notebooks in place, reproducibly, and store their outputs.

    python tools/run_notebooks.py                 # every notebook under book/
    python tools/run_notebooks.py book/mlp.ipynb  # just these

Runs each notebook top to bottom in a fresh ``python3`` kernel of *this*
interpreter (the environment ``pytest --nbval`` uses), from the notebook's own
folder, with ``PYTHONHASHSEED=0`` and ``MINIGAN_OFFLINE=1`` (no downloads, as in CI). It writes no per-cell timestamps, refreshes
the Colab setup cell from ``_config.yml``, stores widget state (so the HTML book
can show widgets), applies the Colab conventions (a GPU runtime where the chapter
uses one, solutions folded as forms: tools/nbtools.py), and drops the Python patch version from the metadata, so a
re-run on another machine changes only what the code changed. A cell that
raises fails the run (unless it is tagged ``raises-exception``) and the file is
left untouched. Never edit outputs by hand: change the code, run this, commit.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.nbtools import SETUP_TAG, apply_colab_conventions, chapter_notebooks, setup_cell_source  # noqa: E402

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def refresh_setup_cell(nb: nbformat.NotebookNode) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or SETUP_TAG not in code[0].metadata.get("tags", []):
        raise SystemExit(f"the first code cell must be the Colab setup cell, tagged {SETUP_TAG!r}")
    code[0].source = setup_cell_source()


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    refresh_setup_cell(nb)
    apply_colab_conventions(nb)
    nb.metadata["kernelspec"] = KERNELSPEC
    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout, record_timing=False, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    info = nb.metadata.get("language_info", {})
    info.pop("version", None)  # 3.11.7 vs 3.11.9 is not a change worth a diff
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all under book/)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    args = parser.parse_args(argv)
    os.environ["PYTHONHASHSEED"] = "0"  # the kernel inherits it
    os.environ.setdefault("MINIGAN_OFFLINE", "1")  # the stored outputs are those of an offline run, as in CI
    os.environ.pop("MINIGAN_SMOKE", None)  # stored outputs are full runs, never smoke runs
    paths = args.notebooks or chapter_notebooks()
    failed = []
    for path in paths:
        print(f"{path}: running ...", flush=True)
        try:
            elapsed = execute(path.resolve(), args.timeout)
        except CellExecutionError as err:
            print(f"{path}: FAILED, file left unchanged\n{err}", file=sys.stderr)
            failed.append(path)
            continue
        print(f"{path}: done in {elapsed:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
