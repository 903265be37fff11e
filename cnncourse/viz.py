"""Plots of data and results: sample images, learning curves, results beside the articles',
tables, the confusion matrix, model diagrams and the per-epoch embeddings.  Plots of what is
*inside* a trained network (kernels, feature maps, Grad-CAM, weight maps) are in
:mod:`cnncourse.viz_network`.

Single-panel helpers take ``ax=None`` and return the Axes they drew on; grid helpers take
``fig=None`` and return the Figure.  None of them calls ``plt.show()``, writes a file
(except :func:`save_embedding_animation`, which is asked to) or changes global matplotlib
settings.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, ScalarFormatter
import numpy as np
import pandas as pd

from . import arguments

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
ARTICLE_COLOR = "#7f7f7f"


def _new_ax(ax, figsize=(5, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _finish_axes(ax, xlabel: str, ylabel: str, title: str | None, *, grid: str = "both", handles=None):
    """Axis labels, a light grid, the legend (of ``handles`` when given) and the optional title:
    the end of every line/bar plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis=grid, alpha=0.3)
    ax.legend(handles=handles, fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- mistakes
def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str], *, ax=None, mistakes_only: bool = True,
                          title: str | None = None):
    """A heatmap (seaborn) of how often each true class (rows) was predicted as each class (columns),
    counts written in the cells.  ``mistakes_only`` leaves the diagonal (the correct answers, which
    would swamp the colour scale) blank, so the colours rank the confusions.  Returns the Axes."""
    import seaborn as sns
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D label arrays of one length, got {y_true.shape} "
                         f"and {y_pred.shape}")
    k = len(class_names)
    counts = confusion_matrix(y_true, y_pred, labels=np.arange(k))
    ax = _new_ax(ax, figsize=(0.55 * k + 1.5, 0.5 * k + 0.8))
    mask = np.eye(k, dtype=bool) if mistakes_only else None
    sns.heatmap(counts, mask=mask, annot=True, fmt="d", cmap="Reds", cbar=False, square=True, linewidths=0.5,
                linecolor="#dddddd", xticklabels=class_names, yticklabels=class_names, ax=ax,
                annot_kws={"fontsize": 9})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.tick_params(axis="x", labelrotation=0 if max(map(len, class_names)) <= 2 else 45)
    ax.tick_params(axis="y", labelrotation=0)
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- tables
def compact_table(table: pd.DataFrame, formats: Mapping[str, str] | None = None, *, header_em: float = 6.5,
                  hide_index: bool = True, caption: str | None = None):
    """A pandas Styler that fits a notebook's width: column names with underscores shown as words,
    headers wrapped at about ``header_em`` characters' width, numbers right-aligned, empty
    cells blank, the index hidden.  ``formats``: {column (original name): format string}.
    Display it (it is the cell's last expression, or ``display(...)``)."""
    formats = dict(formats or {})
    unknown = set(formats) - set(table.columns)
    if unknown:
        raise KeyError(f"formats for unknown columns {sorted(unknown)}; columns: {list(table.columns)}")
    shown = table.rename(columns=lambda c: str(c).replace("_", " "))
    styler = shown.style.format({str(c).replace("_", " "): f for c, f in formats.items()}, na_rep="")
    styler = styler.set_table_styles([
        {"selector": "th.col_heading", "props": f"white-space: normal; max-width: {header_em}em; "
                                                "vertical-align: bottom; text-align: right;"},
        {"selector": "td", "props": "white-space: nowrap; text-align: right;"},
    ])
    text = [c for c in shown.columns if not pd.api.types.is_numeric_dtype(shown[c])]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    if hide_index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler


