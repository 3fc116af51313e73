"""Training CycleGAN: the reference's ``optimize_parameters`` as two small step functions and a loop.

Paper names [zhu2017cyclegan], with the reference code's in brackets:
G: X -> Y [netG_A], F: Y -> X [netG_B], D_Y judges real y against G(x)
[netD_A], D_X judges real x against F(y) [netD_B].

One training iteration, in the reference's order:

1. **Generator step**, both discriminators frozen. The loss is

   L_G = L_GAN(D_Y(G(x)))                                  # G's fakes should look like Y
       + L_GAN(D_X(F(y)))                                  # F's fakes should look like X
       + λ ||F(G(x)) - x||₁ + λ ||G(F(y)) - y||₁            # cycle: there and back again
       + λ·λ_id ||G(y) - y||₁ + λ·λ_id ||F(x) - x||₁         # identity: leave the target domain alone

   with λ = 10, λ_id = 0.5 and L1 means over pixels. G and F share one Adam.
   For ablations, ``cfg.cycle_loss=False`` drops the cycle terms and
   ``cfg.lambda_identity=0`` the identity terms.
2. **Discriminator step**: D_Y on real y against G(x) drawn through the
   history pool of y-fakes, D_X on real x against F(y) through the x-pool,
   each with the least-squares loss halved (``d_loss_lsgan``). D_X and D_Y
   share one Adam. Fakes are detached, so no gradient reaches G or F.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import asdict, dataclass, replace
from typing import Iterable

import torch
import torch.nn.functional as F_
from torch import Tensor

from ..gan.losses import GANLoss, get_loss
from ..gan.steps import frozen
from ..train import CallbackLike, History, batches, fit
from ..utils import seed_everything
from .config import CycleGANConfig, linear_decay_factor
from .distributed import Dist, data_parallel_views, no_sync_unless
from .precision import Precision, resolve_precision
from .networks import PatchDiscriminator, ResnetGenerator, init_weights
from .pool import ImagePool

__all__ = ["CycleGAN", "update_average", "make_cyclegan", "make_optimizers", "generator_step", "discriminator_step", "TensorPairs",
           "CycleGANTrainer", "check_same_networks", "fit_cyclegan", "train_cyclegan"]


@dataclass
class CycleGAN:
    """The four networks of a CycleGAN, its config, and what training recorded."""

    G: ResnetGenerator  # X -> Y
    F: ResnetGenerator  # Y -> X
    D_X: PatchDiscriminator  # real x vs F(y)
    D_Y: PatchDiscriminator  # real y vs G(x)
    cfg: CycleGANConfig
    history: History | None = None
    G_avg: ResnetGenerator | None = None  # running averages of G's and F's weights (cfg.ema > 0; else None)
    F_avg: ResnetGenerator | None = None

    def generator(self, to: str = "y", *, averaged: bool = True) -> ResnetGenerator:
        """The network that translates to domain ``to``: G for "y", F for "x"; their weight averages if kept."""
        if to not in ("x", "y"):
            raise ValueError(f"to must be 'x' or 'y', got {to!r}")
        net, avg = (self.G, self.G_avg) if to == "y" else (self.F, self.F_avg)
        return avg if averaged and avg is not None else net

    @torch.no_grad()
    def translate(self, images: Tensor, *, to: str = "y", averaged: bool = True) -> Tensor:
        """``images`` (B, C, H, W) in [-1, 1] translated to domain ``to`` ("y": G(x), "x": F(y)), on the CPU.

        With ``cfg.ema > 0`` this uses the averaged weights (``averaged=False``: the last iteration's).
        """
        net = self.generator(to, averaged=averaged)
        device = next(net.parameters()).device
        return net(images.to(device)).cpu()  # instance norm: no train/eval difference

    def nets(self) -> dict[str, torch.nn.Module]:
        """The networks by name: G, F, D_X, D_Y, then G_avg and F_avg where kept (what a checkpoint holds)."""
        return {name: getattr(self, name) for name in NETS + AVERAGED if getattr(self, name) is not None}


@torch.no_grad()
def update_average(avg: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    """One step of an exponential moving average of weights: avg <- decay * avg + (1 - decay) * net.

    Averaging a generator's weights over the last few hundred iterations
    damps the back-and-forth of the adversarial game without slowing it
    [yazici2019unusual]; buffers (none in these networks) are copied.
    """
    for a, p in zip(avg.parameters(), net.parameters()):
        a.lerp_(p, 1.0 - decay)
    for a, b in zip(avg.buffers(), net.buffers()):
        a.copy_(b)


def make_cyclegan(cfg: CycleGANConfig, *, device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> CycleGAN:
    """Four fresh networks for ``cfg`` with the reference's N(0, 0.02) initialisation, on ``device`` (NHWC if ``cfg.channels_last``)."""
    gen = lambda: ResnetGenerator(cfg.channels, cfg.channels, ngf=cfg.ngf, n_blocks=cfg.n_blocks)  # noqa: E731
    disc = lambda: PatchDiscriminator(cfg.channels, ndf=cfg.ndf, n_layers=cfg.n_layers_d)  # noqa: E731
    memory_format = torch.channels_last if _channels_last(cfg, device) else torch.contiguous_format
    nets = [init_weights(net, generator=generator).to(device, memory_format=memory_format)
            for net in (gen(), gen(), disc(), disc())]
    model = CycleGAN(*nets, cfg=cfg)
    if cfg.ema > 0:  # the averages start from the initial weights and are never trained directly
        model.G_avg, model.F_avg = (copy.deepcopy(n).requires_grad_(False) for n in (model.G, model.F))
    return model


def _channels_last(cfg: CycleGANConfig, device: torch.device | str) -> bool:
    """Whether to use NHWC on ``device``: as ``cfg`` says, except on Apple's MPS, where PyTorch's support is partial."""
    return cfg.channels_last and torch.device(device).type != "mps"


def make_optimizers(model: CycleGAN) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """One Adam for G and F together, one for D_X and D_Y together, as in the reference.

    On a CPU or CUDA device the Adams are PyTorch's fused kernels: the same
    algorithm in one pass over memory instead of a dozen, which matters here
    because the discriminators hold most of the parameters.
    """
    cfg = model.cfg
    fused = next(model.G.parameters()).device.type in ("cpu", "cuda")
    adam = lambda *nets: torch.optim.Adam(itertools.chain(*(n.parameters() for n in nets)),  # noqa: E731
                                          lr=cfg.lr, betas=cfg.betas, fused=fused)
    return adam(model.G, model.F), adam(model.D_X, model.D_Y)


# Stacking several inputs into one call of a network computes exactly what separate calls would (instance
# norm normalises each image on its own) and saves per-call overhead. On a CPU that pays while one image's
# widest activation stays small. Measured on 2 cores (forward + backward, a pair stacked vs one by one):
# generator 64x64/ngf 32 8% faster, 128x128/ngf 64 even, 256x256/ngf 64 5% slower; PatchGAN (ndf 64)
# 32% faster at 64x64, 9% at 128x128, 4% at 256x256.
STACK_MAX_FLOATS = 2 ** 20  # per image, in the network's widest layer


def _apply(net: torch.nn.Module, *inputs: Tensor, widest: int) -> list[Tensor]:
    """``[net(t) for t in inputs]``, in one stacked call when that is faster (``widest``: floats per image)."""
    if len(inputs) > 1 and (inputs[0].is_cuda or widest <= STACK_MAX_FLOATS):
        return list(net(torch.cat(inputs)).split([len(t) for t in inputs]))
    return [net(t) for t in inputs]


def _item(t: Tensor) -> float:
    """``t.item()``, or nan for a tensor without data (the meta device, where FLOPs are counted)."""
    return float("nan") if t.device.type == "meta" else t.item()


def _micro_batches(k: int, *tensors: Tensor) -> list[tuple[float, tuple[Tensor, ...]]]:
    """The batch split into ``k`` micro-batches, each with its share of the batch (weights sum to 1)."""
    n = len(tensors[0])
    if not 1 <= k <= n:
        raise ValueError(f"accum_steps must be between 1 and the batch size {n}, got {k}")
    parts = list(zip(*(t.tensor_split(k) for t in tensors)))
    return [(len(p[0]) / n, p) for p in parts]


def _generator_losses(m: CycleGAN, real_x: Tensor, real_y: Tensor, loss: GANLoss
                      ) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """Every term of L_G for one (micro-)batch, and the fakes G(x), F(y)."""
    cfg = m.cfg
    lam, lam_id = cfg.lambda_cycle, cfg.lambda_cycle * cfg.lambda_identity
    widest = cfg.ngf * real_x.shape[-2] * real_x.shape[-1]  # the generator's first and last layers: ngf x H x W
    fake_y, *idt_y = _apply(m.G, real_x, *([real_y] if lam_id > 0 else []), widest=widest)  # G(x), G(y)
    fake_x, *idt_x = _apply(m.F, real_y, *([real_x] if lam_id > 0 else []), widest=widest)  # F(y), F(x)
    logs = {"g_gan": loss.g(m.D_Y(fake_y)), "f_gan": loss.g(m.D_X(fake_x))}
    if cfg.cycle_loss:
        logs["cycle_x"] = lam * F_.l1_loss(m.F(fake_y), real_x)  # || F(G(x)) - x ||
        logs["cycle_y"] = lam * F_.l1_loss(m.G(fake_x), real_y)  # || G(F(y)) - y ||
    if lam_id > 0:
        logs["idt_y"] = lam_id * F_.l1_loss(idt_y[0], real_y)  # || G(y) - y ||
        logs["idt_x"] = lam_id * F_.l1_loss(idt_x[0], real_x)  # || F(x) - x ||
    return logs, fake_x, fake_y


def generator_step(model: CycleGAN, opt_G: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                   loss: GANLoss | None = None, precision: Precision | None = None
                   ) -> tuple[dict[str, float], Tensor, Tensor]:
    """One update of G and F through frozen discriminators. Returns the logs and the fakes (G(x), F(y)).

    G's two inputs, x (to make fakes) and y (for the identity loss), may go
    through it as one stacked batch (see :data:`STACK_MAX_FLOATS`), and F's likewise.
    ``precision`` (default: float32) runs the forward passes under autocast.
    With ``cfg.accum_steps = k`` the batch goes through in k micro-batches whose
    gradients add up before the one optimizer step: the same gradient (every
    loss is a mean, instance norm is per image) with a k-th of the activations in memory.
    """
    m, cfg = model, model.cfg
    loss = loss or get_loss(cfg.loss)
    precision = precision or Precision()
    out: dict[str, float] = {}
    fakes_x, fakes_y = [], []
    opt_G.zero_grad(set_to_none=True)
    parts = _micro_batches(cfg.accum_steps, real_x, real_y)
    with frozen(m.D_X, m.D_Y):
        for j, (share, (x, y)) in enumerate(parts):
            with no_sync_unless(j == len(parts) - 1, m.G, m.F):  # DDP: all-reduce on the last backward only
                with precision.autocast():
                    logs, fake_x, fake_y = _generator_losses(m, x, y, loss)
                    logs["g_total"] = sum(logs.values())
                precision.backward(logs["g_total"] if share == 1 else logs["g_total"] * share)
            for k, v in logs.items():
                out[k] = out.get(k, 0.0) + _item(v) * share
            fakes_x.append(fake_x.detach())
            fakes_y.append(fake_y.detach())
        precision.step(opt_G)
    return out, torch.cat(fakes_x), torch.cat(fakes_y)


def discriminator_step(model: CycleGAN, opt_D: torch.optim.Optimizer, real_x: Tensor, real_y: Tensor,
                       fake_x: Tensor, fake_y: Tensor, pool_x: ImagePool, pool_y: ImagePool,
                       loss: GANLoss | None = None, precision: Precision | None = None) -> dict[str, float]:
    """One update of D_X and D_Y on real images and on fakes drawn through the history pools."""
    m = model
    loss = loss or get_loss(m.cfg.loss)
    precision = precision or Precision()
    fake_y, fake_x = pool_y.query(fake_y), pool_x.query(fake_x)  # detached, partly older fakes
    widest = m.cfg.ndf * real_x.shape[-2] * real_x.shape[-1] // 4  # the PatchGAN's first layer: ndf x H/2 x W/2
    out = {"d_x": 0.0, "d_y": 0.0}
    opt_D.zero_grad(set_to_none=True)
    parts = _micro_batches(m.cfg.accum_steps, real_x, real_y, fake_x, fake_y)
    for j, (share, (rx, ry, fx, fy)) in enumerate(parts):
        with no_sync_unless(j == len(parts) - 1, m.D_X, m.D_Y):  # DDP: all-reduce on the last backward only
            with precision.autocast():
                d_y = loss.d(*_apply(m.D_Y, ry, fy.to(ry.dtype), widest=widest))  # the lsgan loss is already halved
                d_x = loss.d(*_apply(m.D_X, rx, fx.to(rx.dtype), widest=widest))
            precision.backward(d_x + d_y if share == 1 else (d_x + d_y) * share)
        out["d_x"] += _item(d_x) * share
        out["d_y"] += _item(d_y) * share
    precision.step(opt_D)
    return out


class TensorPairs:
    """Unpaired batches from two in-memory image tensors: x and y shuffled independently, one generator.

    ``next()`` gives ``(real_x, real_y)``, each (B, C, H, W) on ``device``;
    ``state_dict`` holds both epochs' positions so a resumed run draws what an
    uninterrupted one would. ``shard = (rank, world)``: this rank's share of
    every epoch, for data-parallel training (see :func:`minigan.train.shard_of`).
    """

    def __init__(self, data_x: Tensor, data_y: Tensor, *, batch_size: int, generator: torch.Generator | None,
                 device: torch.device | str = "cpu", shard: tuple[int, int] | None = None):
        self.xs = batches(data_x, batch_size=batch_size, generator=generator, device=device, shard=shard)
        self.ys = batches(data_y, batch_size=batch_size, generator=generator, device=device, shard=shard)
        world = shard[1] if shard else 1
        # one pass over the larger domain; W ranks share it: ceil(n / (B * W)) iterations
        self.epoch_steps = -(-max(len(data_x), len(data_y)) // (batch_size * world))

    def __next__(self) -> tuple[Tensor, Tensor]:
        return next(self.xs)[0], next(self.ys)[0]

    def state_dict(self) -> dict:
        return {"x": self.xs.state_dict(), "y": self.ys.state_dict()}

    def load_state_dict(self, state: dict, *, fresh_epoch: bool = False) -> None:
        self.xs.load_state_dict(state["x"], fresh_epoch=fresh_epoch)
        self.ys.load_state_dict(state["y"], fresh_epoch=fresh_epoch)


class CycleGANTrainer:
    """Everything a CycleGAN run carries between iterations, so it can be saved and resumed exactly.

    The model; one Adam for G and F, one for D_X and D_Y (:func:`make_optimizers`)
    and their learning-rate schedules; the two history pools; the data source
    (any object with ``next()`` giving ``(real_x, real_y)`` and a
    ``state_dict``); the one ``generator`` that shuffles batches and flips the
    pools' coins; the iteration counter and the loss history. :meth:`step`
    runs one iteration; :meth:`state_dict` / :meth:`load_state_dict` capture
    and restore all of it (see :mod:`minigan.cyclegan.checkpoint`).

    ``dist``: this process's place in a data-parallel run
    (:func:`~minigan.cyclegan.distributed.init_from_env`; None: a single
    process). Then every rank builds its trainer alike, with ``data`` giving
    its own shard; the steps run through ``DistributedDataParallel`` views of
    the model (:func:`~minigan.cyclegan.distributed.data_parallel_views`),
    while ``model`` stays the plain networks, which the optimizers update and
    the checkpoints hold.
    """

    def __init__(self, model: CycleGAN, data: TensorPairs, *, generator: torch.Generator | None = None,
                 dist: Dist | None = None):
        cfg = self.cfg = model.cfg
        self.model, self.data = model, data
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.device = next(model.G.parameters()).device
        self.dist = dist if dist is not None else Dist(device=self.device)
        # what each step calls: the model itself, or with DDP wrappers on the networks that step trains
        self.g_view, self.d_view = data_parallel_views(model, self.dist) if self.dist.parallel else (model, model)
        self.opt_G, self.opt_D = make_optimizers(model)
        lr_factor = lambda e: linear_decay_factor(e, cfg.n_epochs, cfg.n_epochs_decay)  # noqa: E731
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) for opt in (self.opt_G, self.opt_D)]
        self.epoch_steps = cfg.epoch_steps or data.epoch_steps  # the data's: one pass over the larger domain
        self.pool_x = ImagePool(cfg.pool_size, generator=self.generator)
        self.pool_y = ImagePool(cfg.pool_size, generator=self.generator)
        self.loss = get_loss(cfg.loss)
        self.precision_G = resolve_precision(cfg.amp, self.device)  # each its own grad scaler under fp16
        self.precision_D = resolve_precision(cfg.amp, self.device)
        self.iteration = 0  # iterations done
        self.history = History()

    @property
    def total_steps(self) -> int:
        return self.cfg.total_epochs * self.epoch_steps

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.iteration // self.epoch_steps

    def step(self) -> dict[str, float]:
        """One iteration: a generator step, then a discriminator step; the schedules advance at each epoch's end."""
        real_x, real_y = next(self.data)
        if _channels_last(self.cfg, self.device):
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
        """Train from the current iteration to ``steps`` (default: the end of the schedule); returns the history."""
        self.model.history = fit(lambda i: self.step(), steps or self.total_steps, callbacks=callbacks,
                                 progress=progress, desc=desc, history=self.history, start=self.iteration)
        return self.model.history

    def state_dict(self) -> dict:
        """Every tensor and number the run needs to continue, as plain containers (``torch.load(weights_only=True)`` reads it).

        In a data-parallel run every rank must call it (the ranks' history
        pools are gathered to rank 0, whose state is the one to save): the
        rest of the state is the same on every rank. ``world_size`` records
        how many processes trained.
        """
        m = self.model
        pools = [list(self.pool_x.images), list(self.pool_y.images)]
        state = {
            "config": asdict(self.cfg),
            "iteration": self.iteration,
            "epoch_steps": self.epoch_steps,
            "world_size": self.dist.world_size,
            "nets": {name: net.state_dict() for name, net in m.nets().items()},  # the plain networks: no "module." prefixes
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "scalers": [p.state_dict() for p in (self.precision_G, self.precision_D)],
            "pools": pools,  # in a data-parallel run: rank 0's
            "data": self.data.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": {"steps": list(self.history.steps), **{k: list(v) for k, v in self.history.items()}},
        }
        if self.dist.parallel:  # ranks 1 .. W-1's pools, on the CPU
            gathered = self.dist.gather([[t.cpu() for t in p] for p in pools])
            if gathered is not None:
                state["rank_pools"] = gathered[1:]
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue the run ``state`` came from (the networks must match: see :func:`check_same_networks`).

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
        m = self.model
        for name, net in m.nets().items():
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
        if saved_world(state) == self.dist.world_size:
            self.data.load_state_dict(state["data"])
        else:
            self.data.load_state_dict(state["data"], fresh_epoch=True)
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.iteration, self.epoch_steps = int(state["iteration"]), int(state["epoch_steps"])
        hist = dict(state["history"])
        self.history = History()
        self.history.steps = list(hist.pop("steps"))
        self.history.update({k: list(v) for k, v in hist.items()})
        m.history = self.history


