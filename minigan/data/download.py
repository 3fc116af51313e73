"""The official CycleGAN data sets (horse2zebra, monet2photo, ...), downloaded by name and unpacked safely.

Every other data set in the package is generated or ships with an installed
package; these are real photographs, hundreds of megabytes each, so they have
to come from the network. The authors publish them as one zip per data set;
each zip holds a top folder ``name/`` with ``trainA``, ``trainB``, ``testA``
and ``testB`` (some also ``valA``/``valB``). :func:`download_cyclegan_dataset`
fetches one into ``root/name`` and does nothing if it is already there.

The names and the address are those of the authors' script
``datasets/download_cyclegan_dataset.sh`` in
https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix, less two it lists:
``cityscapes``, which the script refuses to serve for licence reasons (get it
from https://www.cityscapes-dataset.com), and ``ae_photos``, a folder of test
photos for the pretrained models rather than a pair of training domains.
(Older versions of the script point to
``people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/``, which no longer
serves them; the authors moved the files to ``efrosgans.eecs.berkeley.edu``.)
The script fetches over plain http and the authors publish no checksums, so
each download is checked against the size the server announces, and against a
sha256 if you pass one. A mirror can stand in for the authors' server: set the environment
variable ``MINIGAN_DATASETS_URL`` to a base address (``{base}/{name}.zip`` is
fetched), or pass ``base_url``.

A download of a few hundred megabytes can break off, so the lower-level
:func:`download_file` writes to ``dest.part``, resumes it with an HTTP range
request (after a dropped connection, and on the next call after a killed
run), and renames it to ``dest`` only once every check has passed. A zip from
the network is untrusted input: :func:`safe_extract` checks every entry (no
absolute paths, no ``..``, no links or devices) before it writes anything.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from ..utils import progress_bar
from .archives import DownloadError, UnsafeArchiveError, safe_extract

__all__ = ["CYCLEGAN_DATASETS", "CYCLEGAN_URL", "COMPLETE", "DownloadError", "UnsafeArchiveError", "download_file",
           "safe_extract", "download_cyclegan_dataset", "install_dataset"]

# In the order of the script's "Available datasets are: ..." message.
CYCLEGAN_DATASETS: tuple[str, ...] = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo", "ukiyoe2photo",
    "vangogh2photo", "maps", "facades", "iphone2dslr_flower",
)
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
URL_ENV = "MINIGAN_DATASETS_URL"  # a mirror's base address; {base}/{name}.zip is fetched
OFFLINE_ENV = "MINIGAN_OFFLINE"  # set (the tests and tools/run_notebooks.py set it): only this machine is contacted
RETRY_DELAY = 1.0  # seconds before the first retry; the k-th retry waits k times as long

# Names the authors' script knows but this module does not offer, and why.
_NOT_OFFERED = {
    "cityscapes": "the authors do not redistribute it, for licence reasons; see https://www.cityscapes-dataset.com",
    "ae_photos": "it is a folder of test photos for the pretrained models, not a pair of training domains",
}
# A dropped or stalled connection: worth resuming. (socket.timeout is TimeoutError from Python 3.10 on.)
_TRANSIENT = (http.client.IncompleteRead, ConnectionError, TimeoutError, socket.timeout)


class _Interrupted(Exception):
    """The server closed the connection before sending all the bytes it announced."""


# ------------------------------------------------------------------ downloading

def mirror_url(default: str, name: str, suffix: str, *, base_url: str | None = None, env: str = URL_ENV) -> str:
    """``{base}/{name}{suffix}`` from ``base_url``, else from the environment variable ``env``, else ``default``."""
    base = base_url or os.environ.get(env)
    return base.rstrip("/") + f"/{name}{suffix}" if base else default.format(name=name)


def download_file(url: str, dest: str | os.PathLike, *, sha256: str | None = None, expected_size: int | None = None,
                  progress: bool = True, chunk_size: int = 1 << 16, timeout: float = 30.0,
                  retries: int = 3) -> Path:
    """Download ``url`` to ``dest``, resuming a partial download; returns ``dest`` as a Path.

    Bytes go to ``dest.part``. If that file is there (an earlier run was
    killed, or the connection dropped), the request asks only for the missing
    bytes (``Range: bytes=N-``) and appends them; a server that ignores ranges
    answers with the whole file, which then replaces the partial one. A dropped
    or stalled connection is resumed up to ``retries`` times. The finished file
    must have the size the server announced, ``expected_size`` bytes if given,
    and the ``sha256`` (hex) if given; if not, the partial file is deleted and
    :class:`DownloadError` says what was expected and what came. Only then is
    it renamed to ``dest`` (atomically, so ``dest`` is never half-written). If
    ``dest`` already exists and passes the checks given, nothing is downloaded.
    With the ``MINIGAN_OFFLINE`` environment variable set, only this machine
    (a test's local server) is contacted; any other address is a DownloadError.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file() and _mismatch(dest, None, expected_size, sha256) is None:
        return dest
    if os.environ.get(OFFLINE_ENV) and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise DownloadError(f"not downloading {url}: {OFFLINE_ENV} is set (as in the book's CI, which is offline)")
    part = dest.with_name(dest.name + ".part")
    failures = 0
    while True:
        try:
            total = _fetch(url, part, progress=progress, chunk_size=chunk_size, timeout=timeout)
            break
        except HTTPError as e:
            if e.code < 500:
                raise DownloadError(f"could not download {url}: HTTP {e.code} {e.reason}") from e
            error: BaseException = e  # a server error (502, 503, ...) may be passing
        except (_Interrupted, *_TRANSIENT) as e:
            error = e
        except URLError as e:  # urlopen wraps errors from before the reply: retry those that may pass
            if not isinstance(e.reason, _TRANSIENT):
                raise DownloadError(f"could not download {url}: {e.reason}") from e
            error = e
        failures += 1
        if failures > retries:
            kept = part.stat().st_size if part.exists() else 0
            raise DownloadError(f"download of {url} failed {failures} times (last: {error!r}); {kept} bytes are kept "
                                f"in {part}, and the next call resumes from there") from error
        time.sleep(RETRY_DELAY * failures)
    problem = _mismatch(part, total, expected_size, sha256)
    if problem is not None:
        part.unlink()
        raise DownloadError(f"download of {url} is not the expected file: {problem}; the partial file was deleted")
    os.replace(part, dest)
    return dest


def _fetch(url: str, part: Path, *, progress: bool, chunk_size: int, timeout: float) -> int | None:
    """One request: append the missing bytes to ``part`` (or rewrite it); the file's total size, if known."""
    offset = part.stat().st_size if part.exists() else 0
    request = Request(url, headers={"User-Agent": "minigan"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urlopen(request, timeout=timeout)
    except HTTPError as e:
        if e.code != 416 or not offset:
            raise
        # 416 Range Not Satisfiable: we asked from byte N and the file has no byte N, so the partial file is
        # either complete already or longer than the file (left from another file): then start over.
        total = _content_range(e.headers.get("Content-Range", ""))[2]
        e.close()
        if total == offset:
            return total
        part.unlink()
        raise _Interrupted(f"the partial file ({offset} bytes) does not fit the server's file ({total} bytes)") from e
    with response:
        status = getattr(response, "status", None) or 200  # file:// replies have no status
        if status == 206:
            start, _, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:  # not the bytes we asked for: drop what we have and start over
                part.unlink()
                raise _Interrupted(f"asked for bytes from {offset}, the server sent bytes from {start}")
            mode = "ab"
        else:  # 200: the whole file, because we asked for it or because the server ignores ranges
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None else None
            offset, mode = 0, "wb"
        with open(part, mode) as f, progress_bar(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                                         desc=part.name[:-len(".part")], disable=not progress) as bar:
            while chunk := response.read(chunk_size):
                f.write(chunk)
                bar.update(len(chunk))
    got = part.stat().st_size
    if total is not None and got < total:  # http.client returns b"" (no error) when the socket closes early
        raise _Interrupted(f"the connection closed after {got} of {total} bytes")
    return total


def _content_range(value: str) -> tuple[int | None, int | None, int | None]:
    """``"bytes 100-199/1000"`` -> (100, 199, 1000); ``"bytes */1000"`` -> (None, None, 1000); None for unknowns."""
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*", value)
    if m is None:
        return None, None, None
    start, end, total = (None if g in (None, "*") else int(g) for g in m.groups())
    return start, end, total


def _mismatch(path: Path, total: int | None, expected_size: int | None, sha256: str | None) -> str | None:
    """What is wrong with the file at ``path`` ("expected ..., got ..."), or None if it passes every check given."""
    size = path.stat().st_size
    for what, want in (("the server announced", total), ("expected_size is", expected_size)):
        if want is not None and size != want:
            return f"{what} {want} bytes, got {size}"
    if sha256 is not None:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256.lower():
            return f"expected sha256 {sha256.lower()}, got {digest.hexdigest()}"
    return None


# ------------------------------------------------------------------ the CycleGAN data sets

COMPLETE = ".minigan-complete"  # written into a data set's folder once every file of it is unpacked


def download_cyclegan_dataset(name: str, root: str | os.PathLike = "datasets", *, base_url: str | None = None,
                              sha256: str | None = None, progress: bool = True, keep_archive: bool = False) -> Path:
    """Download and unpack the CycleGAN data set ``name`` into ``root/name``; returns that folder.

    If ``root/name`` is a complete download (it holds the :data:`COMPLETE`
    marker), returns at once, offline. Otherwise fetches ``name.zip`` from
    ``base_url``, else ``$MINIGAN_DATASETS_URL``, else the authors' server
    (:data:`CYCLEGAN_URL`), into ``root``; unpacks it (:func:`safe_extract`)
    into a hidden temporary folder beside it; checks the layout; writes the
    marker; and only then renames the folder into place, so an unpacking cut
    off by a disconnect or a killed process never leaves a ``root/name`` that
    looks usable. The archive is deleted unless ``keep_archive``. The authors
    publish no checksums, so ``sha256`` is only checked if you pass one.
    Nothing there is deleted: a ``root/name`` without the marker (cut off under
    an older version, or made by hand) is left alone, with a :class:`DownloadError`.
    """
    if name not in CYCLEGAN_DATASETS:
        why = f" ({_NOT_OFFERED[name]})" if name in _NOT_OFFERED else ""
        raise ValueError(f"unknown CycleGAN data set {name!r}{why}; choose one of {', '.join(CYCLEGAN_DATASETS)}")
    url = mirror_url(CYCLEGAN_URL, name, ".zip", base_url=base_url)
    return install_dataset(url, root, name, ".zip", needs=("trainA", "trainB"), sha256=sha256, progress=progress,
                           keep_archive=keep_archive)


def install_dataset(url: str, root: str | os.PathLike, name: str, suffix: str, *, needs: tuple[str, ...],
                    sha256: str | None = None, progress: bool = True, keep_archive: bool = False) -> Path:
    """Fetch ``url`` as ``root/name+suffix`` and unpack it to ``root/name``, which must hold the folders ``needs``.

    The steps every data set by name shares (CycleGAN's here, pix2pix's in
    :mod:`minigan.data.pix2pix_datasets`): a complete ``root/name`` (it holds
    :data:`COMPLETE`) returns at once; one without the marker is left alone
    with a :class:`DownloadError`; otherwise the archive is downloaded
    (:func:`download_file`), unpacked (:func:`safe_extract`) into a hidden
    folder beside ``root/name``, checked, marked, and only then renamed into
    place. The archive is deleted unless ``keep_archive`` (and kept when the check fails).
    """
    root = Path(root)
    folder = root / name
    if (folder / COMPLETE).is_file():
        return folder
    if folder.exists():
        raise DownloadError(f"{folder} exists but is not a complete download (no {COMPLETE} marker: its unpacking "
                            f"may have been cut off); it is left as it is. Rename or delete it to download again, "
                            f"or use it as a folder (--data {folder}) if you know it is complete")
    archive = download_file(url, root / f"{name}{suffix}", sha256=sha256, progress=progress)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.unpacking-", dir=root))  # ours alone: removed whatever happens
    try:
        safe_extract(archive, staging)
        unpacked = staging / name
        if not all((unpacked / d).is_dir() for d in needs):
            tops = sorted(p.relative_to(staging).as_posix() for p in staging.glob("*/*"))
            shown = ", ".join(tops[:12]) + (", ..." if len(tops) > 12 else "") or "nothing"
            raise DownloadError(f"{url} did not unpack to {folder}/{' and '.join(needs)}; it holds {shown} "
                                f"(the archive is kept at {archive})")
        (unpacked / COMPLETE).write_text(f"unpacked from {url}\n")
        os.replace(unpacked, folder)  # atomic on one file system: root/name appears complete, or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in root.glob(f".{name}.unpacking-*"):  # left by an unpacking that was killed before its cleanup
        shutil.rmtree(stale, ignore_errors=True)
    if not keep_archive:
        archive.unlink()
    return folder
