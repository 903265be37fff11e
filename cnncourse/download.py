"""Download every dataset and pretrained weight the course uses (``python -m cnncourse fetch``).

Datasets go to the data directory in their official formats (see
:mod:`cnncourse.data`); pretrained weights go to the Keras cache
(``$KERAS_HOME/models``), where ``keras.applications`` finds them.  Every file
is checked against its published checksum; files already present and valid
are never downloaded again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .data import (
    DATASETS,
    DataCorruptError,
    DataNotFoundError,
    dataset_dir,
    get_data_dir,
    get_keras_home,
    missing_files,
    sha256_of,
)

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

    def cached_path(self, keras_home: Path | None = None) -> Path:
        return (keras_home or get_keras_home()) / "models" / self.filename


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights are neither in the Keras cache nor downloadable."""


_MOBILENET_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
MOBILENET_WEIGHTS: dict[float, PretrainedWeights] = {
    alpha: PretrainedWeights(f"MobileNet alpha={alpha} (ImageNet, no top)", name, _MOBILENET_BASE + name)
    for alpha, name in (
        (0.25, "mobilenet_2_5_224_tf_no_top.h5"),
        (1.0, "mobilenet_1_0_224_tf_no_top.h5"),
    )
}
"""The ImageNet MobileNet (v1) weights the course uses, by width multiplier alpha."""
PRETRAINED_WEIGHTS: tuple[PretrainedWeights, ...] = tuple(MOBILENET_WEIGHTS.values())


# ----------------------------------------------------------------------------- one file
def download_file(
    urls: Sequence[str],
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    progress: bool = True,
) -> Path:
    """Download the first of ``urls`` that answers into ``dest`` and check its checksum.

    The file is written to ``dest + '.part'`` and renamed only once complete and
    verified.  Raises DataNotFoundError when no URL answers, DataCorruptError
    when the download does not match the checksum.
    """
    from tqdm import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                h256, h5 = hashlib.sha256(), hashlib.md5()
                with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                    while block := response.read(1 << 16):
                        out.write(block)
                        h256.update(block)
                        h5.update(block)
                        bar.update(len(block))
        except (OSError, ValueError) as err:  # URLError and HTTPError are OSErrors
            errors.append(f"{url}: {err}")
            part.unlink(missing_ok=True)
            continue
        for algo, want, got in (("sha256", sha256, h256.hexdigest()), ("md5", md5, h5.hexdigest())):
            if want is not None and got != want:
                part.unlink(missing_ok=True)
                raise DataCorruptError(
                    f"The download of {url} has {algo} {got}, but the published value is {want}; "
                    f"it was deleted. Try again later, or fetch the file by hand into {dest.parent}."
                )
        part.replace(dest)
        return dest
    tried = "\n  ".join(errors)
    raise DataNotFoundError(
        f"Could not download {dest.name}; tried:\n  {tried}\n"
        f"Check the internet connection, or copy the file by hand into {dest.parent}."
    )


# ----------------------------------------------------------------------------- datasets
def fetch_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    progress: bool = True,
) -> list[str]:
    """Make sure dataset ``name`` is complete in the data directory; download what is missing or wrong.

    Returns one line per file saying what was done ("ok", "downloaded", ...).
    """
    info = DATASETS[name]
    mirrors = tuple(mirrors) if mirrors is not None else MIRRORS[name]
    folder = dataset_dir(name, data_dir)
    if name == "cifar10":
        return _fetch_cifar10(folder, mirrors, progress)
    done = []
    for f in info.files:
        path = folder / f.name
        if path.is_file() and (f.sha256 is None or sha256_of(path) == f.sha256):
            done.append(f"{path}: ok (already there, checksum verified)")
            continue
        what = "re-downloaded (the copy there did not match its checksum)" if path.is_file() else "downloaded"
        download_file([m + f.name for m in mirrors], path, sha256=f.sha256, progress=progress)
        done.append(f"{path}: {what}")
    return done


def _fetch_cifar10(folder: Path, mirrors: Sequence[str], progress: bool) -> list[str]:
    if not missing_files("cifar10", folder.parent):
        return [f"{folder}: ok (all 7 files already there)"]
    archive = folder.parent / CIFAR10_ARCHIVE.name
    download_file([m + CIFAR10_ARCHIVE.name for m in mirrors], archive,
                  sha256=CIFAR10_ARCHIVE.sha256, md5=CIFAR10_ARCHIVE.md5, progress=progress)
    extract_cifar10_archive(archive, folder.parent)
    archive.unlink()
    return [f"{folder}: downloaded and extracted {CIFAR10_ARCHIVE.name}"]


