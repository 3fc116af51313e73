"""A character-level LSTM language model, after Karpathy's char-rnn.

Shapes: B batch, T time, E embedding size, H hidden size, V vocabulary.

It uses ``nn.LSTM`` (cuDNN on a GPU) for speed; chapter 3 builds the same
cell from scratch in ``minigan.nn.recurrent`` and checks it against
``nn.LSTM`` [hochreiter1997lstm]. Like the tiny GPT of chapter 4 it maps ids
(B, T) to next-token logits (B, T, V), so ``minigan.lm`` trains, scores and
samples both.
"""
from __future__ import annotations

from torch import Tensor, nn

__all__ = ["CharLSTM"]


class CharLSTM(nn.Module):
    """Embedding -> ``num_layers`` LSTM layers -> linear read-out to next-character logits."""

    def __init__(self, vocab_size: int, *, n_embd: int = 64, hidden: int = 128, num_layers: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, n_embd)
        self.lstm = nn.LSTM(n_embd, hidden, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx: Tensor) -> Tensor:
        """Next-token logits (B, T, V) for ids ``idx`` (B, T), starting from a zero state."""
        h, _ = self.lstm(self.embed(idx))  # (B, T, E) -> (B, T, H)
        return self.head(h)  # (B, T, V)
