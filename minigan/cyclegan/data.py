"""Where a CycleGAN's unpaired training images come from: tensors in memory, or a folder of photos.

A *data source* says what the images are; the trainer asks it for
*batches*, an endless iterator of ``(real_x, real_y)`` drawn with the run's
one random generator::

    class PairSource(Protocol):
        def check(self, cfg) -> None: ...            # can cfg's networks eat these images? (ValueError if not)
        def batches(self, batch_size, *, generator, device, shard=None) -> PairBatches: ...

    class PairBatches(Protocol):
        epoch_steps: int                              # iterations in one pass over the larger domain
        def __next__(self) -> tuple[Tensor, Tensor]: ...     # (B, C, S, S) each, on device
        def state_dict(self) -> dict: ...             # the position, for checkpoints
        def load_state_dict(self, state, *, fresh_epoch=False) -> None: ...

Two sources implement it: :class:`TensorPairs` (two image tensors, e.g. the
scenes of chapter 8) and :class:`FolderPairs` (an
:class:`~minigan.data.folders.UnpairedImageFolder`, read by a DataLoader).
``shard = (rank, world)`` gives one process its share of every epoch in a
data-parallel run (:func:`minigan.train.shard_of`). :func:`open_data` turns
what the command line names (nothing, a folder, a data set's name) into a
source plus the held-out images a run shows.
"""
from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..data.download import CYCLEGAN_DATASETS, download_cyclegan_dataset
from ..data.folders import UnpairedImageFolder, load_folder_tensors
from ..data.scenes import Pairs, scene_pairs, unpaired_scenes
from ..train import batches, shard_of
from .config import CycleGANConfig

__all__ = ["PairSource", "PairBatches", "TensorPairs", "FolderPairs", "RunData", "open_data", "held_out_images", "builtin_scenes",
           "load_size_for", "BUILT_IN", "N_SAMPLES"]

N_SAMPLES = 4  # held-out images per direction that a run shows
BUILT_IN = "scenes (built in)"  # the name a run on the built-in benchmark records as its data


class PairBatches(Protocol):
    epoch_steps: int

    def __next__(self) -> tuple[Tensor, Tensor]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict, *, fresh_epoch: bool = False) -> None: ...


class PairSource(Protocol):
    def check(self, cfg: CycleGANConfig) -> None: ...

    def batches(self, batch_size: int, *, generator: torch.Generator, device: torch.device | str = "cpu",
                shard: tuple[int, int] | None = None) -> PairBatches: ...


class TensorPairs:
    """Unpaired images in memory: ``data_x`` (N, C, H, W) and ``data_y`` (M, C, H, W), shuffled independently."""

    def __init__(self, data_x: Tensor, data_y: Tensor):
        self.data_x, self.data_y = data_x, data_y

    def check(self, cfg: CycleGANConfig) -> None:
        for name, d in (("data_x", self.data_x), ("data_y", self.data_y)):
            if d.dim() != 4 or d.shape[1] != cfg.channels:
                raise ValueError(f"{name} must be images (N, {cfg.channels}, H, W), got {tuple(d.shape)}")

    def batches(self, batch_size: int, *, generator: torch.Generator | None, device: torch.device | str = "cpu",
                shard: tuple[int, int] | None = None) -> TensorBatches:
        return TensorBatches(self.data_x, self.data_y, batch_size=batch_size, generator=generator, device=device,
                             shard=shard)


