"""Data-parallel training: the same CycleGAN on several GPUs (or CPU processes), each with its share of the data.

``torchrun --nproc_per_node=4 -m minigan cyclegan train ...`` starts four
copies of the program, the *ranks* 0..3, and tells each its number through
environment variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``). Every rank
holds the whole model. One iteration then goes:

1. **A different shard of every batch.** All ranks draw the same shuffled
   order of the training set (their generators are seeded alike) and rank r
   takes every world-th item from position r, as ``DistributedSampler`` does.
   With a per-rank batch B and W ranks, one iteration sees W x B images (the
   *global batch*) and an epoch has ceil(N / (W x B)) iterations::

       order   = randperm(N)            # the same on every rank
       shard_r = order[r::W]            # (ceil(N / W),) this rank's items this epoch

2. **Forward and backward on its own shard**, as in a single process.
3. **Gradients averaged by all-reduce.** PyTorch's ``DistributedDataParallel``
   (DDP) hooks into backward: as each bucket of gradients is ready, the ranks
   sum it across processes and divide by W, overlapping the communication
   with the rest of backward. Each rank's loss is a mean over its B images,
   so the average of the W gradients is the gradient of the mean over all
   W x B images: the same update one process would make with the global batch.
4. **Identical weights kept in step.** DDP copies rank 0's weights to every
   rank when it wraps a network; from then on every rank applies the same
   averaged gradient with the same optimizer, so the weights stay identical
   without ever being sent again.

What stays per rank: the history pools (each rank's discriminators see its own
past fakes) and the DataLoader. Only rank 0 writes the run folder.

CycleGAN has two optimisers and two steps, so its networks are wrapped in
pairs: G and F for the generator step, D_X and D_Y for the discriminator
step. Each step gets a *view* of the model, :func:`data_parallel_views`,
with the wrapped networks where that step trains them and the plain ones
elsewhere. The generator step must call the plain, frozen discriminators:
after each forward of a DDP-wrapped network its reducer waits for every
parameter's gradient, and frozen parameters never send one (DDP stops with
an error at the next call).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..utils import get_device
from .model import CycleGAN

__all__ = ["Dist", "init_from_env", "cleanup", "data_parallel_views", "no_sync_unless"]


@dataclass(frozen=True)
class Dist:
    """Where this process stands in a data-parallel run; the defaults are a single process."""

    rank: int = 0  # this process, 0 .. world_size - 1
    world_size: int = 1  # processes in all
    local_rank: int = 0  # this process on its machine: the GPU it drives
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes files and talks to the user."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait until every rank gets here (nothing to wait for in a single process)."""
        if self.parallel:
            dist.barrier()

    def gather(self, obj: Any) -> list | None:
        """Every rank's ``obj`` as a list on rank 0 (None elsewhere); every rank must call it."""
        if not self.parallel:
            return [obj]
        out = [None] * self.world_size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out


def init_from_env(device: str | torch.device = "auto") -> Dist:
    """Join the data-parallel run that ``torchrun`` started, or describe a single process.

    Under ``torchrun`` with ``WORLD_SIZE`` > 1: initialise the process group
    (once: a second call only reads it back), with the "nccl" backend on CUDA
    GPUs and "gloo" on CPUs, and drive GPU ``cuda:LOCAL_RANK`` (``device``
    "auto" or "cuda" without an index). Otherwise: ``Dist()`` on ``device``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(device=get_device(device))
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = get_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local)
    if dev.type not in ("cuda", "cpu"):
        raise RuntimeError(f"data-parallel training runs on CUDA GPUs or on CPUs, not on {dev.type}; "
                           f"pass --device cpu (or run a single process)")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)  # NCCL and the object collectives use the current device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo",
                                device_id=dev if dev.type == "cuda" else None)
    return Dist(rank, world, local, dev)


def cleanup() -> None:
    """Leave the process group, if one was initialised (safe to call in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _wrap(net: nn.Module, d: Dist) -> DistributedDataParallel:
    # device_ids: the one GPU this rank drives (None on CPUs). (The networks hold no buffers to keep in sync:
    # instance norm keeps no running statistics.)
    return DistributedDataParallel(net, device_ids=[d.device] if d.device.type == "cuda" else None)


def data_parallel_views(model: CycleGAN, d: Dist) -> tuple[CycleGAN, CycleGAN]:
    """Two views of ``model`` for a data-parallel run: (for the generator step, for the discriminator step).

    The first has G and F wrapped in ``DistributedDataParallel`` and the plain
    discriminators; the second the wrapped D_X and D_Y and the plain
    generators. Every wrapper shares its parameters with ``model``'s network,
    so the optimizers, checkpoints (no ``module.`` prefixes) and evaluation
    keep using ``model`` itself. Wrapping copies rank 0's weights to every
    rank; all ranks must call this, in the same order.

    The generator step calls G twice before its backward (G(x) with G(y)
    stacked, then G(F(y)) for the cycle), and F likewise. Plain DDP handles
    that: autograd adds up a parameter's gradients from all its uses before
    the one hook per parameter that DDP listens to fires, so each gradient is
    all-reduced once, complete. No ``static_graph`` or
    ``find_unused_parameters`` is needed (a test checks that the ranks' weights
    stay identical while they train on different images).
    """
    G, F, D_X, D_Y = (_wrap(net, d) for net in (model.G, model.F, model.D_X, model.D_Y))
    return replace(model, G=G, F=F), replace(model, D_X=D_X, D_Y=D_Y)


def no_sync_unless(last: bool, *nets: nn.Module) -> contextlib.AbstractContextManager:
    """Inside: the DDP-wrapped ``nets`` keep their gradients local, unless ``last``.

    With gradient accumulation the micro-batches' gradients add up locally and
    are all-reduced once, on the last micro-batch's backward (forward and
    backward both go inside). For plain modules, or on the last micro-batch,
    it does nothing.
    """
    stack = contextlib.ExitStack()
    if not last:
        for net in nets:
            if isinstance(net, DistributedDataParallel):
                stack.enter_context(net.no_sync())
    return stack
