"""2-D embeddings of a hidden layer, epoch after epoch (UMAP), and how separable its classes are.

Computing only; :mod:`cnncourse.viz` draws the results.  umap-learn is
imported when first needed (its numba compilation takes seconds the first time).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def check_probe_size(n_probe: int, n_neighbors: int) -> None:
    """UMAP needs more points than neighbours: raise ValueError saying so otherwise."""
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be at least 2, got {n_neighbors}")
    if n_probe <= n_neighbors:
        raise ValueError(
            f"UMAP with n_neighbors={n_neighbors} needs more than {n_neighbors} probe images; got {n_probe}. "
            f"Use a larger probe set or a smaller n_neighbors."
        )


def enable_compile_cache() -> int:
    """Let numba cache umap-learn's and pynndescent's compiled functions on disk.

    umap-learn marks only some of its numba functions ``cache=True``; the rest
    (about 20 s of compilation on a 2-core CPU) are compiled again in every new
    Python process.  This turns on numba's file cache for every one of them, so
    the second and later runs load machine code instead (numba keys the cache on
    each function's source file and timestamp; it lives in ``__pycache__`` beside
    the source, or in a user cache folder when that is read-only, or in
    ``$NUMBA_CACHE_DIR``).  Returns how many functions were switched; safe to call
    repeatedly.  If numba's internals change, it switches nothing and UMAP simply
    compiles as before.
    """
    import umap  # noqa: F401  (imports umap.umap_, layouts, spectral, pynndescent, ...)

    try:
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - a numba without these internals
        return 0
    switched = 0
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("umap", "pynndescent") or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and isinstance(getattr(value, "_cache", None), NullCache):
                try:
                    value.enable_caching()
                    switched += 1
                except Exception:  # pragma: no cover - e.g. a function numba cannot cache
                    pass
    return switched


def standardize_embedding(embedding: np.ndarray) -> np.ndarray:
    """Centre a 2-D embedding (n, 2) and scale it to unit RMS radius, so epochs share one scale."""
    centred = embedding - embedding.mean(axis=0)
    return centred / (np.sqrt((centred**2).sum(axis=1).mean()) or 1.0)


# Optimisation epochs for a UMAP that starts from the previous epoch's picture.  Measured on
# lesson 04's laptop probe (1,000 images, n_neighbors 40, four models, epochs 1-3): umap-learn's
# default (500 for this size) took 7.1 s per training epoch for the four models, mean displacement
# 0.231, final silhouette 0.221; 200: 4.4 s, 0.207, 0.222; 100: 3.6 s, 0.194, 0.221; 50: 3.1 s,
# 0.204, 0.223; 30: 2.9 s, 0.202, 0.225; 15: 2.8 s, 0.205, 0.208 (the rest is the neighbour graph,
# since computed from precomputed distances: 0.73 s instead of 3.1 s at 50, on the same features
# displacement 0.153 / silhouette 0.268 both ways; 100 epochs: 1.17 s, 0.158, 0.273).
WARM_START_EPOCHS = 50

#: umap-learn's own threshold: below it, the neighbour graph is computed from exact distances
UMAP_EXACT_LIMIT = 4096


def euclidean_distances(x: np.ndarray) -> np.ndarray:
    """All pairwise Euclidean distances of the rows of ``x`` (n, d), as a float64 (n, n) matrix
    with an exact zero diagonal."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    sq = (x * x).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(d2)


def embed_epochs(
    features: Mapping[int, np.ndarray],
    *,
    n_neighbors: int = 40,
    seed: int = 0,
    align: bool = True,
    warm_epochs: int | None = WARM_START_EPOCHS,
    timings: dict[int, float] | None = None,
) -> dict[int, np.ndarray]:
    """Embed each epoch's hidden features (n_probe, units) in 2-D with UMAP.

    With ``align=True`` every epoch's UMAP starts from the previous epoch's
    embedding (``init=``), so a point keeps roughly its place from one epoch to
    the next and an animation shows learning rather than arbitrary rotations
    and flips; with ``align=False`` each epoch is embedded on its own.  A UMAP that starts
    from the previous picture only has to adjust it: it runs ``warm_epochs`` optimisation
    epochs (None: umap-learn's default, 500 for a small probe), the first epoch the default.
    Embeddings are centred and scaled to unit RMS radius.  ``timings``, when
    given, is filled with the seconds each epoch's UMAP took.

    Returns {epoch: float32 array (n_probe, 2)}.
    """
    epochs = sorted(features)
    if not epochs:
        raise ValueError("features is empty")
    n_probe = len(features[epochs[0]])
    check_probe_size(n_probe, n_neighbors)   # before umap's import, which compiles for seconds

    with warnings.catch_warnings():   # umap-learn imports tqdm.auto, which warns when ipywidgets is missing
        warnings.filterwarnings("ignore", message="IProgress not found")
        import umap

    enable_compile_cache()
    out: dict[int, np.ndarray] = {}
    previous = None
    for epoch in epochs:
        x = np.asarray(features[epoch], dtype=np.float32)
        if len(x) != n_probe:
            raise ValueError(f"epoch {epoch} has {len(x)} probe points, epoch {epochs[0]} has {n_probe}")
        start = time.perf_counter()
        warm = align and previous is not None
        # Below UMAP_EXACT_LIMIT points umap-learn computes all pairwise distances exactly, but through
        # a Python-level callback per pair (0.6 s for 1,000 points); numpy gives the same matrix in
        # milliseconds, handed over as a precomputed metric: the same neighbour graph, 4x faster.
        exact = n_probe < UMAP_EXACT_LIMIT
        reducer = umap.UMAP(n_neighbors=n_neighbors, random_state=seed, init=previous if warm else "spectral",
                            n_epochs=warm_epochs if warm else None, n_jobs=1,  # a seed forces 1 job
                            metric="precomputed" if exact else "euclidean")
        with warnings.catch_warnings():   # "n_jobs value 1 overridden to 1 by setting random_state": known
            warnings.filterwarnings("ignore", message="n_jobs value")
            warnings.filterwarnings("ignore", message="using precomputed metric")  # no inverse_transform: fine
            emb = reducer.fit_transform(euclidean_distances(x) if exact else x)
            emb = standardize_embedding(emb.astype(np.float32))
        out[epoch] = emb
        previous = emb
        if timings is not None:
            timings[epoch] = time.perf_counter() - start
    return out


