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

Anything wrong -- missing files while offline, a truncated ``.gz``, a
checksum that is not the published one, wrong shapes, fewer images than asked
for -- raises a :class:`DataError` whose message says which file, where it
was looked for, and what to run.  A dataset is never silently made smaller.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import arguments

DATA_ENV = "CNNCOURSE_DATA"
FETCH_COMMAND = "python -m cnncourse fetch"


# ----------------------------------------------------------------------------- errors
class DataError(RuntimeError):
    """Base class of every data problem; the message says what to do."""


class DataNotFoundError(DataError):
    """The dataset is not in the data directory and could not be downloaded."""


class DataCorruptError(DataError):
    """A file exists but is truncated, corrupt, not the official file, or has the wrong shape."""


class NotEnoughDataError(DataError):
    """More images were asked for than the dataset holds."""


class UnsafePickleError(DataCorruptError):
    """A pickle asked to load something a CIFAR-10 batch never contains."""


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class OfficialFile:
    """One file of an official distribution, with its published sha256 (None when unpublished)."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and where its files live inside the data directory."""

    name: str
    folder: str
    files: tuple[OfficialFile, ...]
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    train_size: int
    test_size: int


_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _idx_files(*sha256s: str) -> tuple[OfficialFile, ...]:
    """The four IDX files of an MNIST-format dataset, in _IDX_NAMES order, with their sha256."""
    return tuple(OfficialFile(name, h) for name, h in zip(_IDX_NAMES, sha256s, strict=True))

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        folder="mnist",
        files=_idx_files(
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(28, 28, 1),
        train_size=60000,
        test_size=10000,
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        folder="fashion-mnist",
        files=_idx_files(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        image_shape=(28, 28, 1),
        train_size=60000,
        test_size=10000,
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        folder="cifar-10-batches-py",
        # The loose batches have no published per-file checksum; their archive
        # does (checked by ``fetch``), and every batch is checked for structure.
        files=tuple(OfficialFile(f"data_batch_{i}") for i in range(1, 6))
        + (OfficialFile("test_batch"), OfficialFile("batches.meta")),
        class_names=(
            "airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck",
        ),
        image_shape=(32, 32, 3),
        train_size=50000,
        test_size=10000,
    ),
}

# ----------------------------------------------------------------------------- locations
def repository_root() -> Path | None:
    """The course repository this package was installed from (editable install), or None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def get_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$CNNCOURSE_DATA``, else the repository's ``data/``.

    Outside a repository checkout the default is ``~/.cnncourse/data``.
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    root = repository_root()
    return root / "data" if root is not None else Path.home() / ".cnncourse" / "data"


def get_keras_home() -> Path:
    """The Keras cache directory (``$KERAS_HOME``, default ``~/.keras``)."""
    env = os.environ.get("KERAS_HOME", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".keras"


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where dataset ``name`` is looked for inside the data directory."""
    return get_data_dir(data_dir) / _info(name).folder


