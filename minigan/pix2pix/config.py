"""pix2pix's configuration: the paper's recipe by default, plus presets for a 2-core CPU and a Colab GPU.

Names follow the paper [isola2017pix2pix] and, in brackets, the reference
code's options: λ = ``lambda_l1`` [``--lambda_L1``], the U-Net's depth
``num_downs`` [``--netG unet_256`` is 8, ``unet_128`` is 7], the learning
rate held for ``n_epochs`` and then decayed linearly over ``n_epochs_decay``
[``--n_epochs``, ``--n_epochs_decay``]; the schedule is CycleGAN's
(:func:`minigan.cyclegan.config.linear_decay_factor`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..config import ConfigError, Presets
from ..cyclegan.networks import NORMS
from ..gan.losses import LOSSES

__all__ = ["Pix2PixConfig", "ARCHITECTURE"]


@dataclass
class Pix2PixConfig(Presets):
    """Networks, losses and optimisation of a pix2pix model. The defaults are the paper's recipe at 256x256."""

    image_size: int = 256
    in_channels: int = 3  # the input image x (A in the reference)
    out_channels: int = 3  # the output image y (B)
    ngf: int = 64  # U-Net width: ngf, 2ngf, 4ngf, then 8ngf channels
    num_downs: int = 8  # stride-2 stages: 8 takes 256x256 to 1x1 (unet_256), 7 takes 128x128 to 1x1 (unet_128)
    skips: bool = True  # False: the same encoder-decoder without skip connections (the paper's ablation)
    dropout: bool = True  # Dropout(0.5) in the decoder's inner stages, the paper's noise z
    ndf: int = 64  # conditional PatchGAN width; it sees in_channels + out_channels
    n_layers_d: int = 3  # 3 = the 70x70 PatchGAN
    norm: str = "batch"  # "batch" as the paper; "instance" as CycleGAN
    loss: str = "nonsaturating"  # the reference's gan_mode "vanilla": cross-entropy, G's non-saturating form
    lambda_l1: float = 100.0  # λ: L_G = L_cGAN + λ ||y - G(x)||₁; 0 = GAN alone
    gan_loss: bool = True  # False drops the adversarial term: L1 alone (the paper's blurry baseline)
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 1
    n_epochs: int = 100  # epochs at the initial learning rate
    n_epochs_decay: int = 100  # epochs of linear decay towards 0
    epoch_steps: int | None = None  # iterations per epoch; None = one pass over the pairs

    PRESETS: ClassVar[dict[str, dict]] = {
        "paper": {},
        # 128x128 on a Colab GPU: the reference's unet_128, a shorter schedule
        "gpu": {"image_size": 128, "num_downs": 7, "n_epochs": 20, "n_epochs_decay": 20, "batch_size": 4},
        # 32x32 scenes on a 2-core CPU: a 5-stage U-Net (32 -> 1) and the 34x34 two-layer PatchGAN, the same
        # iterations, batch and rate as CycleGAN's cpu preset so that the two can be compared at equal steps.
        # The reference puts dropout in num_downs - 5 stages, so this U-Net has none: its G is deterministic
        "cpu": {"image_size": 32, "ngf": 16, "num_downs": 5, "ndf": 32, "n_layers_d": 2, "lr": 1e-3,
                "batch_size": 4, "n_epochs": 8, "n_epochs_decay": 8, "epoch_steps": 50},
    }
    SMOKE: ClassVar[dict] = {"n_epochs": 0, "n_epochs_decay": 1, "epoch_steps": 2}

    CHOICES: ClassVar[dict[str, tuple]] = {
        "norm": NORMS,
        "loss": tuple(name for name, l in LOSSES.items() if l.clip is None and not l.gp_weight),
    }
    RANGES: ClassVar[dict[str, str]] = {
        "image_size": "[32, inf)", "in_channels": "[1, inf)", "out_channels": "[1, inf)", "ngf": "[1, inf)",
        "num_downs": "[5, inf)", "ndf": "[1, inf)", "n_layers_d": "[1, inf)", "lambda_l1": "[0, inf)",
        "lr": "(0, inf)", "betas": "[0, 1)", "batch_size": "[1, inf)", "n_epochs": "[0, inf)",
        "n_epochs_decay": "[0, inf)", "epoch_steps": "[1, inf)",
    }

    def __post_init__(self):
        if isinstance(self.betas, list):  # as a checkpoint stores it
            self.betas = tuple(self.betas)
        self.check()
        side = 2 ** self.num_downs
        if self.image_size % side:
            raise ConfigError(f"image_size must be divisible by 2 ** num_downs = {side} (the U-Net halves it "
                              f"{self.num_downs} times), got {self.image_size}")
        if not self.gan_loss and self.lambda_l1 == 0:
            raise ConfigError("with gan_loss=False and lambda_l1=0 the generator has nothing to learn from")
        if self.total_epochs < 1:
            raise ConfigError(f"n_epochs + n_epochs_decay must be at least 1, got {self.n_epochs} + {self.n_epochs_decay}")

    @property
    def total_epochs(self) -> int:
        return self.n_epochs + self.n_epochs_decay


# fields that shape the weights: a checkpoint loads only into a config that agrees on all of them
ARCHITECTURE = ("image_size", "in_channels", "out_channels", "ngf", "num_downs", "skips", "ndf", "n_layers_d",
                "norm")
