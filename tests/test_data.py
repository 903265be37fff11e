"""Data loaders on tiny files written by the tests (no downloads)."""

from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import replace

import numpy as np
import pytest

from cnncourse import catalogue, data, fileformats
from conftest import make_cifar_folder, make_idx_dataset, write_cifar_batch, write_idx_gz


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """A data directory with a tiny MNIST (60 train / 20 test) whose checksums the registry trusts."""
    hashes, arrays = make_idx_dataset(tmp_path / "mnist")
    info = catalogue.DATASETS["mnist"]
    files = tuple(catalogue.OfficialFile(f.name, hashes[f.name]) for f in info.files)
    monkeypatch.setitem(catalogue.DATASETS, "mnist", replace(info, files=files))
    monkeypatch.setenv(catalogue.DATA_ENV, str(tmp_path))
    return tmp_path, arrays


def test_load_mnist_shapes_range_and_order(mnist_dir):
    _, arrays = mnist_dir
    ds = data.load_mnist()
    assert ds.x_train.shape == (60, 28, 28, 1) and ds.x_train.dtype == np.float32
    assert ds.x_test.shape == (20, 28, 28, 1)
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_allclose(ds.x_train[3, ..., 0] * 255, arrays["train-images-idx3-ubyte.gz"][3], atol=1e-3)
    assert ds.class_names == tuple("0123456789")
    assert ds.source == str(mnist_dir[0] / "mnist")


def test_one_hot_and_stratified_subset(mnist_dir):
    ds = data.load_mnist(30, 10, one_hot=True, seed=3)
    assert ds.y_train.shape == (30, 10) and ds.y_train.dtype == np.float32
    np.testing.assert_array_equal(ds.y_train.sum(axis=1), 1)
    # 60 training labels, 6 per class -> a stratified half keeps 3 per class
    np.testing.assert_array_equal(np.bincount(ds.labels("train"), minlength=10), 3)
    again = data.load_mnist(30, 10, one_hot=True, seed=3)
    np.testing.assert_array_equal(ds.x_train, again.x_train)
    other = data.load_mnist(30, 10, one_hot=True, seed=4)
    assert not np.array_equal(ds.x_train, other.x_train)


def test_stratified_indices_proportions():
    labels = np.array([0] * 70 + [1] * 20 + [2] * 10)
    idx = data.stratified_indices(labels, 10, seed=0)
    assert len(set(idx)) == 10
    np.testing.assert_array_equal(np.bincount(labels[idx]), [7, 2, 1])
    np.testing.assert_array_equal(data.stratified_indices(labels, None), np.arange(100))


def test_asking_for_more_images_than_there_are_says_how_many(mnist_dir):
    with pytest.raises(data.NotEnoughDataError, match=r"Asked for 61 mnist training images .* holds 60"):
        data.load_mnist(61)
    with pytest.raises(data.NotEnoughDataError, match=r"holds 20"):
        data.load_mnist(None, 25)


def test_checksum_mismatch_is_reported(mnist_dir):
    folder = mnist_dir[0] / "mnist"
    write_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(20, np.uint8))
    with pytest.raises(data.DataCorruptError, match="published checksum") as err:
        data.load_mnist()
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value) and "cnncourse fetch" in str(err.value)


def test_truncated_gzip_is_reported(mnist_dir):
    path = mnist_dir[0] / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(data.DataCorruptError, match="truncated or not a valid gzip") as err:
        data.load_mnist()
    assert str(path) in str(err.value)


def test_idx_header_payload_mismatch(tmp_path):
    path = tmp_path / "bad.gz"
    raw = bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100)
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(data.DataCorruptError, match=r"promises shape \(5, 28, 28\)"):
        fileformats.read_idx_gz(path)


def test_wrong_image_shape_is_reported(mnist_dir, monkeypatch):
    folder = mnist_dir[0] / "mnist"
    h = write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", np.zeros((20, 32, 32), np.uint8))
    info = catalogue.DATASETS["mnist"]
    files = tuple(catalogue.OfficialFile(f.name, h if f.name.startswith("t10k-images") else f.sha256) for f in info.files)
    monkeypatch.setitem(catalogue.DATASETS, "mnist", replace(info, files=files))
    with pytest.raises(data.DataCorruptError, match=r"\(20, 32, 32\).*expected \(N, 28, 28\)"):
        data.load_mnist()


