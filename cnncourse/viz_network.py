"""Plots of what is inside a network: kernels, filter tiles, feature maps,
misclassified galleries, Grad-CAM overlays, and MLP weight maps.

Plots of data and results (curves, tables, diagrams, embeddings) are in :mod:`cnncourse.viz`.
As there: single panels take ``ax=None`` and return the Axes,
grids take ``fig=None`` and return the Figure; nothing is shown or saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .viz import _finish_axes

TRUE_COLOR = "#1f4e9c"   # blue: the true label
PRED_COLOR = "#c0392b"   # red: the (wrong) prediction
DIVERGING = "RdBu_r"     # red high, blue low, white at zero


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# ----------------------------------------------------------------------------- arrays
def tile_grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of a near-square tiling of ``n`` tiles: width floor(sqrt(n)), height ceil(n / width)."""
    if n < 1:
        raise ValueError(f"need at least one tile, got {n}")
    width = int(math.floor(math.sqrt(n)))
    return math.ceil(n / width), width


def tile_images(tiles: np.ndarray, *, pad: int = 1, pad_value: float = 0) -> np.ndarray:
    """Lay ``tiles`` (n, h, w) or (n, h, w, c) out as one image, ``tile_grid_shape(n)`` tiles,
    row by row, ``pad`` pixels between them.  Returns (rows*(h+pad)-pad, cols*(w+pad)-pad[, c]).
    """
    tiles = np.asarray(tiles)
    if tiles.ndim not in (3, 4):
        raise ValueError(f"tiles must be (n, h, w) or (n, h, w, c); got {tiles.shape}")
    n, h, w = tiles.shape[:3]
    rows, cols = tile_grid_shape(n)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad) + tiles.shape[3:], pad_value, tiles.dtype)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tile
    return out


def scale_to_uint8(array: np.ndarray) -> np.ndarray:
    """Rescale an array to 0-255 uint8 as ``keras.utils.array_to_img`` does: subtract the
    minimum, divide by the (new) maximum, multiply by 255."""
    x = np.asarray(array, dtype=np.float64)
    x = x - x.min()
    if x.max() > 0:
        x = x / x.max()
    return np.round(x * 255).astype(np.uint8)


# ----------------------------------------------------------------------------- lesson 02
def _diverging_image_grid(images, *, ncols, fig, panel_size, panel_titles=None, title=None):
    """Images (n, h, w) in a grid on one diverging scale centred on zero, with one colour bar."""
    n = len(images)
    rows, cols = _grid(n, ncols)
    if fig is None:
        fig = plt.figure(figsize=(panel_size[0] * cols + 1.0, panel_size[1] * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    vmax = float(np.abs(images).max()) or 1.0
    for i, ax in enumerate(axes):
        _bare(ax)
        if i < n:
            im = ax.imshow(images[i], cmap=DIVERGING, vmin=-vmax, vmax=vmax)
            if panel_titles is not None:
                ax.set_title(panel_titles[i], fontsize=9)
        else:
            ax.set_visible(False)
    fig.colorbar(im, ax=axes.tolist(), shrink=0.8, label="weight")
    if title:
        fig.suptitle(title)
    return fig


def plot_kernels(kernels: np.ndarray, *, ncols: int = 8, fig=None, title: str | None = None):
    """Single-channel conv kernels as heatmaps on one diverging scale centred on zero.

    kernels : (kh, kw, 1, n) or (kh, kw, n), as ``layer.kernel`` stores them
    Returns the Figure (red = positive weight, blue = negative, one colour bar).
    """
    k = np.asarray(kernels)
    if k.ndim == 4:
        if k.shape[2] != 1:
            raise ValueError(f"plot_kernels draws single-channel kernels; these have {k.shape[2]} channels "
                             f"(use plot_rgb_filters for 3-channel ones)")
        k = k[:, :, 0, :]
    if k.ndim != 3:
        raise ValueError(f"kernels must be (kh, kw, 1, n) or (kh, kw, n); got {np.shape(kernels)}")
    n = k.shape[-1]
    return _diverging_image_grid(np.moveaxis(k, -1, 0), ncols=ncols, fig=fig, panel_size=(1.15, 1.3),
                                 panel_titles=[f"filter {i}" for i in range(n)], title=title)


def plot_rgb_filters(kernels: np.ndarray, *, ax=None, title: str | None = None):
    """3-channel first-layer filters as RGB tiles, each rescaled to 0-255 on its own
    (as ``array_to_img`` does), tiled width floor(sqrt(n)) by height ceil(n / width).

    kernels : (kh, kw, 3, n).  Returns the Axes.
    """
    k = np.asarray(kernels)
    if k.ndim != 4 or k.shape[2] != 3:
        raise ValueError(f"kernels must be (kh, kw, 3, n); got {k.shape}")
    tiles = np.stack([scale_to_uint8(k[..., i]) for i in range(k.shape[-1])])
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4), layout="constrained")
    ax.imshow(tile_images(tiles, pad=1, pad_value=255), interpolation="nearest")
    _bare(ax)
    rows, cols = tile_grid_shape(k.shape[-1])
    ax.set_xlabel(f"{k.shape[-1]} filters of {k.shape[0]}x{k.shape[1]}x3, {rows} rows x {cols} columns")
    if title:
        ax.set_title(title)
    return ax


