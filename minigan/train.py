"""The training loop every chapter shares: call a step function, log, report progress, run callbacks.

A *step* is a small function ``step(i) -> dict[str, float]`` that does one
update and returns its losses, e.g. ::

    def step(i):
        x, y = next(data)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        return {"loss": loss.item()}

    history = fit(step, steps=1000, callbacks=[LivePlot()])

``fit`` owns nothing but the loop: the model, optimizer and data stay with the
caller, so a chapter can show the whole update in one cell.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping, Protocol, Union

import torch
from torch import Tensor, nn

from .utils import progress_bar

__all__ = ["History", "Callback", "fit", "Batches", "batches", "shard_of", "supervised_step", "fit_classifier",
           "accuracy", "evaluate"]


class History(dict):
    """Logged values per name, ``{"loss": [...], ...}``, plus the step index of each row in ``steps``."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []

    def append(self, step: int, logs: Mapping[str, float]) -> None:
        self.steps.append(step)
        for k, v in logs.items():
            self.setdefault(k, []).append(float(v))

    def last(self, key: str) -> float:
        return self[key][-1]

    def mean(self, key: str, last: int | None = None) -> float:
        """Mean of ``key`` over the ``last`` logged values (all of them by default)."""
        vals = self[key][-last:] if last else self[key]
        return sum(vals) / len(vals)

    def state_dict(self) -> dict[str, list]:
        """Plain lists, ``{"steps": [...], name: [...], ...}``, as a checkpoint stores them."""
        return {"steps": list(self.steps), **{k: list(v) for k, v in self.items()}}

    @classmethod
    def from_state(cls, state: Mapping[str, list]) -> "History":
        """The History that :meth:`state_dict` saved."""
        history = cls()
        state = dict(state)
        history.steps = list(state.pop("steps"))
        history.update({k: list(v) for k, v in state.items()})
        return history


class Callback(Protocol):
    """What ``fit`` calls. A plain function ``f(step, logs, history)`` works too.

    ``on_step`` may return ``True`` to stop training early; ``on_end`` runs once
    after the last step.
    """

    def on_step(self, step: int, logs: Mapping[str, float], history: History) -> bool | None: ...

    def on_end(self, history: History) -> None: ...


CallbackLike = Union[Callback, Callable[[int, Mapping[str, float], History], Union[bool, None]]]


def fit(step: Callable[[int], Mapping[str, float]], steps: int, *, callbacks: Iterable[CallbackLike] = (),
        progress: bool = True, desc: str | None = None, postfix_every: int = 25,
        history: History | None = None, start: int = 0) -> History:
    """Run ``step(i)`` for ``i`` in ``start .. steps-1``; return the :class:`History` of what it returned.

    Progress goes to a ``tqdm.auto`` bar (a widget in Jupyter, text in a
    terminal, redrawn once a second: :func:`minigan.utils.progress_bar`)
    whose postfix shows the latest losses. ``callbacks`` run after every
    step, in order; any returning ``True`` stops the loop. Pass the
    ``history`` and ``start`` of an earlier call to continue it.
    """
    history = History() if history is None else history
    callbacks = list(callbacks)
    bar = progress_bar(range(start, steps), desc=desc, disable=not progress, leave=True)
    try:
        for i in bar:
            logs = {k: float(v) for k, v in step(i).items()}
            history.append(i, logs)
            if progress and (i % postfix_every == 0 or i == steps - 1):
                bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items()}, refresh=False)
            stop = False
            for cb in callbacks:
                on_step = getattr(cb, "on_step", cb)
                stop = bool(on_step(i, logs, history)) or stop
            if stop:
                break
    finally:
        bar.close()
    for cb in callbacks:
        on_end = getattr(cb, "on_end", None)
        if on_end is not None:
            on_end(history)
    return history


