"""Synthetic sequence tasks with a known answer, to see what a model can carry over long spans.

Each task gives token sequences for a causal (next-token) model: ``x`` (N, T)
are the inputs and ``y`` (N, T) the next-token targets, with ``IGNORE`` (-100,
what ``F.cross_entropy`` skips) wherever the next token cannot be known, so the
loss and the accuracy count only the answer positions.

- ``copy``:    s_1 .. s_L  SEP  s_1 .. s_L          (repeat the sequence)
- ``reverse``: s_1 .. s_L  SEP  s_L .. s_1          (repeat it backwards)
- ``recall``:  k_1 v_1 .. k_n v_n  SEP  k_q v_q     (associative recall: the value of a queried key)

Symbols are ids ``0 .. vocab-1``; ``SEP`` is id ``vocab``, so a model needs
``vocab + 1`` embeddings (:func:`task_vocab_size`).
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["IGNORE", "TASKS", "make_sequence_task", "task_vocab_size", "answer_accuracy"]

IGNORE = -100
TASKS = ("copy", "reverse", "recall")


def task_vocab_size(vocab: int) -> int:
    """Embedding-table size a model needs for a task over ``vocab`` symbols (they plus SEP)."""
    return vocab + 1


def make_sequence_task(task: str, n: int, *, length: int = 16, vocab: int = 8,
                       seed: int = 0) -> tuple[Tensor, Tensor]:
    """``n`` examples of ``task`` with ``length`` symbols (or ``length`` key-value pairs for recall).

    Returns ``(x, y)``, both (n, T) int64, with T = 2 * length for copy and
    reverse and 2 * length + 2 for recall.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    g = torch.Generator().manual_seed(seed)
    sep = torch.full((n, 1), vocab, dtype=torch.long)
    if task in ("copy", "reverse"):
        s = torch.randint(vocab, (n, length), generator=g)  # (n, L)
        answer = s if task == "copy" else s.flip(1)
        seq = torch.cat([s, sep, answer], dim=1)  # (n, 2L+1)
        first_answer = length  # x[:, L] is SEP, whose next token is the first answer symbol
    else:
        if length > vocab:
            raise ValueError(f"recall needs distinct keys: length {length} > vocab {vocab}")
        keys = torch.argsort(torch.rand(n, vocab, generator=g), dim=1)[:, :length]  # (n, L), distinct per row
        values = torch.randint(vocab, (n, length), generator=g)  # (n, L)
        pairs = torch.stack([keys, values], dim=2).reshape(n, 2 * length)  # (n, 2L): k1 v1 k2 v2 ...
        q = torch.randint(length, (n, 1), generator=g)  # (n, 1) which pair is queried
        query = torch.cat([keys.gather(1, q), values.gather(1, q)], dim=1)  # (n, 2)
        seq = torch.cat([pairs, sep, query], dim=1)  # (n, 2L+3)
        first_answer = 2 * length + 1  # x[:, 2L+1] is the queried key; its next token is the value
    x, y = seq[:, :-1].clone(), seq[:, 1:].clone()  # (n, T)
    y[:, :first_answer] = IGNORE
    return x, y


def answer_accuracy(logits: Tensor, y: Tensor) -> float:
    """Fraction of answer positions (``y != IGNORE``) where the argmax of ``logits`` (N, T, V) is right."""
    mask = y != IGNORE  # (N, T)
    return (logits.argmax(dim=-1)[mask] == y[mask]).float().mean().item()