def plot_feature_maps(
    images: np.ndarray,
    maps: np.ndarray,
    row_titles: Sequence[str] | None = None,
    *,
    vmax: float | None = None,
    maps_per_row: int = 8,
    fig=None,
):
    """Input images, each beside the feature maps a conv layer computed from it.

    images : (R, H, W, C) in [0, 1], one per block;  maps : (R, H', W', n)
    row_titles : one label per image (e.g. "0 read as 8 (93%)"), written above it
    vmax : top of the colour scale, shared by every map (default: the largest activation shown)
    maps_per_row : maps side by side; an image's n maps take ceil(n / maps_per_row) rows, the
        input spanning them (8 keeps every label legible at the width JupyterLab shows)
    Returns the Figure: one block per image, one colour bar.
    """
    images, maps = np.asarray(images), np.asarray(maps)
    if maps.ndim != 4 or images.ndim != 4 or len(images) != len(maps):
        raise ValueError(f"need images (R, H, W, C) and maps (R, H', W', n) with the same R; "
                         f"got {images.shape} and {maps.shape}")
    blocks, n = len(maps), maps.shape[-1]
    per_row = min(maps_per_row, n)
    sub = -(-n // per_row)                                   # rows of maps per image
    if fig is None:
        fig = plt.figure(figsize=(1.05 * (per_row + 1.3) + 1.0, (1.05 * sub + 0.35) * blocks + 0.4),
                         layout="constrained")
    grid = fig.add_gridspec(blocks * sub, per_row + 1, width_ratios=[1.3] + [1] * per_row)
    vmax = float(maps.max()) if vmax is None else vmax
    map_axes = []
    for r in range(blocks):
        ax_in = fig.add_subplot(grid[r * sub:(r + 1) * sub, 0])
        img = images[r][..., 0] if images.shape[-1] == 1 else images[r]
        ax_in.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax_in.set_title(row_titles[r] if row_titles is not None else "input", fontsize=10)
        _bare(ax_in)
        for i in range(n):
            ax = fig.add_subplot(grid[r * sub + i // per_row, 1 + i % per_row])
            im = ax.imshow(maps[r, ..., i], cmap="viridis", vmin=0, vmax=vmax or 1.0)
            if r == 0:
                ax.set_title(f"map {i}", fontsize=9)
            _bare(ax)
            map_axes.append(ax)
    fig.colorbar(im, ax=map_axes, shrink=0.9, pad=0.01, label="activation")
    return fig


def plot_image_gallery(
    images: np.ndarray,
    y_true: Sequence[int],
    y_pred: Sequence[int],
    class_names: Sequence[str],
    *,
    confidence: Sequence[float] | None = None,
    ncols: int = 8,
    fig=None,
):
    """Images titled with their true label (blue) and predicted label (red, with its probability).

    images : (N, H, W, C) in [0, 1]; y_true, y_pred : (N,) class indices
    Returns the Figure.
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    rows, cols = _grid(n, ncols)
    if fig is None:
        fig = plt.figure(figsize=(1.3 * cols, 1.75 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        _bare(ax)
        if i >= n:
            ax.set_visible(False)
            continue
        img = images[i]
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray_r", vmin=0, vmax=1)
        pred = class_names[y_pred[i]] + (f" ({confidence[i]:.0%})" if confidence is not None else "")
        ax.set_title(f"true {class_names[y_true[i]]}", color=TRUE_COLOR, fontsize=9, pad=12)
        ax.text(0.5, 1.01, f"pred {pred}", color=PRED_COLOR, fontsize=9, ha="center", va="bottom",
                transform=ax.transAxes)
    return fig


def plot_gradcam(
    images: np.ndarray,
    heatmaps: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    alpha: float = 0.5,
    per_row: int = 3,
    fig=None,
):
    """Each image beside the same image with its Grad-CAM heatmap laid over it.

    images : (N, H, W, C) in [0, 1]; heatmaps : (N, H, W) in [0, 1]
    per_row : image pairs side by side
    Returns the Figure: pairs of panels, ``per_row`` pairs a row, one colour bar.
    """
    images, heatmaps = np.asarray(images), np.asarray(heatmaps)
    if images.shape[:3] != heatmaps.shape:
        raise ValueError(f"heatmaps {heatmaps.shape} must match images {images.shape[:3]}")
    n = len(images)
    rows, pairs = _grid(n, per_row)
    if fig is None:
        fig = plt.figure(figsize=(3.2 * pairs + 0.8, 1.85 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, 2 * pairs, squeeze=False)
    for i in range(rows * pairs):
        ax_img, ax_cam = axes[i // pairs, 2 * (i % pairs)], axes[i // pairs, 2 * (i % pairs) + 1]
        _bare(ax_img)
        _bare(ax_cam)
        if i >= n:
            ax_img.set_visible(False)
            ax_cam.set_visible(False)
            continue
        img = images[i][..., 0] if images.shape[-1] == 1 else images[i]
        ax_img.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax_cam.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        im = ax_cam.imshow(heatmaps[i], cmap="jet", alpha=alpha, vmin=0, vmax=1)
        if titles is not None:
            ax_img.set_title(titles[i], fontsize=9)
        ax_cam.set_title("Grad-CAM", fontsize=9)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="evidence (relative)")
    return fig


# ----------------------------------------------------------------------------- lesson 03
def plot_weight_map(weights: np.ndarray, *, ax=None, vmax: float | None = None, title: str | None = None):
    """|W| of a dense layer as a heatmap: one row per input feature, one column per hidden unit.

    weights : (n_inputs, n_units), as ``Dense.kernel`` stores them
    vmax : top of the colour scale; pass the same value to compare several maps
    Returns the Axes.
    """
    w = np.abs(np.asarray(weights))
    if w.ndim != 2:
        raise ValueError(f"weights must be (n_inputs, n_units); got {w.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.8), layout="constrained")
    im = ax.imshow(w, cmap="magma_r", vmin=0, vmax=vmax if vmax is not None else w.max(), aspect="auto")
    ax.set_yticks(range(w.shape[0]))
    ax.set_xlabel("hidden unit")
    ax.set_ylabel("input feature")
    ax.figure.colorbar(im, ax=ax, label="|weight|", pad=0.01)
    if title:
        ax.set_title(title)
    return ax


def plot_mean_abs_weight(
    weights: np.ndarray,
    *,
    signal: Sequence[int] = (),
    ax=None,
    ymax: float | None = None,
    title: str | None = None,
):
    """Mean |weight| of each input feature over its outgoing weights, as bars; ``signal``
    features drawn in a stronger colour.  weights : (n_inputs, n_units).  Returns the Axes."""
    w = np.abs(np.asarray(weights))
    means = w.mean(axis=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.2), layout="constrained")
    colors = ["#d62728" if i in set(signal) else "#9e9e9e" for i in range(len(means))]
    ax.bar(range(len(means)), means, color=colors)
    ax.set_xticks(range(len(means)))
    ax.set_xlabel("input feature")
    ax.set_ylabel("mean |weight|")
    if ymax is not None:
        ax.set_ylim(0, ymax)
    if title:
        ax.set_title(title)
    return ax


def plot_weight_histograms(
    weights: Mapping[str, np.ndarray],
    *,
    bins: int = 40,
    ax=None,
    title: str | None = None,
):
    """Overlaid histograms of several weight arrays (e.g. {'before': w0, 'after': w1}). Returns the Axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3), layout="constrained")
    values = [np.ravel(v) for v in weights.values()]
    lo = min(v.min() for v in values)
    hi = max(v.max() for v in values)
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else bins
    for (label, _), v in zip(weights.items(), values):
        ax.hist(v, bins=edges, alpha=0.55, label=f"{label} (std {v.std():.3g})")
    return _finish_axes(ax, "weight", "count", title, grid="y")


def plot_unit_weight_images(
    weights: np.ndarray,
    image_shape: tuple[int, int] = (28, 28),
    *,
    ncols: int = 10,
    max_units: int | None = None,
    fig=None,
    title: str | None = None,
):
    """Each hidden unit's first-layer weights drawn as an image (red positive, blue negative).

    weights : (H*W, n_units); one shared colour scale centred on zero.  Returns the Figure.
    """
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[0] != image_shape[0] * image_shape[1]:
        raise ValueError(f"weights must be ({image_shape[0] * image_shape[1]}, n_units); got {w.shape}")
    n = w.shape[1] if max_units is None else min(max_units, w.shape[1])
    images = w[:, :n].T.reshape((n,) + tuple(image_shape))
    return _diverging_image_grid(images, ncols=ncols, fig=fig, panel_size=(1.1, 1.1), title=title)


def plot_weight_map_panels(
    weights: Mapping[str, np.ndarray],
    *,
    signal: Sequence[int] = (),
    ncols: int = 2,
    fig=None,
):
    """For each setting, its |W| map above its mean-|weight|-per-feature bars, all on shared scales.

    weights : {setting name: (n_inputs, n_units) first-layer kernel}
    Returns the Figure (one sub-figure per setting).
    """
    if not weights:
        raise ValueError("weights is empty")
    rows, cols = _grid(len(weights), ncols)
    if fig is None:
        fig = plt.figure(figsize=(6.2 * cols, 4.2 * rows), layout="constrained")
    vmax = max(float(np.abs(w).max()) for w in weights.values())
    ymax = 1.05 * max(float(np.abs(w).mean(axis=1).max()) for w in weights.values())
    subfigs = np.atleast_1d(fig.subfigures(rows, cols, squeeze=False)).ravel()
    for sub, (name, w) in zip(subfigs, weights.items()):
        ax_map, ax_bar = sub.subplots(2, 1, height_ratios=[2, 1])
        plot_weight_map(w, ax=ax_map, vmax=vmax)
        plot_mean_abs_weight(w, signal=signal, ax=ax_bar, ymax=ymax)
        sub.suptitle(name, fontweight="bold")
    for sub in subfigs[len(weights):]:
        sub.set_visible(False)
    return fig
