"""Datasets: MNIST, Fashion-MNIST and CIFAR-10, read from their official files.

Every loader returns an :class:`ImageDataset` whose images are float32 in
[0, 1] with shape (N, H, W, C) and whose labels are integers (or one-hot
float32 rows when ``one_hot=True``).

Where the data comes from, in order:

1. the data directory -- ``$CNNCOURSE_DATA``, by default the repository's
   ``data/`` folder -- holding each dataset in its official distribution format::

       mnist/                 train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
                              t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
       fashion-mnist/         (the same four file names)
       cifar-10-batches-py/   data_batch_1 ... data_batch_5  test_batch  batches.meta

   ``python -m cnncourse fetch`` downloads exactly this layout.
2. When a dataset's files are missing, the loader downloads them into that folder once
   (:mod:`cnncourse.download`: official mirrors, checksums, timeouts), so a machine with
   internet needs no setup and a classroom seeded offline never touches the network.

What the datasets are (files, checksums, classes) is :mod:`cnncourse.catalogue`; how their files
are read and checked is :mod:`cnncourse.fileformats`; this module turns them into a lesson's arrays.

Anything wrong -- missing files while offline, a truncated ``.gz``, a
checksum that is not the published one, wrong shapes, fewer images than asked
for -- raises a :class:`DataError` whose message says which file, where it
was looked for, and what to run.  A dataset is never silently made smaller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import arguments
from .catalogue import (DATA_ENV, DATASETS, FETCH_COMMAND, DataCorruptError, DataError, DataNotFoundError,  # noqa: F401
                        DatasetInfo, NotEnoughDataError, UnsafePickleError, dataset_dir, dataset_info, missing_files)
from .download import fetch_dataset
from .fileformats import cifar_batch_rows, read_full_cifar_batch, read_idx_dataset

__all__ = [
    "ImageDataset", "load_dataset", "load_mnist", "load_fashion_mnist", "load_cifar10", "load_check_dataset",
    "make_check_dataset", "CHECK_SIGNAL_FEATURES", "as_float_pixels", "to_one_hot", "stratified_indices",
    # the errors a loader raises (defined in cnncourse.catalogue)
    "DataError", "DataNotFoundError", "DataCorruptError", "NotEnoughDataError", "UnsafePickleError",
]


# ----------------------------------------------------------------------------- result type
@dataclass(frozen=True)
class ImageDataset:
    """Train and test images with their labels.

    Attributes
    ----------
    x_train, x_test : float32 arrays, shape (N, H, W, C), values in [0, 1]
        (or (N, features) for the generated check data of lesson 03); x_train is uint8, 0-255,
        when loaded with ``train_as_bytes=True``
    y_train, y_test : int64 arrays, shape (N,), or float32 one-hot arrays, shape (N, num_classes)
    class_names : the name of each class index
    source : the folder the arrays were read from
    x_val, y_val : a validation set held out from the *training* split, disjoint from
        x_train (None when none was asked for); choose epochs on it, test once
    train_indices : the positions of x_train's images in the official training split
        (identifies the exact subset, e.g. for a cache key)
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    train_indices: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def labels(self, split: str = "train") -> np.ndarray:
        """Integer labels of ``split`` ('train', 'val' or 'test'), whether or not the dataset is one-hot."""
        splits = {"train": self.y_train, "val": self.y_val, "test": self.y_test}
        if split not in splits or splits[split] is None:
            valid = [k for k, v in splits.items() if v is not None]
            raise ValueError(f"no split {split!r} in this dataset; it has: {', '.join(valid)}")
        y = splits[split]
        return y.argmax(axis=1) if y.ndim == 2 else y

    def test_only(self) -> "ImageDataset":
        """A copy that keeps the test images and drops the training and validation ones (their memory
        is freed once nothing else holds them): for a lesson that has trained on a dataset and only
        looks at its test images from then on.  The training arrays keep their shape past the first
        axis, so ``input_shape`` still answers."""
        return replace(self, x_train=self.x_train[:0].copy(), y_train=self.y_train[:0].copy(), x_val=None, y_val=None,
                       train_indices=None)

    def training_subset(self, n_train: int | None, *, seed: int = 0) -> "ImageDataset":
        """A copy with ``n_train`` of the training images (stratified by class, as the loaders
        pick them), as float32 in [0, 1] (bytes are scaled), and the same validation and test
        images.  ``None``: all of them, unchanged."""
        if n_train is None:
            return self
        n_train = arguments.count("n_train", n_train, minimum=1)
        if n_train > len(self.x_train):
            raise NotEnoughDataError(f"asked for a subset of {n_train} training images from {len(self.x_train)}")
        rows = stratified_indices(self.labels("train"), n_train, seed=seed)
        indices = None if self.train_indices is None else self.train_indices[rows]
        return replace(self, x_train=as_float_pixels(self.x_train[rows]), y_train=self.y_train[rows], train_indices=indices)

    def __repr__(self) -> str:
        val = f", x_val={self.x_val.shape}" if self.x_val is not None else ""
        return (
            f"ImageDataset({self.name!r}, x_train={self.x_train.shape}{val}, x_test={self.x_test.shape}, "
            f"one_hot={self.y_train.ndim == 2}, source={self.source!r})"
        )


