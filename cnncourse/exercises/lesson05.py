"""Lesson 05's exercises: a colour augmentation pipeline that keeps pixels in [0, 1], what each row of
the ablation table does to the train-test gap, and the loss on a mixup label."""

from __future__ import annotations

import numpy as np

from . import Exercise, Incorrect, call_learner


def _check_q1(build_my_augmenter):
    import keras

    augmenter = call_learner(build_my_augmenter)
    if not isinstance(augmenter, keras.Model):
        raise Incorrect(f"build_my_augmenter() should return a keras.Sequential of layers; it returned a "
                        f"{type(augmenter).__name__}.")
    kinds = {type(layer).__name__: layer for layer in augmenter.layers}
    flip = kinds.get("RandomFlip")
    if flip is None:
        raise Incorrect("there is no RandomFlip: keep the lesson's left-right mirroring in the pipeline.")
    if flip.get_config()["mode"] != "horizontal":
        raise Incorrect("an upside-down ship or cat is not a CIFAR photo: flip left-right only "
                        "(mode='horizontal').")
    for kind, what in (("RandomBrightness", "lighter or darker"), ("RandomContrast", "flatter or punchier")):
        layer = kinds.get(kind)
        if layer is None:
            raise Incorrect(f"there is no {kind}: the exercise asks for photos made {what} at random.")
        config = layer.get_config()
        factor = float(np.max(np.abs(np.asarray(config["factor"], dtype=float))))
        if factor > 0.5:
            raise Incorrect(f"the {kind} factor is large: beyond half the range many photos turn white, black "
                            f"or grey. Use 0.2 (up to 20%).")
        if factor == 0:
            raise Incorrect(f"the {kind} factor is 0: the layer changes nothing.")
        low, high = (float(v) for v in config["value_range"])
        if (low, high) != (0.0, 1.0):
            raise Incorrect(f"{kind} is told the pixels lie in [{low:g}, {high:g}], but this course's images "
                            f"are scaled to [0, 1]: the layer's value_range must say so, or its changes are "
                            f"sized (and clipped) for the wrong scale.")
    images = np.random.default_rng(0).random((8, 32, 32, 3)).astype(np.float32)
    test_view = keras.ops.convert_to_numpy(augmenter(images, training=False))
    if not np.allclose(test_view, images):
        raise Incorrect("at inference (training=False) the augmenter changes the images: only random "
                        "preprocessing layers belong in it, which leave test images alone.")
    train_view = keras.ops.convert_to_numpy(augmenter(images, training=True))
    if train_view.shape != images.shape:
        raise Incorrect(f"the augmenter turns (8, 32, 32, 3) into {train_view.shape}: keep the image size.")
    if np.allclose(train_view, images):
        raise Incorrect("in training the augmenter returned the images unchanged.")
    if train_view.min() < -1e-6 or train_view.max() > 1 + 1e-6:
        raise Incorrect("in training some pixels leave [0, 1]: the network would see values it never meets "
                        "at test time.")


q1 = Exercise(
    name="q1", lesson="05", variables=("build_my_augmenter",), checker=_check_q1,
    purpose="augment the light, not only the geometry: Keras layers that must be told the pixel range",
    expected="random layers act only when training=True, and a colour layer told value_range=(0, 1) keeps "
             "pixels where the network expects them.",
    cost="seconds (no training)",
    hints=("keras.layers.RandomBrightness and keras.layers.RandomContrast take a factor (0.2 = up to 20%) and "
           "value_range, the range of the pixels they receive; both assume 0-255 unless told.",
           "keras.Sequential([RandomFlip('horizontal'), RandomBrightness(0.2, value_range=(0, 1)), "
           "RandomContrast(0.2, value_range=(0, 1))])."),
    solution_code="import keras\n\n"
                  "def build_my_augmenter():\n"
                  "    return keras.Sequential([\n"
                  "        keras.layers.RandomFlip(\"horizontal\"),\n"
                  "        keras.layers.RandomBrightness(0.2, value_range=(0, 1)),\n"
                  "        keras.layers.RandomContrast(0.2, value_range=(0, 1)),\n"
                  "    ])",
)


def _gaps(table):
    """Each row's final training accuracy minus its test accuracy, by configuration."""
    by_row = table.set_index("configuration")
    return by_row["final_train_accuracy"] - by_row["test_accuracy"]


def _check_q2(table, gap_change, narrows_most):
    import pandas as pd

    if isinstance(gap_change, dict):
        gap_change = pd.Series(gap_change, dtype=float)
    if not isinstance(gap_change, pd.Series):
        raise Incorrect("gap_change should be a pandas Series (or a dict) from row name to change.")
    try:
        given = gap_change.astype(float).dropna()      # a .diff() leaves the base CNN as NaN: fine
    except (TypeError, ValueError):
        raise Incorrect("gap_change should hold numbers (fractions, as the table stores accuracies).") from None
    gaps = _gaps(table)
    truth = gaps.diff().dropna()
    if set(given.index) != set(truth.index):
        raise Incorrect("gap_change should have one entry per row after the base CNN, named as in "
                        "table.configuration.")
    given = given[truth.index]

    def close(values):
        return np.allclose(given.to_numpy(), np.asarray(values, dtype=float), atol=1e-3)

    if not close(truth):
        if close(-truth):
            raise Incorrect("the sign is flipped: the change is this row's gap minus the row above's, so a "
                            "narrower gap is a negative change.")
        if close(truth * 100):
            raise Incorrect("write the changes as fractions (0.05), as the table stores accuracies, not in points.")
        if close(table.set_index("configuration")["test_accuracy"].diff()[truth.index]):
            raise Incorrect("those are the changes of test accuracy; the gap is training accuracy minus test "
                            "accuracy, and the question is how it changes.")
        if close(gaps[truth.index]):
            raise Incorrect("those are the gaps themselves; the question is how each row's gap differs from the "
                            "row above's.")
        raise Incorrect("not the changes of your table's gaps: for each row, (final training accuracy − test "
                        "accuracy) minus the same for the row above.")
    if isinstance(narrows_most, bool) or not isinstance(narrows_most, str):
        raise Incorrect("narrows_most should be a row name, a string such as 'base CNN'.")
    if narrows_most not in truth.index:
        raise Incorrect("narrows_most should be one of the rows after the base CNN, named as in "
                        "table.configuration.")
    if truth[narrows_most] > truth.min() + 1e-9:
        if truth[narrows_most] >= truth.max() - 1e-9:
            raise Incorrect("that row widened the gap the most (or narrowed it the least): a narrowing is a "
                            "negative change.")
        raise Incorrect("another row narrows the gap more: look for the most negative change.")


