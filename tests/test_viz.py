"""Plot helpers return what they drew, on the axes/figure they were given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cnncourse import viz

HISTORY = {"loss": [1.0, 0.5, 0.4], "val_loss": [0.9, 0.6, 0.7],
           "accuracy": [0.5, 0.8, 0.9], "val_accuracy": [0.6, 0.7, 0.65]}


def test_sample_grid_has_one_row_per_class_with_names():
    rng = np.random.default_rng(0)
    images = rng.random((40, 8, 8, 3)).astype("float32")
    labels = np.arange(40) % 4
    fig = viz.plot_sample_grid(images, labels, ["a", "b", "c", "d"], per_class=5)
    axes = fig.axes
    assert len(axes) == 20
    assert [axes[i * 5].get_ylabel() for i in range(4)] == ["a", "b", "c", "d"]
    assert all(len(ax.images) == 1 for ax in axes)


def test_sample_grid_accepts_one_hot_and_grayscale():
    images = np.zeros((20, 28, 28, 1), "float32")
    onehot = np.eye(2)[np.arange(20) % 2]
    fig = viz.plot_sample_grid(images, onehot, ["zero", "one"], per_class=3)
    assert len(fig.axes) == 6


def test_sample_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images must be"):
        viz.plot_sample_grid(np.zeros((3, 8, 8)), np.zeros(3, int), ["a"])


def test_learning_curves_draw_on_the_given_axes_and_mark_best_epoch():
    fig, ax = plt.subplots()
    out = viz.plot_learning_curves(HISTORY, ax=ax, title="m")
    assert out is ax
    lines = [l for l in ax.get_lines() if len(l.get_xdata()) == 3]
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_title() == "m" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert any("epoch 2" in t.get_text() for t in ax.texts)  # lowest val_loss at epoch 2


def test_learning_curves_unknown_metric_lists_the_known_ones():
    with pytest.raises(KeyError, match="accuracy"):
        viz.plot_learning_curves(HISTORY, metric="auc")


def test_curves_grid_one_panel_per_model_shared_y():
    fig = viz.plot_learning_curves_grid({"a": HISTORY, "b": HISTORY, "c": HISTORY, "d": HISTORY}, ncols=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b", "c", "d"]
    assert visible[0].get_shared_y_axes().joined(visible[0], visible[3])


def test_results_vs_article_plots_both_series():
    table = pd.DataFrame({"model": ["x", "y"], "test_accuracy": [0.98, 0.99],
                          "article_test_accuracy": [np.nan, 0.991]})
    ax = viz.plot_results_vs_article(table)
    assert len(ax.collections) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"][::-1] or \
        sorted(t.get_text() for t in ax.get_yticklabels()) == ["x", "y"]
    with pytest.raises(KeyError, match="columns"):
        viz.plot_results_vs_article(table, value="nope")


def test_model_diagram_without_graphviz_prints_notice(monkeypatch, capsys):
    from cnncourse import models

    monkeypatch.setattr(viz, "graphviz_available", lambda: False)
    assert viz.plot_model_diagram(models.build_dense_on_feature_map()) is None
    out = capsys.readouterr().out
    assert "Model diagrams skipped" in out and "dense_on_feature_map" in out
    assert viz.plot_model_diagrams({"a": models.build_dense_on_feature_map()}) is None


@pytest.mark.skipif(not viz.graphviz_available(), reason="Graphviz not installed")
def test_model_diagram_with_graphviz_is_a_png():
    from cnncourse import models

    image = viz.plot_model_diagram(models.build_dense_on_feature_map())
    assert image.data[:4] == b"\x89PNG"


@pytest.mark.skipif(not viz.graphviz_available(), reason="Graphviz not installed")
def test_model_diagrams_tile_one_titled_panel_per_model():
    from cnncourse import models

    fig = viz.plot_model_diagrams({"pitfall": models.build_dense_on_feature_map(),
                                   "simple": models.build_simple_convnet()}, ncols=2)
    titled = [ax.get_title() for ax in fig.axes if ax.images]
    assert titled == ["pitfall", "simple"]


def test_metric_by_model_one_line_per_model():
    ax = viz.plot_metric_by_model({"a": HISTORY, "b": HISTORY}, metric="val_accuracy")
    assert [l.get_label() for l in ax.get_lines()] == ["a", "b"]
    with pytest.raises(KeyError, match="no 'auc'"):
        viz.plot_metric_by_model({"a": HISTORY}, metric="auc")


def test_embedding_grid_rows_models_columns_epochs_one_legend():
    rng = np.random.default_rng(0)
    labels = np.arange(20) % 10
    emb = {e: rng.normal(size=(20, 2)) for e in range(3)}
    fig = viz.plot_embedding_grid({"A": emb, "B": emb}, labels, [str(i) for i in range(10)], epochs=[0, 2])
    axes = [ax for ax in fig.axes if ax.collections]
    assert len(axes) == 4
    assert axes[0].get_title() == "epoch 0" and axes[1].get_title() == "epoch 2"
    assert axes[0].get_ylabel() == "A" and axes[2].get_ylabel() == "B"
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 10
    with pytest.raises(KeyError, match=r"no embedding for epochs \[5\]"):
        viz.plot_embedding_grid({"A": emb}, labels, list("0123456789"), epochs=[5])


def test_embedding_animation_is_a_gif_with_one_frame_per_epoch(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    emb = {e: rng.normal(size=(15, 2)) for e in range(4)}
    path = viz.save_embedding_animation(emb, np.arange(15) % 3, tmp_path / "a" / "anim.gif", title="m")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
