"""A tiny GPT: a stack of pre-LayerNorm Transformer blocks over token and position embeddings.

Shapes: B batch, T time (context length), C embedding size (n_embd),
nh heads, hs head size, V vocabulary.

The layout follows Karpathy's nanoGPT/minGPT [karpathy2022nanogpt], itself
GPT-2's [radford2019language]: each block is ``x + attn(ln(x))`` then
``x + mlp(ln(x))`` (LayerNorm before each sub-layer [ba2016layernorm], unlike
the post-norm of [vaswani2017attention]), the MLP widens 4x with GELU
[hendrycks2016gelu]. ``TinyGPT`` maps ids (B, T) to next-token logits
(B, T, V), so ``minigan.lm`` trains, scores and samples it like the char-LSTM.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from ..config import Presets
from .attention import MultiHeadSelfAttention, PositionalEmbedding

__all__ = ["FeedForward", "Block", "TinyGPT", "GPTConfig"]


class FeedForward(nn.Module):
    """The position-wise MLP of a block: C -> 4C -> GELU -> C, applied to every position alike.

    Shapes: (B, T, C) -> (B, T, C). [vaswani2017attention] eq. 2, with GELU [hendrycks2016gelu].
    """

    def __init__(self, n_embd: int, *, dropout: float = 0.0):
        super().__init__()
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.act = nn.GELU()
        self.proj = nn.Linear(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))  # (B, T, C) -> (B, T, 4C) -> (B, T, C)


class Block(nn.Module):
    """One pre-LayerNorm Transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Shapes: (B, T, C) -> (B, T, C); with ``return_attn=True`` also the
    attention weights (B, nh, T, T). The residual path carries x through
    unchanged, so each sub-layer only adds a correction [he2016resnet].
    [vaswani2017attention], pre-norm as in GPT-2 [radford2019language].
    """

    def __init__(self, n_embd: int, n_head: int, *, causal: bool = True, dropout: float = 0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = MultiHeadSelfAttention(n_embd, n_head, causal=causal, dropout=dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = FeedForward(n_embd, dropout=dropout)

    def forward(self, x: Tensor, *, return_attn: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        a, att = self.attn(self.ln_1(x), return_attn=True)  # (B, T, C), (B, nh, T, T)
        x = x + a  # (B, T, C)
        x = x + self.mlp(self.ln_2(x))  # (B, T, C)
        return (x, att) if return_attn else x


class TinyGPT(nn.Module):
    """A decoder-only Transformer language model: ids (B, T) -> next-token logits (B, T, V).

    Token embedding + position embedding (``pos="learned"``, ``"sinusoidal"``
    or ``"none"``) -> ``n_layer`` causal blocks -> LayerNorm -> linear head.
    Weights start as in nanoGPT/GPT-2: normal(0, 0.02), the projections that
    feed the residual stream scaled by 1/sqrt(2 n_layer)
    [karpathy2022nanogpt, radford2019language].
    """

    def __init__(self, vocab_size: int, *, block_size: int = 64, n_layer: int = 2, n_head: int = 4,
                 n_embd: int = 64, dropout: float = 0.0, pos: str = "learned"):
        super().__init__()
        if pos not in ("none", *PositionalEmbedding.KINDS):
            raise ValueError(f"unknown pos {pos!r}; choose 'learned', 'sinusoidal' or 'none'")
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = None if pos == "none" else PositionalEmbedding(block_size, n_embd, kind=pos)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, causal=True, dropout=dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # attention and MLP outputs, added to the residual stream
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    @classmethod
    def from_config(cls, cfg: "GPTConfig") -> "TinyGPT":
        """The model ``cfg`` describes (its training fields are ignored here)."""
        return cls(cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer, n_head=cfg.n_head,
                   n_embd=cfg.n_embd, dropout=cfg.dropout, pos=cfg.pos)

    def forward(self, idx: Tensor, *, return_attn: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Logits (B, T, V) for ids ``idx`` (B, T); with ``return_attn`` also each layer's (B, nh, T, T) weights."""
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.block_size}; crop the context "
                             f"(e.g. generate(..., block_size=model.block_size))")
        x = self.tok_emb(idx)  # (B, T, C)
        if self.pos_emb is not None:
            x = x + self.pos_emb(T)  # (B, T, C) + (T, C)
        x = self.drop(x)
        maps = []
        for block in self.blocks:
            x, att = block(x, return_attn=True)  # (B, T, C), (B, nh, T, T)
            maps.append(att)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        return (logits, maps) if return_attn else logits


@dataclass
class GPTConfig(Presets):
    """A tiny character GPT and its training budget. Defaults train in seconds on a 2-core CPU.

    ``vocab_size`` defaults to the pydoc corpus's 103 characters; the "gpu"
    preset is nanoGPT's Shakespeare-char model [karpathy2022nanogpt].
    """

    vocab_size: int = 103
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    pos: str = "learned"
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3  # AdamW
    # Chapter 4 races this GPT against a CharLSTM of about the same size at equal
    # training time. Step counts are fixed, so runs are reproducible; they are matched
    # to wall-clock time on the reference 2-core CPU, where a GPT step takes 1.5 to 2
    # LSTM steps (the chapter measures the run-time ratio and asserts it is within 2x).
    lstm_steps: int = 900

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        # on a GPU the time per step of the two models has not been calibrated: equal steps
        "gpu": {"block_size": 256, "n_layer": 6, "n_head": 6, "n_embd": 384, "dropout": 0.2,
                "steps": 5000, "batch_size": 64, "lr": 1e-3, "lstm_steps": 5000},
    }
    SMOKE: ClassVar[dict] = {"steps": 30, "lstm_steps": 30, "batch_size": 4}  # smoke mode only (see config.Presets)
