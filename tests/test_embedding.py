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


def test_embed_models_times_every_epoch_and_separability_table_is_long():
    features = {"A": {e: _blobs(spread=3.0 - e)[0] for e in range(2)},
                "B": {e: _blobs(spread=3.0, seed=1)[0] for e in range(2)}}
    labels = _blobs(spread=1.0)[1]
    embeddings, seconds = embedding.embed_models(features, n_neighbors=10, progress=False)
    assert set(embeddings) == {"A", "B"} and set(seconds["B"]) == {0, 1}
    assert all(s > 0 for s in seconds["A"].values())
    table = embedding.separability_by_epoch(features, embeddings, labels)
    assert list(table.columns) == ["model", "epoch", "knn_accuracy", "silhouette"]
    assert len(table) == 4 and table["knn_accuracy"].between(0, 1).all()
    with pytest.raises(KeyError, match="no embeddings for model 'B'"):
        embedding.separability_by_epoch(features, {"A": embeddings["A"]}, labels)


def test_euclidean_distances_match_scipy_and_umap_gets_them_precomputed(monkeypatch):
    from scipy.spatial.distance import cdist
    import umap

    x, _ = _blobs(spread=2.0)
    d = embedding.euclidean_distances(x)
    np.testing.assert_allclose(d, cdist(x.astype(float), x.astype(float)), atol=1e-6)
    assert (np.diag(d) == 0).all()

    seen = []
    real = umap.UMAP.fit_transform
    monkeypatch.setattr(umap.UMAP, "fit_transform",
                        lambda self, data, *a, **k: seen.append((self.metric, data.shape)) or real(self, data, *a, **k))
    embedding.embed_epochs({0: x, 1: x}, n_neighbors=10)
    assert seen == [("precomputed", (90, 90))] * 2
    monkeypatch.setattr(embedding, "UMAP_EXACT_LIMIT", 50)   # above umap's exact limit: the features themselves
    seen.clear()
    embedding.embed_epochs({0: x}, n_neighbors=10)
    assert seen == [("euclidean", (90, 16))]


def test_compile_cache_switches_umap_functions_on():
    assert embedding.enable_compile_cache() >= 0   # a second call switches nothing new
    from numba.core.caching import NullCache
    from umap import umap_

    embedding.enable_compile_cache()
    assert not isinstance(umap_.smooth_knn_dist._cache, NullCache)  # not cache=True in umap-learn itself


@pytest.mark.parametrize("epochs, k, expected", [
    (range(11), 5, [0, 5, 10]),
    (range(8), 5, [0, 5, 7]),
    (range(3), 1, [0, 1, 2]),
])
def test_every_kth_epoch_keeps_first_and_last(epochs, k, expected):
    assert embedding.every_kth_epoch(epochs, k) == expected


def test_spread_epochs_picks_evenly_and_keeps_ends():
    assert embedding.spread_epochs(range(9), 5) == [0, 2, 4, 6, 8]
    assert embedding.spread_epochs([0, 1], 6) == [0, 1]
    assert embedding.spread_epochs(range(101), 6) == [0, 20, 40, 60, 80, 100]


def test_a_warm_started_epoch_runs_the_fewer_optimisation_epochs(monkeypatch):
    import umap

    seen = []
    real = umap.UMAP.__init__

    def spy(self, *args, **kwargs):
        seen.append((kwargs.get("n_epochs"), isinstance(kwargs.get("init"), np.ndarray)))
        real(self, *args, **kwargs)

    monkeypatch.setattr(umap.UMAP, "__init__", spy)
    features = {epoch: _blobs(spread=4.0 - epoch)[0] for epoch in range(3)}
    embedding.embed_epochs(features, n_neighbors=10, seed=0, warm_epochs=25)
    assert seen == [(None, False), (25, True), (25, True)]     # the first epoch: umap's default, from spectral
    seen.clear()
    embedding.embed_epochs(features, n_neighbors=10, seed=0, align=False, warm_epochs=25)
    assert seen == [(None, False)] * 3                          # independent runs are never warm
