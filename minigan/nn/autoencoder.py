"""A small convolutional autoencoder for the 8x8 digits: the first step from classifying to generating.

Shapes: B batch, C channels, H, W image size (8, 8), Z code size.

The encoder squeezes an image into a code of ``code_dim`` numbers, the decoder
rebuilds the image from the code, and both are trained together to make the
reconstruction match the input (Hinton & Salakhutdinov, 2006
[hinton2006reducing]). The decoder is then a map from codes to images, which
looks like a generator; chapter 5 shows why it is a poor one (it was only ever
trained on the codes the encoder produces).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import Presets
from ..train import History, batches, fit

__all__ = ["AEConfig", "ConvAutoencoder", "train_autoencoder"]


@dataclass
class AEConfig(Presets):
    """A :class:`ConvAutoencoder` and its training budget. Defaults train in seconds on a 2-core CPU."""

    code_dim: int = 8
    channels: int = 16
    steps: int = 800
    batch_size: int = 64
    lr: float = 3e-3

    PRESETS: ClassVar[dict[str, dict]] = {
        "cpu": {},
        "gpu": {"channels": 64, "steps": 6000, "batch_size": 128},
    }
    SMOKE: ClassVar[dict] = {"steps": 10}  # smoke mode only (see minigan.config.Presets)


class ConvAutoencoder(nn.Module):
    """Conv encoder 8x8 -> 4x4 -> code, and its mirror image as decoder; pixels in [0, 1].

    ``encode``: (B, 1, 8, 8) -> (B, Z); ``decode``: (B, Z) -> (B, 1, 8, 8);
    ``forward`` = decode(encode(x)). [hinton2006reducing]
    """

    def __init__(self, *, code_dim: int = 8, channels: int = 16) -> None:
        super().__init__()
        if code_dim < 1 or channels < 1:
            raise ValueError(f"code_dim and channels must be >= 1, got {code_dim} and {channels}")
        self.code_dim, self.channels = code_dim, channels
        C = channels
        self.enc_conv = nn.Sequential(
            nn.Conv2d(1, C, 3, padding=1), nn.ReLU(),  # (B, C, 8, 8)
            nn.Conv2d(C, 2 * C, 3, stride=2, padding=1), nn.ReLU(),  # (B, 2C, 4, 4)
        )
        self.enc_fc = nn.Linear(2 * C * 16, code_dim)
        self.dec_fc = nn.Linear(code_dim, 2 * C * 16)
        self.dec_conv = nn.Sequential(
            nn.ConvTranspose2d(2 * C, C, 4, stride=2, padding=1), nn.ReLU(),  # (B, C, 8, 8)
            nn.Conv2d(C, 1, 3, padding=1),  # (B, 1, 8, 8) logits of the pixels
        )

    def encode(self, x: Tensor) -> Tensor:
        """Images (B, 1, 8, 8) -> codes (B, Z)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 8, 8):
            raise ValueError(f"ConvAutoencoder.encode expects images of shape (B, 1, 8, 8), got "
                             f"{tuple(x.shape)}; reshape flat digits with x.view(-1, 1, 8, 8)")
        h = self.enc_conv(x)  # (B, 2C, 4, 4)
        return self.enc_fc(h.flatten(1))  # (B, Z)

    def decode(self, z: Tensor) -> Tensor:
        """Codes (B, Z) -> images (B, 1, 8, 8) with pixels in [0, 1]."""
        if z.dim() != 2 or z.shape[1] != self.code_dim:
            raise ValueError(f"ConvAutoencoder.decode expects codes of shape (B, {self.code_dim}), "
                             f"got {tuple(z.shape)}")
        h = F.relu(self.dec_fc(z)).view(-1, 2 * self.channels, 4, 4)  # (B, 2C, 4, 4)
        return torch.sigmoid(self.dec_conv(h))  # (B, 1, 8, 8)

    def forward(self, x: Tensor) -> Tensor:
        """Reconstructions (B, 1, 8, 8) of images (B, 1, 8, 8)."""
        return self.decode(self.encode(x))


def train_autoencoder(model: ConvAutoencoder, X: Tensor, *, steps: int, batch_size: int = 64,
                      lr: float = 3e-3, generator: torch.Generator | None = None,
                      desc: str = "autoencoder") -> History:
    """Train ``model`` to reconstruct images ``X`` (N, 1, 8, 8) with Adam on the mean squared error.

    Returns the :class:`~minigan.train.History` of the training loss ``mse``.
    """
    device = next(model.parameters()).device
    data = batches(X, batch_size=batch_size, generator=generator, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(i: int) -> dict[str, float]:
        (x,) = next(data)
        loss = F.mse_loss(model(x), x)  # || decode(encode(x)) - x ||²
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"mse": loss.item()}

    model.train()
    history = fit(step, steps, desc=desc)
    model.eval()
    return history
