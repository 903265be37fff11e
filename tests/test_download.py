"""fetch: downloads with checksums, from file:// mirrors the test writes (no network)."""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace

import pytest

from cnncourse import data, download
from conftest import make_idx_dataset, write_cifar_batch


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A file:// mirror holding a tiny MNIST whose checksums the registry trusts."""
    hashes, _ = make_idx_dataset(tmp_path / "mirror")
    info = data.DATASETS["mnist"]
    monkeypatch.setitem(data.DATASETS, "mnist", replace(
        info, files=tuple(data.OfficialFile(f.name, hashes[f.name]) for f in info.files)))
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
    with pytest.raises(data.DataCorruptError, match="published value is 00"):
        download.download_file([src.as_uri()], tmp_path / "out" / "f.bin", sha256="00" * 32, progress=False)
    assert not (tmp_path / "out" / "f.bin").exists()
    assert not (tmp_path / "out" / "f.bin.part").exists()


def test_unreachable_mirrors_are_all_named(tmp_path):
    urls = [(tmp_path / "a").as_uri(), (tmp_path / "b").as_uri()]
    with pytest.raises(data.DataNotFoundError) as err:
        download.download_file(urls, tmp_path / "x", progress=False)
    assert urls[0] in str(err.value) and urls[1] in str(err.value)


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
    data.read_cifar_batch(out / "data_batch_1")


def test_weights_already_cached_are_not_downloaded(tmp_path):
    w = download.PRETRAINED_WEIGHTS[0]
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / w.filename).write_bytes(b"x")
    assert "already cached" in download.fetch_weights(w, tmp_path)