# ----------------------------------------------------------------------------- images
def plot_sample_grid(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    per_class: int = 8,
    seed: int = 0,
    fig=None,
):
    """A grid of sample images: one row per class, its name on the left.

    images : array, shape (N, H, W, C) with C in {1, 3}, values in [0, 1]
    labels : int array, shape (N,), or one-hot array, shape (N, num_classes)
    Returns the Figure.
    """
    arguments.count("per_class", per_class)
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] != labels.shape[0]:
        raise ValueError(f"images must be (N, H, W, 1 or 3) with N labels; got {images.shape} and {labels.shape}")
    rng = np.random.default_rng(seed)
    n_classes = len(class_names)
    if fig is None:
        fig = plt.figure(figsize=(per_class * 0.9 + 1.2, n_classes * 0.9), layout="constrained")
    axes = fig.subplots(n_classes, per_class, squeeze=False)
    for c, row in enumerate(axes):
        idx = np.flatnonzero(labels == c)
        chosen = rng.choice(idx, size=min(per_class, idx.size), replace=False) if idx.size else []
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(chosen):
                img = images[chosen[j]]
                if img.shape[-1] == 1:
                    ax.imshow(img[..., 0], cmap="gray_r", vmin=0, vmax=1)
                else:
                    ax.imshow(np.clip(img, 0, 1))
        row[0].set_ylabel(class_names[c], rotation=0, ha="right", va="center", fontsize=10)
    return fig


def plot_soft_label_images(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    ncols: int = 8,
    min_share: float = 0.05,
    fig=None,
):
    """Images with their (possibly soft) labels written under them, e.g. "cat 0.83 / ship 0.17".

    images : (N, H, W, C) in [0, 1];  labels : (N, classes), each row summing to 1
    Classes with less than ``min_share`` of a label are left out of its caption.
    Returns the Figure.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or labels.ndim != 2 or len(images) != len(labels):
        raise ValueError(f"need images (N, H, W, C) and labels (N, classes); got {images.shape} and {labels.shape}")
    n = len(images)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if fig is None:
        fig = plt.figure(figsize=(1.6 * ncols, 1.9 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, image, label in zip(axes, images, labels):
        ax.imshow(np.clip(image.squeeze(), 0, 1), cmap="gray" if image.shape[-1] == 1 else None)
        order = np.argsort(-label)
        parts = [f"{class_names[i]} {label[i]:.2f}" for i in order if label[i] >= min_share][:2]
        ax.set_title("\n".join(parts), fontsize=8)
    for ax in axes:
        ax.set_axis_off()
    return fig


# ----------------------------------------------------------------------------- curves
def plot_learning_curves(
    history: Mapping[str, Sequence[float]],
    *,
    metric: str = "loss",
    ax=None,
    title: str | None = None,
    mark_best: bool = True,
):
    """Training and validation ``metric`` per epoch (epochs counted from 1).

    history : Keras' ``History.history`` dict, e.g. {'loss': [...], 'val_loss': [...]}
    mark_best : mark the epoch of the best validation value (lowest loss, highest accuracy).
    Returns the Axes.
    """
    if metric not in history:
        raise KeyError(f"history has no {metric!r}; it has {sorted(history)}")
    ax = _new_ax(ax)
    train = np.asarray(history[metric], dtype=float)
    epochs = np.arange(1, train.size + 1)
    ax.plot(epochs, train, "o-", color=TRAIN_COLOR, ms=3, label=f"train {metric}")
    val = history.get(f"val_{metric}")
    if val is not None:
        val = np.asarray(val, dtype=float)
        ax.plot(epochs, val, "o-", color=VAL_COLOR, ms=3, label=f"validation {metric}")
        if mark_best and val.size:
            best = int(np.argmin(val) if "loss" in metric else np.argmax(val))
            ax.axvline(best + 1, color=VAL_COLOR, ls=":", lw=1)
            below = "loss" not in metric  # accuracy peaks sit near the top: write below them
            late = best + 1 > (val.size + 1) / 2   # in the right half: write to the left, inside the panel
            ax.annotate(f"best val: epoch {best + 1}", (best + 1, val[best]),
                        xytext=(-4 if late else 4, -12 if below else 8), textcoords="offset points",
                        ha="right" if late else "left", fontsize=9, color=VAL_COLOR,
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True, min_n_ticks=1))   # readable in a 3.5-in panel
    ax.set_xlim(0.5, train.size + 0.5)
    return _finish_axes(ax, "epoch", metric, title)


def _log_minor_label(value: float, _pos=None) -> str:
    """Label a log axis' minor ticks at 2x and 5x a power of ten only (the rest would crowd)."""
    if value <= 0:
        return ""
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
    return f"{value:g}" if mantissa in (2, 5) else ""


