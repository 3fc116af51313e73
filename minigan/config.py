"""Named presets for dataclass configs: a CPU-fast default and a bigger one for GPUs.

Every trainer in minigan has a plain ``@dataclass`` config whose defaults run
in seconds on a 2-core CPU (that is what CI executes). A config class lists
its named presets as overrides of those defaults::

    @dataclass
    class MLPConfig(Presets):
        hidden: int = 32
        steps: int = 500
        PRESETS: ClassVar[dict] = {"cpu": {}, "gpu": {"hidden": 128, "steps": 4000}}

    cfg = MLPConfig.from_preset("auto", device=device)   # "gpu" on CUDA/MPS, else "cpu"
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import torch

from .utils import is_accelerator

__all__ = ["Presets", "auto_preset"]

T = TypeVar("T", bound="Presets")


def auto_preset(device: str | torch.device = "auto") -> str:
    """The preset name ``"auto"`` stands for on ``device``: ``"gpu"`` on CUDA or MPS, else ``"cpu"``."""
    return "gpu" if is_accelerator(device) else "cpu"


class Presets:
    """Mixin for dataclass configs: ``from_preset(name)`` and ``preset_names()``."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"cpu": {}}

    @classmethod
    def preset_names(cls) -> list[str]:
        return list(cls.PRESETS)

    @classmethod
    def from_preset(cls: type[T], name: str = "auto", *, device: str | torch.device = "auto",
                    **overrides: Any) -> T:
        """Build the config for preset ``name`` (``"auto"`` picks by ``device``), then apply ``overrides``."""
        if name == "auto":
            name = auto_preset(device)
            if name not in cls.PRESETS:  # a family without a GPU preset runs its CPU one
                name = "cpu"
        if name not in cls.PRESETS:
            raise ValueError(f"{cls.__name__} has no preset {name!r}; choose one of {cls.preset_names()}")
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(overrides) - fields
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}; fields are {sorted(fields)}")
        return cls(**{**cls.PRESETS[name], **overrides})  # type: ignore[call-arg]
