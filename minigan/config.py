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

A config also owns the checks on its settings, in one place: every field is
checked against its declared type (``int``, ``float``, ``bool``, ``str``,
``tuple[float, float]``, ``int | None``), and a config may list the values a
field can take (``CHOICES``) and the interval it must lie in (``RANGES``, in
interval notation: ``"[0, 1)"``). :meth:`Presets.check` runs these (a config's
``__post_init__`` calls it), and :meth:`Presets.parse_overrides` reads
command-line ``KEY=VALUE`` text by each field's declared type, so a mistyped
setting ends in one line naming the field and what it expects.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, ClassVar, Iterable, TypeVar

import torch

from .utils import is_accelerator, smoke_mode

__all__ = ["ConfigError", "Presets", "auto_preset"]

T = TypeVar("T", bound="Presets")


def auto_preset(device: str | torch.device = "auto") -> str:
    """The preset ``"auto"`` stands for on ``device``: ``"gpu"`` on CUDA or MPS (and in smoke mode), else ``"cpu"``."""
    return "gpu" if is_accelerator(device) or smoke_mode() else "cpu"


class ConfigError(ValueError):
    """A setting a config cannot take: the message names the field and what it expects."""


class Presets:
    """Mixin for dataclass configs: ``from_preset(name)``, ``preset_names()``, and the checks on each field."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"cpu": {}}
    CHOICES: ClassVar[dict[str, tuple]] = {}  # field -> the values it may take
    RANGES: ClassVar[dict[str, str]] = {}  # field -> an interval such as "[1, inf)" or "[0, 1)" (each item for tuples)
    # Smoke mode only ($MINIGAN_SMOKE, see minigan.utils): loop lengths (and, where a step is costly on a CPU, batch
    # sizes) that cut a run to a few small steps. Applied over the preset and any overrides, they leave the networks
    # as the preset builds them, so every chapter's GPU configuration runs end to end on a CPU in seconds.
    SMOKE: ClassVar[dict[str, Any]] = {}

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        """Each field's declared type, e.g. ``{"ngf": int, "betas": tuple[float, float], ...}``."""
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def parse_value(cls, name: str, text: str) -> Any:
        """``text`` as a value of field ``name``, read by the field's declared type; a ``ConfigError`` if it is not one."""
        types_ = cls.field_types()
        if name not in types_:
            raise ConfigError(f"{cls.__name__} has no field {name!r}; fields: {', '.join(sorted(types_))}")
        kind = types_[name]
        try:
            return _parse(kind, text.strip())
        except ValueError:
            default = {f.name: f.default for f in dataclasses.fields(cls)}[name]  # type: ignore[arg-type]
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
            raise ConfigError(f"{name} expects {_describe(kind)} (the default is {shown}), got {text!r}") from None

    @classmethod
    def parse_overrides(cls, pairs: Iterable[str]) -> dict[str, Any]:
        """``["n_epochs=50", "amp=bf16", ...]`` (the command line's ``--set``) as field overrides."""
        out = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ConfigError(f"--set expects KEY=VALUE, got {pair!r}")
            out[key.strip()] = cls.parse_value(key.strip(), value)
        return out

    def check(self) -> None:
        """Raise a ``ConfigError`` for the first field whose value is not of its type, choices or range."""
        for name, kind in self.field_types().items():
            value = getattr(self, name)
            if not _is_instance(value, kind):
                raise ConfigError(f"{name} must be {_describe(kind)}, got {value!r}")
            if name in self.CHOICES and value not in self.CHOICES[name]:
                raise ConfigError(f"{name} must be one of {', '.join(map(repr, self.CHOICES[name]))}, got {value!r}")
            if name in self.RANGES and value is not None:
                for v in (value if isinstance(value, (tuple, list)) else (value,)):
                    if not _in_interval(v, self.RANGES[name]):
                        raise ConfigError(f"{name} must be in {self.RANGES[name]}, got {value!r}")

    @classmethod
    def preset_names(cls) -> list[str]:
        return list(cls.PRESETS)

    @classmethod
    def from_preset(cls: type[T], name: str = "auto", *, device: str | torch.device = "auto",
                    **overrides: Any) -> T:
        """Build the config for preset ``name`` (``"auto"`` picks by ``device``), then apply ``overrides``.

        In smoke mode the class's ``SMOKE`` loop lengths are applied last.
        """
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
        smoke = cls.SMOKE if smoke_mode() else {}
        return cls(**{**cls.PRESETS[name], **overrides, **smoke})  # type: ignore[call-arg]


def _parts(kind: Any) -> tuple[Any, tuple]:
    """``int | None`` -> (Union, (int, None)); ``tuple[float, float]`` -> (tuple, (float, float)); ``int`` -> (int, ())."""
    origin = typing.get_origin(kind)
    return (origin or kind), tuple(None if a is type(None) else a for a in typing.get_args(kind))


def _parse(kind: Any, text: str) -> Any:
    origin, args = _parts(kind)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and None in args:
            return None
        (inner,) = [a for a in args if a is not None]
        return _parse(inner, text)
    if origin is tuple:
        items = [t for t in text.strip("()[] ").split(",") if t.strip()]
        if len(items) != len(args):
            raise ValueError(text)
        return tuple(_parse(a, t.strip()) for a, t in zip(args, items))
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(text)
        return text.lower() in ("true", "1", "yes")
    if kind is int:
        return int(text)
    if kind is float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    return kind(text)  # str


def _is_instance(value: Any, kind: Any) -> bool:
    origin, args = _parts(kind)
    if origin in (typing.Union, types.UnionType):
        return any(value is None if a is None else _is_instance(value, a) for a in args)
    if origin is tuple:
        return isinstance(value, tuple) and len(value) == len(args) and all(map(_is_instance, value, args))
    if kind is float:  # an int is a fine float; a bool is neither
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _describe(kind: Any) -> str:
    origin, args = _parts(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [_describe(a) for a in args if a is not None]
        return " or ".join(inner + (["None"] if None in args else []))
    if origin is tuple:
        return f"{len(args)} comma-separated {_describe(args[0]).split(' ', 1)[1]}s"
    return {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}.get(kind, str(kind))


def _in_interval(value: float, interval: str) -> bool:
    """Whether ``value`` lies in ``interval``, written as "[lo, hi]", "[lo, hi)", "(lo, inf)" and so on."""
    lo, hi = (float(t) for t in interval[1:-1].split(","))
    above = value >= lo if interval[0] == "[" else value > lo
    below = value <= hi if interval[-1] == "]" else value < hi
    return above and below
