"""CycleGAN's configuration: the paper's recipe by default, plus presets that fit a CPU and a Colab GPU.

Names follow the paper [zhu2017cyclegan] and, in brackets, the reference
code's options: λ = ``lambda_cycle`` [``--lambda_A``, ``--lambda_B``], the
identity weight as a fraction of λ [``--lambda_identity``], the history pool
[``--pool_size``], the learning rate held for ``n_epochs`` and then decayed
linearly over ``n_epochs_decay`` [``--n_epochs``, ``--n_epochs_decay``].

Every check on a setting lives here: each field's type, the values ``amp``
and ``loss`` may take (``CHOICES``, which the command line offers too), the
interval each number must lie in (``RANGES``), and the few rules that tie two
fields together. A config that exists is one the trainer can run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..config import ConfigError, Presets
from ..gan.losses import LOSSES
from .precision import AMP_MODES

__all__ = ["CycleGANConfig", "ARCHITECTURE", "check_same_networks", "linear_decay_factor"]


@dataclass
class CycleGANConfig(Presets):
    """Networks, losses and optimisation of a CycleGAN. The defaults are the paper's recipe at 256x256."""

    image_size: int = 256
    channels: int = 3
    ngf: int = 64  # generator width: ngf, 2ngf, 4ngf channels
    n_blocks: int = 9  # residual blocks: 9 for 256x256, 6 for 128x128 (the reference's resnet_9blocks/6blocks)
    ndf: int = 64  # PatchGAN width
    n_layers_d: int = 3  # 3 = the 70x70 PatchGAN
    loss: str = "lsgan"  # a name in minigan.gan.LOSSES; the paper's least-squares loss, D's objective halved
    lambda_cycle: float = 10.0  # λ, both directions
    lambda_identity: float = 0.5  # identity loss weight, as a fraction of λ: 0.5 * 10 = 5
    cycle_loss: bool = True  # False drops both cycle terms (an ablation); the identity loss keeps its weight λ·λ_id
    pool_size: int = 50  # history of fakes for D; 0 = off
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 1
    accum_steps: int = 1  # gradient accumulation: each batch in this many micro-batches (same gradient, less memory)
    n_epochs: int = 100  # epochs at the initial learning rate
    n_epochs_decay: int = 100  # epochs of linear decay towards 0
    epoch_steps: int | None = None  # iterations per epoch; None = one pass over the larger domain, as the reference
    amp: str = "off"  # mixed precision: "off" (float32), "auto" (bf16 or fp16 on CUDA), "bf16", "fp16"; see precision.py
    channels_last: bool = False  # NHWC layout for networks and batches (faster tensor-core convolutions); not on MPS
    ema: float = 0.0  # weight averaging of G and F (0 = off, the paper's recipe): after every iteration
    # avg <- ema * avg + (1 - ema) * weights; translate() then uses the averages (CycleGAN.G_avg, F_avg)

    PRESETS: ClassVar[dict[str, dict]] = {
        "paper": {},
        # 128x128 on a Colab GPU: the reference's 6-block generator, a shorter schedule
        # with mixed precision and channels_last ("auto" falls back to float32 on a CPU or an Apple GPU)
        "gpu": {"image_size": 128, "n_blocks": 6, "n_epochs": 20, "n_epochs_decay": 20, "amp": "auto",
                "channels_last": True},
        # small images and narrow networks for a 2-core CPU; a 2-layer PatchGAN (34x34 patches) suits 32x32.
        # 800 iterations of batch 4 at 5x the paper's rate: 0.06 to 0.1 s each on 2 cores, about a minute in all.
        # Measured on the scenes benchmark over seeds and CPUs (tests/test_cyclegan_quality.py): with 600
        # iterations the stripes' share of black, and so the colour score, still swung from run to run; with
        # discriminators as narrow as the generators (ndf 16) F sometimes hid a faint hatching in the sand for G
        # to read back (the cycle loss's loophole), which twice as wide ones catch. Even at the end of the decay
        # the last iteration's weights still swing (one seed's worst part went 0.40, 0.49, 0.83 of its bar at
        # iterations 700, 750, 800 on one thread); the generators' weight averages (ema 0.99: about the last
        # 100 iterations) do not.
        "cpu": {"image_size": 32, "ngf": 16, "n_blocks": 3, "ndf": 32, "n_layers_d": 2, "lr": 1e-3,
                "batch_size": 4, "n_epochs": 8, "n_epochs_decay": 8, "epoch_steps": 50, "ema": 0.99},
    }
    # smoke mode only (Presets): 2 iterations, in the decay (the networks are the preset's; they are fully
    # convolutional, so 64x64 images run the same code at a quarter of a 128x128 step's cost)
    SMOKE: ClassVar[dict] = {"n_epochs": 0, "n_epochs_decay": 1, "epoch_steps": 2, "image_size": 64}

    # the GAN losses the steps train as their papers do (WGAN's clip and WGAN-GP's penalty are not applied here)
    CHOICES: ClassVar[dict[str, tuple]] = {
        "amp": AMP_MODES,
        "loss": tuple(name for name, l in LOSSES.items() if l.clip is None and not l.gp_weight),
    }
    RANGES: ClassVar[dict[str, str]] = {
        "image_size": "[4, inf)", "channels": "[1, inf)", "ngf": "[1, inf)", "n_blocks": "[0, inf)",
        "ndf": "[1, inf)", "n_layers_d": "[1, inf)", "lambda_cycle": "[0, inf)", "lambda_identity": "[0, inf)",
        "pool_size": "[0, inf)", "lr": "(0, inf)", "betas": "[0, 1)", "batch_size": "[1, inf)",
        "accum_steps": "[1, inf)", "n_epochs": "[0, inf)", "n_epochs_decay": "[0, inf)", "epoch_steps": "[1, inf)",
        "ema": "[0, 1)",
    }

    def __post_init__(self):
        if isinstance(self.betas, list):  # as a checkpoint stores it
            self.betas = tuple(self.betas)
        self.check()  # types, CHOICES and RANGES
        if self.accum_steps > self.batch_size:
            raise ConfigError(f"accum_steps must be between 1 and batch_size ({self.batch_size}), got {self.accum_steps}")
        if self.image_size % 4:
            raise ConfigError(f"image_size must be divisible by 4 (the generator halves it twice), got {self.image_size}")
        if self.total_epochs < 1:
            raise ConfigError(f"n_epochs + n_epochs_decay must be at least 1, got {self.n_epochs} + {self.n_epochs_decay}")

    @property
    def total_epochs(self) -> int:
        return self.n_epochs + self.n_epochs_decay


