"""fetch: downloads with checksums, from file:// mirrors the test writes and from servers on
127.0.0.1 that misbehave (no network)."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
import time
from dataclasses import replace

import pytest

from cnncourse import catalogue, data, download, fileformats
from conftest import make_idx_dataset, write_cifar_batch


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A file:// mirror holding a tiny MNIST whose checksums the registry trusts."""
    hashes, _ = make_idx_dataset(tmp_path / "mirror")
    info = catalogue.DATASETS["mnist"]
    monkeypatch.setitem(catalogue.DATASETS, "mnist", replace(
        info, files=tuple(catalogue.OfficialFile(f.name, hashes[f.name]) for f in info.files)))
    return (tmp_path / "mirror").as_uri() + "/"


def test_fetch_downloads_then_downloads_nothing_twice(tmp_path, mirror, monkeypatch):
    calls = []
    real = download.download_file
    monkeypatch.setattr(download, "download_file", lambda *a, **k: (calls.append(a[1]), real(*a, **k))[1])
    lines = download.fetch_dataset("mnist", tmp_path / "data", mirrors=[mirror], progress=False)
    assert len(calls) == 4 and all("downloaded" in line for line in lines)
    assert data.load_mnist(data_dir=tmp_path / "data").x_train.shape == (60, 28, 28, 1)
    lines = download.fetch_dataset("mnist", tmp_path / "data", mirrors=[mirror], progress=False)
    assert len(calls) == 4 and all("already there" in line for line in lines)


def test_fetch_replaces_a_corrupt_copy(tmp_path, mirror):
    download.fetch_dataset("mnist", tmp_path / "data", mirrors=[mirror], progress=False)
    bad = tmp_path / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"not gzip")
    lines = download.fetch_dataset("mnist", tmp_path / "data", mirrors=[mirror], progress=False)
    assert any("re-downloaded" in line for line in lines)
    data.load_mnist(data_dir=tmp_path / "data")


def test_checksum_mismatch_on_download_deletes_the_file(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"hello")
    with pytest.raises(data.DataNotFoundError, match="is not the published 00"):
        download.download_file([src.as_uri()], tmp_path / "out" / "f.bin", sha256="00" * 32, progress=False)
    assert not (tmp_path / "out" / "f.bin").exists()
    assert not (tmp_path / "out" / "f.bin.part").exists()


def test_unreachable_mirrors_are_all_named(tmp_path):
    urls = [(tmp_path / "a").as_uri(), (tmp_path / "b").as_uri()]
    with pytest.raises(data.DataNotFoundError) as err:
        download.download_file(urls, tmp_path / "x", progress=False)
    assert urls[0] in str(err.value) and urls[1] in str(err.value)


