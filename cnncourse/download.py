"""Download every dataset and pretrained weight the course uses (``python -m cnncourse fetch``).

What is fetched, from where and with which checksums is :mod:`cnncourse.catalogue`.
Datasets go to the data directory in their official formats (read by
:mod:`cnncourse.fileformats`); pretrained weights go to the Keras cache
(``$KERAS_HOME/models``), where ``keras.applications`` finds them.  Every file
is checked against its published checksum; files already present and valid
are never downloaded again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .catalogue import (  # noqa: F401  (the weights' catalogue entries, where models and lessons look for them)
    CIFAR10_ARCHIVE,
    DATA_ENV,
    DATASETS,
    MIRRORS,
    MOBILENET_WEIGHTS,
    PRETRAINED_WEIGHTS,
    DataCorruptError,
    DataError,
    DataNotFoundError,
    PretrainedWeights,
    WeightsNotAvailableError,
    dataset_dir,
    get_data_dir,
    get_keras_home,
    missing_files,
)
from .fileformats import check_cifar_folder
from .fingerprints import file_sha256


# ----------------------------------------------------------------------------- one file
#: seconds a connection may stay silent (connecting, or between two blocks) before it counts as dead
SOCKET_TIMEOUT_S = 15.0
#: passes over the mirrors: a cut-off transfer or a checksum mismatch is tried again
ATTEMPTS = 2


def prepare_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) or raise DataNotFoundError saying why it cannot be used."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), folder)
        raise DataNotFoundError(
            f"Cannot use {folder} as a folder: {blocker} is a file. Move that file away, or choose another "
            f"data directory (set {DATA_ENV} or pass --data-dir)."
        ) from None
    except OSError as err:
        raise DataNotFoundError(
            f"Cannot create {folder} ({err.strerror or err}). Choose a folder you can write to "
            f"(set {DATA_ENV} or pass --data-dir)."
        ) from None
    return folder


def download_file(
    urls: Sequence[str],
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout: float | None = None,
    attempts: int | None = None,
    deadline_s: float | None = None,
) -> Path:
    """Download ``dest`` from the first of ``urls`` that delivers it whole, and check it.

    Each URL is tried in turn, ``attempts`` passes over the list (default :data:`ATTEMPTS`):
    a server that does not answer within ``timeout`` seconds (default :data:`SOCKET_TIMEOUT_S`;
    also the longest silence allowed mid-transfer), a transfer cut short of its announced
    length, or a file whose checksum (``sha256``, ``md5``) or ``size`` is not the published
    one moves on to the next.  ``deadline_s`` bounds the whole call.  What is being fetched
    is printed first.  The file is written to ``dest + '.part'`` and renamed only once
    complete and verified.  Raises DataNotFoundError (listing every attempt and what to do)
    when none succeeds.
    """
    from tqdm import tqdm

    timeout = SOCKET_TIMEOUT_S if timeout is None else timeout
    attempts = ATTEMPTS if attempts is None else attempts
    dest = Path(dest)
    created = not dest.parent.exists()
    prepare_folder(dest.parent)
    part = dest.with_name(dest.name + ".part")
    errors: list[str] = []
    start = time.monotonic()
    for attempt in range(attempts):
        for url in urls:
            if deadline_s is not None and time.monotonic() - start > deadline_s:
                errors.append(f"gave up after {deadline_s:.0f} s")
                break
            print(f"Downloading {url} -> {dest}" + (f" (attempt {attempt + 1})" if attempt else ""), flush=True)
            try:
                h256, h5, got = hashlib.sha256(), hashlib.md5(), 0
                with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                              file=sys.stdout) as bar:
                        while block := response.read(1 << 16):
                            out.write(block)
                            h256.update(block)
                            h5.update(block)
                            got += len(block)
                            bar.update(len(block))
                if total is not None and got != total:
                    raise OSError(f"the transfer was cut off after {got:,} of {total:,} bytes")
                for what, want, have in (("sha256", sha256, h256.hexdigest()), ("md5", md5, h5.hexdigest()),
                                         ("size", size, got)):
                    if want is not None and have != want:
                        raise OSError(f"{what} {have} is not the published {want}")
            except (OSError, ValueError, http.client.HTTPException) as err:  # URLError, timeouts: OSErrors
                errors.append(f"{url}: {err}")
                part.unlink(missing_ok=True)
                continue
            part.replace(dest)
            return dest
    if created and not any(dest.parent.iterdir()):
        dest.parent.rmdir()   # leave no empty folder behind
    tried = "\n  ".join(errors)
    raise DataNotFoundError(
        f"Could not download {dest.name}; tried:\n  {tried}\n"
        f"Check the internet connection (a proxy or a captive portal can accept connections and never "
        f"answer), or copy the file by hand into {dest.parent}."
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
    folder = prepare_folder(dataset_dir(name, data_dir))
    if name == "cifar10":
        return _fetch_cifar10(folder, mirrors, progress)
    done = []
    for f in info.files:
        path = folder / f.name
        if path.is_file() and (f.sha256 is None or file_sha256(path) == f.sha256):
            done.append(f"{path}: ok (already there, checksum verified)")
            continue
        what = "re-downloaded (the copy there did not match its checksum)" if path.is_file() else "downloaded"
        download_file([m + f.name for m in mirrors], path, sha256=f.sha256, progress=progress)
        done.append(f"{path}: {what}")
    return done


def _fetch_cifar10(folder: Path, mirrors: Sequence[str], progress: bool) -> list[str]:
    why = "missing files: " + ", ".join(p.name for p in missing_files("cifar10", folder.parent))
    if why == "missing files: ":
        try:
            check_cifar_folder(folder)
            return [f"{folder}: ok (all 7 files there, every batch complete)"]
        except DataError as err:
            why = str(err).split(". ")[0]
            print(f"{folder}: {why}; downloading the archive again")
    prepare_folder(folder.parent)
    archive = folder.parent / CIFAR10_ARCHIVE.name
    download_file([m + CIFAR10_ARCHIVE.name for m in mirrors], archive,
                  sha256=CIFAR10_ARCHIVE.sha256, md5=CIFAR10_ARCHIVE.md5, progress=progress)
    extract_cifar10_archive(archive, folder.parent)
    archive.unlink()
    check_cifar_folder(folder)
    return [f"{folder}: downloaded and extracted {CIFAR10_ARCHIVE.name} ({why})"]


def extract_cifar10_archive(archive: str | os.PathLike, data_dir: str | os.PathLike) -> Path:
    """Extract the ``cifar-10-batches-py/`` files of the official archive into ``data_dir``.

    Only regular files directly under ``cifar-10-batches-py/`` are extracted
    (no links, no absolute or ``..`` paths).  Returns the batches folder.
    """
    data_dir = prepare_folder(Path(data_dir))
    target = data_dir / DATASETS["cifar10"].folder
    # Extract into a fresh folder beside the target and move the files in only when all are out:
    # an interrupted extraction leaves the old files (or none), never a half-written batch.
    staging = Path(tempfile.mkdtemp(prefix=".cifar-extract-", dir=data_dir))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if not member.isfile() or len(parts) != 2 or parts[0] != target.name:
                    continue
                with tar.extractfile(member) as src, open(staging / parts[1], "wb") as dst:
                    shutil.copyfileobj(src, dst)
        target.mkdir(exist_ok=True)
        for path in staging.iterdir():
            path.replace(target / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# ----------------------------------------------------------------------------- weights
def weights_problem(weights: PretrainedWeights, path: Path) -> str | None:
    """Why the file at ``path`` is not ``weights`` (missing, wrong size or checksum), or None if it is."""
    if not path.is_file():
        return "missing"
    if weights.size is not None and path.stat().st_size != weights.size:
        return f"{path.stat().st_size:,} bytes, not the published {weights.size:,} (cut short?)"
    if weights.sha256 is not None and file_sha256(path) != weights.sha256:
        return "its sha256 is not the published one"
    return None


def fetch_weights(weights: PretrainedWeights, keras_home: Path | None = None, *, progress: bool = True) -> str:
    """Put ``weights`` into the Keras cache (``models/``), where ``keras.applications`` finds them.

    A cached file that is complete and matches its checksum is kept; a partial or wrong one
    is deleted and fetched again.  The download has timeouts (see :func:`download_file`);
    Keras' own ``get_file`` has none, so it is not used.
    """
    path = weights.cached_path(keras_home)
    problem = weights_problem(weights, path)
    if problem is None:
        return f"{path}: ok (already cached, checked)"
    if problem != "missing":
        print(f"{path}: {problem}; deleting it and downloading it again")
        path.unlink()
    download_file([weights.origin], path, sha256=weights.sha256, size=weights.size, progress=progress)
    return f"{path}: downloaded" + ("" if problem == "missing" else f" (the cached copy was bad: {problem})")


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
        problem = weights_problem(weights, path)
        if problem is None:
            why = f"alpha={alpha}: ImageNet weights found in the Keras cache ({path})"
        else:
            try:
                fetch_weights(weights, keras_home)
            except DataError as err:
                skipped.append(f"alpha={alpha}: {weights.filename} in {path.parent} is {problem} and could not "
                               f"be downloaded ({str(err).splitlines()[1].strip()[:160]})")
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
                lines.append(fetch_weights(w, progress=progress))
            except DataError as err:  # report and go on with the rest
                failures.append(DataNotFoundError(f"{w.label}: {err}"))
                lines.append(f"{w.label}: FAILED - {err}")
    for line in lines:
        print(line)
    if failures:
        raise failures[0]
    return lines