def linear_decay_factor(epoch: int, n_epochs: int, n_epochs_decay: int) -> float:
    """The learning-rate multiplier for 0-based ``epoch``, exactly as the reference's ``linear`` policy.

    1.0 for the first ``n_epochs`` epochs, then 1 - (epoch + 1 - n_epochs) / (n_epochs_decay + 1):
    with the paper's 100 + 100 epochs, epoch 100 trains at 100/101 of the rate
    and the last one (199) at 1/101; the rate reaches 0 only after training.
    Past the schedule (``epoch >= n_epochs + n_epochs_decay``, where the
    reference never goes) it stays at 0 rather than turning negative, which
    would make the optimizer climb the loss.
    """
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    return max(0.0, 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1))


ARCHITECTURE = ("image_size", "channels", "ngf", "n_blocks", "ndf", "n_layers_d")  # fields that shape the weights


def check_same_networks(saved: dict, cfg: CycleGANConfig) -> None:
    """Raise a ``ValueError`` naming each setting where a checkpoint's networks differ from ``cfg``'s.

    ``saved`` is the config a checkpoint stores (a dict). ``image_size`` is
    included: the networks would load, but a run resumed at another size is
    not the run that was saved. So is whether the generators' weight averages
    are kept (``ema`` > 0).
    """
    diffs = [f"{k}={saved.get(k)!r} in the checkpoint but {getattr(cfg, k)!r} here"
             for k in ARCHITECTURE if saved.get(k) != getattr(cfg, k)]
    saved_ema = saved.get("ema", 0.0)  # checkpoints older than weight averaging have none
    if (saved_ema > 0) != (cfg.ema > 0):
        diffs.append(f"ema={saved_ema!r} in the checkpoint but {cfg.ema!r} here (averaged networks "
                     f"{'saved' if saved_ema > 0 else 'missing'})")
    if diffs:
        raise ValueError("the checkpoint is from a different architecture: " + "; ".join(diffs))