def plot_learning_curves_grid(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    metric: str = "loss",
    ncols: int = 3,
    sharey: bool = True,
    log_y: bool = False,
    fig=None,
):
    """Small multiples: one panel of train/validation ``metric`` per model, on shared axes.

    histories : {model name: Keras history dict}
    log_y : a logarithmic y axis (shows a small rise of a low validation loss beside a
        training loss that falls by orders of magnitude)
    Returns the Figure.
    """
    n = len(histories)
    if n == 0:
        raise ValueError("histories is empty")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if fig is None:
        fig = plt.figure(figsize=(3.5 * ncols, 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=sharey, squeeze=False).ravel()
    for ax, (name, hist) in zip(axes, histories.items()):
        plot_learning_curves(hist, metric=metric, ax=ax, title=name)
        if log_y:
            ax.set_yscale("log")
            ax.set_ylabel(f"{metric} (log scale)")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(_log_minor_label))
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig


def plot_metric_by_model(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    metric: str = "val_accuracy",
    ax=None,
    title: str | None = None,
):
    """One ``metric`` per epoch for several models, overlaid on one Axes (one line per model).

    histories : {model name: Keras history dict}.  Returns the Axes.
    """
    if not histories:
        raise ValueError("histories is empty")
    ax = _new_ax(ax, figsize=(6, 3.5))
    for name, hist in histories.items():
        if metric not in hist:
            raise KeyError(f"history of {name!r} has no {metric!r}; it has {sorted(hist)}")
        values = np.asarray(hist[metric], dtype=float)
        ax.plot(np.arange(1, values.size + 1), values, "o-", ms=2.5, label=str(name))
    return _finish_axes(ax, "epoch", metric.replace("_", " "), title)


def plot_train_val_by_model(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    metric: str = "accuracy",
    ax=None,
    title: str | None = None,
):
    """Training (dashed) and validation (solid) ``metric`` of several models on one Axes,
    one colour per model, so their curves share the same axes.

    histories : {model name: Keras history dict with ``metric`` and ``val_<metric>``}.
    Returns the Axes.
    """
    from matplotlib.lines import Line2D

    if not histories:
        raise ValueError("histories is empty")
    ax = _new_ax(ax, figsize=(6, 3.8))
    colours = plt.get_cmap("tab10")
    handles = []
    for i, (name, hist) in enumerate(histories.items()):
        for key in (metric, f"val_{metric}"):
            if key not in hist:
                raise KeyError(f"history of {name!r} has no {key!r}; it has {sorted(hist)}")
        train = np.asarray(hist[metric], dtype=float)
        val = np.asarray(hist[f"val_{metric}"], dtype=float)
        epochs = np.arange(1, train.size + 1)
        ax.plot(epochs, train, "--", color=colours(i), lw=1.2)
        ax.plot(epochs, val, "o-", color=colours(i), ms=2.5, lw=1.6)
        handles.append(Line2D([], [], color=colours(i), lw=2, label=str(name)))
    handles += [Line2D([], [], color="gray", ls="--", label="train"),
                Line2D([], [], color="gray", marker="o", ms=3, label="validation")]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish_axes(ax, "epoch", metric.replace("_", " "), title, handles=handles)


#: axis labels of the scores :func:`cnncourse.embedding.separability_by_epoch` computes
SCORE_LABELS = {"knn_accuracy": "k-NN accuracy", "silhouette": "silhouette"}


def plot_scores_by_epoch(
    table: pd.DataFrame,
    *,
    score: str,
    label: str = "model",
    ax=None,
    title: str | None = None,
    chance: float | None = None,
):
    """One line per ``label`` of a per-epoch ``score`` from a long table (columns label, 'epoch', score),
    e.g. :func:`cnncourse.embedding.separability_by_epoch`'s.  Where a label has several rows per
    epoch (one per seed), the line is their mean and a shaded band spans their lowest to highest
    value.  ``chance`` draws a dotted reference line.  Returns the Axes.
    """
    arguments.columns("table", table, [label, "epoch", score])
    ax = _new_ax(ax, figsize=(6, 3.5))
    repeated = False
    for name, rows in table.groupby(label, sort=False):
        by_epoch = rows.groupby("epoch")[score].agg(["mean", "min", "max", "count"]).sort_index()
        (line,) = ax.plot(by_epoch.index, by_epoch["mean"], "o-", ms=3, label=str(name))
        if by_epoch["count"].max() > 1:
            repeated = True
            ax.fill_between(by_epoch.index, by_epoch["min"], by_epoch["max"], color=line.get_color(),
                            alpha=0.2, lw=0)
    if chance is not None:
        ax.axhline(chance, color="gray", ls=":", lw=1)
        ax.annotate("chance", (ax.get_xlim()[0], chance), xytext=(2, 2), textcoords="offset points",
                    fontsize=8, color="gray")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ylabel = SCORE_LABELS.get(score, score.replace("_", " ")) + (" (mean; band: range over seeds)" if repeated else "")
    return _finish_axes(ax, "epoch (0 = before training)", ylabel, title)


