"""Per-epoch UMAP embeddings and separability scores on small synthetic features."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import embedding


def _blobs(spread, seed=0, n=30, classes=3, dim=16):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (classes, dim))
    labels = np.repeat(np.arange(classes), n)
    return (centres[labels] + rng.normal(0, spread, (n * classes, dim))).astype("float32"), labels


def test_probe_smaller_than_n_neighbors_is_refused():
    with pytest.raises(ValueError, match="needs more than 40 probe images; got 30"):
        embedding.check_probe_size(30, 40)
    with pytest.raises(ValueError, match="needs more than 40 probe images; got 30"):
        embedding.embed_epochs({0: np.zeros((30, 4))}, n_neighbors=40)


def test_aligned_embeddings_move_less_than_independent_ones():
    # "training": the same points, classes separating a little more each epoch
    features = {epoch: _blobs(spread=4.0 - epoch)[0] for epoch in range(4)}
    aligned = embedding.embed_epochs(features, n_neighbors=10, seed=0, align=True)
    independent = embedding.embed_epochs(features, n_neighbors=10, seed=0, align=False)
    assert sorted(aligned) == [0, 1, 2, 3]
    assert all(e.shape == (90, 2) for e in aligned.values())
    np.testing.assert_allclose(np.sqrt((aligned[2] ** 2).sum(axis=1).mean()), 1.0, rtol=1e-4)
    assert embedding.mean_displacement(aligned) < embedding.mean_displacement(independent)


def test_separability_grows_as_classes_separate():
    mixed, labels = _blobs(spread=30.0)
    clear, _ = _blobs(spread=0.5)
    low = embedding.compute_separability(mixed, labels)
    high = embedding.compute_separability(clear, labels)
    assert high == pytest.approx(1.0) and low < 0.8
    assert embedding.compute_silhouette(clear[:, :2], labels) > embedding.compute_silhouette(mixed[:, :2], labels)