def missing_files(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The official files of dataset ``name`` that are absent from the data directory."""
    folder = dataset_dir(name, data_dir)
    return [folder / f.name for f in _info(name).files if not (folder / f.name).is_file()]


def _info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"Unknown dataset {name!r}; valid names: {', '.join(DATASETS)}") from None


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
        from dataclasses import replace

        return replace(self, x_train=self.x_train[:0].copy(), y_train=self.y_train[:0].copy(), x_val=None, y_val=None,
                       train_indices=None)

    def training_subset(self, n_train: int | None, *, seed: int = 0) -> "ImageDataset":
        """A copy with ``n_train`` of the training images (stratified by class, as the loaders
        pick them), as float32 in [0, 1] (bytes are scaled), and the same validation and test
        images.  ``None``: all of them, unchanged."""
        from dataclasses import replace

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


# ----------------------------------------------------------------------------- IDX files
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _fix_hint(path: Path) -> str:
    return f"Delete {path} and run `{FETCH_COMMAND}` to download a fresh copy."


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_idx_gz(path: str | os.PathLike, *, sha256: str | None = None) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST format) into a numpy array.

    Raises DataCorruptError for a truncated or corrupt gzip stream, a header
    that does not match the payload, or (when ``sha256`` is given) a file that
    is not the published one.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        payload = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DataCorruptError(
            f"{path} is truncated or not a valid gzip file ({err}). {_fix_hint(path)}"
        ) from None
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise DataCorruptError(
                f"{path} does not match the published checksum (sha256 {digest}, expected {sha256}); "
                f"it is not the official file. {_fix_hint(path)}"
            )
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in _IDX_DTYPES:
        raise DataCorruptError(f"{path} does not start with an IDX header. {_fix_hint(path)}")
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DataCorruptError(f"{path}: IDX header is cut short. {_fix_hint(path)}")
    shape = struct.unpack(f">{ndim}I", payload[4:header])
    dtype = np.dtype(_IDX_DTYPES[payload[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(payload) - header != expected:
        raise DataCorruptError(
            f"{path}: the header promises shape {shape} ({expected} bytes) but the file holds "
            f"{len(payload) - header} bytes. {_fix_hint(path)}"
        )
    return np.frombuffer(payload, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _load_idx_dataset(info: DatasetInfo, folder: Path) -> tuple[np.ndarray, ...]:
    arrays = [read_idx_gz(folder / f.name, sha256=f.sha256) for f in info.files]
    x_train, y_train, x_test, y_test = arrays
    h, w, _ = info.image_shape
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or x.shape[1:] != (h, w) or y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DataCorruptError(
                f"{folder}: {split} images have shape {x.shape} and labels {y.shape}; expected "
                f"(N, {h}, {w}) images with N labels. {_fix_hint(folder)}"
            )
    return x_train, y_train, x_test, y_test


# ----------------------------------------------------------------------------- CIFAR pickles
def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _latin1_encode(text, encoding="latin1"):
    # Python 3 writes bytes in protocol-2 pickles as _codecs.encode(str, 'latin1').
    if encoding.lower().replace("-", "") != "latin1":
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


_PICKLE_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits only what a CIFAR-10 batch needs: dicts, lists,
    strings, numbers and numpy arrays.  Any other global (``os.system``,
    ``builtins.eval``, ...) raises UnsafePickleError instead of being imported.
    """

    def find_class(self, module: str, name: str):
        factory = _PICKLE_ALLOWED.get((module, name))
        if factory is None:
            allowed = ", ".join(sorted({f"{m}.{n}" for m, n in _PICKLE_ALLOWED}))
            raise UnsafePickleError(
                f"refusing to unpickle {module}.{name}: a CIFAR-10 batch only needs {allowed}"
            )
        return factory()


def load_pickle_restricted(path: str | os.PathLike):
    """Unpickle ``path`` with :class:`RestrictedUnpickler` (``encoding='bytes'``, as the format needs)."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f, encoding="bytes").load()
        except UnsafePickleError as err:
            raise UnsafePickleError(
                f"{path} is not a plain CIFAR-10 batch and was not loaded: {err}. {_fix_hint(path)}"
            ) from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
            raise DataCorruptError(
                f"{path} is truncated or not a CIFAR-10 python batch ({type(err).__name__}: {err}). "
                f"{_fix_hint(path)}"
            ) from None


def _key(d: dict, name: str):
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    raise KeyError(name)


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch: uint8 images (N, 32, 32, 3) and int64 labels (N,)."""
    path = Path(path)
    batch = load_pickle_restricted(path)
    try:
        data, labels = _key(batch, "data"), _key(batch, "labels")
    except (KeyError, TypeError):
        raise DataCorruptError(
            f"{path} is not a CIFAR-10 batch: expected a dict with 'data' and 'labels'. {_fix_hint(path)}"
        ) from None
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise DataCorruptError(
            f"{path}: 'data' has shape {data.shape} ({data.dtype}) and 'labels' {labels.shape}; expected "
            f"uint8 (N, 3072) and (N,). {_fix_hint(path)}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataCorruptError(f"{path}: labels outside 0-9. {_fix_hint(path)}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def _read_full_cifar_batch(path: Path, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_cifar_batch`, refusing a batch that does not hold the official ``rows`` images."""
    x, y = read_cifar_batch(path)
    if x.shape[0] != rows:
        raise DataCorruptError(
            f"{path} holds {x.shape[0]:,} images; an official CIFAR-10 batch holds {rows:,}. The file is cut "
            f"short or not the official one. {_fix_hint(path)}"
        )
    return x, y


def _cifar_rows() -> tuple[int, int]:
    info = DATASETS["cifar10"]
    return info.train_size // 5, info.test_size


class _CifarTrainBatches:
    """CIFAR-10's first ``n_batches`` training batches, read one at a time: all their labels at once,
    their images only when :meth:`to_float` converts some rows (each batch read once per call), so
    that the uint8 images of all batches are never in memory beside the float copy being made."""

    def __init__(self, folder: Path, n_batches: int):
        self.rows_per_batch = _cifar_rows()[0]
        self.paths = [folder / f"data_batch_{i + 1}" for i in range(n_batches)]
        self.labels = np.concatenate([_read_full_cifar_batch(p, self.rows_per_batch)[1] for p in self.paths])
        self.shape = (len(self.labels),) + DATASETS["cifar10"].image_shape

    def to_bytes(self, rows: np.ndarray, info: DatasetInfo) -> np.ndarray:
        out = np.empty((len(rows),) + info.image_shape, np.uint8)
        for b, path in enumerate(self.paths):
            here = np.flatnonzero(rows // self.rows_per_batch == b)
            if len(here):
                x, _ = _read_full_cifar_batch(path, self.rows_per_batch)
                out[here] = x[rows[here] - b * self.rows_per_batch]
                del x
        return out

    def to_float(self, rows: np.ndarray, info: DatasetInfo, chunk: int = 4096) -> np.ndarray:
        out = np.empty((len(rows),) + info.image_shape, np.float32)
        for b, path in enumerate(self.paths):
            here = np.flatnonzero(rows // self.rows_per_batch == b)
            if len(here) == 0:
                continue
            x, _ = _read_full_cifar_batch(path, self.rows_per_batch)
            for start in range(0, len(here), chunk):
                at = here[start:start + chunk]
                out[at] = x[rows[at] - b * self.rows_per_batch] / np.float32(255.0)
            del x
        return out


def _load_cifar_folder(folder: Path, n_train: int | None) -> tuple:
    """The training batches ``n_train`` images need (all five for None), as a :class:`_CifarTrainBatches`,
    with their labels, and the test batch.  Every batch read must hold the official number of images."""
    train_rows, test_rows = _cifar_rows()
    n_batches = 5 if n_train is None else min(5, max(1, -(-n_train // train_rows)))
    batches = _CifarTrainBatches(folder, n_batches)
    x_test, y_test = _read_full_cifar_batch(folder / "test_batch", test_rows)
    return batches, batches.labels, x_test, y_test


def check_cifar_folder(folder: str | os.PathLike) -> None:
    """Check that a ``cifar-10-batches-py`` folder is complete: the five training batches and the
    test batch each readable with the official number of images.  Raises DataError naming the
    first file that is missing, cut short or not a batch."""
    folder = Path(folder)
    train_rows, test_rows = _cifar_rows()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        if not (folder / name).is_file():
            raise DataNotFoundError(f"{folder / name} is missing. {_fix_hint(folder / name)}")
        _read_full_cifar_batch(folder / name, test_rows if name == "test_batch" else train_rows)


# ----------------------------------------------------------------------------- download when missing
def _download_missing(info: DatasetInfo, folder: Path, missing: list[Path]) -> None:
    """Download a dataset whose files are missing from the data directory into it, once, with
    timeouts (see :mod:`cnncourse.download`); DataNotFoundError saying what to do when it cannot."""
    from .download import fetch_dataset

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
    info = _info(name)
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
        arrays = _load_idx_dataset(info, folder)
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
