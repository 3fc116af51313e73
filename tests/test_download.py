"""Downloads and safe unpacking, offline: a local HTTP server on 127.0.0.1 serves archives the tests build."""
import hashlib
import io
import random
import re
import shutil
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from minigan.data import download
from minigan.data.download import (CYCLEGAN_DATASETS, CYCLEGAN_URL, DownloadError, UnsafeArchiveError,
                                   download_cyclegan_dataset, download_file, safe_extract)

PAYLOAD = random.Random(0).randbytes(300_000)  # several chunks of 64 KiB
K = 100_000  # where a dropped connection breaks off


class Handler(BaseHTTPRequestHandler):
    """Serves ``server.root``; honours ``Range: bytes=N-`` unless ``server.ignore_range``; can drop connections.

    Switches on the server: ``drops_left`` replies stop after ``drop_after`` bytes of their body;
    ``ignore_range`` answers 200 with the whole file; ``range_from_zero`` answers 206 but from byte 0.
    """

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        path = srv.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, rng = 0, self.headers.get("Range")
        if rng is not None and not srv.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            if srv.range_from_zero:  # a broken server: says 206 but sends the bytes from 0
                start = 0
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))  # always the full length, even when we drop
        self.end_headers()
        if srv.drops_left > 0:  # write K bytes, then the connection closes (HTTP/1.0: after each reply)
            srv.drops_left -= 1
            self.wfile.write(body[:srv.drop_after])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.root = tmp_path / "served"
    srv.root.mkdir()
    srv.requests = []  # (path, Range header or None), in order
    srv.ignore_range = srv.range_from_zero = False
    srv.drops_left, srv.drop_after = 0, K
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every URL the module opens must be on 127.0.0.1; no mirror or proxy from the environment; no retry delays."""
    real_urlopen = download.urlopen

    def guarded(request, *args, **kwargs):
        url = request.full_url
        assert urlsplit(url).hostname == "127.0.0.1", f"test tried the real network: {url}"
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(download, "urlopen", guarded)
    monkeypatch.delenv(download.URL_ENV, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(download, "RETRY_DELAY", 0.0)


def png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buf, format="PNG")
    return buf.getvalue()


def dataset_zip(path: Path, name: str, folders=("trainA", "trainB", "testA", "testB")) -> dict:
    """A zip laid out like the official ones (``name/trainA/*.png``, ...); returns {relative path: bytes}."""
    files = {}
    for i, folder in enumerate(folders):
        for j in range(2):
            files[f"{name}/{folder}/{j}.png"] = png((40 * i, 60 * j, 200))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/", "")
        for rel, data in files.items():
            zf.writestr(rel, data)
    return files


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ data sets by name

def test_dataset_by_name_downloads_unpacks_and_cleans_up(server, tmp_path):
    files = dataset_zip(server.root / "horse2zebra.zip", "horse2zebra")
    root = tmp_path / "datasets"
    folder = download_cyclegan_dataset("horse2zebra", root, base_url=server.url + "/", progress=False)
    assert folder == root / "horse2zebra"
    assert server.requests == [("/horse2zebra.zip", None)]
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data
    assert sorted(p.name for p in root.iterdir()) == ["horse2zebra"]  # zip (and .part) removed
    # already there: no request at all
    assert download_cyclegan_dataset("horse2zebra", root, base_url=server.url, progress=False) == folder
    assert len(server.requests) == 1


def test_keep_archive_and_existing_archive_is_reused(server, tmp_path):
    dataset_zip(server.root / "apple2orange.zip", "apple2orange")
    root = tmp_path / "datasets"
    download_cyclegan_dataset("apple2orange", root, base_url=server.url, progress=False, keep_archive=True)
    assert (root / "apple2orange.zip").is_file()
    shutil.rmtree(root / "apple2orange")
    download_cyclegan_dataset("apple2orange", root, base_url=server.url, progress=False)  # unpacks the kept zip
    assert (root / "apple2orange" / "trainB" / "1.png").is_file() and not (root / "apple2orange.zip").exists()
    assert len(server.requests) == 1


def test_an_unpacking_cut_off_is_never_taken_for_a_data_set(server, tmp_path, monkeypatch):
    files = dataset_zip(server.root / "horse2zebra.zip", "horse2zebra")
    root = tmp_path / "datasets"
    real_copy, copies = shutil.copyfileobj, []

    def session_ends_at_the_third_file(src, dst, *args, **kwargs):
        copies.append(1)
        if len(copies) == 3:
            raise KeyboardInterrupt  # a Colab disconnect in the middle of unpacking
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(download.shutil, "copyfileobj", session_ends_at_the_third_file)
    with pytest.raises(KeyboardInterrupt):
        download_cyclegan_dataset("horse2zebra", root, base_url=server.url, progress=False)
    assert sorted(p.name for p in root.iterdir()) == ["horse2zebra.zip"]  # no half folder; the archive is kept
    monkeypatch.setattr(download.shutil, "copyfileobj", real_copy)
    (root / ".horse2zebra.unpacking-killed").mkdir()  # what a SIGKILL, which skips every cleanup, leaves
    (root / ".horse2zebra.unpacking-killed" / "half.png").write_bytes(b"half")
    folder = download_cyclegan_dataset("horse2zebra", root, base_url=server.url, progress=False)
    assert (folder / download.COMPLETE).is_file() and len(server.requests) == 1  # unpacked from the kept archive
    assert all((root / rel).read_bytes() == data for rel, data in files.items())
    assert sorted(p.name for p in root.iterdir()) == ["horse2zebra"]


def test_a_folder_without_the_marker_is_left_alone(server, tmp_path):
    dataset_zip(server.root / "horse2zebra.zip", "horse2zebra")
    half = tmp_path / "horse2zebra" / "trainA"  # unpacked in place by an older version, cut off: looks usable
    half.mkdir(parents=True)
    (half / "0.png").write_bytes(png((1, 2, 3)))
    (tmp_path / "horse2zebra" / "trainB").mkdir()
    with pytest.raises(DownloadError, match="not a complete download .* it is left as it is"):
        download_cyclegan_dataset("horse2zebra", tmp_path, base_url=server.url, progress=False)
    assert [p.name for p in half.iterdir()] == ["0.png"] and server.requests == []


def test_default_url_is_the_authors_and_is_never_opened_in_tests(tmp_path, monkeypatch):
    url = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"
    assert CYCLEGAN_URL.format(name="horse2zebra") == url
    with pytest.raises(DownloadError, match=f"not downloading {url}: MINIGAN_OFFLINE is set"):
        download_cyclegan_dataset("horse2zebra", tmp_path, progress=False)  # the tests run with MINIGAN_OFFLINE
    monkeypatch.delenv("MINIGAN_OFFLINE")
    with pytest.raises(AssertionError, match="efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"):
        download_cyclegan_dataset("horse2zebra", tmp_path, progress=False)  # without it, the test's guard stops it
    assert list(tmp_path.iterdir()) == []


def test_environment_variable_sets_a_mirror(server, tmp_path, monkeypatch):
    dataset_zip(server.root / "monet2photo.zip", "monet2photo")
    (server.root / "mirror").mkdir()
    (server.root / "monet2photo.zip").rename(server.root / "mirror" / "monet2photo.zip")
    monkeypatch.setenv("MINIGAN_DATASETS_URL", server.url + "/mirror//")  # trailing slashes are dropped
    folder = download_cyclegan_dataset("monet2photo", tmp_path, progress=False)
    assert (folder / "trainA").is_dir() and server.requests == [("/mirror/monet2photo.zip", None)]
    # an explicit base_url wins over the environment
    dataset_zip(server.root / "facades.zip", "facades")
    download_cyclegan_dataset("facades", tmp_path, base_url=server.url, progress=False)
    assert server.requests[-1] == ("/facades.zip", None)


def test_unknown_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError) as info:
        download_cyclegan_dataset("horse2unicorn", tmp_path)
    assert all(name in str(info.value) for name in CYCLEGAN_DATASETS)
    with pytest.raises(ValueError, match="licence"):
        download_cyclegan_dataset("cityscapes", tmp_path)
    assert "horse2zebra" in CYCLEGAN_DATASETS and "cityscapes" not in CYCLEGAN_DATASETS
    assert list(tmp_path.iterdir()) == []


def test_archive_without_trainA_says_what_it_holds(server, tmp_path):
    dataset_zip(server.root / "maps.zip", "maps", folders=("images", "trainB"))
    with pytest.raises(DownloadError, match=r"maps/images.*maps/trainB"):
        download_cyclegan_dataset("maps", tmp_path, base_url=server.url, progress=False)


def test_http_error_is_reported_without_retrying(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_cyclegan_dataset("vangogh2photo", tmp_path, base_url=server.url, progress=False)
    assert len(server.requests) == 1


# ------------------------------------------------------------------ resuming

def serve_payload(server) -> str:
    (server.root / "blob.bin").write_bytes(PAYLOAD)
    return server.url + "/blob.bin"


def test_dropped_connection_is_resumed_from_where_it_broke_off(server, tmp_path):
    url = serve_payload(server)
    server.drops_left = 1
    dest = download_file(url, tmp_path / "sub" / "blob.bin", sha256=sha(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", None), ("/blob.bin", f"bytes={K}-")]
    assert not (tmp_path / "sub" / "blob.bin.part").exists()


def test_partial_file_from_a_killed_run_is_resumed(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "blob.bin"
    Path(str(dest) + ".part").write_bytes(PAYLOAD[:K])
    assert download_file(url, dest, expected_size=len(PAYLOAD), progress=True).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", f"bytes={K}-")]


def test_complete_partial_file_gets_416_and_is_accepted(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "blob.bin"
    Path(str(dest) + ".part").write_bytes(PAYLOAD)
    assert download_file(url, dest, progress=False).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", f"bytes={len(PAYLOAD)}-")]


def test_partial_file_longer_than_the_file_is_restarted(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "blob.bin"
    Path(str(dest) + ".part").write_bytes(PAYLOAD + b"stale")
    assert download_file(url, dest, progress=False).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", f"bytes={len(PAYLOAD) + 5}-"), ("/blob.bin", None)]


def test_server_that_ignores_ranges_restarts_instead_of_appending(server, tmp_path):
    url = serve_payload(server)
    server.ignore_range = True
    dest = tmp_path / "blob.bin"
    Path(str(dest) + ".part").write_bytes(b"x" * K)  # even wrong bytes: they must be replaced, not extended
    assert download_file(url, dest, progress=False).read_bytes() == PAYLOAD
    # and after a dropped connection too
    dest.unlink()
    server.drops_left = 1
    assert download_file(url, dest, sha256=sha(PAYLOAD), progress=False).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", f"bytes={K}-"), ("/blob.bin", None), ("/blob.bin", f"bytes={K}-")]


def test_reply_from_the_wrong_offset_is_not_appended(server, tmp_path):
    url = serve_payload(server)
    server.range_from_zero = True
    dest = tmp_path / "blob.bin"
    Path(str(dest) + ".part").write_bytes(PAYLOAD[:K])
    assert download_file(url, dest, progress=False).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", f"bytes={K}-"), ("/blob.bin", None)]  # dropped the partial, restarted


def test_too_many_drops_raise_and_keep_the_partial_file(server, tmp_path):
    url = serve_payload(server)
    server.drops_left, server.drop_after = 99, 1000
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="failed 3 times"):
        download_file(url, dest, retries=2, progress=False)
    assert not dest.exists() and Path(str(dest) + ".part").read_bytes() == PAYLOAD[:3000]
    server.drops_left = 0
    assert download_file(url, dest, progress=False).read_bytes() == PAYLOAD  # the next call resumes
    assert server.requests[-1] == ("/blob.bin", "bytes=3000-")


# ------------------------------------------------------------------ checks

def test_wrong_sha256_deletes_everything(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(DownloadError, match=rf"{url}.*expected sha256 {'0' * 64}, got {sha(PAYLOAD)}"):
        download_file(url, dest, sha256="0" * 64, progress=False)
    assert list((tmp_path / "out").iterdir()) == []  # neither blob.bin nor blob.bin.part


def test_wrong_expected_size_deletes_everything(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(DownloadError, match=rf"{url}.*expected_size is 12345 bytes, got {len(PAYLOAD)}"):
        download_file(url, dest, expected_size=12345, progress=False)
    assert list((tmp_path / "out").iterdir()) == []  # neither blob.bin nor blob.bin.part


def test_existing_file_is_kept_if_it_passes_and_replaced_if_not(server, tmp_path):
    url = serve_payload(server)
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    assert download_file(url, dest, progress=False).read_bytes() == b"old"  # no check given: kept
    assert download_file(url, dest, sha256=sha(b"old"), progress=False).read_bytes() == b"old"
    assert server.requests == []
    assert download_file(url, dest, sha256=sha(PAYLOAD), progress=False).read_bytes() == PAYLOAD
    assert len(server.requests) == 1


# ------------------------------------------------------------------ safe extraction

def bad_zip(path: Path, name: str, *, symlink: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("good/ok.txt", "fine")  # comes first: must not be written either
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd" if symlink else "evil")
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[1] == name  # zipfile kept the name as given
    return path


def bad_tar(path: Path, name: str, kind=tarfile.REGTYPE) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for member_name, member_kind in (("good/ok.txt", tarfile.REGTYPE), (name, kind)):
            info = tarfile.TarInfo(member_name)
            info.type = member_kind
            data = b"" if member_kind != tarfile.REGTYPE else b"evil"
            if member_kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "/etc/passwd" if member_kind == tarfile.SYMTYPE else "good/ok.txt"
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("make", [
    lambda p: bad_zip(p / "a.zip", "../evil.txt"),
    lambda p: bad_zip(p / "a.zip", "good/../../evil.txt"),
    lambda p: bad_zip(p / "a.zip", "/tmp/minigan_test_evil.txt"),
    lambda p: bad_zip(p / "a.zip", "C:/evil.txt"),
    lambda p: bad_zip(p / "a.zip", "..\\evil.txt"),
    lambda p: bad_zip(p / "a.zip", "link", symlink=True),
    lambda p: bad_tar(p / "a.tar.gz", "../evil.txt"),
    lambda p: bad_tar(p / "a.tar.gz", "/tmp/minigan_test_evil.txt"),
    lambda p: bad_tar(p / "a.tar.gz", "link", tarfile.SYMTYPE),
    lambda p: bad_tar(p / "a.tar.gz", "hard", tarfile.LNKTYPE),
    lambda p: bad_tar(p / "a.tar.gz", "dev", tarfile.CHRTYPE),
], ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash", "zip-symlink", "tar-dotdot", "tar-absolute",
        "tar-symlink", "tar-hardlink", "tar-device"])
def test_unsafe_archives_are_refused_before_anything_is_written(tmp_path, make):
    archive = make(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "target"
    with pytest.raises(UnsafeArchiveError, match=r"entry '.*(evil|link|hard|dev)"):
        safe_extract(archive, target)
    assert list(out.iterdir()) == []  # not even the target folder was made
    assert not (out / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not Path("/tmp/minigan_test_evil.txt").exists()


def test_safe_extract_unpacks_a_good_tar_gz_and_zip(tmp_path):
    tar_path = tmp_path / "good.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        root = tarfile.TarInfo(".")  # what `tar -C folder -czf x.tar.gz .` writes first
        root.type = tarfile.DIRTYPE
        tf.addfile(root)
        for name, data in (("./set/trainA/a.bin", b"a"), ("set/trainB/b.bin", b"bb")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    assert safe_extract(tar_path, tmp_path / "t") == tmp_path / "t"
    assert (tmp_path / "t/set/trainA/a.bin").read_bytes() == b"a"
    assert (tmp_path / "t/set/trainB/b.bin").read_bytes() == b"bb"
    files = dataset_zip(tmp_path / "good.zip", "x")
    safe_extract(tmp_path / "good.zip", tmp_path / "z")
    assert all((tmp_path / "z" / rel).read_bytes() == data for rel, data in files.items())
    (tmp_path / "junk.zip").write_bytes(b"<html>not found</html>")
    with pytest.raises(DownloadError, match="neither a zip nor a tar"):
        safe_extract(tmp_path / "junk.zip", tmp_path / "j")


# ------------------------------------------------------------------ the pix2pix data sets (.tar.gz, side by side)

def pix2pix_tar(path: Path, name: str, folders=("train", "val")) -> dict:
    """A .tar.gz laid out like the authors' (``name/train/*.jpg`` side-by-side pairs, ...); {relative path: bytes}."""
    files = {f"{name}/{folder}/{j}.png": png((30 * i, 90 * j, 10)) for i, folder in enumerate(folders) for j in range(2)}
    with tarfile.open(path, "w:gz") as tf:
        for rel, data in files.items():
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return files


@pytest.fixture
def no_pix2pix_mirror(monkeypatch):
    from minigan.data import pix2pix_datasets
    monkeypatch.delenv(pix2pix_datasets.URL_ENV, raising=False)
    return pix2pix_datasets


def test_pix2pix_dataset_by_name_downloads_unpacks_and_cleans_up(server, tmp_path, no_pix2pix_mirror):
    p2p = no_pix2pix_mirror
    files = pix2pix_tar(server.root / "facades.tar.gz", "facades")
    root = tmp_path / "datasets"
    folder = p2p.download_pix2pix_dataset("facades", root, base_url=server.url, progress=False)
    assert folder == root / "facades" and (folder / download.COMPLETE).is_file()
    assert server.requests == [("/facades.tar.gz", None)]
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data
    assert sorted(p.name for p in root.iterdir()) == ["facades"]  # archive and staging folder removed
    assert p2p.download_pix2pix_dataset("facades", root, base_url=server.url, progress=False) == folder
    assert len(server.requests) == 1  # complete already: nothing fetched


def test_pix2pix_names_and_the_default_address(tmp_path, monkeypatch, no_pix2pix_mirror):
    p2p = no_pix2pix_mirror
    with pytest.raises(ValueError, match="licence"):
        p2p.download_pix2pix_dataset("cityscapes", tmp_path)
    with pytest.raises(ValueError, match="choose one of night2day, edges2handbags, edges2shoes, facades, maps"):
        p2p.download_pix2pix_dataset("horse2zebra", tmp_path)
    asked = []

    def refuse(url, dest, **kwargs):
        asked.append(url)
        raise DownloadError("not in tests")

    monkeypatch.setattr(download, "download_file", refuse)
    with pytest.raises(DownloadError):
        p2p.download_pix2pix_dataset("maps", tmp_path)
    assert asked == ["http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/maps.tar.gz"]  # the reference's script's
    monkeypatch.setenv(p2p.URL_ENV, "http://127.0.0.1:9/mirror/")
    with pytest.raises(DownloadError):
        p2p.download_pix2pix_dataset("maps", tmp_path)
    assert asked[-1] == "http://127.0.0.1:9/mirror/maps.tar.gz"


def test_pix2pix_archive_without_train_is_refused_and_kept(server, tmp_path, no_pix2pix_mirror):
    p2p = no_pix2pix_mirror
    pix2pix_tar(server.root / "maps.tar.gz", "maps", folders=("val",))
    root = tmp_path / "datasets"
    with pytest.raises(DownloadError, match="did not unpack to .*maps/train; it holds maps/val"):
        p2p.download_pix2pix_dataset("maps", root, base_url=server.url, progress=False)
    assert sorted(p.name for p in root.iterdir()) == ["maps.tar.gz"]  # no maps/ that looks usable
    (root / "maps").mkdir()
    with pytest.raises(DownloadError, match="not a complete download"):
        p2p.download_pix2pix_dataset("maps", root, base_url=server.url, progress=False)
