"""Unpacking an archive from the network, which is untrusted input: every entry is checked before anything is written.

:func:`safe_extract` refuses an absolute path, a ``..`` that leads out of the
target folder, and links or devices (which could point outside it); only
then does it write. :class:`DownloadError` and :class:`UnsafeArchiveError` are
the errors of :mod:`minigan.data.download`, which uses it.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["DownloadError", "UnsafeArchiveError", "safe_extract"]


class DownloadError(RuntimeError):
    """A download or an unpacked archive is not what it should be."""


class UnsafeArchiveError(DownloadError):
    """An archive entry would be written outside the target folder, or is a link or a device."""


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Unpack a .zip, .tar or .tar.gz into ``target``, after checking that every entry stays inside it.

    Nothing is written unless every entry passes: no absolute path or drive
    letter, no ``..`` that leads out of ``target``, only regular files and
    folders (no symlinks, hard links or devices, which could point outside).
    Otherwise :class:`UnsafeArchiveError` names the first offending entry.
    Returns ``target`` as a Path.
    """
    archive, target = Path(archive), Path(target)
    root = target.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            entries = []
            for info in zf.infolist():
                kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type; 0 when a DOS tool made the zip
                if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} is a link or a special file")
                entries.append((info, _inside(root, info.filename, archive), info.is_dir()))
            _write(entries, zf.open)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            entries = []
            for member in tf.getmembers():
                if not (member.isreg() or member.isdir()):
                    raise UnsafeArchiveError(f"{archive}: entry {member.name!r} is a link or a special file")
                entries.append((member, _inside(root, member.name, archive), member.isdir()))
            _write(entries, tf.extractfile)
    else:
        raise DownloadError(f"{archive} is neither a zip nor a tar archive")
    return target


def _inside(root: Path, name: str, archive: Path) -> Path:
    """Where entry ``name`` goes under ``root``; UnsafeArchiveError if that is not inside ``root``."""
    posix = name.replace("\\", "/")  # Windows tools sometimes write backslashes; Windows reads them as separators
    parts = PurePosixPath(posix).parts
    if not posix or posix.startswith("/") or re.match(r"[A-Za-z]:", posix) or ".." in parts or "\0" in posix:
        raise UnsafeArchiveError(f"{archive}: entry {name!r} is an absolute path or leaves the target folder")
    path = root.joinpath(*parts).resolve()  # "." is root itself; resolve() also follows symlinks already there
    if path != root and root not in path.parents:
        raise UnsafeArchiveError(f"{archive}: entry {name!r} would be written outside {root}")
    return path


def _write(entries: list, open_entry) -> None:
    """Create the checked entries: (entry, destination, is a folder) triples; ``open_entry`` reads a file's bytes."""
    for entry, path, is_dir in entries:
        if is_dir:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_entry(entry) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