def test_missing_data_offline_says_where_and_what_to_run(tmp_path, monkeypatch, no_download):
    monkeypatch.setenv(catalogue.DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_fashion_mnist()
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg
    assert str(tmp_path / "nowhere" / "fashion-mnist") in msg
    assert "python -m cnncourse fetch" in msg and "the download failed" in msg and "no-such-mirror" in msg


# ----------------------------------------------------------------------------- CIFAR-10
def test_cifar_batch_layout_is_channel_planar(tmp_path):
    batch = write_cifar_batch(tmp_path / "b", n=4)
    x, y = fileformats.read_cifar_batch(tmp_path / "b")
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.uint8
    raw = batch[b"data"][2]
    assert x[2, 0, 1, 0] == raw[1] and x[2, 0, 1, 1] == raw[1024 + 1] and x[2, 1, 0, 2] == raw[2048 + 32]
    np.testing.assert_array_equal(y, batch[b"labels"])


def test_load_cifar10_reads_only_the_batches_it_needs(tmp_path, monkeypatch, small_cifar):
    make_cifar_folder(tmp_path, n=30)
    read = []
    real = fileformats.read_cifar_batch
    monkeypatch.setattr(fileformats, "read_cifar_batch", lambda p: (read.append(p.name), real(p))[1])
    ds = data.load_cifar10(20, 10, data_dir=tmp_path)
    assert sorted(set(read)) == ["data_batch_1", "test_batch"]   # each read once for labels, again for images
    assert ds.x_train.shape == (20, 32, 32, 3) and ds.x_test.shape == (10, 32, 32, 3)
    read.clear()
    ds = data.load_cifar10(45, data_dir=tmp_path)
    assert sorted(set(read)) == ["data_batch_1", "data_batch_2", "test_batch"]
    read.clear()
    assert data.load_cifar10(data_dir=tmp_path).x_train.shape[0] == 150
    assert len(set(read)) == 6


def test_restricted_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}, protocol=2))
    with pytest.raises(data.UnsafePickleError, match=r"refusing to unpickle (posix|os)\.system") as err:
        fileformats.read_cifar_batch(path)
    assert "cnncourse fetch" in str(err.value)
    assert not (tmp_path / "pwned").exists()


def test_truncated_cifar_batch(tmp_path):
    write_cifar_batch(tmp_path / "b", n=4)
    (tmp_path / "b").write_bytes((tmp_path / "b").read_bytes()[:2000])
    with pytest.raises(data.DataCorruptError, match="truncated or not a CIFAR-10 python batch"):
        fileformats.read_cifar_batch(tmp_path / "b")


def test_cifar_batch_with_wrong_shape(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({b"data": np.zeros((3, 100), np.uint8), b"labels": [0, 1, 2]}, protocol=2))
    with pytest.raises(data.DataCorruptError, match=r"\(3, 100\).*expected uint8 \(N, 3072\)"):
        fileformats.read_cifar_batch(path)


def test_cifar_folder_with_fewer_images_than_asked(tmp_path, small_cifar):
    make_cifar_folder(tmp_path, n=30)
    with pytest.raises(data.NotEnoughDataError, match="holds 150"):
        data.load_cifar10(200, data_dir=tmp_path)


def test_short_cifar_batches_are_refused_naming_the_file(tmp_path):
    make_cifar_folder(tmp_path, n=30)        # valid batches, but 30 images where the official ones hold 10,000
    with pytest.raises(data.DataCorruptError, match=r"data_batch_1 holds 30 images; an official CIFAR-10 batch "
                                                    r"holds 10,000"):
        data.load_cifar10(20, 10, data_dir=tmp_path)
    with pytest.raises(data.DataCorruptError, match="data_batch_1 holds 30"):
        fileformats.check_cifar_folder(tmp_path / "cifar-10-batches-py")


def test_to_one_hot_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        data.to_one_hot(np.array([0, 3]), 3)


# ----------------------------------------------------------------------------- lesson 03
def test_check_dataset_label_depends_on_features_3_and_6_alone():
    x, y = data.make_check_dataset(3000, seed=5)
    assert x.shape == (3000, 10) and x.dtype == np.float32 and set(np.unique(y)) == {0, 1}
    # the label is exactly a function of features 3 and 6 ...
    np.testing.assert_array_equal(y, (x[:, 3] + x[:, 6] > 1).astype(int))
    # ... and replacing every other feature by fresh noise changes no label
    x2 = np.random.default_rng(9).random(x.shape).astype(np.float32)
    x2[:, [3, 6]] = x[:, [3, 6]]
    np.testing.assert_array_equal(y, (x2[:, 3] + x2[:, 6] > 1).astype(int))
    # the noise features carry no information: each is nearly uncorrelated with the label
    noise = [i for i in range(10) if i not in (3, 6)]
    corr = [abs(np.corrcoef(x[:, i], y)[0, 1]) for i in noise]
    assert max(corr) < 0.06
    assert min(abs(np.corrcoef(x[:, i], y)[0, 1]) for i in (3, 6)) > 0.5
    # a margin separates the classes, so 100% is reachable
    assert np.abs(x[:, 3] + x[:, 6] - 1).min() >= 0.05


def test_check_dataset_is_seeded_and_validates_signal():
    a, _ = data.make_check_dataset(50, seed=1)
    b, _ = data.make_check_dataset(50, seed=1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="two distinct"):
        data.make_check_dataset(10, signal=(3, 3))