def _serve(handler):
    """A TCP server on 127.0.0.1 that runs ``handler(connection)`` for every client; returns its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/file.bin", server


def _never_answer(conn):
    time.sleep(60)   # accept, read nothing, say nothing: a dead proxy or a captive portal


def _cut_off(conn):
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
    conn.close()


def test_a_server_that_never_answers_fails_in_seconds_not_forever(tmp_path, monkeypatch):
    url, server = _serve(_never_answer)
    monkeypatch.setattr(download, "SOCKET_TIMEOUT_S", 1.0)
    start = time.monotonic()
    with pytest.raises(data.DataNotFoundError, match="timed out") as err:
        download.download_file([url], tmp_path / "f.bin", progress=False)
    assert time.monotonic() - start < 10 and "captive portal" in str(err.value)
    server.close()


def test_the_default_timeouts_give_up_within_about_a_minute():
    worst = max(len(m) for m in download.MIRRORS.values()) * download.ATTEMPTS * download.SOCKET_TIMEOUT_S
    assert worst <= 60


def test_a_missing_dataset_behind_a_dead_network_fails_quickly_with_what_to_do(tmp_path, monkeypatch):
    url, server = _serve(_never_answer)
    monkeypatch.setattr(download, "SOCKET_TIMEOUT_S", 1.0)
    monkeypatch.setitem(download.MIRRORS, "mnist", (url.rsplit("/", 1)[0] + "/",))
    start = time.monotonic()
    with pytest.raises(data.DataNotFoundError, match="python -m cnncourse fetch"):
        data.load_mnist(data_dir=tmp_path)
    assert time.monotonic() - start < 10
    server.close()


def test_a_cut_off_transfer_is_retried_and_the_next_mirror_used(tmp_path, capsys):
    url, server = _serve(_cut_off)
    good = tmp_path / "good.bin"
    good.write_bytes(b"payload")
    with pytest.raises(data.DataNotFoundError, match="cut off after 100 of 1,000 bytes"):
        download.download_file([url], tmp_path / "a.bin", progress=False)
    assert "(attempt 2)" in capsys.readouterr().out          # tried again
    path = download.download_file([url, good.as_uri()], tmp_path / "b.bin", progress=False,
                                  sha256=hashlib.sha256(b"payload").hexdigest())
    assert path.read_bytes() == b"payload"
    server.close()


def test_missing_data_is_downloaded_into_the_data_dir_once(tmp_path, mirror, monkeypatch):
    monkeypatch.setitem(download.MIRRORS, "mnist", (mirror,))
    calls = []
    real = download.download_file
    monkeypatch.setattr(download, "download_file", lambda *a, **k: (calls.append(a[1]), real(*a, **k))[1])
    ds = data.load_mnist(20, data_dir=tmp_path / "data")
    assert ds.x_train.shape == (20, 28, 28, 1) and ds.source == str(tmp_path / "data" / "mnist")
    data.load_mnist(20, data_dir=tmp_path / "data")
    assert len(calls) == 4   # the second load reads the files the first one downloaded


def test_a_data_directory_that_is_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(data.DataNotFoundError, match=r"data is a file"):
        download.fetch_dataset("mnist", blocker, progress=False)


def test_extract_cifar_archive_takes_only_plain_batch_files(tmp_path):
    folder = tmp_path / "src" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    write_cifar_batch(folder / "data_batch_1", n=3)
    archive = tmp_path / "c.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "data_batch_1", arcname="cifar-10-batches-py/data_batch_1")
        evil = tarfile.TarInfo("../../escape.txt")
        evil.size = 3
        tar.addfile(evil, io.BytesIO(b"bad"))
        link = tarfile.TarInfo("cifar-10-batches-py/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    out = download.extract_cifar10_archive(archive, tmp_path / "data")
    assert sorted(p.name for p in out.iterdir()) == ["data_batch_1"]
    assert not (tmp_path / "escape.txt").exists()
    fileformats.read_cifar_batch(out / "data_batch_1")


def _weights(tmp_path, content: bytes) -> download.PretrainedWeights:
    origin = tmp_path / "origin" / "w.h5"
    origin.parent.mkdir(exist_ok=True)
    origin.write_bytes(content)
    return download.PretrainedWeights("test weights", "w.h5", origin.as_uri(),
                                      sha256=hashlib.sha256(content).hexdigest(), size=len(content))


def test_weights_already_cached_and_valid_are_not_downloaded(tmp_path):
    w = _weights(tmp_path, b"weights")
    (tmp_path / "home" / "models").mkdir(parents=True)
    (tmp_path / "home" / "models" / "w.h5").write_bytes(b"weights")
    assert "already cached, checked" in download.fetch_weights(w, tmp_path / "home")


@pytest.mark.parametrize("bad", [b"weig", b"WEIGHTS"])   # cut short; same size, wrong bytes
def test_a_bad_cached_weights_file_is_deleted_and_fetched_again(tmp_path, bad, capsys):
    w = _weights(tmp_path, b"weights")
    (tmp_path / "home" / "models").mkdir(parents=True)
    (tmp_path / "home" / "models" / "w.h5").write_bytes(bad)
    line = download.fetch_weights(w, tmp_path / "home", progress=False)
    assert "downloaded" in line and "the cached copy was bad" in line
    assert (tmp_path / "home" / "models" / "w.h5").read_bytes() == b"weights"
    assert "deleting it" in capsys.readouterr().out


def test_the_course_weights_have_a_size_and_the_cached_alpha_a_hash():
    assert all(w.size for w in download.PRETRAINED_WEIGHTS)
    assert download.MOBILENET_WEIGHTS[0.25].sha256