def saved_world(state: dict) -> int:
    """How many processes trained the checkpoint ``state`` (1 for checkpoints older than data parallelism)."""
    return int(state.get("world_size", 1))


NETS = ("G", "F", "D_X", "D_Y")
AVERAGED = ("G_avg", "F_avg")  # in a checkpoint when its config's ema > 0
ARCHITECTURE = ("image_size", "channels", "ngf", "n_blocks", "ndf", "n_layers_d")  # fields that shape the weights


def check_same_networks(saved: dict, cfg: CycleGANConfig) -> None:
    """Raise a ``ValueError`` naming each setting where a checkpoint's networks differ from ``cfg``'s.

    ``image_size`` is included: the networks would load, but a run resumed at
    another size is not the run that was saved.
    """
    diffs = [f"{k}={saved.get(k)!r} in the checkpoint but {getattr(cfg, k)!r} here"
             for k in ARCHITECTURE if saved.get(k) != getattr(cfg, k)]
    saved_ema = saved.get("ema", 0.0)  # checkpoints older than weight averaging have none
    if (saved_ema > 0) != (cfg.ema > 0):
        diffs.append(f"ema={saved_ema!r} in the checkpoint but {cfg.ema!r} here (averaged networks "
                     f"{'saved' if saved_ema > 0 else 'missing'})")
    if diffs:
        raise ValueError("the checkpoint is from a different architecture: " + "; ".join(diffs))


