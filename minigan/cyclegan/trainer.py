"""Training CycleGAN: the trainer holds everything a run carries between iterations, so it can be saved and resumed.

One iteration (:meth:`CycleGANTrainer.step`), as the reference's
``optimize_parameters``::

    real_x, real_y = next(batches)
    G and F step through the frozen discriminators  -> fakes G(x), F(y)    (generator_step)
    D_X and D_Y step on real images and on pooled fakes                    (discriminator_step)
    the weight averages of G and F follow                                  (update_average; cfg.ema > 0)
    at an epoch's end both learning rates follow the linear decay

The step functions are in :mod:`minigan.cyclegan.steps`; the data sources in
:mod:`minigan.cyclegan.data`; checkpoints in :mod:`minigan.cyclegan.checkpoint`.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from typing import Iterable

import torch
from torch import Tensor

from ..gan.losses import get_loss
from ..train import CallbackLike, History, fit
from ..utils import get_device, seed_everything
from .checkpoint import saved_world
from .config import CycleGANConfig, check_same_networks, linear_decay_factor
from .data import PairSource, TensorPairs
from .distributed import Dist, data_parallel_views
from .model import CycleGAN, make_cyclegan, update_average, use_channels_last
from .pool import ImagePool
from .precision import resolve_precision
from .steps import discriminator_step, generator_step, make_optimizers

__all__ = ["CycleGANTrainer", "train_cyclegan"]


class CycleGANTrainer:
    """A CycleGAN run: built from a config, a data source, a seed and a device; stepped, saved and resumed.

    It holds the model (:func:`~minigan.cyclegan.model.make_cyclegan`); one
    Adam for G and F, one for D_X and D_Y, and their learning-rate schedules;
    the two history pools; the batches drawn from ``data``; the one random
    generator, seeded with ``seed``, that draws the initial weights, shuffles
    the batches and flips the pools' coins (the global random state is left
    alone); the iteration counter and the loss history. :meth:`step` runs
    one iteration, :meth:`fit` many; :meth:`state_dict` / :meth:`load_state_dict`
    capture and restore all of it.

    ``dist``: this process's place in a data-parallel run
    (:func:`~minigan.cyclegan.distributed.init_from_env`; None: a single
    process on ``device``). Then every rank builds its trainer alike and
    draws its own shard of every epoch; the steps run through
    ``DistributedDataParallel`` views of the model
    (:func:`~minigan.cyclegan.distributed.data_parallel_views`), while
    ``model`` stays the plain networks, which the optimizers update and the
    checkpoints hold.
    """

    def __init__(self, cfg: CycleGANConfig, data: PairSource, *, seed: int = 0,
                 device: torch.device | str = "cpu", dist: Dist | None = None):
        data.check(cfg)
        self.cfg = cfg
        self.dist = dist if dist is not None else Dist(device=get_device(device))
        self.device = self.dist.device
        self.generator = torch.Generator().manual_seed(seed)
        self.model = model = make_cyclegan(cfg, device=self.device, generator=self.generator)
        shard = (self.dist.rank, self.dist.world_size) if self.dist.parallel else None
        self.batches = data.batches(cfg.batch_size, generator=self.generator, device=self.device, shard=shard)
        self.epoch_steps = cfg.epoch_steps if cfg.epoch_steps is not None else self.batches.epoch_steps
        # what each step calls: the model itself, or with DDP wrappers on the networks that step trains
        self.g_view, self.d_view = data_parallel_views(model, self.dist) if self.dist.parallel else (model, model)
        self.opt_G, self.opt_D = make_optimizers(model)
        lr_factor = lambda e: linear_decay_factor(e, cfg.n_epochs, cfg.n_epochs_decay)  # noqa: E731
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) for opt in (self.opt_G, self.opt_D)]
        self.pool_x = ImagePool(cfg.pool_size, generator=self.generator)
        self.pool_y = ImagePool(cfg.pool_size, generator=self.generator)
        self.loss = get_loss(cfg.loss)
        self.precision_G = resolve_precision(cfg.amp, self.device)  # each its own grad scaler under fp16
        self.precision_D = resolve_precision(cfg.amp, self.device)
        self.iteration = 0  # iterations done
        self.history = History()

    @property
    def total_steps(self) -> int:
        """Iterations in the whole schedule: ``cfg.total_epochs`` epochs of ``epoch_steps``."""
        return self.cfg.total_epochs * self.epoch_steps

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.iteration // self.epoch_steps

    def step(self) -> dict[str, float]:
        """One iteration: a generator step, then a discriminator step; the schedules advance at each epoch's end."""
        real_x, real_y = next(self.batches)
        if use_channels_last(self.cfg, self.device):
            real_x, real_y = (t.contiguous(memory_format=torch.channels_last) for t in (real_x, real_y))
        logs = {"lr": self.opt_G.param_groups[0]["lr"]}
        g_logs, fake_x, fake_y = generator_step(self.g_view, self.opt_G, real_x, real_y, self.loss, self.precision_G)
        logs.update(g_logs)
        logs.update(discriminator_step(self.d_view, self.opt_D, real_x, real_y, fake_x, fake_y,
                                       self.pool_x, self.pool_y, self.loss, self.precision_D))
        m = self.model
        if m.G_avg is not None:
            update_average(m.G_avg, m.G, self.cfg.ema)
            update_average(m.F_avg, m.F, self.cfg.ema)
        self.iteration += 1
        if self.iteration % self.epoch_steps == 0:
            for s in self.schedulers:
                s.step()
        return logs

    def fit(self, *, callbacks: Iterable[CallbackLike] = (), progress: bool = True, desc: str = "CycleGAN",
            steps: int | None = None) -> History:
        """Train from the current iteration up to iteration ``steps`` (default: the end of the schedule).

        ``callbacks`` run after every iteration (any returning True stops
        training). Returns every iteration's losses and learning rate, also
        stored as ``model.history``. A ``steps`` past the schedule is refused:
        the learning rate has decayed to 0 there.
        """
        self.check_steps(steps)
        self.model.history = fit(lambda i: self.step(), self.total_steps if steps is None else steps,
                                 callbacks=callbacks, progress=progress, desc=desc, history=self.history,
                                 start=self.iteration)
        return self.model.history

    def check_steps(self, steps: int | None) -> None:
        """A ``ValueError`` unless ``steps`` (an iteration to stop at) lies between this one and the schedule's end."""
        if steps is None:
            return
        if steps > self.total_steps:
            raise ValueError(f"steps {steps} is past the end of the schedule, {self.total_steps} iterations "
                             f"({self.cfg.total_epochs} epochs of {self.epoch_steps}), where the learning rate has "
                             f"decayed to 0; to train longer, raise n_epochs or n_epochs_decay")
        if steps < self.iteration:
            raise ValueError(f"steps {steps} is behind the run, which is already at iteration {self.iteration}")

    def state_dict(self) -> dict:
        """Every tensor and number the run needs to continue, as plain containers (``torch.load(weights_only=True)`` reads it).

        In a data-parallel run every rank must call it (the ranks' history
        pools are gathered to rank 0, whose state is the one to save): the
        rest of the state is the same on every rank. ``world_size`` records
        how many processes trained.
        """
        pools = [list(self.pool_x.images), list(self.pool_y.images)]
        state = {
            "config": asdict(self.cfg),
            "iteration": self.iteration,
            "epoch_steps": self.epoch_steps,
            "world_size": self.dist.world_size,
            "nets": {name: net.state_dict() for name, net in self.model.nets().items()},  # plain: no "module." prefixes
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "scalers": [p.state_dict() for p in (self.precision_G, self.precision_D)],
            "pools": pools,  # in a data-parallel run: rank 0's
            "data": self.batches.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history.state_dict(),
        }
        if self.dist.parallel:  # ranks 1 .. W-1's pools, on the CPU
            gathered = self.dist.gather([[t.cpu() for t in p] for p in pools])
            if gathered is not None:
                state["rank_pools"] = gathered[1:]
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue the run ``state`` came from; a ``ValueError`` if its networks differ (:func:`check_same_networks`).

        A checkpoint written by as many processes as this run has continues
        exactly, each rank with its own pools and its share of the data. One
        from another number of processes (say 4 GPUs, resumed on 1) loads the
        networks, optimizers, schedules, iteration, history and generator, but
        the data starts a fresh epoch at the next batch (the position in the
        old shards means nothing now), the schedule keeps the checkpoint's
        iterations per epoch, and ranks the checkpoint had no pools for start
        from rank 0's.
        """
        check_same_networks(state["config"], self.cfg)
        for name, net in self.model.nets().items():
            net.load_state_dict(state["nets"][name])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        for s, sd in zip(self.schedulers, state["schedulers"]):
            s.load_state_dict(sd)
        for p, sd in zip((self.precision_G, self.precision_D), state["scalers"]):
            p.load_state_dict(sd)
        rank, rank_pools = self.dist.rank, state.get("rank_pools", [])
        pools = rank_pools[rank - 1] if 1 <= rank <= len(rank_pools) else state["pools"]
        self.pool_x.images = [t.to(self.device) for t in pools[0]]
        self.pool_y.images = [t.to(self.device) for t in pools[1]]
        self.batches.load_state_dict(state["data"], fresh_epoch=saved_world(state) != self.dist.world_size)
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.iteration, self.epoch_steps = int(state["iteration"]), int(state["epoch_steps"])
        self.history = History.from_state(state["history"])
        self.model.history = self.history


def train_cyclegan(cfg: CycleGANConfig, data_x: Tensor, data_y: Tensor, *, seed: int = 0,
                   device: torch.device | str = "cpu", callbacks: Iterable[CallbackLike] = (),
                   progress: bool = True, desc: str = "CycleGAN", **overrides) -> CycleGAN:
    """Seed everything, then train a CycleGAN on unpaired images ``data_x`` (N, C, H, W) and ``data_y`` (M, C, H, W).

    ``overrides`` replace fields of ``cfg``. Returns the trained model (its
    ``history`` holds every iteration's losses).
    """
    seed_everything(seed)
    trainer = CycleGANTrainer(replace(cfg, **overrides), TensorPairs(data_x, data_y), seed=seed, device=device)
    trainer.fit(callbacks=callbacks, progress=progress, desc=desc)
    return trainer.model
