"""Shared fixtures: tiny datasets written in the official formats, the Agg backend."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from dataclasses import replace

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def idx_bytes(array: np.ndarray) -> bytes:
    """Raw IDX bytes of a uint8 array (the MNIST format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_gz(path, array: np.ndarray) -> str:
    """Write ``array`` as a gzipped IDX file; return its sha256."""
    raw = gzip.compress(idx_bytes(array))
    path.write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


def make_idx_dataset(folder, n_train=60, n_test=20, seed=0):
    """Write the four MNIST-format files with ``n_train``/``n_test`` random 28x28 images.

    Returns {file name: sha256} and the labels.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    y_train = np.arange(n_train) % 10
    y_test = np.arange(n_test) % 10
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": y_train.astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": y_test.astype(np.uint8),
    }
    hashes = {name: write_idx_gz(folder / name, a) for name, a in arrays.items()}
    return hashes, arrays


def write_cifar_batch(path, n=30, seed=0, label_offset=0):
    """Write a CIFAR-10 python batch (protocol 2, bytes keys) with ``n`` images."""
    rng = np.random.default_rng(seed)
    batch = {
        b"batch_label": b"synthetic batch",
        b"labels": [int((i + label_offset) % 10) for i in range(n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)
    return batch


def make_cifar_folder(data_dir, n=30):
    folder = data_dir / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        write_cifar_batch(folder / f"data_batch_{i}", n=n, seed=i, label_offset=i)
    write_cifar_batch(folder / "test_batch", n=n, seed=9)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [b"x"] * 10}, f, protocol=2)
    return folder


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def judging_profile(monkeypatch):
    """A profile that judges claims (laptop), which smoke, the profile CI runs under, does not (NOT_JUDGED)."""
    monkeypatch.setenv("CNNCOURSE_PROFILE", "laptop")


@pytest.fixture
def no_download(monkeypatch, tmp_path):
    """Make every dataset mirror unreachable, as on a machine without internet."""
    from cnncourse import download

    for name in download.MIRRORS:
        monkeypatch.setitem(download.MIRRORS, name, ((tmp_path / "no-such-mirror").as_uri() + "/",))


@pytest.fixture
def small_cifar(monkeypatch):
    """Let make_cifar_folder(n=30)'s batches count as complete (the official ones hold 10,000)."""
    from cnncourse import catalogue

    info = catalogue.DATASETS["cifar10"]
    monkeypatch.setitem(catalogue.DATASETS, "cifar10", replace(info, train_size=5 * 30, test_size=30))


def lesson_cells_before_exercises(lesson: str) -> list:
    """The cells of ``lesson`` (e.g. "01") above its "## Exercises" heading: what a learner has read
    before the first exercise."""
    import nbformat

    from cnncourse.tooling import runner

    cells = []
    for cell in nbformat.read(runner.find_notebooks([lesson])[0], as_version=4).cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Exercises"):
            break
        cells.append(cell)
    return cells


def pytest_collection_finish(session):
    """The lessons whose cells this session tests start running now, in the background
    (tests/test_notebooks.py), so that they execute while the unit tests run (not for --collect-only)."""
    if session.config.option.collectonly:
        return
    lessons = [item.callspec.params["path"] for item in session.items
               if item.module.__name__.endswith("test_notebooks") and hasattr(item, "callspec")]
    if any(item.name.startswith("test_the_reading_copy") for item in session.items):
        from test_notebooks import LESSONS

        lessons += LESSONS
    if lessons:
        from test_notebooks import start_lesson_runs

        start_lesson_runs(lessons)


def pytest_sessionfinish(session, exitstatus):
    import sys

    module = sys.modules.get("test_notebooks")
    if module is not None:
        module.stop_lesson_runs()
