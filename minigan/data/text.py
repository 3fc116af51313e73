"""A real English corpus that is always offline, a character tokenizer, and language-model batches.

The corpus is the text of Python's own documentation topics (``pydoc_data.topics``,
the pages ``help("for")`` shows): about 465,000 characters of technical English,
bundled with every CPython. Shapes: B batch, T block (context) length.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["load_corpus", "CharTokenizer", "TextData"]


def load_corpus(name: str = "pydoc") -> str:
    """The bundled corpus as one string: Python's documentation topics, in sorted topic order."""
    if name != "pydoc":
        raise ValueError(f"unknown corpus {name!r}; the only bundled corpus is 'pydoc'")
    try:
        from pydoc_data.topics import topics
    except ImportError as err:  # some Linux distributions split pydoc_data into its own package
        raise RuntimeError("Python's pydoc_data module is missing; install your distribution's "
                           "full Python standard library (e.g. the python3-doc / libpython3-stdlib package)") from err
    return "\n\n".join(topics[k].strip() for k in sorted(topics)) + "\n"


class CharTokenizer:
    """Maps each distinct character of a text to an integer id (sorted by code point), and back."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> Tensor:
        """Ids (len(s),) as int64; an unknown character raises a ``ValueError`` naming it."""
        try:
            return torch.tensor([self.stoi[c] for c in s], dtype=torch.long)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the tokenizer's vocabulary") from None

    def decode(self, ids: Tensor | list[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass
class TextData:
    """A corpus encoded once and split into a training head and a validation tail.

    ``batch`` draws B random windows of T+1 characters: inputs are the first T,
    targets the last T (each position predicts the next character).
    """

    tokenizer: CharTokenizer
    train: Tensor  # (N_train,) int64
    val: Tensor  # (N_val,) int64

    @classmethod
    def from_text(cls, text: str, *, val_fraction: float = 0.1) -> "TextData":
        if not 0 < val_fraction < 1:
            raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
        tok = CharTokenizer(text)
        ids = tok.encode(text)
        n_val = int(len(ids) * val_fraction)
        return cls(tok, ids[:-n_val], ids[-n_val:])

    @classmethod
    def pydoc(cls, *, val_fraction: float = 0.1) -> "TextData":
        """The bundled pydoc corpus, last ``val_fraction`` held out for validation."""
        return cls.from_text(load_corpus("pydoc"), val_fraction=val_fraction)

    def batch(self, split: str, *, batch_size: int, block_size: int,
              generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Random (x, y) windows from ``split`` ("train" or "val"): both (B, T), y is x shifted by one."""
        data = {"train": self.train, "val": self.val}.get(split)
        if data is None:
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if block_size >= len(data):
            raise ValueError(f"block_size {block_size} does not fit in the {split} split ({len(data)} characters)")
        starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)  # (B,)
        offsets = torch.arange(block_size + 1)  # (T+1,)
        windows = data[starts[:, None] + offsets]  # (B, T+1)
        return windows[:, :-1], windows[:, 1:]
