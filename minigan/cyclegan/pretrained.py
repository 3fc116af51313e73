"""The authors' pretrained CycleGAN generators, by name: downloaded once, checked, loaded into our ResnetGenerator.

The reference repository publishes one generator per direction
(``scripts/download_cyclegan_model.sh``): ``horse2zebra`` turns horses into
zebras, ``zebra2horse`` the other way, ``style_monet`` photos into Monet
paintings, and so on, each a ``state_dict`` of its ``ResnetGenerator``
(9 residual blocks, 64 filters, instance norm, trained at 256x256) saved as
``NAME.pth`` at :data:`PRETRAINED_URL`. Our :class:`ResnetGenerator` has the
same layers in the same order, so the weights load after one renaming: the
residual block's inner ``nn.Sequential`` is called ``block`` here and
``conv_block`` there. Files saved by PyTorch before 0.4 also hold running
statistics for the instance norms, which never use them (the reference's own
loader deletes them too); they are dropped.

A file from the network is untrusted input: it is read with
``torch.load(weights_only=True)``, which rebuilds tensors and plain containers
only, and a file that is not such a generator is refused with one line. The
download is the package's resumable, size-checked :func:`download_file`, into
a cache folder (``MINIGAN_CACHE``, else ``$XDG_CACHE_HOME/minigan``, else
``~/.cache/minigan``), so each file is fetched once. ``MINIGAN_PRETRAINED_URL``
points it at a mirror.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from ..data.download import download_file, mirror_url
from .networks import ResnetGenerator

__all__ = ["PRETRAINED", "PRETRAINED_URL", "cache_dir", "pretrained_path", "load_reference_generator",
           "pretrained_generator"]

# In the order of the reference script's "Note: available models are ..." line.
PRETRAINED: tuple[str, ...] = (
    "apple2orange", "orange2apple", "summer2winter_yosemite", "winter2summer_yosemite", "horse2zebra", "zebra2horse",
    "monet2photo", "style_monet", "style_cezanne", "style_ukiyoe", "style_vangogh", "sat2map", "map2sat",
    "cityscapes_photo2label", "cityscapes_label2photo", "facades_photo2label", "facades_label2photo",
    "iphone2dslr_flower",
)
PRETRAINED_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
URL_ENV = "MINIGAN_PRETRAINED_URL"  # a mirror's base address; {base}/{name}.pth is fetched
CACHE_ENV = "MINIGAN_CACHE"
TRAINED_SIZE = 256  # the authors trained (and test) every one of them at 256x256


def cache_dir() -> Path:
    """Where downloaded weights are kept: ``$MINIGAN_CACHE``, else ``$XDG_CACHE_HOME/minigan``, else ``~/.cache/minigan``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "minigan"


def pretrained_path(name: str, *, progress: bool = True) -> Path:
    """The file of the pretrained generator ``name``, downloaded into the cache on first use."""
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained CycleGAN {name!r}; choose one of {', '.join(PRETRAINED)}")
    url = mirror_url(PRETRAINED_URL, name, ".pth", env=URL_ENV)
    return download_file(url, cache_dir() / "pretrained" / f"{name}.pth", progress=progress)


def load_reference_generator(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> ResnetGenerator:
    """A reference-layout generator ``state_dict`` file as our :class:`ResnetGenerator` (width and depth read from it).

    Raises a one-line ``ValueError`` for a file that is not one: unreadable,
    not a dict of tensors, or with layers a ResnetGenerator does not have.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 -- truncated, not a torch file, or a pickle that is not plain data
        raise ValueError(f"{path} is not a readable weights file ({type(e).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} is not a generator's state_dict (a dict of tensors)")
    renamed = {}
    for key, value in state.items():
        key = key.removeprefix("module.")  # saved from a DataParallel wrapper
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue  # instance-norm statistics from PyTorch < 0.4: never used
        renamed[re.sub(r"\.conv_block\.", ".block.", key)] = value
    first, blocks = renamed.get("model.1.weight"), {k.split(".")[1] for k in renamed if ".block." in k}
    if first is None or first.dim() != 4 or first.shape[1:] != (3, 7, 7):
        raise ValueError(f"{path} is not a CycleGAN ResnetGenerator (no 7x7 RGB input layer 'model.1.weight')")
    net = ResnetGenerator(3, 3, ngf=first.shape[0], n_blocks=len(blocks))
    missing, unexpected = (set(net.state_dict()) - set(renamed)), (set(renamed) - set(net.state_dict()))
    if missing or unexpected:
        shown = sorted(missing)[:3] + sorted(unexpected)[:3]
        raise ValueError(f"{path} is not a CycleGAN ResnetGenerator with ngf {first.shape[0]} and {len(blocks)} "
                         f"blocks: {len(missing)} layers missing, {len(unexpected)} unexpected (e.g. {', '.join(shown)})")
    try:
        net.load_state_dict(renamed)
    except RuntimeError as e:  # a layer of the wrong shape
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        raise ValueError(f"{path} does not fit a CycleGAN ResnetGenerator: {lines[-1]}") from None
    return net.to(device).eval().requires_grad_(False)


def pretrained_generator(name: str, *, device: str | torch.device = "cpu", progress: bool = True) -> ResnetGenerator:
    """The authors' pretrained generator ``name`` (one of :data:`PRETRAINED`), downloaded once, on ``device``.

    It maps (B, 3, H, W) in [-1, 1] to the same, with H and W divisible by 4;
    the authors trained it on 256x256 images.
    """
    path = pretrained_path(name, progress=progress)
    try:
        return load_reference_generator(path, device=device)
    except ValueError as e:  # a mirror or proxy served something else: do not keep it in the cache
        path.unlink(missing_ok=True)
        raise ValueError(f"{e}; it was removed from the cache, so the next try downloads it again") from None