def fit_cyclegan(model: CycleGAN, data_x: Tensor, data_y: Tensor, *, generator: torch.Generator | None = None,
                 callbacks: Iterable[CallbackLike] = (), progress: bool = True, desc: str = "CycleGAN") -> History:
    """Train ``model`` in place on unpaired images ``data_x`` (N, C, H, W) and ``data_y`` (M, C, H, W).

    Batches of x and y are drawn independently (the data are unpaired), with
    ``generator``. One epoch is ``cfg.epoch_steps`` iterations, or one pass
    over the larger domain; the learning rate of both optimisers follows
    :func:`linear_decay_factor`, stepped once per epoch, as in the reference.
    ``callbacks`` run after every iteration (any returning True stops
    training). Returns every iteration's losses and learning rate, also stored
    as ``model.history``. (:class:`CycleGANTrainer` is the same loop with
    checkpoints.)
    """
    cfg = model.cfg
    for name, d in (("data_x", data_x), ("data_y", data_y)):
        if d.dim() != 4 or d.shape[1] != cfg.channels:
            raise ValueError(f"{name} must be images (N, {cfg.channels}, H, W), got {tuple(d.shape)}")
    device = next(model.G.parameters()).device
    data = TensorPairs(data_x, data_y, batch_size=cfg.batch_size, generator=generator, device=device)
    trainer = CycleGANTrainer(model, data, generator=generator)
    return trainer.fit(callbacks=callbacks, progress=progress, desc=desc)


def train_cyclegan(cfg: CycleGANConfig, data_x: Tensor, data_y: Tensor, *, seed: int = 0,
                   device: torch.device | str = "cpu", callbacks: Iterable[CallbackLike] = (),
                   progress: bool = True, desc: str = "CycleGAN", **overrides) -> CycleGAN:
    """Seed, build (:func:`make_cyclegan`) and train (:func:`fit_cyclegan`) a CycleGAN; returns it.

    ``overrides`` replace fields of ``cfg``. Initial weights, batches and the
    pools' coin flips all come from one generator seeded with ``seed``.
    """
    cfg = replace(cfg, **overrides)
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    model = make_cyclegan(cfg, device=device, generator=g)
    fit_cyclegan(model, data_x, data_y, generator=g, callbacks=callbacks, progress=progress, desc=desc)
    return model