def plot_runs_by_model(
    runs: Mapping[str, Sequence[float]],
    *,
    ax=None,
    xlabel: str = "test accuracy",
    percent: bool = True,
    title: str | None = None,
):
    """The result of every run, one row per model (best mean on top): a dot per run (seed), a bar
    for the mean with a label, so the ranking is shown with its spread.

    runs : {model: one value per seed}, fractions when ``percent``.  Returns the Axes.
    """
    if not runs:
        raise ValueError("runs is empty")
    order = sorted(runs, key=lambda name: np.mean(runs[name]))   # best last = top row
    scale = 100.0 if percent else 1.0
    ax = _new_ax(ax, figsize=(6, 0.6 * len(order) + 1.2))
    for row, name in enumerate(order):
        values = scale * np.asarray(runs[name], dtype=float)
        mean = values.mean()
        ax.plot([mean, mean], [row - 0.3, row + 0.3], color="black", lw=2)
        ax.scatter(values, np.full(values.size, row), s=30, zorder=3, color="C0",
                   label="one run (seed)" if row == 0 else None)
        spread = f" ± {values.std(ddof=1):.1f}" if values.size > 1 and percent else ""
        ax.annotate(f"{mean:.1f}{spread}" if percent else f"{mean:.3g}", (values.max(), row),
                    xytext=(8, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(-0.6, len(order) - 0.4)
    low, high = (scale * min(min(v) for v in runs.values()), scale * max(max(v) for v in runs.values()))
    pad = max(high - low, 0.5 * scale / 100 if percent else 1e-3)
    ax.set_xlim(low - 0.15 * pad, high + 0.45 * pad)   # room for the labels on the right
    ax.plot([], [], color="black", lw=2, label="mean")
    return _finish_axes(ax, xlabel + (" (%)" if percent else ""), "", title, grid="x")


# ----------------------------------------------------------------------------- results vs the article
def plot_results_vs_article(
    table: pd.DataFrame,
    *,
    value: str = "test_accuracy",
    article: str = "article_test_accuracy",
    label: str = "model",
    error: str | None = None,
    bars: bool = False,
    ax=None,
    percent: bool = True,
):
    """The reader's ``value`` beside the article's, one row per row of ``table`` (top to bottom
    in table order): a dot plot, or with ``bars=True`` a pair of horizontal bars per row, the
    reader's labelled with its value.

    table : DataFrame with columns ``label``, ``value`` and ``article`` (NaN where
        the article published no figure)
    error : a column of error-bar half-widths for the reader's values (e.g. a std over seeds)
    Returns the Axes.
    """
    arguments.columns("table", table, [label, value, article, error])
    ax = _new_ax(ax, figsize=(7 if bars else 6, (0.55 if bars else 0.5) * len(table) + 1.2))
    scale = 100.0 if percent else 1.0
    y = np.arange(len(table))[::-1]
    ours = table[value].to_numpy(dtype=float) * scale
    theirs = table[article].to_numpy(dtype=float) * scale
    errors = table[error].to_numpy(dtype=float) * scale if error else None
    xerr = None if errors is None or np.isnan(errors).all() else np.nan_to_num(errors)
    if bars:
        ax.barh(y + 0.2, theirs, height=0.38, color=ARTICLE_COLOR, label="article")
        ax.barh(y - 0.2, ours, height=0.38, color=TRAIN_COLOR, label="your run", xerr=xerr)
        ends = ours + (xerr if xerr is not None else 0)      # write the value past its error bar
        for yi, a, end in zip(y, ours, ends):
            ax.annotate(f"{a:.1f}" if percent else f"{a:.3f}", (end, yi - 0.2), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=9)
    else:
        for yi, a, b in zip(y, ours, theirs):
            if np.isfinite(b):
                ax.plot([a, b], [yi, yi], color="lightgray", lw=2, zorder=1)
        ax.scatter(theirs, y, color=ARTICLE_COLOR, marker="s", s=40, label="article", zorder=2)
        ax.scatter(ours, y, color=TRAIN_COLOR, s=50, label="your run", zorder=3)
        if xerr is not None:
            ax.errorbar(ours, y, xerr=xerr, fmt="none", color=TRAIN_COLOR, capsize=3, zorder=3)
    ax.set_yticks(y, table[label].astype(str))
    return _finish_axes(ax, f"{value.replace('_', ' ')}{' (%)' if percent else ''}", "", None, grid="x")


# ----------------------------------------------------------------------------- accuracy against cost
def plot_accuracy_vs_seconds(
    table: pd.DataFrame,
    *,
    label: str = "run",
    accuracy: str = "test_accuracy",
    seconds: str = "train_s",
    error: str | None = "test_accuracy_se",
    group: str | None = None,
    ax=None,
):
    """Test accuracy against training seconds, one labelled point per row, on a log time axis.

    table   : DataFrame with columns ``label``, ``accuracy`` (fraction) and ``seconds`` (s)
    error   : a column of accuracy standard errors (fractions) drawn as +/- 2 SE bars, or None
    group   : a column whose values colour the points (e.g. "transfer" / "from scratch")
    Returns the Axes.
    """
    arguments.columns("table", table, [label, accuracy, seconds, error, group])
    ax = _new_ax(ax, figsize=(8, 4.8))
    groups = table[group].astype(str) if group else pd.Series(["runs"] * len(table), index=table.index)
    colors = dict(zip(groups.unique(), plt.get_cmap("tab10").colors))
    points = []
    for name, rows in table.groupby(groups, sort=False):
        x, y = rows[seconds].to_numpy(float), 100 * rows[accuracy].to_numpy(float)
        yerr = 200 * rows[error].to_numpy(float) if error else None
        ax.errorbar(x, y, yerr=yerr, fmt="o", ms=7, capsize=3, color=colors[name], label=name)
        points += list(zip(x, y, rows[label].astype(str)))
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.3, y=0.12)
    _finish_axes(ax, "training time on this machine (s, log scale)", "test accuracy (%)",
                 "Accuracy against training time (bars: 2 standard errors)" if error else None)
    ax.set_xticks(_round_ticks(min(p[0] for p in points), max(p[0] for p in points)))
    _place_labels(ax, points)
    return ax


def _round_ticks(low: float, high: float) -> list[float]:
    """A few round numbers (1, 2, 5 x 10^k) spanning [low, high] for a log axis."""
    ticks = [m * 10 ** k for k in range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1)
             for m in (1, 2, 5)]
    inside = [t for t in ticks if low / 1.5 <= t <= high * 1.5]
    return inside or [low, high]