def shard_of(order: Tensor, shard: tuple[int, int] | None) -> Tensor:
    """Rank r's share of an epoch's ``order`` (n,) for ``shard = (r, world)``, as ``DistributedSampler`` takes it.

    ``order`` is first padded with its own start to a multiple of ``world``,
    so every rank gets ceil(n / world) items (a few repeated) and the ranks
    stay in step; then rank r takes ``order[r::world]``. ``None``: all of ``order``.
    """
    if shard is None:
        return order
    rank, world = shard
    total = -(-len(order) // world) * world
    if total > len(order):  # (n,) -> (total,): wraps around, more than once if world > n
        order = order.repeat(-(-total // len(order)))[:total]
    return order[rank::world]  # (total / world,)


def _check_shard(shard: tuple[int, int] | None) -> tuple[int, int] | None:
    if shard is not None and not 0 <= shard[0] < shard[1]:
        raise ValueError(f"shard must be (rank, world) with 0 <= rank < world, got {shard}")
    return None if shard is None else (int(shard[0]), int(shard[1]))


class Batches:
    """Endless shuffled minibatches of ``tensors`` (all with the same first dimension); see :func:`batches`.

    An iterator whose position can be saved and restored (``state_dict`` /
    ``load_state_dict``), so a training run resumed from a checkpoint draws the
    same batches as one that was never interrupted. The permutation of the
    current epoch is part of the state; the next one is drawn from
    ``generator``, whose state the caller saves.

    ``shard = (r, world)``: each epoch serves only rank r's share of the
    permutation (:func:`shard_of`), for data-parallel training; the ranks'
    generators must be seeded alike, so they draw the same permutations.
    The state (the whole permutation, the position in the share) is then
    the same on every rank.
    """

    def __init__(self, *tensors: Tensor, batch_size: int, generator: torch.Generator | None = None,
                 device: str | torch.device | None = None, shard: tuple[int, int] | None = None):
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError(f"all tensors need the same first dimension, got {[len(t) for t in tensors]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors, self.batch_size, self.generator, self.device = tensors, batch_size, generator, device
        self.shard = _check_shard(shard)
        self.perm: Tensor | None = None  # (n,) this epoch's order; drawn when the first batch is asked for
        self.pos = 0  # rows of this rank's share of ``perm`` already served
        self._mine: Tensor | None = None  # (n,) or (ceil(n / world),): this rank's share of ``perm``

    def __iter__(self) -> "Batches":
        return self

    def __next__(self) -> tuple[Tensor, ...]:
        if self.perm is None or self.pos >= len(self._share()):
            self.perm, self.pos, self._mine = torch.randperm(len(self.tensors[0]), generator=self.generator), 0, None
        idx = self._share()[self.pos:self.pos + self.batch_size]
        self.pos += len(idx)
        return tuple(t[idx].to(self.device) if self.device is not None else t[idx] for t in self.tensors)

    def _share(self) -> Tensor:
        if self._mine is None:
            self._mine = shard_of(self.perm, self.shard)
        return self._mine

    def state_dict(self) -> dict:
        return {"perm": None if self.perm is None else self.perm.clone(), "pos": self.pos}

    def load_state_dict(self, state: Mapping, *, fresh_epoch: bool = False) -> None:
        """Continue where ``state`` stopped; with ``fresh_epoch``, start a new epoch at the next batch instead."""
        self.perm, self.pos, self._mine = (None, 0, None) if fresh_epoch else (state["perm"], int(state["pos"]), None)


def batches(*tensors: Tensor, batch_size: int, generator: torch.Generator | None = None,
            device: str | torch.device | None = None, shard: tuple[int, int] | None = None) -> Batches:
    """Endless shuffled minibatches of ``tensors`` (all with the same first dimension).

    Every epoch is a fresh permutation drawn from ``generator``; the last,
    smaller batch of an epoch is kept. Batches are moved to ``device`` if given.
    The iterator's position can be saved and restored (:class:`Batches`).
    ``shard = (rank, world)`` serves only that rank's share of each epoch (:func:`shard_of`).
    """
    return Batches(*tensors, batch_size=batch_size, generator=generator, device=device, shard=shard)


def supervised_step(model: nn.Module, optimizer: torch.optim.Optimizer,
                    loss_fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor) -> dict[str, float]:
    """One gradient step on ``loss_fn(model(x), y)``; returns ``{"loss": ...}`` (before the update)."""
    model.train()
    loss = loss_fn(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.item()}


def fit_classifier(model: nn.Module, x: Tensor, y: Tensor, *, steps: int, batch_size: int = 64,
                   lr: float = 1e-2, seed: int = 0, callbacks: Iterable[CallbackLike] = (),
                   progress: bool = True, desc: str | None = None) -> History:
    """Train ``model`` on ``(x, y)`` with Adam and cross-entropy: ``fit`` + ``supervised_step`` in one call.

    Minibatches are drawn with a generator seeded by ``seed`` and moved to the
    model's device, so the same call trains the same model.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = batches(x, y, batch_size=batch_size, generator=torch.Generator().manual_seed(seed), device=device)
    loss_fn = torch.nn.functional.cross_entropy
    return fit(lambda i: supervised_step(model, optimizer, loss_fn, *next(data)), steps,
               callbacks=callbacks, progress=progress, desc=desc)


def accuracy(logits: Tensor, y: Tensor) -> float:
    """Fraction of rows of ``logits`` (B, K) whose argmax is the label ``y`` (B,)."""
    return (logits.argmax(dim=1) == y).float().mean().item()


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 4096) -> float:
    """Classification accuracy of ``model`` on ``(x, y)``, in eval mode and without gradients."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for lo in range(0, len(x), batch_size):
        logits = model(x[lo:lo + batch_size].to(device))
        correct += (logits.argmax(dim=1).cpu() == y[lo:lo + batch_size].cpu()).sum().item()
    model.train(was_training)
    return correct / len(x)
