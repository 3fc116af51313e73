"""The authors' pix2pix data sets by name [isola2017pix2pix]: facades, maps, edges2shoes, ...

Each is a ``.tar.gz`` on the authors' server that unpacks to ``NAME/train``,
``NAME/val`` (and for some ``NAME/test``): folders of side-by-side A|B images
(:func:`minigan.data.aligned.load_side_by_side` reads them). The download is
:mod:`minigan.data.download`'s: resumed after a dropped connection, checked,
unpacked safely into a hidden folder and only then moved into place with its
completion marker, so a cut-off unpacking is never taken for a data set. The
tests run it against a local server; nothing in CI reaches the network.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import download as _download

__all__ = ["PIX2PIX_DATASETS", "PIX2PIX_URL", "download_pix2pix_dataset"]

# In the order of the authors' script's "Available datasets are ..." message, without cityscapes.
PIX2PIX_DATASETS: tuple[str, ...] = ("night2day", "edges2handbags", "edges2shoes", "facades", "maps")
PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
URL_ENV = "MINIGAN_PIX2PIX_URL"  # a mirror's base address; {base}/{name}.tar.gz is fetched
_NOT_OFFERED = {
    "cityscapes": "the authors do not redistribute it, for licence reasons; see https://www.cityscapes-dataset.com "
                  "and the reference's datasets/prepare_cityscapes_dataset.py",
}


def download_pix2pix_dataset(name: str, root: str | os.PathLike = "datasets", *, base_url: str | None = None,
                             sha256: str | None = None, progress: bool = True, keep_archive: bool = False) -> Path:
    """Download and unpack the pix2pix data set ``name`` into ``root/name``; returns that folder.

    The steps are :func:`minigan.data.download.install_dataset`'s, as for
    CycleGAN's data sets: a complete download (it holds the completion
    marker) returns at once, offline; a ``root/name`` without the marker is
    left alone with a ``DownloadError``; the archive is deleted unless
    ``keep_archive``. The address is ``base_url``, else ``$MINIGAN_PIX2PIX_URL``,
    else the authors' server (:data:`PIX2PIX_URL`).
    """
    if name not in PIX2PIX_DATASETS:
        why = f" ({_NOT_OFFERED[name]})" if name in _NOT_OFFERED else ""
        raise ValueError(f"unknown pix2pix data set {name!r}{why}; choose one of {', '.join(PIX2PIX_DATASETS)}")
    url = _download.mirror_url(PIX2PIX_URL, name, ".tar.gz", base_url=base_url, env=URL_ENV)
    return _download.install_dataset(url, root, name, ".tar.gz", needs=("train",), sha256=sha256, progress=progress,
                                     keep_archive=keep_archive)
