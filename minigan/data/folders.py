"""Unpaired image folders in the CycleGAN layout, read the way the authors' code reads them [zhu2017cyclegan].

Shapes: C = 3 (RGB), S the crop side; images live in [-1, 1].

The authors' data sets (horse2zebra, monet2photo, ...) are four folders of
image files under one root::

    root/trainA/  root/trainB/  root/testA/  root/testB/

A and B are the two domains; nothing pairs a file of A with a file of B. The
reference loader (``UnalignedDataset`` in junyanz/pytorch-CycleGAN-and-pix2pix)
therefore walks A in order and draws B at random: item ``i`` is A's file
``i % len(A)`` with a random B, and an epoch has ``max(len(A), len(B))`` items,
so the larger domain is seen once per epoch. Its preprocessing
(``resize_and_crop``) resizes to ``load_size`` x ``load_size`` (bicubic), takes
a random ``crop_size`` crop, flips left-right half of the time and maps
[0, 255] to [-1, 1]. :func:`cyclegan_transform` is that pipeline built from
``torchvision`` transforms, and :class:`UnpairedImageFolder` is that sampler.

Two things are added, because a teaching run should neither crash on a stray
file nor change when it is resumed:

- every file is decoded once when the folder is opened; the ones that fail
  are skipped with a single warning that names them;
- the randomness (which B, where to crop, whether to flip) of item ``i`` in
  epoch ``e`` comes from a seed computed from (seed, e, i) alone, not from a
  global random state: the same items come out with any number of DataLoader
  workers and after a restart, and the caller's random state is left alone.

:func:`make_scenes_folder` writes the built-in scenes (:mod:`minigan.data.scenes`)
in this layout, so the folder code path runs offline, with test folders whose
files are aligned (testA/0007.png and testB/0007.png are the same scene).
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import transforms as T

from .decode import load_rgb
from .scenes import scene_pairs, unpaired_scenes

__all__ = ["IMG_EXTENSIONS", "UnpairedImageFolder", "cyclegan_transform", "is_image_file", "item_seed", "list_images",
           "load_folder_tensors", "load_rgb", "make_scenes_folder", "save_images", "skipped_message"]

# The reference's list (data/image_folder.py); we match it ignoring case, so ".Jpg" counts too.
IMG_EXTENSIONS = [
    ".jpg", ".JPG", ".jpeg", ".JPEG",
    ".png", ".PNG", ".ppm", ".PPM", ".bmp", ".BMP",
    ".tif", ".TIF", ".tiff", ".TIFF",
]
_SUFFIXES = tuple(sorted({e.lower() for e in IMG_EXTENSIONS}))
_LAYOUT = "a CycleGAN data set is a root folder holding trainA, trainB, testA and testB, each a folder of images"
_MAX_NAMED = 10  # skipped files named in the warning


def is_image_file(name: str | os.PathLike) -> bool:
    """Whether a file name ends with one of :data:`IMG_EXTENSIONS`, in any case."""
    return os.fspath(name).lower().endswith(_SUFFIXES)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files under ``folder`` and its subfolders, sorted by path (like the reference's ``make_dataset``).

    Other files (``.txt``, ``.DS_Store``, ...) are ignored. A missing folder,
    or one without any image file, raises ``FileNotFoundError``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise NotADirectoryError(f"{folder} is a file, not a folder of images")
        raise FileNotFoundError(f"folder {folder} does not exist")
    paths = [Path(d, f) for d, _, files in os.walk(folder) for f in files if is_image_file(f)]
    if not paths:
        raise FileNotFoundError(f"no images in {folder}: image files end with {', '.join(_SUFFIXES)} (any case)")
    return sorted(paths, key=str)


def cyclegan_transform(load_size: int = 286, crop_size: int = 256, *, train: bool = True,
                       flip: bool = True) -> T.Compose:
    """The reference preprocessing, PIL image -> tensor (3, crop_size, crop_size) in [-1, 1].

    ``train``: resize to load_size x load_size (bicubic), random crop_size crop,
    random left-right flip (unless ``flip=False``). Otherwise (translating,
    testing) resize straight to crop_size x crop_size: the reference's test
    options set load_size = crop_size and turn flipping off, which is the same.
    The aspect ratio is not kept, as in the reference.
    """
    if not 0 < crop_size <= load_size:
        raise ValueError(f"need 0 < crop_size <= load_size, got crop_size={crop_size}, load_size={load_size}")
    to_pm1 = [T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]  # [0, 255] -> [0, 1] -> [-1, 1]
    if not train:
        return T.Compose([T.Resize([crop_size, crop_size], T.InterpolationMode.BICUBIC), *to_pm1])
    steps = [T.Resize([load_size, load_size], T.InterpolationMode.BICUBIC), T.RandomCrop(crop_size)]
    if flip:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose(steps + to_pm1)


def _readable(path: Path) -> bool:
    """Whether ``path`` decodes (and converts to RGB) without an error."""
    try:
        load_rgb(path)
    except Exception:  # noqa: BLE001 -- Pillow raises OSError, ValueError, SyntaxError, EOFError, ...
        return False
    return True


def skipped_message(bad: list[Path], base: Path) -> str:
    """"skipped N image file(s) under BASE that could not be read: a.png, b.jpg": at most 10 named."""
    names = [os.path.relpath(p, base) for p in bad]
    shown = ", ".join(names[:_MAX_NAMED]) + (f" and {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else "")
    return f"skipped {len(bad)} image file(s) under {base} that could not be read: {shown}"


def _warn_skipped(bad: list[Path], base: Path) -> None:
    """One warning naming the files that did not decode (relative to ``base``)."""
    if bad:
        warnings.warn(skipped_message(bad, base), UserWarning, stacklevel=3)


def item_seed(seed: int, epoch: int, index: int, stream: str) -> int:
    """A 63-bit seed for one random choice (``stream``) of item ``index`` in ``epoch``.

    A hash, so nearby (seed, epoch, index) give unrelated seeds and the value
    is the same on every machine, in every process, in any order of calls.
    """
    digest = hashlib.blake2b(f"{seed}/{epoch}/{index}/{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # 63 bits: a valid non-negative int64


class UnpairedImageFolder(Dataset):
    """Items (A image, B image), each (3, crop_size, crop_size) in [-1, 1], from ``root/{phase}A`` and ``{phase}B``.

    Item ``i`` is A's file ``i % len(paths_a)`` and a B file drawn at random;
    there are ``max(len(paths_a), len(paths_b))`` items. In the test phase
    (``serial`` defaults to ``phase != "train"``) B is file ``i % len(paths_b)``
    instead, as in the reference's test script, so aligned test folders give
    aligned pairs.

    ``transform`` (PIL RGB image -> tensor) defaults to
    :func:`cyclegan_transform` with ``train = phase == "train"``. Its random
    draws must use torch's global random generator (torchvision's transforms
    do): for each item, B's index, A's transform and B's transform each get a
    seed from :func:`item_seed` (seed, epoch, i), and the transforms run inside
    :func:`torch.random.fork_rng`, so the global state is restored afterwards.
    Call :meth:`set_epoch` at the start of each epoch for new draws. (With
    ``persistent_workers=True`` a DataLoader's workers keep the epoch they were
    started with.)

    ``check`` decodes every file once, here; the ones that fail are skipped
    with one warning and listed in ``skipped``.
    """

    def __init__(self, root: str | os.PathLike, phase: str = "train", *, load_size: int = 286, crop_size: int = 256,
                 flip: bool = True, seed: int = 0, transform=None, serial: bool | None = None, check: bool = True):
        self.root = Path(root)
        self.phase = phase
        self.seed = seed
        self.epoch = 0
        self.serial = phase != "train" if serial is None else serial
        self.transform = transform if transform is not None else cyclegan_transform(
            load_size, crop_size, train=phase == "train", flip=flip)
        if not self.root.is_dir():
            raise FileNotFoundError(f"no data set at {self.root}: the folder does not exist ({_LAYOUT})")
        folders = [self.root / f"{phase}A", self.root / f"{phase}B"]
        for folder in folders:
            if not folder.is_dir():
                raise FileNotFoundError(f"{folder} does not exist: {_LAYOUT}")
        found = [list_images(folder) for folder in folders]
        kept = [[p for p in paths if _readable(p)] for paths in found] if check else found
        self.paths_a, self.paths_b = kept
        self.skipped = [p for paths, ok in zip(found, kept) for p in sorted(set(paths) - set(ok), key=str)]
        _warn_skipped(self.skipped, self.root)
        for folder, paths in zip(folders, kept):
            if not paths:
                raise FileNotFoundError(f"no readable images in {folder}: every image file in it failed to decode")

    def __len__(self) -> int:
        return max(len(self.paths_a), len(self.paths_b))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({str(self.root)!r}, phase={self.phase!r}: {len(self.paths_a)} A images, "
                f"{len(self.paths_b)} B images, {len(self)} items)")

    def set_epoch(self, epoch: int) -> None:
        """Use the draws of ``epoch`` from now on (B's index, crops, flips)."""
        self.epoch = int(epoch)

    def indices(self, index: int) -> tuple[int, int]:
        """(A's file index, B's file index) of item ``index`` in the current epoch."""
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} is out of range for {len(self)} items")
        n_b = len(self.paths_b)
        if self.serial:
            return index % len(self.paths_a), index % n_b
        g = torch.Generator().manual_seed(item_seed(self.seed, self.epoch, index, "B index"))
        return index % len(self.paths_a), int(torch.randint(n_b, (), generator=g))

    def _transformed(self, path: Path, seed: int) -> Tensor:
        """``transform(load_rgb(path))`` with torch's CPU random generator seeded by ``seed``, then restored."""
        image = load_rgb(path)
        with torch.random.fork_rng(devices=[]):
            # default_generator only: torch.manual_seed would also reseed (and, unforked, change) CUDA's generators
            torch.default_generator.manual_seed(seed)
            return self.transform(image)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        index = int(index)
        i, j = self.indices(index)
        a = self._transformed(self.paths_a[i], item_seed(self.seed, self.epoch, index, "A"))  # (3, S, S)
        b = self._transformed(self.paths_b[j], item_seed(self.seed, self.epoch, index, "B"))  # (3, S, S)
        return a, b


