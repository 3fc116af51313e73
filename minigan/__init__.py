"""minigan: a small, readable PyTorch package for the minigan book.

From an MLP to a CycleGAN you train yourself. The book's chapters import from
here; every piece written from scratch is tested against PyTorch's own.
"""
from .config import Presets, auto_preset
from .train import History, batches, evaluate, fit, fit_classifier, supervised_step
from .utils import count_parameters, get_device, is_accelerator, on_gpu, seed_everything

# The release: the one place it is recorded. Every chapter's Colab setup cell installs the tag v<version>
# and the book's Colab buttons open the notebooks of that tag (tools/nbtools.py, _ext/minigan_book.py);
# pyproject.toml reads it from here. A release is tagged by README.md's "Releasing" steps.
__version__ = "0.1.0"

__all__ = [
    "Presets", "auto_preset", "History", "batches", "evaluate", "fit", "fit_classifier", "supervised_step",
    "count_parameters", "get_device", "is_accelerator", "on_gpu", "seed_everything", "__version__",
]