def _place_labels(ax, points, fontsize: int = 9) -> None:
    """Label each (x, y, text) point beside it, trying right/left and above/below so that no two
    labels overlap each other or the axes' edge (greedy, in the order given)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed, frame = [], ax.get_window_extent(renderer)
    offsets = [((6, 3), "left", "bottom"), ((6, -3), "left", "top"), ((-6, 3), "right", "bottom"),
               ((-6, -3), "right", "top"), ((6, 11), "left", "bottom"), ((-6, -11), "right", "top")]
    for x, y, text in points:
        for offset, ha, va in offsets:
            note = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va,
                               fontsize=fontsize)
            box = note.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                break
            note.remove()
        else:
            note = ax.annotate(text, (x, y), xytext=offsets[0][0], textcoords="offset points", fontsize=fontsize)
            box = note.get_window_extent(renderer)
        placed.append(box)


def plot_accuracy_by_input_size(
    sizes: Sequence[int],
    accuracies: Sequence[float],
    zero_fractions: Sequence[float],
    *,
    errors: Sequence[float] | None = None,
    reference: Mapping[str, float] | None = None,
    ax=None,
):
    """Frozen-feature accuracy (left axis) and the share of features that are exactly 0 (right axis)
    against the input size in pixels.

    accuracies, errors : fractions (errors: standard errors, drawn as +/- 2 SE)
    zero_fractions : fractions in [0, 1]
    reference : horizontal lines to compare with, {label: accuracy fraction}
    Returns the Axes (its twin, the zero-fraction axis, is ``ax.right_axis``).
    """
    if not len(sizes) == len(accuracies) == len(zero_fractions):
        raise ValueError("sizes, accuracies and zero_fractions must have the same length")
    ax = _new_ax(ax, figsize=(7.5, 4.8))
    yerr = None if errors is None else 200 * np.asarray(errors, dtype=float)
    ax.errorbar(sizes, 100 * np.asarray(accuracies, dtype=float), yerr=yerr, fmt="o-", ms=7, capsize=3,
                color=TRAIN_COLOR, label="frozen ImageNet features + linear head")
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(100 * value, color=plt.get_cmap("Dark2").colors[i], ls="--", lw=1.2, label=name)
    right = ax.twinx()
    right.plot(sizes, 100 * np.asarray(zero_fractions, dtype=float), "s:", color=ARTICLE_COLOR,
               label="pooled features exactly 0 (right axis)")
    right.set_ylabel("features exactly 0 (%)", color=ARTICLE_COLOR)
    right.set_ylim(0, 100)
    ax.set_xticks(list(sizes))
    ax.right_axis = right
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    _finish_axes(ax, "input size (px): CIFAR-10 images resized before the base", "test accuracy (%)", None)
    ax.legend(handles=handles, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    return ax


# ----------------------------------------------------------------------------- model diagrams
def graphviz_available() -> bool:
    """True when both pydot and Graphviz' ``dot`` program are there (what plot_model needs)."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def _diagram_png(model, *, show_shapes: bool, rankdir: str, dpi: int) -> bytes:
    import tempfile
    from pathlib import Path

    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.png"
        keras.utils.plot_model(model, to_file=str(path), show_shapes=show_shapes,
                               show_layer_names=True, rankdir=rankdir, dpi=dpi)
        return path.read_bytes()


