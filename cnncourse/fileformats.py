"""The datasets' official file formats, read and checked: gzipped IDX (MNIST, Fashion-MNIST) and
CIFAR-10's python batches (through an unpickler that admits nothing but arrays and plain values).

Every reader raises :class:`~cnncourse.catalogue.DataCorruptError` (or
:class:`~cnncourse.catalogue.UnsafePickleError`) naming the file and the fix for a file that is cut
short, corrupt, not the official one, or of the wrong shape.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from .catalogue import (DATASETS, DataCorruptError, DataNotFoundError, DatasetInfo, UnsafePickleError,
                        refetch_hint)

# ----------------------------------------------------------------------------- IDX files
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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
            f"{path} is truncated or not a valid gzip file ({err}). {refetch_hint(path)}"
        ) from None
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise DataCorruptError(
                f"{path} does not match the published checksum (sha256 {digest}, expected {sha256}); "
                f"it is not the official file. {refetch_hint(path)}"
            )
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in _IDX_DTYPES:
        raise DataCorruptError(f"{path} does not start with an IDX header. {refetch_hint(path)}")
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DataCorruptError(f"{path}: IDX header is cut short. {refetch_hint(path)}")
    shape = struct.unpack(f">{ndim}I", payload[4:header])
    dtype = np.dtype(_IDX_DTYPES[payload[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(payload) - header != expected:
        raise DataCorruptError(
            f"{path}: the header promises shape {shape} ({expected} bytes) but the file holds "
            f"{len(payload) - header} bytes. {refetch_hint(path)}"
        )
    return np.frombuffer(payload, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_dataset(info: DatasetInfo, folder: Path) -> tuple[np.ndarray, ...]:
    """The four IDX files of an MNIST-format dataset in ``folder``, checked against their published
    sha256 and for shape: uint8 ``x_train`` (N, H, W), ``y_train`` (N,), ``x_test``, ``y_test``."""
    arrays = [read_idx_gz(folder / f.name, sha256=f.sha256) for f in info.files]
    x_train, y_train, x_test, y_test = arrays
    h, w, _ = info.image_shape
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or x.shape[1:] != (h, w) or y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DataCorruptError(
                f"{folder}: {split} images have shape {x.shape} and labels {y.shape}; expected "
                f"(N, {h}, {w}) images with N labels. {refetch_hint(folder)}"
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
                f"{path} is not a plain CIFAR-10 batch and was not loaded: {err}. {refetch_hint(path)}"
            ) from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
            raise DataCorruptError(
                f"{path} is truncated or not a CIFAR-10 python batch ({type(err).__name__}: {err}). "
                f"{refetch_hint(path)}"
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
            f"{path} is not a CIFAR-10 batch: expected a dict with 'data' and 'labels'. {refetch_hint(path)}"
        ) from None
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise DataCorruptError(
            f"{path}: 'data' has shape {data.shape} ({data.dtype}) and 'labels' {labels.shape}; expected "
            f"uint8 (N, 3072) and (N,). {refetch_hint(path)}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataCorruptError(f"{path}: labels outside 0-9. {refetch_hint(path)}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def read_full_cifar_batch(path: Path, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_cifar_batch`, refusing a batch that does not hold the official ``rows`` images."""
    x, y = read_cifar_batch(path)
    if x.shape[0] != rows:
        raise DataCorruptError(
            f"{path} holds {x.shape[0]:,} images; an official CIFAR-10 batch holds {rows:,}. The file is cut "
            f"short or not the official one. {refetch_hint(path)}"
        )
    return x, y


def cifar_batch_rows() -> tuple[int, int]:
    """The images in one official CIFAR-10 training batch, and in its test batch."""
    info = DATASETS["cifar10"]
    return info.train_size // 5, info.test_size


def check_cifar_folder(folder: str | os.PathLike) -> None:
    """Check that a ``cifar-10-batches-py`` folder is complete: the five training batches and the
    test batch each readable with the official number of images.  Raises DataError naming the
    first file that is missing, cut short or not a batch."""
    folder = Path(folder)
    train_rows, test_rows = cifar_batch_rows()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        if not (folder / name).is_file():
            raise DataNotFoundError(f"{folder / name} is missing. {refetch_hint(folder / name)}")
        read_full_cifar_batch(folder / name, test_rows if name == "test_batch" else train_rows)


