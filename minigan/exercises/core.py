"""What every checker shares: the result, a safe call of the reader's code, and the comparisons.

A checker is a function ``check_xxx(fn) -> CheckResult``. Its body runs the
reader's ``fn`` on fresh inputs, compares with the package's reference and
calls :func:`fail` with a *reason* key and a sentence at the first problem;
if nothing fails it returns what it tested. :func:`checker` turns that into a
:class:`CheckResult` and runs the body with every random generator seeded and
restored afterwards, so a check is repeatable and leaves the notebook's
random state alone, whichever generator the reader's code draws from.
"""
from __future__ import annotations

import functools
import inspect
import numbers
import random
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Sequence

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["CheckResult", "Failed", "fail", "checker", "call", "describe", "new_generator", "randn", "seeded",
           "as_tensor", "as_number", "check_shape", "close", "first_match", "finite", "check_table", "shape_str",
           "SEED", "DTYPE"]

SEED = 20240601  # inputs and the global generators inside a check
DTYPE = torch.float64  # checks compare in double precision, so only real mistakes show


@dataclass(repr=False)
class CheckResult:
    """The verdict on one exercise: ``bool(result)`` is ``passed``; a notebook shows just ``message``."""

    exercise: str
    passed: bool
    reason: str  # a short key: "ok", "shape", "sign", "raised", "not_implemented", ...
    message: str  # the learner-facing sentence, "Correct: ..." or "Not yet: ..."

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message


class Failed(Exception):
    """Stops a check at its first problem; :func:`checker` turns it into a failing :class:`CheckResult`."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def fail(reason: str, message: str) -> NoReturn:
    """Stop the check: ``message`` says what went wrong and how to fix it (it gets the "Not yet:" prefix)."""
    raise Failed(reason, "Not yet: " + message)


def checker(exercise: str) -> Callable[[Callable[..., str]], Callable[..., CheckResult]]:
    """Decorate a check body that returns what it tested (or calls :func:`fail`) into a ``check_xxx``.

    Inside, torch's CPU generator, Python's ``random`` and NumPy's are seeded
    with :data:`SEED`, and all three are restored afterwards.
    """
    def wrap(body: Callable[..., str]) -> Callable[..., CheckResult]:
        @functools.wraps(body)
        def run(*args: Any, **kwargs: Any) -> CheckResult:
            py_state, np_state = random.getstate(), np.random.get_state()
            try:
                with torch.random.fork_rng(devices=[]), torch.enable_grad():
                    torch.default_generator.manual_seed(SEED)  # not torch.manual_seed: leave CUDA's state alone
                    random.seed(SEED)
                    np.random.seed(SEED % 2 ** 32)
                    tested = body(*args, **kwargs)
            except Failed as f:
                return CheckResult(exercise, False, f.reason, f.message)
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)
            return CheckResult(exercise, True, "ok", "Correct: " + tested)
        run.__signature__ = inspect.signature(body).replace(return_annotation="CheckResult")  # for help()
        return run
    return wrap


def new_generator(offset: int = 0) -> torch.Generator:
    """The checker's own CPU generator, seeded from :data:`SEED`."""
    return torch.Generator().manual_seed(SEED + offset)


def randn(g: torch.Generator, *shape: int, scale: float = 1.0) -> Tensor:
    """Standard normal numbers (float64) of ``shape`` from ``g``, times ``scale``."""
    return torch.randn(shape, generator=g, dtype=DTYPE) * scale


def shape_str(t: Tensor | Sequence[int]) -> str:
    """``(2, 3, 5, 5)``: a shape as a learner writes it."""
    shape = tuple(t.shape) if isinstance(t, Tensor) else tuple(t)
    return str(shape)


def describe(name: str, value: Any) -> str:
    """One argument as the error message shows it: ``x (2, 3, 5, 5)``, ``stride=2``, ``D (a Sequential)``."""
    if isinstance(value, Tensor):
        return f"{name} {shape_str(value)}" if value.dim() else f"{name} (a scalar tensor)"
    if value is None or isinstance(value, (bool, numbers.Number, str)):
        return f"{name}={value!r}"
    return f"{name} (a {type(value).__name__})"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= 200 else line[:197] + "..."


