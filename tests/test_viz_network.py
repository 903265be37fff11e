"""Plot helpers for what is inside a network."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnncourse import viz_network as vi


@pytest.mark.parametrize("n, shape", [(30, (6, 5)), (16, (4, 4)), (10, (4, 3)), (1, (1, 1)), (3, (3, 1))])
def test_tile_grid_is_floor_sqrt_wide(n, shape):
    assert vi.tile_grid_shape(n) == shape


def test_tile_images_places_tiles_row_by_row():
    tiles = np.arange(5)[:, None, None] * np.ones((5, 2, 3))
    out = vi.tile_images(tiles, pad=1, pad_value=-1)
    assert out.shape == (3 * 3 - 1, 2 * 4 - 1)  # 5 tiles -> 3 rows x 2 columns
    assert out[0, 0] == 0 and out[0, 4] == 1 and out[3, 0] == 2 and out[6, 0] == 4
    assert out[2, 0] == -1 and out[6, 4] == -1  # padding and the empty sixth place


def test_scale_to_uint8_matches_keras_array_to_img():
    import keras

    x = np.random.default_rng(0).normal(size=(5, 5, 3))
    ours = vi.scale_to_uint8(x)
    theirs = np.asarray(keras.utils.array_to_img(x, scale=True))
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
    assert ours.min() == 0 and ours.max() == 255


def test_plot_kernels_shared_centred_scale_and_colorbar():
    k = np.random.default_rng(0).normal(size=(5, 5, 1, 16))
    fig = vi.plot_kernels(k, ncols=8)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 16
    lo, hi = images[0].get_clim()
    assert lo == -hi == -np.abs(k).max()
    assert all(im.get_clim() == (lo, hi) for im in images)
    assert any(ax.get_ylabel() == "weight" for ax in fig.axes)  # the colour bar
    with pytest.raises(ValueError, match="plot_rgb_filters"):
        vi.plot_kernels(np.zeros((5, 5, 3, 4)))


def test_plot_rgb_filters_tiles_30_filters_6_by_5():
    ax = vi.plot_rgb_filters(np.random.default_rng(0).normal(size=(5, 5, 3, 30)))
    img = ax.images[0].get_array()
    assert img.shape == (6 * 6 - 1, 5 * 6 - 1, 3)
    assert "6 rows x 5 columns" in ax.get_xlabel()


def test_plot_feature_maps_one_block_per_input_with_every_map():
    maps = np.random.default_rng(0).random((2, 24, 24, 16))
    fig = vi.plot_feature_maps(np.zeros((2, 28, 28, 1)), maps, ["a 0", "a 0 read as 8"])
    panels = [ax for ax in fig.get_axes() if ax.images]
    assert len(panels) == 2 * 17
    assert panels[0].get_title() == "a 0" and panels[17].get_title() == "a 0 read as 8"
    assert panels[1].get_title() == "map 0" and panels[16].get_title() == "map 15"
    assert panels[1].images[0].get_clim() == panels[20].images[0].get_clim() == (0, maps.max())
    # 16 maps wrap into two rows of 8, so the figure stays narrow enough for legible labels
    assert fig.get_size_inches()[0] <= 11
    assert min(t.get_fontsize() for ax in panels for t in [ax.title] if t.get_text()) >= 9
    with pytest.raises(ValueError, match="same R"):
        vi.plot_feature_maps(np.zeros((1, 28, 28, 1)), maps)


def test_gallery_titles_true_in_blue_and_pred_in_red():
    fig = vi.plot_image_gallery(np.zeros((3, 8, 8, 1)), [0, 1, 2], [2, 0, 1], list("abc"),
                                confidence=[0.9, 0.8, 0.51])
    ax = fig.axes[0]
    assert ax.get_title() == "true a" and ax.title.get_color() == vi.TRUE_COLOR
    pred = ax.texts[0]
    assert pred.get_text() == "pred c (90%)" and pred.get_color() == vi.PRED_COLOR


def test_gradcam_overlay_checks_shapes():
    fig = vi.plot_gradcam(np.zeros((2, 8, 8, 1)), np.zeros((2, 8, 8)), ["x", "y"])
    assert sum(1 for ax in fig.axes if len(ax.images) == 2) == 2
    with pytest.raises(ValueError, match="must match"):
        vi.plot_gradcam(np.zeros((2, 8, 8, 1)), np.zeros((2, 4, 4)))


def test_weight_map_rows_are_inputs_and_scale_is_shared():
    fig, (a, b) = plt.subplots(1, 2)
    w = np.random.default_rng(0).normal(size=(10, 30))
    vi.plot_weight_map(w, ax=a, vmax=5.0)
    vi.plot_weight_map(w / 10, ax=b, vmax=5.0)
    assert a.images[0].get_array().shape == (10, 30)
    assert a.images[0].get_clim() == b.images[0].get_clim() == (0, 5.0)
    assert a.get_ylabel() == "input feature"


def test_mean_abs_weight_bars_highlight_signal():
    w = np.ones((10, 30))
    w[3] = 3
    ax = vi.plot_mean_abs_weight(w, signal=(3, 6))
    heights = [p.get_height() for p in ax.patches]
    assert heights[3] == 3 and heights[0] == 1
    assert ax.patches[3].get_facecolor() != ax.patches[0].get_facecolor()


def test_histograms_and_unit_images():
    ax = vi.plot_weight_histograms({"before": np.zeros(50), "after": np.ones(50)})
    assert len(ax.get_legend().get_texts()) == 2
    fig = vi.plot_unit_weight_images(np.random.default_rng(0).normal(size=(784, 12)), ncols=6)
    assert sum(1 for ax in fig.axes if ax.images) == 12
    with pytest.raises(ValueError, match=r"\(784, n_units\)"):
        vi.plot_unit_weight_images(np.zeros((100, 3)))


def test_weight_map_panels_share_scales_across_settings():
    rng = np.random.default_rng(0)
    weights = {"none": rng.normal(size=(10, 30)), "L1": rng.normal(size=(10, 30)) / 10, "L2": np.zeros((10, 30))}
    fig = vi.plot_weight_map_panels(weights, signal=(3, 6))
    maps = [ax for ax in fig.get_axes() if ax.images]
    assert len(maps) == 3
    assert len({ax.images[0].get_clim() for ax in maps}) == 1
    bars = [ax for ax in fig.get_axes() if ax.patches]
    assert len({ax.get_ylim() for ax in bars}) == 1