#: fill colours of the compact diagrams, by layer type (anything else: light grey)
LAYER_COLOURS = {
    "InputLayer": "#ffffff", "Conv2D": "#c6dbef", "DepthwiseConv2D": "#c6dbef", "MaxPooling2D": "#c7e9c0",
    "AveragePooling2D": "#c7e9c0", "GlobalAveragePooling2D": "#c7e9c0", "Dense": "#fdd0a2",
    "BatchNormalization": "#dadaeb", "Dropout": "#f0f0f0", "Add": "#fcbba1", "Concatenate": "#fcbba1",
}


def _layer_label(layer) -> str:
    kind = type(layer).__name__
    detail = ""
    if hasattr(layer, "kernel_size") and hasattr(layer, "filters"):
        detail = f" {'×'.join(map(str, layer.kernel_size))}, {layer.filters}"
    elif hasattr(layer, "pool_size") and layer.pool_size is not None:
        detail = f" {'×'.join(map(str, layer.pool_size))}"
    elif hasattr(layer, "units"):
        detail = f" {layer.units}"
    elif hasattr(layer, "rate"):
        detail = f" {layer.rate:g}"
    shape = getattr(layer, "output", None)
    shape = "" if shape is None or isinstance(shape, (list, tuple)) else "×".join(
        "?" if d is None else str(d) for d in shape.shape[1:])
    return f"{layer.name}\n{kind}{detail}" + (f"  → {shape}" if shape else "")


def _compact_diagram_png(model, *, dpi: int) -> bytes:
    return _compact_diagram_dot(model, dpi=dpi).create_png()