def save_images(images: Tensor, folder: str | os.PathLike) -> list[Path]:
    """Write images (N, 3, S, S) in [-1, 1] as 8-bit PNG files ``folder/0000.png``, ... in order.

    Rounding to 8 bits moves a value by at most 1/255 (half a step of 2/255).
    Refuses to write into a folder holding other images, which would mix in.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(len(images) - 1)))
    paths = [folder / f"{i:0{width}d}.png" for i in range(len(images))]
    others = sorted(set(filter(is_image_file, os.listdir(folder))) - {p.name for p in paths})
    if others:
        raise FileExistsError(f"{folder} already holds other images ({others[0]}, ...): empty it or choose another")
    pixels = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # (N, 3, S, S)
    for path, img in zip(paths, pixels):
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(path)  # (S, S, 3) uint8: mode RGB
    return paths


def make_scenes_folder(root: str | os.PathLike, *, n_train: int = 64, n_test: int = 16, size: int = 32,
                       seed: int = 0) -> Path:
    """Write the built-in scenes as a CycleGAN folder data set of PNG files under ``root``; returns ``root``.

    trainA / trainB: ``unpaired_scenes(n_train, size, seed=seed)`` (A and B
    from different scenes, unpaired). testA / testB:
    ``scene_pairs(n_test, size, seed=seed + 1)``, aligned by file name:
    testA/0007.png and testB/0007.png are the same scene in the two styles.
    """
    root = Path(root)
    train = unpaired_scenes(n_train, size, seed=seed)
    test = scene_pairs(n_test, size, seed=seed + 1)
    for name, images in (("trainA", train.A), ("trainB", train.B), ("testA", test.A), ("testB", test.B)):
        save_images(images, root / name)
    return root


def load_folder_tensors(folder: str | os.PathLike, size: int) -> Tensor:
    """Every image under ``folder``, in sorted order, resized to size x size: a tensor (N, 3, size, size) in [-1, 1].

    Uses the test transform (no crop, no flip). Files that do not decode are
    skipped with one warning. Meant for small test sets: all of it is in memory.
    """
    folder = Path(folder)
    transform = cyclegan_transform(size, size, train=False)
    images, bad = [], []
    for path in list_images(folder):
        try:
            images.append(transform(load_rgb(path)))  # (3, size, size)
        except Exception:  # noqa: BLE001 -- as in _readable
            bad.append(path)
    _warn_skipped(bad, folder)
    if not images:
        raise FileNotFoundError(f"no readable images in {folder}: every image file in it failed to decode")
    return torch.stack(images)
