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
    logged = viz.plot_learning_curves_grid({"a": HISTORY, "b": HISTORY}, log_y=True)
    assert all(ax.get_yscale() == "log" for ax in logged.axes)


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
    assert fig.get_size_inches()[0] <= 9.0 + 1e-6          # fits the notebook's width


@pytest.mark.skipif(not viz.graphviz_available(), reason="Graphviz not installed")
def test_compact_diagram_labels_say_type_kernel_and_shape_with_one_arrow_per_edge():
    from cnncourse import models

    model = models.build_residual_cnn()
    stage = models.stage_submodel(model, "stage2")
    assert [l.name for l in stage.layers][:2] == ["stage2_input", "stage2_conv1"]
    assert viz._layer_label(stage.get_layer("stage2_conv1")) == "stage2_conv1\nConv2D 2×2, 32  → 14×14×32"
    assert viz._layer_label(stage.get_layer("stage2_pool")) == "stage2_pool\nMaxPooling2D 2×2  → 7×7×32"
    assert len(viz._compact_diagram_dot(stage, dpi=40).get_edges()) == 8   # 7 in a chain + the shortcut
    png = viz._compact_diagram_png(stage, dpi=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no layers named stage9_"):
        models.stage_submodel(model, "stage9")


def test_compact_table_wraps_headers_formats_and_hides_the_index():
    table = pd.DataFrame({"model": ["a", "b"], "test_accuracy": [0.5, np.nan], "params": [1234, 5]})
    html = viz.compact_table(table, {"test_accuracy": "{:.1%}", "params": "{:,}"}).to_html()
    assert "test accuracy" in html and "test_accuracy" not in html
    assert "50.0%" in html and "1,234" in html and "nan" not in html.lower()
    assert "white-space: normal" in html and "max-width: 6.5em" in html
    with pytest.raises(KeyError, match="unknown columns \\['nope'\\]"):
        viz.compact_table(table, {"nope": "{:.1f}"})


def test_confusion_matrix_counts_mistakes_and_leaves_the_diagonal_blank():
    ax = viz.plot_confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 2, 2, 2], ["a", "b", "c"])
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0", "0", "0", "0", "1", "2"]        # six off-diagonal cells: a->b once, b->c twice
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    with pytest.raises(ValueError, match="one length"):
        viz.plot_confusion_matrix([0, 1], [0], ["a", "b"])


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


def test_embedding_animation_is_a_gif_with_one_frame_per_epoch(tmp_path, caplog):
    from PIL import Image

    rng = np.random.default_rng(0)
    emb = {e: rng.normal(size=(15, 2)) * [3.0, 1.0] for e in range(4)}   # wider than tall
    path = viz.save_embedding_animation({"m": emb, "n": emb}, np.arange(15) % 3, tmp_path / "a" / "anim.gif",
                                        class_names=["a", "b", "c"])
    assert "Ignoring fixed" not in caplog.text   # matplotlib's complaint about limits vs aspect
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4
        assert gif.size[0] > gif.size[1]  # two panels side by side
    with pytest.raises(KeyError, match="'n' has epochs"):
        viz.save_embedding_animation({"m": emb, "n": {0: emb[0]}}, np.arange(15) % 3, tmp_path / "b.gif")


def test_train_val_by_model_two_lines_per_model():
    hist = {"accuracy": [0.5, 0.7], "val_accuracy": [0.45, 0.6]}
    ax = viz.plot_train_val_by_model({"A": hist, "B": hist})
    assert len(ax.get_lines()) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B", "train", "validation"]
    with pytest.raises(KeyError, match="has no 'val_loss'"):
        viz.plot_train_val_by_model({"A": {"loss": [1.0]}}, metric="loss")


def test_scores_by_epoch_one_line_per_model_and_chance():
    table = pd.DataFrame({"model": ["A", "A", "B", "B"], "epoch": [0, 1, 0, 1], "knn_accuracy": [0.2, 0.8, 0.3, 0.9]})
    ax = viz.plot_scores_by_epoch(table, score="knn_accuracy", chance=0.1)
    assert len(ax.get_lines()) == 3
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.3, 0.9])
    with pytest.raises(KeyError, match="no column 'silhouette'"):
        viz.plot_scores_by_epoch(table, score="silhouette")