def _compact_diagram_dot(model, *, dpi: int):
    """A compact diagram: one rounded box per layer (its name; its type, kernel or units; its output
    shape), coloured by type, arrows from each layer's inputs.  Narrower than ``plot_model``'s."""
    import pydot

    graph = pydot.Dot(graph_type="digraph", rankdir="TB", dpi=dpi, nodesep=0.15, ranksep=0.2)
    graph.set_node_defaults(shape="box", style="rounded,filled", fontname="Helvetica", fontsize=11,
                            margin="0.1,0.03", height=0.3)
    ids = {id(layer): f"n{i}" for i, layer in enumerate(model.layers)}
    for layer in model.layers:
        graph.add_node(pydot.Node(ids[id(layer)], label=_layer_label(layer),
                                  fillcolor=LAYER_COLOURS.get(type(layer).__name__, "#eeeeee")))
    edges = {}   # a layer shared with another model (a stage_submodel) has one inbound node per model
    for layer in model.layers:
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                if id(source) in ids:
                    edges[(ids[id(source)], ids[id(layer)])] = None
    for source, target in edges:
        graph.add_edge(pydot.Edge(source, target, arrowsize=0.6))
    return graph


def _no_graphviz_notice(models) -> None:
    print("Model diagrams skipped: plot_model needs pydot and Graphviz' `dot` "
          "(conda install graphviz, or apt install graphviz). Text summaries instead:")
    for model in models:
        model.summary()


def plot_model_diagram(model, *, show_shapes: bool = True, rankdir: str = "TB", dpi: int = 60):
    """One model's diagram (``keras.utils.plot_model`` with shapes) as an ``IPython.display.Image``.

    A notebook shows it when it is the cell's last expression.  Without
    pydot/Graphviz it prints a one-line notice and the model's text summary
    instead, and returns None.
    """
    if not graphviz_available():
        _no_graphviz_notice([model])
        return None
    from IPython.display import Image

    return Image(data=_diagram_png(model, show_shapes=show_shapes, rankdir=rankdir, dpi=dpi), format="png")


