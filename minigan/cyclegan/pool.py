"""The history pool of generated images that CycleGAN's discriminators train on [zhu2017cyclegan].

"To reduce model oscillation [...] we update the discriminators using a
history of generated images rather than the ones produced by the latest
generators. We keep an image buffer that stores the 50 previously created
images" (CycleGAN, section 4; the idea is Shrivastava et al.'s). The rule, as
in the authors' ``ImagePool``: while the pool is not full, each new fake is
stored and returned as it is. Once it is full, each new fake is, with
probability 1/2, swapped for a random stored one (the stored one is returned,
the new one takes its place), and otherwise returned as it is.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ImagePool"]


class ImagePool:
    """A buffer of up to ``size`` past fakes; ``size=0`` turns it off (every query returns its input)."""

    def __init__(self, size: int = 50, *, generator: torch.Generator | None = None):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.generator = generator  # the coin flips and picks, so a seeded run is repeatable
        self.images: list[Tensor] = []  # each (C, H, W), detached

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """Fakes (B, C, H, W) for the discriminator: a mix of ``images`` and older fakes, detached."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:  # (C, H, W)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator).item() > 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)  # (B, C, H, W)