q2 = Exercise(
    name="q2", lesson="05", variables=("table", "gap_change", "narrows_most"), checker=_check_q2,
    purpose="read overfitting off the whole table: what each technique does to the train-test gap",
    expected="a technique that fights overfitting narrows the gap; one that only makes the network fit "
             "better may widen it while test accuracy rises.",
    cost="seconds (reads the table above)",
    hints=("The gap is table.final_train_accuracy − table.test_accuracy; a pandas Series has .diff() and "
           ".idxmin().",
           "gap = by_row.final_train_accuracy - by_row.test_accuracy with by_row = "
           "table.set_index('configuration'); then gap.diff().dropna()."),
    solution_code="by_row = table.set_index(\"configuration\")\n"
                  "gap = by_row.final_train_accuracy - by_row.test_accuracy\n"
                  "gap_change = gap.diff().dropna()          # this row's gap minus the row above's\n"
                  "narrows_most = gap_change.idxmin()        # the most negative change",
)


_Q3_CLASSES = 10


def _q3_cases():
    """(prediction, label_a, label_b, lam): the lesson's cat-and-ship mix, then random ones."""
    rng = np.random.default_rng(5)
    eye = np.eye(_Q3_CLASSES)
    cases = [(rng.dirichlet(np.ones(_Q3_CLASSES)), eye[3], eye[8], 0.3)]
    for _ in range(4):
        a, b = rng.choice(_Q3_CLASSES, size=2, replace=False)
        cases.append((rng.dirichlet(np.ones(_Q3_CLASSES)), eye[a], eye[b], float(rng.uniform(0.1, 0.45))))
    return cases


def _cross_entropy(label, prediction):
    return float(-np.sum(label * np.log(prediction)))


def _check_q3(mixup_loss):
    cases = _q3_cases()
    given = []
    for prediction, a, b, lam in cases:
        value = call_learner(mixup_loss, prediction.copy(), a.copy(), b.copy(), lam)
        try:
            if isinstance(value, (str, bytes, bool)):
                raise TypeError
            value = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise Incorrect("mixup_loss should return one number (the loss).") from None
        if value.size != 1:
            raise Incorrect(f"mixup_loss returned {value.size} numbers: the loss of one example is a single "
                            f"number, a sum over the classes.")
        given.append(float(value.reshape(())))
    given = np.array(given)

    def close(kind):
        return np.allclose(given, [kind(*case) for case in cases], rtol=1e-4, atol=1e-5)

    if close(lambda p, a, b, lam: _cross_entropy(lam * a + (1 - lam) * b, p)):
        return
    if close(lambda p, a, b, lam: _cross_entropy((1 - lam) * a + lam * b, p)):
        raise Incorrect("the weights are swapped: λ weights the first image's label (label_a), 1 − λ the second.")
    if close(lambda p, a, b, lam: -_cross_entropy(lam * a + (1 - lam) * b, p)):
        raise Incorrect("the sign is flipped: log of a probability is negative, and a loss is positive.")
    if close(lambda p, a, b, lam: _cross_entropy(lam * a + (1 - lam) * b, p) / _Q3_CLASSES):
        raise Incorrect("that is the mean over the classes; cross-entropy sums them.")
    if (close(lambda p, a, b, lam: _cross_entropy(b, p))
            or close(lambda p, a, b, lam: _cross_entropy(a, p))):
        raise Incorrect("that is the loss against one of the two labels only: mixup trains on the mixed "
                        "label, λ of one class and 1 − λ of the other.")
    raise Incorrect("not the categorical cross-entropy of the prediction against the mixed label: mix the "
                    "two one-hot labels with the image's weights, then compare the prediction with that.")


q3 = Exercise(
    name="q3", lesson="05", variables=("mixup_loss",), checker=_check_q3,
    purpose="see what mixup asks the network to do: the loss on a soft label",
    expected="cross-entropy is linear in the label, so the loss on a mixed label is λ × (the loss against "
             "the first label) + (1 − λ) × (the loss against the second); it is lowest when the prediction is "
             "the mix itself, not when it is sure of either class.",
    cost="seconds",
    hints=("Categorical cross-entropy of a label y and a prediction p is −Σ_k y_k · log p_k "
           "(keras.losses.categorical_crossentropy(y, p) computes it too).",
           "y = lam * label_a + (1 - lam) * label_b; return -np.sum(y * np.log(prediction))."),
    solution_code="import numpy as np\n\n"
                  "def mixup_loss(prediction, label_a, label_b, lam):\n"
                  "    label = lam * label_a + (1 - lam) * label_b     # the mixed label\n"
                  "    return -np.sum(label * np.log(prediction))      # categorical cross-entropy",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