def plot_model_diagrams(models: Mapping[str, object], *, ncols: int = 4, dpi: int = 80, max_width: float = 9.0,
                        fig=None):
    """Several models' compact diagrams (one box per layer: name, type with its kernel, pool size
    or units, output shape; coloured by type), titled by their keys, in one Figure at most
    ``max_width`` inches wide (9 in: the width JupyterLab gives a figure in a 1366-px window).

    Diagrams are packed into rows of at most ``ncols``, as many as fit side by side at their
    natural size or 10% below it (text of 11 pt at ``dpi`` 80 stays above 8 pt on screen); only
    a diagram wider than the page alone is shrunk further.  For a deep model, diagram one stage
    (:func:`cnncourse.models.stage_submodel`) rather than the whole network.

    models : {title: keras.Model}
    Returns the Figure, or None (after a one-line notice and the text summaries) when
    pydot/Graphviz are missing.
    """
    if not models:
        raise ValueError("models is empty")
    if not graphviz_available():
        _no_graphviz_notice(models.values())
        return None
    import io

    images = [plt.imread(io.BytesIO(_compact_diagram_png(m, dpi=dpi)), format="png") for m in models.values()]
    titles = list(models)
    screen_dpi = 100.0                      # a notebook shows a figure at 100 px per inch
    cell_w = max(img.shape[1] for img in images)
    cell_h = max(img.shape[0] for img in images)
    cols = max(1, min(ncols, len(images), int(max_width * screen_dpi // (0.9 * cell_w))))   # shrink <= 10%
    rows = math.ceil(len(images) / cols)
    title_px = 16 * max(t.count("\n") + 1 for t in titles) + 12
    if fig is None:    # every diagram at its natural size (shrunk only if one alone is wider than the page)
        scale = min(1.0, max_width * screen_dpi / (cols * cell_w))
        fig = plt.figure(figsize=(cols * cell_w * scale / screen_dpi,
                                  rows * (cell_h * scale + title_px) / screen_dpi), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, title, img in zip(axes, titles, images):
        h, w = img.shape[:2]
        left = (cell_w - w) / 2
        ax.imshow(img, extent=(left, left + w, h, 0))
        ax.set_xlim(0, cell_w)
        ax.set_ylim(cell_h, 0)
        ax.set_title(title, fontsize=10, fontweight="bold")
    return fig


# ----------------------------------------------------------------------------- embeddings (lesson 04)
def plot_embedding(embedding: np.ndarray, labels: np.ndarray, *, ax=None, title: str | None = None,
                   point_size: float = 4):
    """One 2-D embedding (n, 2), points coloured by class with tab10.  Returns the Axes."""
    ax = _new_ax(ax, figsize=(4, 4))
    ax.scatter(embedding[:, 0], embedding[:, 1], c=np.asarray(labels), cmap="tab10", vmin=-0.5, vmax=9.5,
               s=point_size, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_embedding_grid(
    embeddings: Mapping[str, Mapping[int, np.ndarray]],
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    epochs: Sequence[int] | None = None,
    fig=None,
):
    """Small multiples: one row per model, one column per epoch, one class legend for all.

    embeddings : {model name: {epoch: (n, 2) array}};  labels : (n,) class indices
    epochs : the columns (default: every epoch the first model has)
    Returns the Figure.
    """
    if not embeddings:
        raise ValueError("embeddings is empty")
    first = next(iter(embeddings.values()))
    epochs = list(epochs) if epochs is not None else sorted(first)
    for name, by_epoch in embeddings.items():
        missing = [e for e in epochs if e not in by_epoch]
        if missing:
            raise KeyError(f"{name!r} has no embedding for epochs {missing}; it has {sorted(by_epoch)}")
    rows, cols = len(embeddings), len(epochs)
    if fig is None:
        fig = plt.figure(figsize=(2.1 * cols + 1.6, 2.1 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for r, (name, by_epoch) in enumerate(embeddings.items()):
        for c, epoch in enumerate(epochs):
            plot_embedding(by_epoch[epoch], labels, ax=axes[r, c], title=f"epoch {epoch}" if r == 0 else None,
                           point_size=6)
        axes[r, 0].set_ylabel(name, fontsize=10)
    _class_legend(fig, class_names)
    return fig


def _class_legend(fig, class_names: Sequence[str]):
    from matplotlib.lines import Line2D

    cmap = plt.get_cmap("tab10")
    handles = [Line2D([], [], marker="o", ls="", color=cmap(i), label=n) for i, n in enumerate(class_names)]
    return fig.legend(handles=handles, loc="outside right center", fontsize=8, title="class")


def save_embedding_animation(
    embeddings: Mapping[str, Mapping[int, np.ndarray]],
    labels: np.ndarray,
    path,
    *,
    class_names: Sequence[str] | None = None,
    fps: float = 2.0,
    dpi: int = 90,
):
    """Write an animated GIF (Pillow): one frame per epoch, one panel per model side by side.

    embeddings : {model name: {epoch: (n, 2) array}}, every model with the same epochs
    (pass ``{"name": by_epoch}`` for one model).  Each panel keeps the same axis
    limits in every frame, so points move rather than the frame.  The last frame
    is held three times as long.  Returns the path.
    """
    import io
    from pathlib import Path

    from PIL import Image

    if not embeddings:
        raise ValueError("embeddings is empty")
    epochs = sorted(next(iter(embeddings.values())))
    if not epochs:
        raise ValueError("embeddings is empty")
    for name, by_epoch in embeddings.items():
        if sorted(by_epoch) != epochs:
            raise KeyError(f"{name!r} has epochs {sorted(by_epoch)}, the first model has {epochs}")
    limits = {}
    for name, by_epoch in embeddings.items():
        everything = np.concatenate([by_epoch[e] for e in epochs])
        lo, hi = everything.min(axis=0), everything.max(axis=0)
        centre, half = (lo + hi) / 2, 0.55 * float((hi - lo).max() or 1.0)   # square: equal aspect, no conflict
        limits[name] = (centre - half, centre + half)
    frames = []
    n = len(embeddings)
    for epoch in epochs:
        fig = plt.figure(figsize=(2.8 * n + (1.4 if class_names else 0), 3.1), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False)[0]
        for ax, (name, by_epoch) in zip(axes, embeddings.items()):
            plot_embedding(by_epoch[epoch], labels, ax=ax, title=name, point_size=6)
            (x0, y0), (x1, y1) = limits[name]
            ax.set_aspect("equal", adjustable="box")   # fixed, square limits: the box adapts, not the data
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
        fig.suptitle(f"epoch {epoch}" + (" (before training)" if epoch == 0 else ""), fontsize=11)
        if class_names:
            _class_legend(fig, class_names)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        plt.close(fig)
        frames.append(Image.open(io.BytesIO(buffer.getvalue())).convert("P", palette=Image.ADAPTIVE))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [int(1000 / fps)] * len(frames)
    durations[-1] *= 3
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path
