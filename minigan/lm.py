"""Language-model helpers shared by the RNN and Transformer chapters: loss, evaluation, sampling.

A language model here is any module mapping token ids ``idx`` (B, T) to
next-token logits (B, T, V): the char-LSTM of chapter 3 and the tiny GPT of
chapter 4 both are, so they train, evaluate and sample with the same code.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .data.text import TextData

__all__ = ["lm_loss", "estimate_loss", "generate"]


def lm_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean next-token cross-entropy of ``logits`` (B, T, V) against ``targets`` (B, T); -100 is skipped."""
    B, T, V = logits.shape
    return F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=-100)


@torch.no_grad()
def estimate_loss(model: nn.Module, data: TextData, *, split: str = "val", batch_size: int = 32,
                  block_size: int = 64, batches: int = 20, seed: int = 1234) -> float:
    """Mean loss over ``batches`` windows of ``split``, always the same windows for the same ``seed``.

    A fixed seed means two models are scored on exactly the same text, so
    their losses compare fairly.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for _ in range(batches):
        x, y = data.batch(split, batch_size=batch_size, block_size=block_size, generator=g)
        total += lm_loss(model(x.to(device)), y.to(device)).item()
    model.train(was_training)
    return total / batches


@torch.no_grad()
def generate(model: nn.Module, idx: Tensor, max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, block_size: int | None = None,
             generator: torch.Generator | None = None) -> Tensor:
    """Extend ``idx`` (B, T0) by sampling ``max_new_tokens`` tokens one at a time; returns (B, T0 + n).

    The context fed to the model is cropped to the last ``block_size`` tokens
    if given (a Transformer's limit). Sampling draws from ``generator`` on the
    CPU, so a seeded call gives the same text whatever the model's device.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    for _ in range(max_new_tokens):
        context = idx if block_size is None else idx[:, -block_size:]
        logits = model(context.to(device))[:, -1, :].float().cpu() / temperature  # (B, V)
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]  # (B, 1)
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = F.softmax(logits, dim=-1)  # (B, V)
        nxt = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
        idx = torch.cat([idx, nxt], dim=1)
    model.train(was_training)
    return idx
