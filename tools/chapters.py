"""Run chapter notebooks end to end outside nbval: the smoke test and tools/gpu_check.py share this.

    with served_downloads(tmp) as env:           # horse2zebra and a pretrained generator, on 127.0.0.1
        nb, seconds = run_chapter(BOOK / "cyclegan_photos.ipynb", env={**env, "MINIGAN_SMOKE": "1"},
                                  workdir=tmp / "ch9", optimize=True)

A chapter runs in a fresh kernel of this interpreter, in a working folder of
its own (so a run writes nothing next to the book), with the environment
given. ``optimize=True`` starts the kernel as ``python -O``, which skips the
chapters' ``assert`` statements: in smoke mode a chapter trains for a few
steps, and the asserts on what a full run must reach (accuracies, scores,
timings) belong to nbval's full runs; what a smoke run checks is that every
cell runs without raising.

The machines these runs are for reach no network: a real horse2zebra is not
there to download. :func:`served_downloads` writes small stand-ins in the
authors' layouts (a zip of ``horse2zebra/trainA/*.jpg`` and so on, and a
generator's weights named as the reference code names them) and serves them
from a local HTTP server, which the download code reaches through its mirror
settings (``MINIGAN_DATASETS_URL``, ``MINIGAN_PRETRAINED_URL``): the download,
unpacking and loading code is the real one.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Iterator

import nbformat
import numpy as np
import torch
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
KERNEL = "minigan-run"


def fake_dataset_zip(path: Path, name: str = "horse2zebra", *, n: int = 4, size: int = 64, seed: int = 0) -> Path:
    """A zip in the layout of the authors' data sets (``name/trainA/0.jpg``, ...): ``n`` noise photos per folder."""
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as zf:
        for folder in ("trainA", "trainB", "testA", "testB"):
            for i in range(n):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                buf = _jpeg(pixels)
                zf.writestr(f"{name}/{folder}/{folder}_{i}.jpg", buf)
    return path


def _jpeg(pixels: np.ndarray) -> bytes:
    import io

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG")
    return out.getvalue()


def fake_pretrained(path: Path, *, seed: int = 0) -> Path:
    """Random weights of the authors' resnet_9blocks generator, saved under the reference code's names."""
    from minigan.cyclegan import ResnetGenerator

    torch.manual_seed(seed)
    net = ResnetGenerator(ngf=64, n_blocks=9)
    torch.save({k.replace(".block.", ".conv_block."): v for k, v in net.state_dict().items()}, path)
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def served_downloads(root: Path) -> Iterator[dict[str, str]]:
    """Stand-ins for every download a chapter makes, served on 127.0.0.1; yields the environment that points there.

    The environment also gives the runs a cache of their own (``MINIGAN_CACHE``)
    and keeps them offline (``MINIGAN_OFFLINE``: nothing but this machine is contacted).
    """
    site = Path(root) / "site"
    (site / "datasets").mkdir(parents=True, exist_ok=True)
    (site / "pretrained").mkdir(exist_ok=True)
    fake_dataset_zip(site / "datasets" / "horse2zebra.zip")
    fake_pretrained(site / "pretrained" / "horse2zebra.pth")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield {"MINIGAN_DATASETS_URL": f"{url}/datasets", "MINIGAN_PRETRAINED_URL": f"{url}/pretrained",
               "MINIGAN_CACHE": str(Path(root) / "cache"), "MINIGAN_OFFLINE": "1",
               "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    finally:
        httpd.shutdown()
        httpd.server_close()


def _kernel_manager(env: dict[str, str], optimize: bool, spec_dir: Path) -> KernelManager:
    """A kernel of this interpreter (``python -O`` with ``optimize``) whose environment is ours plus ``env``."""
    kernel = spec_dir / "kernels" / KERNEL
    kernel.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable] + (["-O"] if optimize else []) + ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernel / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python",
                                                   "env": {"PYTHONHASHSEED": "0", **env}}))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def run_chapter(path: Path, *, env: dict[str, str], workdir: Path, optimize: bool = False,
                timeout: int = 600) -> tuple[nbformat.NotebookNode, float]:
    """Execute notebook ``path`` top to bottom in ``workdir``; return the executed notebook and its wall seconds.

    A cell that raises (other than one tagged ``raises-exception``, which the
    chapter shows failing on purpose) raises ``CellExecutionError`` naming
    the cell. Cells tagged ``nbval-skip`` (Colab only: Drive, uploads) are
    left out, as nbval leaves them out.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "nbval-skip" not in c.metadata.get("tags", [])]
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minigan-kernel-") as spec_dir:
        km = _kernel_manager(env, optimize, Path(spec_dir))
        client = NotebookClient(nb, km=km, timeout=timeout, record_timing=False,
                                resources={"metadata": {"path": str(workdir)}})
        start = time.perf_counter()
        try:
            client.execute()
        finally:  # a client given its kernel manager leaves the kernel running
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        return nb, time.perf_counter() - start


def chapter_notebooks() -> list[Path]:
    """Every chapter, in the book's order (``_toc.yml``)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", [toc]) for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def text_outputs(nb: nbformat.NotebookNode) -> str:
    """Everything the executed notebook printed (streams and plain-text results), one string."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if out.output_type == "stream"
                         else out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover - a quick manual run: python tools/chapters.py book/mlp.ipynb
    for arg in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp, served_downloads(Path(tmp)) as env:
            smoke = {**env, "MINIGAN_SMOKE": os.environ.get("MINIGAN_SMOKE", "1")}
            _, seconds = run_chapter(Path(arg), env=smoke, workdir=Path(tmp) / "work", optimize=True)
            print(f"{arg}: {seconds:.1f} s")