def test_scores_by_epoch_with_seeds_draws_the_mean_and_a_band():
    table = pd.DataFrame({"model": ["A"] * 4, "epoch": [0, 1, 0, 1], "seed": [1, 1, 2, 2],
                          "knn_accuracy": [0.2, 0.8, 0.4, 0.6]})
    ax = viz.plot_scores_by_epoch(table, score="knn_accuracy")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.3, 0.7])
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.2) and ys.max() == pytest.approx(0.8)
    assert "range over seeds" in ax.get_ylabel()


def test_runs_by_model_one_dot_per_run_best_on_top():
    runs = {"low": [0.80, 0.82], "high": [0.90, 0.88]}
    ax = viz.plot_runs_by_model(runs)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["low", "high"]   # the top row is the last
    dots = np.concatenate([c.get_offsets() for c in ax.collections])
    assert sorted(dots[:, 0].round(1)) == [80.0, 82.0, 88.0, 90.0]
    labels = [t.get_text() for t in ax.texts]
    assert "89.0 ± 1.4" in labels and "81.0 ± 1.4" in labels
    with pytest.raises(ValueError, match="empty"):
        viz.plot_runs_by_model({})


def test_soft_label_images_caption_the_two_largest_shares():
    images = np.zeros((3, 8, 8, 3))
    labels = np.array([[1.0, 0, 0], [0.7, 0.3, 0], [0.02, 0.5, 0.48]])
    fig = viz.plot_soft_label_images(images, labels, ["cat", "dog", "ship"], ncols=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["cat 1.00", "cat 0.70\ndog 0.30", "dog 0.50\nship 0.48"]
    with pytest.raises(ValueError, match="need images"):
        viz.plot_soft_label_images(images[0], labels, ["a", "b", "c"])


def test_results_vs_article_as_bars_draws_ours_and_the_articles():
    table = pd.DataFrame({"configuration": ["base", "+aug"], "ours": [0.5, 0.6], "theirs": [0.73, 0.86]})
    ax = viz.plot_results_vs_article(table, value="ours", article="theirs", label="configuration", bars=True)
    widths = sorted(round(p.get_width(), 1) for p in ax.patches)
    assert widths == [50.0, 60.0, 73.0, 86.0]
    at = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]))
    assert at == {1: "base", 0: "+aug"}   # the table's first row on top
    with pytest.raises(KeyError, match="no column 'sd'"):
        viz.plot_results_vs_article(table, value="ours", article="theirs", label="configuration", error="sd")


def test_accuracy_vs_seconds_one_labelled_point_per_run_on_a_log_axis():
    table = pd.DataFrame({"run": ["scratch", "frozen 96 px", "fine-tuned"], "kind": ["scratch", "transfer", "transfer"],
                          "test_accuracy": [0.5, 0.66, 0.68], "train_s": [60.0, 30.0, 90.0],
                          "test_accuracy_se": [0.007, 0.0067, 0.0066]})
    ax = viz.plot_accuracy_vs_seconds(table, group="kind")
    assert ax.get_xscale() == "log"
    assert sorted(t.get_text() for t in ax.texts) == sorted(table.run)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["scratch", "transfer"]
    ys = np.concatenate([line.get_ydata() for line in ax.lines if len(line.get_ydata()) and line.get_marker() == "o"])
    np.testing.assert_allclose(sorted(ys), [50, 66, 68])
    with pytest.raises(KeyError, match="train_s"):
        viz.plot_accuracy_vs_seconds(table.drop(columns="train_s"))


def test_accuracy_by_input_size_draws_both_axes():
    ax = viz.plot_accuracy_by_input_size([32, 64, 96], [0.27, 0.61, 0.66], [0.97, 0.6, 0.34],
                                         errors=[0.006] * 3, reference={"article": 0.3})
    np.testing.assert_allclose(ax.right_axis.lines[0].get_ydata(), [97, 60, 34])
    assert list(ax.get_xticks()) == [32, 64, 96]
    assert any(line.get_linestyle() == "--" for line in ax.lines)     # the reference line
    with pytest.raises(ValueError, match="same length"):
        viz.plot_accuracy_by_input_size([32, 64], [0.3], [0.9, 0.5])