class TensorBatches:
    """Batches ``(real_x, real_y)`` of two tensors, each with its own epochs, both shuffled by one generator.

    ``state_dict`` holds both epochs' positions, so a resumed run draws what an uninterrupted one would.
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


class FolderPairs:
    """Unpaired photos from a data set of ``(x, y)`` items such as :class:`UnpairedImageFolder`; ``workers`` DataLoader processes."""

    def __init__(self, dataset: Dataset, *, workers: int = 0):
        self.dataset, self.workers = dataset, workers

    def check(self, cfg: CycleGANConfig) -> None:
        if cfg.channels != 3:
            raise ValueError(f"a folder of photos gives RGB images: channels must be 3, got {cfg.channels}")

    def batches(self, batch_size: int, *, generator: torch.Generator, device: torch.device | str = "cpu",
                shard: tuple[int, int] | None = None) -> FolderBatches:
        return FolderBatches(self.dataset, batch_size=batch_size, generator=generator, device=device,
                             workers=self.workers, shard=shard)


class FolderBatches:
    """Batches ``(real_x, real_y)`` from a data set of pairs, resumable mid-epoch.

    Each epoch visits the items in a fresh order drawn from ``generator``; the
    data set's own per-item seeds make every item the same whichever worker
    loads it. The state is the epoch, its order and how far into it we are.
    """

    def __init__(self, dataset: Dataset, *, batch_size: int, generator: torch.Generator,
                 device: torch.device | str = "cpu", workers: int = 0, shard: tuple[int, int] | None = None):
        self.dataset, self.batch_size, self.generator = dataset, batch_size, generator
        self.device, self.workers, self.shard = torch.device(device), workers, shard
        self.epoch_steps = math.ceil(len(dataset) / (batch_size * (shard[1] if shard else 1)))
        self.epoch, self.perm, self.pos = -1, None, 0  # pos: items of this rank's share of perm served
        self._batches = None  # the DataLoader iterator over the rest of this epoch

    def __next__(self) -> tuple[Tensor, Tensor]:
        if self.perm is None or self.pos >= len(shard_of(self.perm, self.shard)):
            self.epoch, self.perm, self.pos = self.epoch + 1, torch.randperm(len(self.dataset), generator=self.generator), 0
            self._batches = None
        if self._batches is None:
            self.dataset.set_epoch(self.epoch)
            order = shard_of(self.perm, self.shard)[self.pos:].tolist()
            loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=order,
                                num_workers=self.workers, pin_memory=self.device.type == "cuda")
            self._batches = iter(loader)
        real_x, real_y = next(self._batches)
        self.pos += len(real_x)
        return real_x.to(self.device, non_blocking=True), real_y.to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict, *, fresh_epoch: bool = False) -> None:
        """Continue where ``state`` stopped; with ``fresh_epoch``, start the epoch after its one at the next batch."""
        self.epoch, self.perm, self.pos = int(state["epoch"]), state["perm"], int(state["pos"])
        if fresh_epoch:
            self.perm, self.pos = None, 0
        self._batches = None


@dataclass
class RunData:
    """What a run trains on: a name for people, the source, held-out images of each domain (M, 3, S, S) to show."""

    name: str
    source: PairSource
    test_x: Tensor
    test_y: Tensor
    truth: Pairs | None = None  # held-out scenes in both styles, where the answer is known (the built-in benchmark)


def load_size_for(image_size: int) -> int:
    """The resize before the random crop, in the reference's proportion (286 for 256): ``image_size * 286 // 256``."""
    return image_size * 286 // 256


@functools.lru_cache(maxsize=2)
def builtin_scenes(size: int) -> tuple[Pairs, Pairs]:
    """The built-in benchmark at ``size``, as in chapter 8: 512 unpaired training scenes, 64 held-out pairs."""
    return unpaired_scenes(512, size, seed=0), scene_pairs(64, size, seed=1)


def held_out_images(root: str | os.PathLike, size: int) -> tuple[Tensor, Tensor]:
    """A folder data set's held-out images of A and B, (N, 3, size, size) each: testA/testB, or train* without them."""
    root = Path(root)
    phase = "test" if (root / "testA").is_dir() and (root / "testB").is_dir() else "train"
    return load_folder_tensors(root / f"{phase}A", size), load_folder_tensors(root / f"{phase}B", size)


def open_data(data: str | os.PathLike | None, cfg: CycleGANConfig, *, data_root: str | os.PathLike = "datasets",
              workers: int = 0, progress: bool = True, echo: Callable[[str], None] = print) -> RunData:
    """Resolve ``data`` (None: the built-in scenes; a folder; or an official data set's name) for ``cfg``.

    Training files that do not decode are skipped and named in one ``echo``-ed warning line.
    """
    size = cfg.image_size
    if data is None:
        train, pairs = builtin_scenes(size)
        return RunData(BUILT_IN, TensorPairs(train.A, train.B), pairs.A, pairs.B, truth=pairs)
    root = Path(data)
    if not root.exists() and str(data) in CYCLEGAN_DATASETS:
        root = download_cyclegan_dataset(str(data), data_root, progress=progress)
    elif not root.exists():
        raise FileNotFoundError(f"{data} is neither a folder nor an official data set name "
                                f"({', '.join(CYCLEGAN_DATASETS)})")
    with warnings.catch_warnings(record=True) as caught:  # files that do not decode: say so in one plain line
        warnings.simplefilter("always")
        dataset = UnpairedImageFolder(root, "train", load_size=load_size_for(size), crop_size=size)
    for w in caught:
        echo(f"warning: {w.message}")
    test_x, test_y = (images[:N_SAMPLES] for images in held_out_images(root, size))
    return RunData(str(root), FolderPairs(dataset, workers=workers), test_x, test_y)