def extract_cifar10_archive(archive: str | os.PathLike, data_dir: str | os.PathLike) -> Path:
    """Extract the ``cifar-10-batches-py/`` files of the official archive into ``data_dir``.

    Only regular files directly under ``cifar-10-batches-py/`` are extracted
    (no links, no absolute or ``..`` paths).  Returns the batches folder.
    """
    data_dir = Path(data_dir)
    target = data_dir / DATASETS["cifar10"].folder
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) != 2 or parts[0] != target.name:
                continue
            with tar.extractfile(member) as src, open(target / parts[1], "wb") as dst:
                shutil.copyfileobj(src, dst)
    return target


# ----------------------------------------------------------------------------- weights
def fetch_weights(weights: PretrainedWeights, keras_home: Path | None = None) -> str:
    """Put ``weights`` into the Keras cache with Keras' own downloader (no-op when cached)."""
    path = weights.cached_path(keras_home)
    if path.is_file():
        return f"{path}: ok (already cached)"
    import keras

    got = keras.utils.get_file(weights.filename, weights.origin, cache_subdir="models",
                               cache_dir=str(keras_home or get_keras_home()))
    return f"{got}: downloaded"


def missing_weights_help(weights: PretrainedWeights, keras_home: Path) -> str:
    """What to do when ``weights`` are missing from ``keras_home``: the file, where it goes, how to get it."""
    return (f"Put {weights.filename} into {keras_home / 'models'}: on a machine with internet run "
            f"`python -m cnncourse fetch` (it fetches every dataset and weight file the course uses), "
            f"or download {weights.origin} and copy it there (see data/README.md).")


def pick_mobilenet_alpha(alphas, keras_home: Path | None = None) -> tuple[float, str]:
    """The first width multiplier in ``alphas`` whose ImageNet weights are cached or can be downloaded.

    Returns ``(alpha, why)`` where ``why`` says where the weights came from and, when
    an earlier alpha was skipped, why.  Raises WeightsNotAvailableError (naming the
    files and the ``fetch`` command) when none is available: never random weights.
    """
    keras_home = keras_home or get_keras_home()
    skipped = []
    for alpha in alphas:
        if alpha not in MOBILENET_WEIGHTS:
            raise ValueError(f"no ImageNet weights are registered for alpha={alpha}; "
                             f"valid: {sorted(MOBILENET_WEIGHTS)}")
        weights = MOBILENET_WEIGHTS[alpha]
        path = weights.cached_path(keras_home)
        if path.is_file():
            why = f"alpha={alpha}: ImageNet weights found in the Keras cache ({path})"
        else:
            try:
                fetch_weights(weights, keras_home)
            except Exception as err:  # noqa: BLE001 - Keras raises a bare Exception when offline
                skipped.append(f"alpha={alpha}: {weights.filename} is not in {path.parent} and could not be "
                               f"downloaded ({str(err).splitlines()[0][:160]})")
                continue
            why = f"alpha={alpha}: ImageNet weights downloaded to {path}"
        return alpha, "; ".join(skipped + [why])
    raise WeightsNotAvailableError(
        "No ImageNet MobileNet weights are available:\n  " + "\n  ".join(skipped) + "\n"
        + missing_weights_help(MOBILENET_WEIGHTS[alphas[0]], keras_home))


def fetch_all(
    data_dir: str | os.PathLike | None = None,
    *,
    datasets: Sequence[str] | None = None,
    weights: bool = True,
    progress: bool = True,
) -> list[str]:
    """Download every dataset (or those named) and every pretrained weight the course uses.

    Returns the report lines; raises the first DataError met after trying everything else.
    """
    lines, failures = [], []
    names = list(datasets) if datasets else list(DATASETS)
    print(f"Data directory: {get_data_dir(data_dir)}")
    for name in names:
        try:
            lines += fetch_dataset(name, data_dir, progress=progress)
        except (DataNotFoundError, DataCorruptError) as err:
            failures.append(err)
            lines.append(f"{name}: FAILED - {err}")
    if weights:
        print(f"Keras cache: {get_keras_home()}")
        for w in PRETRAINED_WEIGHTS:
            try:
                lines.append(fetch_weights(w))
            except Exception as err:  # noqa: BLE001 - report and go on with the rest
                failures.append(DataNotFoundError(f"{w.label}: {err}"))
                lines.append(f"{w.label}: FAILED - {err}")
    for line in lines:
        print(line)
    if failures:
        raise failures[0]
    return lines