def call(fn: Callable[..., Any], *args: Any, names: Sequence[str] = (), what: str = "your function",
         **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; if the reader's code raises, fail with one friendly sentence instead of a traceback."""
    try:
        return fn(*args, **kwargs)
    except Failed:
        raise
    except NotImplementedError:
        fail("not_implemented", f"{what} still raises NotImplementedError; replace the `raise` with your code.")
    except Exception as e:  # noqa: BLE001 -- any error in the reader's code becomes a message
        shown = [describe(n, a) for n, a in zip(names, args)]
        shown += [describe(f"arg{i}", a) for i, a in enumerate(args[len(names):], start=len(names))]
        shown += [describe(k, v) for k, v in kwargs.items()]
        detail = f" ({_first_line(e)})" if _first_line(e) else ""
        with_args = f" when called with {', '.join(shown)}" if shown else ""
        fail("raised", f"{what} raised {type(e).__name__}{detail}{with_args}. "
                       "Check the shapes and types your code assumes against these.")


def as_tensor(value: Any, name: str = "your function's result", *, what: str = "your function") -> Tensor:
    """``value`` as a tensor (NumPy arrays are converted); anything else fails with reason "type"."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if value is None:
        fail("type", f"{what} returned None; did you forget the `return` line?")
    if isinstance(value, (tuple, list)):
        fail("type", f"{name} should be one tensor, but {what} returned a {type(value).__name__} of "
                     f"{len(value)} items.")
    fail("type", f"{name} should be a tensor, but {what} returned a {type(value).__name__}.")


def as_number(value: Any, name: str = "your function's result", *, what: str = "your function") -> float:
    """A Python number from ``value`` (a number or a one-element tensor); anything else fails with reason "type"."""
    if isinstance(value, Tensor) and value.numel() == 1 or isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if value is None:
        fail("type", f"{what} returned None; did you forget the `return` line?")
    fail("type", f"{name} should be a number, but {what} returned a {type(value).__name__}.")


def check_shape(got: Tensor, expected: Tensor | Sequence[int], name: str = "your output", hint: str = "") -> None:
    """Fail with reason "shape" (expected vs got) unless ``got`` has ``expected``'s shape."""
    want = tuple(expected.shape) if isinstance(expected, Tensor) else tuple(expected)
    if tuple(got.shape) != want:
        fail("shape", f"{name} has shape {shape_str(got)}, expected {shape_str(want)}." + (f" {hint}" if hint else ""))


def close(got: Tensor, expected: Tensor, *, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Same shape and the same values up to rounding (compared in float64; a float32 answer passes too)."""
    if not isinstance(got, Tensor) or tuple(got.shape) != tuple(expected.shape):
        return False
    a, b = got.detach().to("cpu", DTYPE), expected.detach().to("cpu", DTYPE)
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def first_match(got: Tensor, variants: Sequence[tuple[str, Tensor | None, str]], **tol: float) -> None:
    """Fail with the first ``(reason, value, message)`` whose value ``got`` equals: a known mistake, named."""
    for reason, value, message in variants:
        if value is not None and close(got, value, **tol):
            fail(reason, message)


def finite(got: Tensor, name: str = "your output", hint: str = "") -> None:
    """Fail with reason "nan" if ``got`` holds a NaN or an infinity."""
    if got.is_floating_point() and not bool(torch.isfinite(got.detach()).all()):
        fail("nan", f"{name} contains NaN or infinite values." + (f" {hint}" if hint else ""))


def seeded(net: nn.Module, g: torch.Generator, scale: float = 0.7) -> nn.Module:
    """``net`` in float64 with every parameter drawn from N(0, scale**2) by ``g``: a small test network."""
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(randn(g, *p.shape, scale=scale))
    return net


def _show(value: float) -> str:
    """A number for a message: an int as it is, a float to 3 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def check_table(fn: Callable[..., Any], cases: Sequence[tuple], reference: Callable[..., float],
                mistakes: Sequence[tuple[str, Callable[..., float], str]], *, names: Sequence[str], hint: str,
                integer: bool = True, what: str = "your function") -> None:
    """Check a function of a few numbers on every case of a table; name the mistake that explains all its answers.

    ``mistakes`` are ``(reason, wrong_formula, message)``: the first formula
    that reproduces every answer of ``fn`` is the diagnosis. Otherwise the
    message shows the first case it gets wrong, then ``hint`` (the formula).
    """
    answers = []
    for case in cases:
        value = call(fn, *case, names=names, what=what)
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if value is None:
            fail("type", f"{what} returned None; did you forget the `return` line?")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            fail("type", f"{what} should return a number, but returned a {type(value).__name__}.")
        answers.append(value)
    same = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))  # noqa: E731
    expected = [reference(*case) for case in cases]
    if all(same(a, e) for a, e in zip(answers, expected)):
        if integer and not all(isinstance(a, numbers.Integral) for a in answers):
            fail("type", f"{what} returns the right values but as floats (like {float(expected[0])}); return an int, "
                         "for example with integer division //, so it can be used as a tensor size.")
        return
    for reason, formula, message in mistakes:
        try:
            wrong = [formula(*case) for case in cases]
        except ZeroDivisionError:
            continue
        if all(same(a, w) for a, w in zip(answers, wrong)):
            fail(reason, message)
    a, e, case = next((a, e, c) for a, e, c in zip(answers, expected, cases) if not same(a, e))
    args = ", ".join(f"{n}={v}" for n, v in zip(names, case))
    fail("mismatch", f"for {args} {what} returns {_show(a)}, expected {_show(e)}. {hint}")
