"""2-D embeddings of a hidden layer, epoch after epoch (UMAP), and how separable its classes are.

Computing only; :mod:`cnncourse.viz` draws the results.  umap-learn is
imported when first needed (its numba compilation takes seconds the first time).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def check_probe_size(n_probe: int, n_neighbors: int) -> None:
    """UMAP needs more points than neighbours: raise ValueError saying so otherwise."""
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be at least 2, got {n_neighbors}")
    if n_probe <= n_neighbors:
        raise ValueError(
            f"UMAP with n_neighbors={n_neighbors} needs more than {n_neighbors} probe images; got {n_probe}. "
            f"Use a larger probe set or a smaller n_neighbors."
        )


def _standardize(embedding: np.ndarray) -> np.ndarray:
    centred = embedding - embedding.mean(axis=0)
    return centred / (np.sqrt((centred**2).sum(axis=1).mean()) or 1.0)


def embed_epochs(
    features: Mapping[int, np.ndarray],
    *,
    n_neighbors: int = 40,
    seed: int = 0,
    align: bool = True,
) -> dict[int, np.ndarray]:
    """Embed each epoch's hidden features (n_probe, units) in 2-D with UMAP.

    With ``align=True`` every epoch's UMAP starts from the previous epoch's
    embedding (``init=``), so a point keeps roughly its place from one epoch to
    the next and an animation shows learning rather than arbitrary rotations
    and flips; with ``align=False`` each epoch is embedded on its own.
    Embeddings are centred and scaled to unit RMS radius.

    Returns {epoch: float32 array (n_probe, 2)}.
    """
    import umap

    epochs = sorted(features)
    if not epochs:
        raise ValueError("features is empty")
    n_probe = len(features[epochs[0]])
    check_probe_size(n_probe, n_neighbors)
    out: dict[int, np.ndarray] = {}
    previous = None
    for epoch in epochs:
        x = np.asarray(features[epoch], dtype=np.float32)
        if len(x) != n_probe:
            raise ValueError(f"epoch {epoch} has {len(x)} probe points, epoch {epochs[0]} has {n_probe}")
        init = previous if (align and previous is not None) else "spectral"
        reducer = umap.UMAP(n_neighbors=n_neighbors, random_state=seed, init=init, n_jobs=1)  # a seed forces 1 job
        emb = _standardize(reducer.fit_transform(x).astype(np.float32))
        out[epoch] = emb
        previous = emb
    return out


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
