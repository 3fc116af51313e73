"""Training pix2pix: the trainer holds everything a run carries between iterations, so it can be saved and resumed.

One iteration (:meth:`Pix2PixTrainer.step`)::

    x, y = next(batches)                       # aligned pairs: y is x's right answer
    fake = G(x); D steps on (x, y) against (x, fake); G steps on cGAN + λ L1     (steps.train_step)
    at an epoch's end both learning rates follow the linear decay

The schedule is CycleGAN's (:func:`~minigan.cyclegan.config.linear_decay_factor`).
"""
from __future__ import annotations

from dataclasses import asdict, replace
from typing import Iterable

import torch
from torch import Tensor

from ..cyclegan.config import linear_decay_factor
from ..gan.losses import get_loss
from ..train import CallbackLike, History, batches, fit
from ..utils import get_device, seed_everything
from .config import ARCHITECTURE, Pix2PixConfig
from .model import Pix2Pix, make_pix2pix
from .steps import make_optimizers, train_step

__all__ = ["Pix2PixTrainer", "train_pix2pix", "check_same_networks"]


def check_same_networks(saved: dict, cfg: Pix2PixConfig) -> None:
    """A ``ValueError`` naming each setting where a checkpoint's networks differ from ``cfg``'s."""
    diffs = [f"{k}={saved.get(k)!r} in the checkpoint but {getattr(cfg, k)!r} here"
             for k in ARCHITECTURE if saved.get(k) != getattr(cfg, k)]
    if diffs:
        raise ValueError("the checkpoint is from a different architecture: " + "; ".join(diffs))


class Pix2PixTrainer:
    """A pix2pix run on aligned pairs ``data_x`` (N, C_in, S, S) and ``data_y`` (N, C_out, S, S).

    One random generator, seeded with ``seed``, draws the initial weights and
    shuffles the pairs; dropout draws from the global generator, whose state a
    checkpoint keeps too. :meth:`state_dict` / :meth:`load_state_dict` capture
    and restore the whole run, so a resumed run continues as an uninterrupted one.
    """

    def __init__(self, cfg: Pix2PixConfig, data_x: Tensor, data_y: Tensor, *, seed: int = 0,
                 device: torch.device | str = "cpu"):
        for name, d, c in (("data_x", data_x, cfg.in_channels), ("data_y", data_y, cfg.out_channels)):
            if d.dim() != 4 or d.shape[1] != c or d.shape[-1] != cfg.image_size or d.shape[-2] != cfg.image_size:
                raise ValueError(f"{name} must be images (N, {c}, {cfg.image_size}, {cfg.image_size}), "
                                 f"got {tuple(d.shape)}")
        if len(data_x) != len(data_y):
            raise ValueError(f"pix2pix trains on pairs: data_x and data_y need as many images, "
                             f"got {len(data_x)} and {len(data_y)}")
        self.cfg = cfg
        self.device = get_device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self.model = make_pix2pix(cfg, device=self.device, generator=self.generator)
        self.batches = batches(data_x, data_y, batch_size=cfg.batch_size, generator=self.generator,
                               device=self.device)
        self.epoch_steps = cfg.epoch_steps if cfg.epoch_steps is not None else -(-len(data_x) // cfg.batch_size)
        self.opt_G, self.opt_D = make_optimizers(self.model)
        lr_factor = lambda e: linear_decay_factor(e, cfg.n_epochs, cfg.n_epochs_decay)  # noqa: E731
        # L1 alone (cfg.gan_loss False) never steps D, so D's rate has no schedule to follow
        trained = (self.opt_G, self.opt_D) if cfg.gan_loss else (self.opt_G,)
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) for opt in trained]
        self.loss = get_loss(cfg.loss)
        self.iteration = 0
        self.history = History()

    @property
    def total_steps(self) -> int:
        return self.cfg.total_epochs * self.epoch_steps

    def step(self) -> dict[str, float]:
        """One iteration; the schedules advance at each epoch's end."""
        x, y = next(self.batches)
        logs = {"lr": self.opt_G.param_groups[0]["lr"]}
        logs.update(train_step(self.model, self.opt_G, self.opt_D, x, y, self.loss))
        self.iteration += 1
        if self.iteration % self.epoch_steps == 0:
            for s in self.schedulers:
                s.step()
        return logs

    def fit(self, *, callbacks: Iterable[CallbackLike] = (), progress: bool = True, desc: str = "pix2pix",
            steps: int | None = None) -> History:
        """Train from the current iteration up to iteration ``steps`` (default: the end of the schedule)."""
        end = self.total_steps if steps is None else steps
        if not self.iteration <= end <= self.total_steps:
            raise ValueError(f"steps must lie between this run's iteration {self.iteration} and the end of its "
                             f"schedule, {self.total_steps}; got {steps}")
        self.model.history = fit(lambda i: self.step(), end, callbacks=callbacks, progress=progress, desc=desc,
                                 history=self.history, start=self.iteration)
        return self.model.history

    def state_dict(self) -> dict:
        """Every tensor and number the run needs to continue, as plain containers (``weights_only`` loads it)."""
        return {
            "config": asdict(self.cfg),
            "iteration": self.iteration,
            "epoch_steps": self.epoch_steps,
            "nets": {name: net.state_dict() for name, net in self.model.nets().items()},
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "data": self.batches.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue the run ``state`` came from; a ``ValueError`` if its networks differ."""
        check_same_networks(state["config"], self.cfg)
        for name, net in self.model.nets().items():
            net.load_state_dict(state["nets"][name])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        for s, sd in zip(self.schedulers, state["schedulers"]):
            s.load_state_dict(sd)
        self.batches.load_state_dict(state["data"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.iteration, self.epoch_steps = int(state["iteration"]), int(state["epoch_steps"])
        self.history = History.from_state(state["history"])
        self.model.history = self.history


def train_pix2pix(cfg: Pix2PixConfig, data_x: Tensor, data_y: Tensor, *, seed: int = 0,
                  device: torch.device | str = "cpu", callbacks: Iterable[CallbackLike] = (),
                  progress: bool = True, desc: str = "pix2pix", **overrides) -> Pix2Pix:
    """Seed everything, then train pix2pix on the pairs (``data_x[i]``, ``data_y[i]``); ``overrides`` replace config fields."""
    seed_everything(seed)
    trainer = Pix2PixTrainer(replace(cfg, **overrides), data_x, data_y, seed=seed, device=device)
    trainer.fit(callbacks=callbacks, progress=progress, desc=desc)
    return trainer.model
