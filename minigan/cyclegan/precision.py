"""Mixed precision for the CycleGAN steps: which dtype the forward passes run in, and fp16's grad scaler.

On a recent NVIDIA GPU (Ampere and newer: A100, L4, RTX 30xx/40xx) the
convolutions run several times faster in 16-bit floats on tensor cores.
``torch.autocast`` runs each operation in the dtype that suits it (convolutions
and matmuls in 16 bits, reductions and losses in float32) while the weights
and their Adam state stay float32. Two 16-bit formats exist:

- **bfloat16** keeps float32's exponent range, so gradients cannot underflow:
  nothing else is needed. Supported where ``torch.cuda.is_bf16_supported()``.
- **float16** has more mantissa but a narrow range: small gradients flush to
  zero unless the loss is scaled up before ``backward`` and the gradients
  scaled back before the optimizer step, which ``torch.amp.GradScaler`` does
  (and it skips a step whose gradients overflowed). A T4 (Colab's free GPU,
  compute capability 7.5) has float16 tensor cores but no bfloat16 ones.

``amp="auto"`` picks bfloat16 where the GPU has bfloat16 tensor cores, else float16 with a
scaler, and stays in float32 on CPUs and Apple GPUs; ``"off"`` is float32
everywhere, bit for bit the same as not using this module. In smoke mode
(``$MINIGAN_SMOKE``, the test that runs the chapters' GPU paths on a CPU)
``"auto"`` takes an Ampere GPU's path on the CPU, bfloat16 autocast
(``fp16`` as the variable's value: a T4's, float16 with a scaler, which
CPUs run far more slowly: a 128x128 CycleGAN step did not finish in five
minutes where bfloat16 took 0.6 s; tests/test_cyclegan_checkpoint.py trains
that path on small networks).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import Tensor

from ..utils import smoke_mode

__all__ = ["AMP_MODES", "Precision", "bf16_native", "resolve_precision"]

AMP_MODES = ("off", "auto", "bf16", "fp16")


@dataclass
class Precision:
    """How a step runs: forward passes under autocast to ``dtype`` (None: float32), with ``scaler`` for float16."""

    device_type: str = "cpu"
    dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: Tensor) -> None:
        """``loss.backward()``, on the scaled loss when there is a grad scaler (gradients add up across calls)."""
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``; with a grad scaler: unscale, skip the step if a gradient is inf or nan, update the scale."""
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)
            self.scaler.update()

    def state_dict(self) -> dict:
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)

    @property
    def name(self) -> str:
        return {None: "float32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]


def bf16_native(device: torch.device | str) -> bool:
    """True on a CUDA GPU with bfloat16 tensor cores (compute capability 8.0 and up: Ampere, Ada, Hopper...).

    Not ``torch.cuda.is_bf16_supported()``: by default that also says True
    where bfloat16 is only emulated (a T4, capability 7.5), which is slower
    than float16 there.
    """
    device = torch.device(device)
    return device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= 8


def resolve_precision(amp: str, device: torch.device | str) -> Precision:
    """The :class:`Precision` that ``amp`` (one of :data:`AMP_MODES`) means on ``device``.

    ``"auto"``: bf16 on a CUDA GPU that supports it, fp16 with a scaler on an
    older one, float32 elsewhere. ``"bf16"`` and ``"fp16"`` are taken as asked
    (CPU autocast supports both; use them there to test, not for speed).
    """
    if amp not in AMP_MODES:
        raise ValueError(f"amp must be one of {AMP_MODES}, got {amp!r}")
    device_type = torch.device(device).type
    if amp == "auto":
        if device_type == "cuda":
            amp = "bf16" if bf16_native(device) else "fp16"
        elif smoke_mode():
            amp = "fp16" if smoke_mode() == "fp16" else "bf16"
        else:
            return Precision(device_type)
    if amp == "off":
        return Precision(device_type)
    if amp == "bf16":
        return Precision(device_type, torch.bfloat16)
    return Precision(device_type, torch.float16, torch.amp.GradScaler(device_type))