def as_float_pixels(x: np.ndarray) -> np.ndarray:
    """uint8 pixels (0-255) as float32 in [0, 1] (``train_as_bytes`` images); anything else as it is."""
    return x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x


def to_one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer labels, shape (N,), to float32 one-hot rows, shape (N, num_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}]")
    out = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def stratified_indices(labels: np.ndarray, n: int | None, *, seed: int = 0) -> np.ndarray:
    """Indices of a seeded subset of ``n`` items whose class proportions follow ``labels``.

    ``n=None`` (or ``n == len(labels)``) returns every index, in the original order.
    Each class gets its proportional share (largest remainders break ties), the
    subset is returned shuffled.  Raises NotEnoughDataError when ``n`` exceeds
    the number of labels.
    """
    labels = np.asarray(labels)
    total = labels.shape[0]
    if n is None or n == total:
        return np.arange(total)
    if n < 1:
        raise ValueError(f"a subset needs at least 1 item, got n={n}")
    if n > total:
        raise NotEnoughDataError(f"asked for {n} items but only {total} are available")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (n / total)
    quota = np.floor(exact).astype(int)
    short = n - quota.sum()
    quota[np.argsort(-(exact - quota), kind="stable")[:short]] += 1
    picked = [
        rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
        for c, q in zip(classes, quota)
    ]
    return rng.permutation(np.concatenate(picked))