def test_validation_images_come_from_the_rest_of_the_training_split(mnist_dir):
    ds = data.load_mnist(20, 10, n_val=30, one_hot=True, seed=5)
    assert ds.x_train.shape[0] == 20 and ds.x_val.shape == (30, 28, 28, 1) and ds.y_val.shape == (30, 10)
    # disjoint from the training images, stratified (60 images, 6 per class -> 3 per class)
    assert not set(ds.train_indices.tolist()) & set(_positions(ds.x_val, data.load_mnist()))
    np.testing.assert_array_equal(np.bincount(ds.labels("val"), minlength=10), 3)
    # the rest of the split when n_train is None
    rest = data.load_mnist(n_val=30, seed=5)
    assert rest.x_train.shape[0] == 30 and rest.labels("val").shape == (30,)
    with pytest.raises(ValueError, match="no split 'val'"):
        data.load_mnist(20).labels("val")
    with pytest.raises(data.NotEnoughDataError, match="20 \\+ 50 validation"):
        data.load_mnist(20, n_val=50)


def _positions(images, full):
    flat = full.x_train.reshape(len(full.x_train), -1)
    return [int(np.flatnonzero((flat == im.reshape(-1)).all(axis=1))[0]) for im in images]


def test_cifar_validation_reads_the_batches_train_and_validation_need(tmp_path, monkeypatch, small_cifar):
    make_cifar_folder(tmp_path, n=30)
    read = []
    real = fileformats.read_cifar_batch
    monkeypatch.setattr(fileformats, "read_cifar_batch", lambda p: (read.append(p.name), real(p))[1])
    ds = data.load_cifar10(20, 10, n_val=20, data_dir=tmp_path)
    assert sorted(set(read)) == ["data_batch_1", "data_batch_2", "test_batch"]
    assert ds.x_train.shape[0] == ds.x_val.shape[0] == 20
    assert not set(ds.train_indices.tolist()) & set(_positions(ds.x_val, data.load_cifar10(data_dir=tmp_path)))


def test_test_only_keeps_the_test_images_and_frees_the_rest():
    rng = np.random.default_rng(0)
    ds = data.ImageDataset("t", rng.random((20, 4, 4, 1), dtype=np.float32), np.arange(20) % 2,
                           rng.random((6, 4, 4, 1), dtype=np.float32), np.arange(6) % 2, ("a", "b"), "memory",
                           rng.random((5, 4, 4, 1), dtype=np.float32), np.arange(5) % 2)
    small = ds.test_only()
    assert small.x_train.shape == (0, 4, 4, 1) and small.x_train.base is None and small.x_val is None
    assert small.x_test is ds.x_test and small.input_shape == (4, 4, 1)
    with pytest.raises(ValueError, match="no split 'val'"):
        small.labels("val")


def test_training_subset_keeps_validation_and_test_and_is_stratified(mnist_dir):
    full = data.load_mnist(None, 10, n_val=30, one_hot=True, seed=5)
    sub = full.training_subset(20, seed=5)
    assert sub.x_train.shape == (20, 28, 28, 1) and sub.y_train.shape == (20, 10)
    assert sub.x_val is full.x_val and sub.x_test is full.x_test
    np.testing.assert_array_equal(np.bincount(sub.labels("train"), minlength=10), 2)   # 30 rest, 3 per class
    # the subset's images are the training images its indices name
    rows = [int(np.flatnonzero(full.train_indices == i)[0]) for i in sub.train_indices]
    np.testing.assert_array_equal(sub.x_train, full.x_train[rows])
    assert full.training_subset(None) is full
    with pytest.raises(data.NotEnoughDataError, match="31 training images from 30"):
        full.training_subset(31)


def test_training_images_as_bytes_are_the_same_pixels_in_a_quarter_of_the_memory(tmp_path, small_cifar):
    from cnncourse.training import ArrayBatches, batch_feed

    make_cifar_folder(tmp_path, n=30)
    floats = data.load_cifar10(20, 10, n_val=10, data_dir=tmp_path, seed=3)
    raw = data.load_cifar10(20, 10, n_val=10, data_dir=tmp_path, seed=3, train_as_bytes=True)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.nbytes * 4 == floats.x_train.nbytes
    assert raw.x_val.dtype == raw.x_test.dtype == np.float32             # only the training images
    np.testing.assert_array_equal(data.as_float_pixels(raw.x_train), floats.x_train)
    x, y = ArrayBatches(raw.x_train, raw.y_train, 8, shuffle=False)[0]   # a batch comes out scaled
    assert x.dtype == np.float32 and np.array_equal(x, floats.x_train[:8])
    fed = batch_feed(raw.x_train, raw.y_train, 8, shuffle=False)          # small arrays too
    np.testing.assert_array_equal(fed["x"], floats.x_train)
    sub = raw.training_subset(10, seed=1)
    np.testing.assert_array_equal(sub.x_train, floats.training_subset(10, seed=1).x_train)
    mnist_like = data.ImageDataset("t", np.zeros((2, 2, 2, 1), np.float32), np.zeros(2), np.zeros((1, 2, 2, 1)),
                                   np.zeros(1), ("a",), "memory")
    assert data.as_float_pixels(mnist_like.x_train) is mnist_like.x_train  # floats pass through