def embed_models(
    features: Mapping[str, Mapping[int, np.ndarray]],
    *,
    n_neighbors: int = 40,
    seed: int = 0,
    align: bool = True,
    warm_epochs: int | None = WARM_START_EPOCHS,
    progress: bool = True,
) -> tuple[dict[str, dict[int, np.ndarray]], dict[str, dict[int, float]]]:
    """:func:`embed_epochs` for several models, with a progress bar.

    features : {model name: {epoch: (n_probe, units) array}}
    Returns ``(embeddings, seconds)``: {model: {epoch: (n_probe, 2)}} and
    {model: {epoch: seconds of UMAP}}.
    """
    from tqdm import tqdm   # plain text: works in every notebook front end, without ipywidgets

    embeddings: dict[str, dict[int, np.ndarray]] = {}
    seconds: dict[str, dict[int, float]] = {}
    for name in tqdm(list(features), desc="UMAP per epoch", unit="model", disable=not progress, file=sys.stdout):
        seconds[name] = {}
        embeddings[name] = embed_epochs(features[name], n_neighbors=n_neighbors, seed=seed,
                                        align=align, warm_epochs=warm_epochs, timings=seconds[name])
    return embeddings, seconds


def mean_displacement(embeddings: Mapping[int, np.ndarray]) -> float:
    """Mean distance a point moves between consecutive epochs (unit-RMS embeddings): lower = steadier."""
    epochs = sorted(embeddings)
    moves = [np.linalg.norm(embeddings[b] - embeddings[a], axis=1).mean() for a, b in zip(epochs, epochs[1:])]
    return float(np.mean(moves)) if moves else 0.0


def compute_separability(features: np.ndarray, labels: np.ndarray, *, k: int = 10, seed: int = 0) -> float:
    """Cross-validated (5-fold) k-nearest-neighbour accuracy on ``features`` (n, d): how well
    the classes are separated in that space.  1.0 = perfectly, 1/num_classes = not at all."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    labels = np.asarray(labels)
    if len(features) != len(labels):
        raise ValueError(f"features has {len(features)} rows but labels has {len(labels)}: one label per row")
    folds = min(5, int(np.bincount(labels).min()))
    if folds < 2:
        raise ValueError("every class needs at least 2 probe points to measure separability")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=k), features, labels, cv=cv)
    return float(scores.mean())


def compute_silhouette(embedding: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette score of a 2-D embedding by class: near 1 = tight, separate clusters; near 0 = mixed."""
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(embedding, labels))


def separability_by_epoch(
    features: Mapping[str, Mapping[int, np.ndarray]],
    embeddings: Mapping[str, Mapping[int, np.ndarray]],
    labels: np.ndarray,
    *,
    k: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """Separability of every model's hidden layer at every epoch, as a long table.

    features : {model: {epoch: (n, units)}};  embeddings : {model: {epoch: (n, 2)}}
    Returns a DataFrame with columns model, epoch, knn_accuracy (5-fold k-NN on
    the hidden features, see :func:`compute_separability`) and silhouette (of
    the 2-D embedding, see :func:`compute_silhouette`).
    """
    rows = []
    for name, by_epoch in features.items():
        if name not in embeddings:
            raise KeyError(f"no embeddings for model {name!r}; have {list(embeddings)}")
        for epoch in sorted(by_epoch):
            rows.append({
                "model": name,
                "epoch": epoch,
                "knn_accuracy": compute_separability(by_epoch[epoch], labels, k=k, seed=seed),
                "silhouette": compute_silhouette(embeddings[name][epoch], labels),
            })
    return pd.DataFrame(rows)


def every_kth_epoch(epochs: Sequence[int], k: int) -> list[int]:
    """Epochs 0, k, 2k, ... of ``epochs``, and always the first and the last."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    epochs = sorted(epochs)
    return [e for i, e in enumerate(epochs) if e % k == 0 or i in (0, len(epochs) - 1)]


def spread_epochs(epochs: Sequence[int], n: int = 6) -> list[int]:
    """Up to ``n`` epochs spread evenly from the first to the last (both kept): the columns of a grid."""
    if n < 2:
        raise ValueError(f"a spread needs at least 2 epochs (the first and the last), got n={n}")
    epochs = sorted(epochs)
    if len(epochs) <= n:
        return epochs
    picks = np.linspace(0, len(epochs) - 1, n).round().astype(int)
    return [epochs[i] for i in dict.fromkeys(picks)]
