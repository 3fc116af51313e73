"""What every chapter notebook shares: the Colab setup cell and the repository URL it installs from.

The repository URL lives in one place, ``_config.yml`` (``repository.url``);
the setup cell is generated from it, so the Colab button, the notebook's
``%pip install`` and the book all agree.
"""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SETUP_TAG = "colab-setup"


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def repository_url() -> str:
    return book_config()["repository"]["url"].rstrip("/")


def setup_cell_source(url: str | None = None) -> str:
    """The first code cell of every chapter: installs minigan on Colab, does nothing anywhere else."""
    url = url or repository_url()
    return (
        "# On Colab, install minigan from the book's repository; anywhere else this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "minigan @ git+{url}"'
    )


def chapter_notebooks() -> list[Path]:
    """Every notebook under book/, in name order, skipping build output and checkpoints."""
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in BOOK.rglob("*.ipynb") if not skip & set(p.relative_to(BOOK).parts))
