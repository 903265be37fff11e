"""What the course's datasets and pretrained weights are, and where they live.

The catalogue every other data module reads: each dataset's official files with their published
checksums, class names and sizes (:data:`DATASETS`), the mirrors and archive they download from,
the pretrained weights (:data:`MOBILENET_WEIGHTS`), the two places they are kept (the data
directory, ``$CNNCOURSE_DATA``; the Keras cache, ``$KERAS_HOME``) and the errors a data problem
raises.  It reads no file and imports nothing of the package: :mod:`cnncourse.fileformats` reads
the files, :mod:`cnncourse.download` fetches them, :mod:`cnncourse.data` loads them for a lesson.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    keras_cache_files: tuple[str, ...] = ()   # keras.datasets' own copy, inside $KERAS_HOME/datasets


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
        keras_cache_files=("mnist.npz",),
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
        keras_cache_files=("fashion-mnist/train-images-idx3-ubyte.gz",),
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
        keras_cache_files=("cifar-10-batches-py-target_archive", "cifar-10-batches-py-target"),
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    """The catalogue entry of dataset ``name``; ValueError listing the valid names for any other."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"Unknown dataset {name!r}; valid names: {', '.join(DATASETS)}") from None


def refetch_hint(path: Path) -> str:
    """The fix for a damaged data file: delete it and fetch a fresh copy."""
    return f"Delete {path} and run `{FETCH_COMMAND}` to download a fresh copy."


# Mirrors of the official files, tried in order.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    "fashion_mnist": (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}


@dataclass(frozen=True)
class Archive:
    """A downloadable archive with its published checksums."""

    name: str
    md5: str
    sha256: str


CIFAR10_ARCHIVE = Archive(
    name="cifar-10-python.tar.gz",
    md5="c58f30108f718f92721af3b95e74349a",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)


@dataclass(frozen=True)
class PretrainedWeights:
    """A Keras Applications weight file, as ``keras.applications`` names and caches it."""

    label: str
    filename: str
    origin: str
    sha256: str | None = None   # of the file Keras Applications publishes (Keras itself gives none)
    size: int | None = None     # bytes

    def cached_path(self, keras_home: Path | None = None) -> Path:
        return (keras_home or get_keras_home()) / "models" / self.filename


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights are neither in the Keras cache nor downloadable."""


_MOBILENET_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
MOBILENET_WEIGHTS: dict[float, PretrainedWeights] = {
    # Keras' mobilenet.py downloads these without a checksum.  The sha256 of the alpha 0.25 file and
    # the sizes are those of the files at the origin URL (the alpha 1.0 file's hash was not
    # available to check against, so its size is what is checked).
    0.25: PretrainedWeights("MobileNet alpha=0.25 (ImageNet, no top)", "mobilenet_2_5_224_tf_no_top.h5",
                            _MOBILENET_BASE + "mobilenet_2_5_224_tf_no_top.h5",
                            sha256="dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",
                            size=2_108_140),
    1.0: PretrainedWeights("MobileNet alpha=1.0 (ImageNet, no top)", "mobilenet_1_0_224_tf_no_top.h5",
                           _MOBILENET_BASE + "mobilenet_1_0_224_tf_no_top.h5", size=17_225_924),
}
"""The ImageNet MobileNet (v1) weights the course uses, by width multiplier alpha."""
PRETRAINED_WEIGHTS: tuple[PretrainedWeights, ...] = tuple(MOBILENET_WEIGHTS.values())


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
    return get_data_dir(data_dir) / dataset_info(name).folder


def missing_files(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The official files of dataset ``name`` that are absent from the data directory."""
    folder = dataset_dir(name, data_dir)
    return [folder / f.name for f in dataset_info(name).files if not (folder / f.name).is_file()]




def keras_cache_copy(name: str, keras_home: Path | None = None) -> Path | None:
    """Where ``keras.datasets`` keeps its own copy of dataset ``name`` inside the Keras cache, if it
    has one there (the course does not read it; ``doctor`` says it exists), else None."""
    folder = (keras_home or get_keras_home()) / "datasets"
    return next((folder / f for f in dataset_info(name).keras_cache_files if (folder / f).exists()), None)
