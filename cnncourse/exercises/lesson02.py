"""Lesson 02's exercises: a feature map's shape by hand (with padding and a stride), the most active
filter of a set of maps, and where a Grad-CAM heatmap is hottest."""

from __future__ import annotations

import numpy as np

from . import Exercise, Incorrect, call_learner


#: the conv layer of exercise 1: the lesson's, with a stride and padding
Q1_LAYER = dict(filters=16, kernel_size=5, strides=2, padding="same")


def _check_q1(maps_shape):
    import keras

    truth = tuple(keras.layers.Conv2D(**Q1_LAYER).compute_output_shape((8, 28, 28, 1)))
    try:
        given = tuple(int(d) for d in maps_shape)
    except (TypeError, ValueError):
        raise Incorrect("maps_shape should be a tuple of numbers: (images, height, width, filters).") from None
    if len(given) == 3:
        raise Incorrect("three numbers: the feature maps of 8 images come with the batch axis first.")
    if len(given) != 4:
        raise Incorrect("give four numbers: (images, height, width, filters).")
    if given[0] != truth[0]:
        raise Incorrect("the first axis counts the images you passed in.")
    if given[3] != truth[3]:
        raise Incorrect("the last axis has one map per filter: padding and strides do not change how many "
                        "filters there are.")
    if given[1:3] == (28, 28):
        raise Incorrect("that would be the size with padding='same' at stride 1; strides=2 moves the kernel "
                        "two pixels at a time, so it keeps only every second position along each axis.")
    if given[1:3] == (24, 24):
        raise Incorrect("that is the size of the lesson's layer, without padding or stride: padding='same' "
                        "keeps the border positions, and strides=2 keeps only every second position.")
    if given[1:3] == (12, 12):
        raise Incorrect("that is every second position of the unpadded 24x24 map; with padding='same' no "
                        "border positions are lost before the stride.")
    if given[1:3] != truth[1:3]:
        raise Incorrect("the height and width are not right: first count the positions with padding='same' "
                        "at stride 1, then keep every second one.")


q1 = Exercise(
    name="q1", lesson="02", variables=("maps_shape",), checker=_check_q1,
    purpose="know what a feature map array holds before drawing it, and how padding and strides set its size",
    expected="one map per image and filter; 'same' padding keeps every position, stride 2 keeps every second one.",
    cost="seconds (no training)",
    hints=("padding='same' adds zeros around the border, so that at stride 1 the map is as large as the "
           "image: 28x28.",
           "strides=2 keeps every second of those positions along each axis: 28 / 2. The number of maps is "
           "still the number of filters."),
    solution_code="import keras\nimport numpy as np\n\n"
                  "maps_shape = (8, 14, 14, 16)    # 8 images; 'same': 28 positions, stride 2 keeps every second: 14; "
                  "16 filters\n\n"
                  "# tried: the layer alone, on 8 blank 28x28 images\n"
                  "layer_model = keras.Sequential([keras.Input(shape=(28, 28, 1)),\n"
                  "                                keras.layers.Conv2D(16, 5, strides=2, padding=\"same\")])\n"
                  "assert layer_model.predict(np.zeros((8, 28, 28, 1)), verbose=0).shape == maps_shape",
)


def _check_q2(strongest_filter):
    rng = np.random.default_rng(7)
    maps = rng.random((5, 6, 7, 4)).astype(np.float32)
    maps[..., 2] += 0.5                          # filter 2 is the most active on average
    maps[0, 0, 0, 1] = 50.0                      # ... while filter 1 has the single largest value
    got = call_learner(strongest_filter, maps)
    try:
        got = int(got)
    except (TypeError, ValueError):
        raise Incorrect(f"strongest_filter should return one filter index (an int); it returned {got!r}.") from None
    if got == 1:
        raise Incorrect("that is the filter with the single largest value; the question is the largest mean "
                        "over all images and positions.")
    if got != 2:
        raise Incorrect("not the filter with the largest mean activation: average over the images, the rows "
                        "and the columns (every axis but the last), then take the largest.")
    maps3 = rng.random((3, 5, 5, 6)).astype(np.float32)
    maps3[..., 4] += 1.0
    if int(call_learner(strongest_filter, maps3)) != 4:
        raise Incorrect("right on one array, wrong on another of another shape: do not assume the numbers of "
                        "images, positions or filters.")


q2 = Exercise(
    name="q2", lesson="02", variables=("strongest_filter",), checker=_check_q2,
    purpose="summarise feature maps with numpy: which filter responds most to a set of digits",
    expected="averaging over every axis but the filters' gives one number per filter.",
    cost="seconds",
    hints=("maps has shape (images, height, width, filters).",
           "maps.mean(axis=(0, 1, 2)) gives one mean per filter; np.argmax picks the largest."),
    solution_code="import numpy as np\n\n"
                  "def strongest_filter(maps):\n"
                  "    return int(np.argmax(maps.mean(axis=(0, 1, 2))))",
)


def _check_q3(hot_spot):
    heat = np.zeros((6, 9), dtype=np.float32)
    heat[1, 7] = 1.0
    heat[4, 2] = 0.5
    got = call_learner(hot_spot, heat)
    if isinstance(got, (int, np.integer)):
        raise Incorrect("that is a position in the flattened heatmap: np.unravel_index turns it into "
                        "(row, column).")
    try:
        got = tuple(int(v) for v in got)
    except (TypeError, ValueError):
        raise Incorrect(f"hot_spot should return (row, column); it returned {got!r}.") from None
    if got == (7, 1):
        raise Incorrect("row and column are swapped: the first axis of an image array is the row (y).")
    if got != (1, 7):
        raise Incorrect("not the position of the largest value.")


q3 = Exercise(
    name="q3", lesson="02", variables=("hot_spot",), checker=_check_q3,
    purpose="read a Grad-CAM heatmap as numbers: where the evidence is strongest",
    expected="the hottest cell of the heatmap, as (row, column) — rows first, as in every image array.",
    cost="seconds",
    hints=("np.argmax(heatmap) gives the position in the flattened array.",
           "np.unravel_index(np.argmax(heatmap), heatmap.shape) gives (row, column)."),
    solution_code="import numpy as np\n\n"
                  "def hot_spot(heatmap):\n"
                  "    row, col = np.unravel_index(np.argmax(heatmap), heatmap.shape)\n"
                  "    return int(row), int(col)",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