# ----------------------------------------------------------------------------- CIFAR-10, a batch at a time
class _CifarTrainBatches:
    """CIFAR-10's first ``n_batches`` training batches, read one at a time: all their labels at once,
    their images only when :meth:`to_float` converts some rows (each batch read once per call), so
    that the uint8 images of all batches are never in memory beside the float copy being made."""

    def __init__(self, folder: Path, n_batches: int):
        self.rows_per_batch = cifar_batch_rows()[0]
        self.paths = [folder / f"data_batch_{i + 1}" for i in range(n_batches)]
        self.labels = np.concatenate([read_full_cifar_batch(p, self.rows_per_batch)[1] for p in self.paths])
        self.shape = (len(self.labels),) + DATASETS["cifar10"].image_shape

    def to_bytes(self, rows: np.ndarray, info: DatasetInfo) -> np.ndarray:
        out = np.empty((len(rows),) + info.image_shape, np.uint8)
        for b, path in enumerate(self.paths):
            here = np.flatnonzero(rows // self.rows_per_batch == b)
            if len(here):
                x, _ = read_full_cifar_batch(path, self.rows_per_batch)
                out[here] = x[rows[here] - b * self.rows_per_batch]
                del x
        return out

    def to_float(self, rows: np.ndarray, info: DatasetInfo, chunk: int = 4096) -> np.ndarray:
        out = np.empty((len(rows),) + info.image_shape, np.float32)
        for b, path in enumerate(self.paths):
            here = np.flatnonzero(rows // self.rows_per_batch == b)
            if len(here) == 0:
                continue
            x, _ = read_full_cifar_batch(path, self.rows_per_batch)
            for start in range(0, len(here), chunk):
                at = here[start:start + chunk]
                out[at] = x[rows[at] - b * self.rows_per_batch] / np.float32(255.0)
            del x
        return out


def _load_cifar_folder(folder: Path, n_train: int | None) -> tuple:
    """The training batches ``n_train`` images need (all five for None), as a :class:`_CifarTrainBatches`,
    with their labels, and the test batch.  Every batch read must hold the official number of images."""
    train_rows, test_rows = cifar_batch_rows()
    n_batches = 5 if n_train is None else min(5, max(1, -(-n_train // train_rows)))
    batches = _CifarTrainBatches(folder, n_batches)
    x_test, y_test = read_full_cifar_batch(folder / "test_batch", test_rows)
    return batches, batches.labels, x_test, y_test


# ----------------------------------------------------------------------------- download when missing
def _download_missing(info: DatasetInfo, folder: Path, missing: list[Path]) -> None:
    """Download a dataset whose files are missing from the data directory into it, once, with
    timeouts (see :mod:`cnncourse.download`); DataNotFoundError saying what to do when it cannot."""
    shown = ", ".join(p.name for p in missing)
    print(f"{info.name}: {shown} not in {folder}; downloading the official files there (once).", flush=True)
    try:
        fetch_dataset(info.name, folder.parent)
    except DataError as err:
        raise DataNotFoundError(
            f"{info.name} is not available.\n"
            f"  Looked in the data directory {folder} for: {shown}\n"
            f"  Then the download failed: {err}\n"
            f"  Fix: on a machine with internet, run `{FETCH_COMMAND}` (downloads every dataset into "
            f"{folder.parent}); offline, copy the files there or set {DATA_ENV} to a folder that has them."
        ) from None


def load_dataset(
    name: str,
    n_train: int | None = None,
    n_test: int | None = None,
    *,
    one_hot: bool = False,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    n_val: int = 0,
    train_as_bytes: bool = False,
) -> ImageDataset:
    """Load dataset ``name`` ('mnist', 'fashion_mnist' or 'cifar10').

    Parameters
    ----------
    n_train, n_test : number of images to keep from each split (stratified,
        seeded by ``seed``); None keeps the whole split in the official order
        (the whole training split less the validation images, when ``n_val`` > 0).
    n_val : number of validation images (stratified) held out from the rest of the
        training split, disjoint from the training images; 0 for none.
    one_hot : return labels as float32 one-hot rows instead of integers.
    data_dir : overrides ``$CNNCOURSE_DATA`` for this call.
    train_as_bytes : keep the training images as the files' uint8 pixels (0-255), a quarter of
        the memory of float32; :class:`cnncourse.training.ArrayBatches` and ``fit_and_evaluate``
        scale each batch to [0, 1] as it is fed.  Validation and test images stay float32.

    Returns an ImageDataset with float32 images in [0, 1], shape (N, H, W, C).
    """
    info = dataset_info(name)
    n_train = arguments.count("n_train", n_train, allow_none=True)
    n_test = arguments.count("n_test", n_test, allow_none=True)
    n_val = arguments.count("n_val", n_val, minimum=0)
    arguments.count("seed", seed, minimum=0)
    folder = dataset_dir(name, data_dir)
    missing = missing_files(name, data_dir)
    if missing:
        _download_missing(info, folder, missing)
    source = str(folder)
    if name == "cifar10":
        arrays = _load_cifar_folder(folder, None if n_train is None else n_train + n_val)
    else:
        arrays = read_idx_dataset(info, folder)
    x_train, y_train, x_test, y_test = arrays

    wanted_train = None if n_train is None else n_train + n_val
    for x, y, n, split in ((x_train, y_train, wanted_train, "training"), (x_test, y_test, n_test, "test")):
        if n is not None and n > x.shape[0]:
            total = info.train_size if split == "training" else info.test_size
            asked = f"{n_train} + {n_val} validation" if split == "training" and n_val else f"{n}"
            raise NotEnoughDataError(
                f"Asked for {asked} {info.name} {split} images but {source} holds {x.shape[0]} "
                f"(the official split has {total}). Ask for at most {x.shape[0]}, or fix the data "
                f"with `{FETCH_COMMAND}`."
            )
    if n_val:
        if n_val >= x_train.shape[0]:
            raise NotEnoughDataError(f"n_val={n_val} leaves no {info.name} training images (the split has "
                                     f"{x_train.shape[0]})")
        val_idx = stratified_indices(y_train, n_val, seed=seed + 2)
        pool = np.setdiff1d(np.arange(y_train.shape[0]), val_idx)
        train_idx = pool[stratified_indices(y_train[pool], n_train, seed=seed)]
        x_val, y_val = _as_float_images(x_train, val_idx, info), y_train[val_idx].astype(np.int64)
    else:
        train_idx = stratified_indices(y_train, n_train, seed=seed)
        x_val = y_val = None
    test_idx = stratified_indices(y_test, n_test, seed=seed + 1)
    to_pixels = _as_byte_images if train_as_bytes else _as_float_images
    x_train, y_train = to_pixels(x_train, train_idx, info), y_train[train_idx].astype(np.int64)
    x_test, y_test = _as_float_images(x_test, test_idx, info), y_test[test_idx].astype(np.int64)
    ds = ImageDataset(info.name, x_train, y_train, x_test, y_test, info.class_names, source,
                      x_val, y_val, train_idx)
    if one_hot:
        k = len(info.class_names)
        ds = replace(ds, y_train=to_one_hot(ds.y_train, k), y_test=to_one_hot(ds.y_test, k),
                     y_val=None if y_val is None else to_one_hot(y_val, k))
    return ds


def _as_byte_images(x: np.ndarray, rows: np.ndarray, info: DatasetInfo) -> np.ndarray:
    """``x[rows]`` as the files' uint8 pixels, shape (len(rows),) + image shape."""
    if isinstance(x, _CifarTrainBatches):
        return x.to_bytes(rows, info)
    return np.ascontiguousarray(x[rows].reshape((len(rows),) + info.image_shape), dtype=np.uint8)


def _as_float_images(x: np.ndarray, rows: np.ndarray, info: DatasetInfo, chunk: int = 4096) -> np.ndarray:
    """``x[rows]`` (uint8) as float32 images in [0, 1], shape (len(rows),) + image shape, converted a
    chunk at a time: the float array is the only full-size copy ever in memory.  ``x`` may also be
    a :class:`_CifarTrainBatches`, which reads its batches one at a time."""
    if isinstance(x, _CifarTrainBatches):
        return x.to_float(rows, info, chunk)
    out = np.empty((len(rows),) + info.image_shape, np.float32)
    for start in range(0, len(rows), chunk):
        block = out[start:start + chunk]
        block[...] = x[rows[start:start + chunk]].reshape(block.shape)
        block /= np.float32(255.0)
    return out


def load_mnist(n_train=None, n_test=None, *, one_hot=False, seed=0, data_dir=None, n_val=0,
               train_as_bytes=False) -> ImageDataset:
    """MNIST digits, (N, 28, 28, 1) float32 in [0, 1]; see :func:`load_dataset`."""
    return load_dataset("mnist", n_train, n_test, one_hot=one_hot, seed=seed, data_dir=data_dir,
                        n_val=n_val, train_as_bytes=train_as_bytes)


def load_fashion_mnist(n_train=None, n_test=None, *, one_hot=False, seed=0, data_dir=None, n_val=0,
                       train_as_bytes=False) -> ImageDataset:
    """Fashion-MNIST, (N, 28, 28, 1) float32 in [0, 1]; see :func:`load_dataset`."""
    return load_dataset("fashion_mnist", n_train, n_test, one_hot=one_hot, seed=seed, data_dir=data_dir,
                        n_val=n_val, train_as_bytes=train_as_bytes)


def load_cifar10(n_train=None, n_test=None, *, one_hot=False, seed=0, data_dir=None, n_val=0,
                 train_as_bytes=False) -> ImageDataset:
    """CIFAR-10, (N, 32, 32, 3) float32 in [0, 1]; reads only the training batches ``n_train`` needs."""
    return load_dataset("cifar10", n_train, n_test, one_hot=one_hot, seed=seed, data_dir=data_dir,
                        n_val=n_val, train_as_bytes=train_as_bytes)


# ----------------------------------------------------------------------------- lesson 03
CHECK_SIGNAL_FEATURES = (3, 6)


def make_check_dataset(
    n: int = 2000,
    *,
    num_features: int = 10,
    signal: tuple[int, int] = CHECK_SIGNAL_FEATURES,
    margin: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The "check" dataset of lesson 03: only two features carry the label.

    Every feature is drawn uniformly from [0, 1); the label is 1 when the two
    ``signal`` features sum to more than 1, else 0.  Points closer than
    ``margin`` to the boundary ``x[3] + x[6] = 1`` are redrawn, so the classes
    are separated by a gap and 100% accuracy is reachable.  The other features
    are independent noise.  Returns ``x`` float32 (n, num_features) and ``y`` int64 (n,).
    """
    if len(set(signal)) != 2 or not all(0 <= s < num_features for s in signal):
        raise ValueError(f"signal must be two distinct feature indices below {num_features}; got {signal}")
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must lie in [0, 0.5); got {margin}")
    rng = np.random.default_rng(seed)
    x = np.empty((0, num_features), np.float32)
    while len(x) < n:
        batch = rng.random((2 * n, num_features)).astype(np.float32)
        s = batch[:, signal[0]] + batch[:, signal[1]]
        x = np.concatenate([x, batch[np.abs(s - 1.0) >= margin]])
    x = x[:n]
    y = (x[:, signal[0]] + x[:, signal[1]] > 1.0).astype(np.int64)
    return x, y


def load_check_dataset(n_train: int = 2000, n_test: int = 1000, *, seed: int = 0) -> ImageDataset:
    """Train and test splits of :func:`make_check_dataset` (independent draws), as an ImageDataset
    whose x arrays are (N, 10) feature vectors and whose classes are "x3+x6 <= 1" and "x3+x6 > 1"."""
    x_train, y_train = make_check_dataset(n_train, seed=seed)
    x_test, y_test = make_check_dataset(n_test, seed=seed + 1)
    a, b = CHECK_SIGNAL_FEATURES
    names = (f"x{a}+x{b} <= 1", f"x{a}+x{b} > 1")
    return ImageDataset("check", x_train, y_train, x_test, y_test, names, "generated")
