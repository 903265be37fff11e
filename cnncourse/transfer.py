"""Transfer learning the cheap way: run a frozen base once, cache its features, train heads on them.

A frozen base computes the same features for an image in every epoch, so feature
extraction needs the base only once: :func:`extract_features` runs it over the
images in batches (with a progress bar) and caches the pooled features on disk.
The head then trains on an (N, features) array in seconds, with the usual
:func:`cnncourse.training.fit_and_evaluate`.

The cache can never serve stale features.  Its key covers everything the features
depend on: the weights (the sha256 of the weights file, or "random" and a seed),
the MobileNet width, the input size, the preprocessing, the extractor's shape and
size, and the exact images (a sha256 of their bytes).  Files are written atomically
(to a temporary file, then renamed); a file that is partial, corrupt, or whose
stored key differs is reported and recomputed, never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .fingerprints import array_sha256, file_sha256


@dataclass
class Features:
    """Features of one image array: ``values`` (N, F) float32, the ``seconds`` computing them
    took (when read from the cache: the seconds the first computation took, stored with them),
    whether they came from the cache, and the cache file."""

    values: np.ndarray
    seconds: float
    cached: bool
    path: Path


def cache_key(extractor: keras.Model, images: np.ndarray, describe: Mapping[str, object]) -> dict:
    """The full cache key: ``describe`` (weights id, alpha, input size, preprocessing, ...),
    the extractor's input/output shapes and parameter count, and the images' sha256."""
    return {
        **{str(k): describe[k] for k in sorted(describe)},
        "extractor_input": list(extractor.input_shape[1:]),
        "extractor_output": list(extractor.output_shape[1:]),
        "extractor_params": int(extractor.count_params()),
        "images_sha256": array_sha256(images),
        "images": int(images.shape[0]),
    }


def _read_cache(path: Path, key: dict) -> tuple[np.ndarray, float] | None:
    """The cached features at ``path`` and the seconds they took, if the file is whole and was
    written for ``key``; else None (and a printed reason when a file was there but unusable)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            stored_key = json.loads(str(stored["key"]))
            values = np.asarray(stored["features"])
            seconds = float(stored["seconds"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        print(f"feature cache {path.name} is unreadable ({type(err).__name__}); recomputing it")
        return None
    if stored_key != key:
        print(f"feature cache {path.name} was written for other settings; recomputing it")
        return None
    if values.ndim != 2 or values.shape[0] != key["images"] or not np.isfinite(values).all():
        print(f"feature cache {path.name} holds {values.shape} features, not {key['images']} finite rows; "
              "recomputing it")
        return None
    return values.astype(np.float32, copy=False), seconds


def _write_cache(path: Path, key: dict, values: np.ndarray, seconds: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, key=np.array(json.dumps(key, sort_keys=True)), features=values, seconds=np.array(seconds))
        os.chmod(tmp, 0o644)            # mkstemp makes it private; a cache may be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def extract_features(
    extractor: keras.Model,
    images: np.ndarray,
    *,
    describe: Mapping[str, object],
    cache_dir: str | os.PathLike | None,
    batch_size: int = 256,
    progress: bool = True,
    label: str = "features",
    bar=None,
) -> Features:
    """Run ``extractor`` (images -> (N, F)) over ``images`` once, or read the result from the cache.

    images    : (N, H, W, C) float32, as the extractor takes them
    describe  : what the features depend on that the images do not show: the weights
                (e.g. ``{"weights": <file sha256>}`` or ``{"weights": "random", "seed": 42}``),
                alpha, input size, preprocessing.  JSON-able values only.
    cache_dir : the folder of ``<label>-<key hash>.npz`` files; None computes without caching
    progress  : show a progress bar of the batches (ignored when ``bar`` is given)
    bar       : an open tqdm bar to advance by one per batch instead (one bar over several calls)
    Returns :class:`Features`.
    """
    images = np.asarray(images, dtype=np.float32)
    key = cache_key(extractor, images, describe)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    path = Path(cache_dir or ".") / f"{label}-{digest}.npz"
    batches = range(0, images.shape[0], batch_size)
    if cache_dir is not None:
        stored = _read_cache(path, key)
        if stored is not None:
            if bar is not None:
                bar.update(len(batches))
            return Features(stored[0], stored[1], True, path)

    own_bar = bar is None and progress
    if own_bar:
        bar = _progress_bar(len(batches), label)
    start = time.perf_counter()
    parts = []
    for i in batches:
        parts.append(np.asarray(extractor(images[i:i + batch_size], training=False)))
        if bar is not None:
            bar.update(1)
    values = np.concatenate(parts).reshape(images.shape[0], -1).astype(np.float32)
    seconds = time.perf_counter() - start
    if own_bar:
        bar.close()
    if cache_dir is not None:
        _write_cache(path, key, values, seconds)
    return Features(values, seconds, False, path)


def standardize(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Shift and scale features to mean 0 and standard deviation 1 per feature, using the
    *training* features' statistics for every array (so no test information leaks in).

    train, others : (N, F) arrays.  A feature that is constant on the training images keeps
    std 1 (it stays constant).  Returns ``(mean, std, [train, *others] standardized)``, with
    mean and std of shape (F,), float32.
    """
    train = np.asarray(train, dtype=np.float64)
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std == 0] = 1.0
    scaled = [((np.asarray(a, dtype=np.float64) - mean) / std).astype(np.float32) for a in (train, *others)]
    return mean.astype(np.float32), std.astype(np.float32), scaled


def _progress_bar(total: int, description: str):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="batch", file=sys.stdout, dynamic_ncols=True)


def weights_id(alpha: float, weights: str | None, *, seed: int | None = None) -> dict:
    """What identifies a MobileNet's starting weights in a cache key: the sha256 of the cached
    ImageNet weights file, or "random" and the seed."""
    if weights is None:
        return {"weights": "random", "seed": seed}
    from .catalogue import MOBILENET_WEIGHTS

    path = MOBILENET_WEIGHTS[alpha].cached_path()
    return {"weights": file_sha256(path) if path.is_file() else f"imagenet (not cached: {path.name})"}


def get_base(model: keras.Model) -> keras.Model:
    """The pretrained base inside a transfer model: its one nested ``keras.Model`` layer."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(nested) != 1:
        raise ValueError(f"{model.name!r} should hold exactly one nested base model, found "
                         f"{[layer.name for layer in nested] or 'none'}")
    return nested[0]


def unfreeze_top(model: keras.Model, from_layer: str) -> int:
    """Make the base's layers from ``from_layer`` on trainable, the rest frozen; BatchNorm layers
    stay frozen (inference mode, their statistics kept), as the Keras fine-tuning guide does.

    Returns the number of trainable parameters in the base afterwards.  An unknown layer name
    raises ValueError listing a few valid ones.
    """
    base = get_base(model)
    names = [layer.name for layer in base.layers]
    if from_layer not in names:
        convs = [n for n in names if n.startswith("conv_pw_")]
        raise ValueError(f"{base.name!r} has no layer {from_layer!r}; e.g. {', '.join(convs[-6:])}")
    base.trainable = True
    start = names.index(from_layer)
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= start and not isinstance(layer, keras.layers.BatchNormalization)
    return int(sum(np.prod(w.shape) for w in base.trainable_weights))


# ----------------------------------------------------------------------------- lesson 06's runs
@dataclass
class FeatureRun:
    """A linear head trained on cached frozen-base features.

    ``result`` is the head's :class:`~cnncourse.training.TrainResult` (history, test accuracy,
    head seconds); ``feature_mean``/``feature_std`` standardized the features (copy them into a
    full model with ``build_mobilenet_classifier(feature_mean=..., feature_std=...)``);
    ``extract_seconds`` is what computing the training and validation features took (the first
    time, on this machine); ``zero_fraction`` the share of test features that are exactly 0.
    """

    name: str
    result: object
    feature_mean: np.ndarray
    feature_std: np.ndarray
    extract_seconds: float
    zero_fraction: float

    @property
    def seconds(self) -> float:
        """Training cost: extracting the training and validation features, plus training the head."""
        return self.extract_seconds + self.result.train_seconds


def mobilenet_feature_run(
    alpha: float,
    dataset,
    *,
    image_size: int,
    weights: str | None = "imagenet",
    cache_dir: str | os.PathLike | None,
    epochs: int,
    batch_size: int,
    seed: int = 42,
    name: str | None = None,
    progress: bool = True,
) -> FeatureRun:
    """Feature extraction end to end: MobileNet (frozen, ``weights``) features of ``dataset``'s
    train, validation and test images at ``image_size`` px (cached), standardized with the
    training features' statistics, then a linear head trained on them (Adam; the epoch with the
    lowest validation loss is kept; the test set is scored once).

    dataset : an ImageDataset with one-hot labels and a validation set (``load_*(n_val=...)``)
    """
    from dataclasses import replace

    from .models import build_linear_head, build_mobilenet_features
    from .reproducibility import set_seed
    from .training import fit_and_evaluate

    if dataset.x_val is None:
        raise ValueError("the dataset needs a validation set: load it with n_val > 0")
    set_seed(seed)
    extractor = build_mobilenet_features(alpha, weights=weights, image_size=image_size)
    describe = {**weights_id(alpha, weights, seed=seed), "alpha": alpha, "image_size": image_size,
                "preprocessing": "mobilenet: resize (bilinear), then [0, 1] -> [-1, 1]"}
    tag = "imagenet" if weights else "random"
    name = name or f"frozen {tag} features, {image_size} px"
    splits = (("train", dataset.x_train), ("val", dataset.x_val), ("test", dataset.x_test))
    extract_batch = 64   # the base's activations at 96 px for 256 images at once took 1 GB more memory
    bar = _progress_bar(sum(-(-len(x) // extract_batch) for _, x in splits),
                        f"{name}: base over train/val/test") if progress else None
    features = {split: extract_features(extractor, x, describe=describe, cache_dir=cache_dir, progress=False,
                                        label=f"{split}-{tag}-a{alpha:g}-{image_size}px", batch_size=extract_batch,
                                        bar=bar)
                for split, x in splits}
    if bar is not None:
        bar.set_postfix_str("read from the cache" if all(f.cached for f in features.values()) else "computed")
        bar.close()
    mean, std, (f_train, f_val, f_test) = standardize(*(features[s].values for s in ("train", "val", "test")))
    as_features = replace(dataset, x_train=f_train, x_val=f_val, x_test=f_test)
    set_seed(seed)
    result = fit_and_evaluate(build_linear_head(f_train.shape[1], dataset.num_classes), as_features,
                              optimizer="adam", epochs=epochs, batch_size=batch_size, validation="val",
                              restore_best=True, name=name, progress=progress)
    return FeatureRun(name, result, mean, std, features["train"].seconds + features["val"].seconds,
                      float((features["test"].values == 0).mean()))
