"""What every chapter notebook shares: the Colab setup cell, the repository URL and the release it installs.

The repository URL lives in one place, ``_config.yml`` (``repository.url``),
and so does the release, ``minigan/__init__.py`` (``__version__``): the setup
cell installs the tag ``v<version>`` (not the tip of ``main``, which moves on
after the book is built), and the book's Colab buttons open that tag's
notebooks (``_ext/minigan_book.py``), so the notebook a reader runs and the
package it installs are the same release.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SETUP_TAG = "colab-setup"
SOLUTION_TAG = "exercise-solution"
# Colab ignores jupyter.source_hidden; it folds a code cell shown as a form (metadata cellView: form) whose first
# line is a #@title, showing the title and a "Show code" link instead of the code.
COLAB_TITLE = '#@title Solution (folded on Colab: "Show code" to read it)'


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def repository_url() -> str:
    return book_config()["repository"]["url"].rstrip("/")


def release_tag() -> str:
    """``v<version>``, the version read from ``minigan/__init__.py`` (without importing torch)."""
    text = (ROOT / "minigan" / "__init__.py").read_text(encoding="utf-8")
    return "v" + re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def install_requirement(url: str | None = None) -> str:
    """What the setup cell gives pip: the package at the release's tag."""
    return f"minigan @ git+{url or repository_url()}@{release_tag()}"


def setup_cell_source(url: str | None = None) -> str:
    """The first code cell of every chapter: installs minigan on Colab, does nothing anywhere else."""
    return (
        "# On Colab, install the minigan release this book was built with; anywhere else this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{install_requirement(url)}"'
    )


def chapter_notebooks() -> list[Path]:
    """Every notebook under book/, in name order, skipping build output and checkpoints."""
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in BOOK.rglob("*.ipynb") if not skip & set(p.relative_to(BOOK).parts))


def wants_gpu(nb) -> bool:
    """Whether a chapter runs bigger on a GPU: its code asks for the best device (``get_device("auto")``)."""
    return any(c.cell_type == "code" and 'get_device("auto")' in c.source for c in nb.cells)


def apply_colab_conventions(nb) -> None:
    """Ask Colab for a GPU runtime where the chapter uses one, and keep solutions folded on Colab too."""
    if wants_gpu(nb):
        nb.metadata["accelerator"] = "GPU"  # Colab opens the notebook on a GPU runtime (as d2l's notebooks do)
    else:
        nb.metadata.pop("accelerator", None)
    for cell in nb.cells:
        if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []):
            cell.metadata["cellView"] = "form"
            if not cell.source.startswith("#@title"):
                cell.source = f"{COLAB_TITLE}\n{cell.source}"
