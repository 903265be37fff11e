"""Lesson 05's exercises: an augmentation pipeline that keeps images CIFAR-like, the train-test gap
read off the ablation table, and a mixup label by hand."""

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
        raise Incorrect("there is no RandomFlip: mirroring is the cheapest new view of a photo.")
    if flip.get_config()["mode"] != "horizontal":
        raise Incorrect("an upside-down ship or cat is not a CIFAR photo: flip left-right only "
                        "(mode='horizontal').")
    shift = kinds.get("RandomTranslation")
    if shift is None:
        raise Incorrect("there is no RandomTranslation: shifting the object a little is the other "
                        "transformation the exercise asks for.")
    config = shift.get_config()
    if any(abs(float(np.max(np.abs(config[k])))) > 0.25 for k in ("height_factor", "width_factor")):
        raise Incorrect("the shift is large: beyond a quarter of the image the object may leave the frame. "
                        "Use 0.1 of the height and width.")
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


q1 = Exercise(
    name="q1", lesson="05", variables=("build_my_augmenter",), checker=_check_q1,
    purpose="build data augmentation as Keras layers: new views in training, nothing at test time",
    expected="random layers act only when training=True, so the same model scores test images unchanged.",
    cost="seconds (no training)",
    hints=("keras.Sequential([...]) of keras.layers.RandomFlip(...) and keras.layers.RandomTranslation(...).",
           "RandomFlip('horizontal'); RandomTranslation(0.1, 0.1, fill_mode='nearest')."),
    solution_code="import keras\n\n"
                  "def build_my_augmenter():\n"
                  "    return keras.Sequential([\n"
                  "        keras.layers.RandomFlip(\"horizontal\"),\n"
                  "        keras.layers.RandomTranslation(0.1, 0.1, fill_mode=\"nearest\"),\n"
                  "    ])",
)


def _row(table, name):
    rows = table[table["configuration"] == name]
    if rows.empty:
        raise Incorrect(f"the table has no row {name!r}: run the ablation cell above first.")
    return rows.iloc[0]


def _check_q2(table, gap_base, gap_augmented):
    for value in (gap_base, gap_augmented):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise Incorrect("give each gap as a number (a fraction, e.g. 0.25 for 25 points).")
    base, aug = _row(table, "base CNN"), _row(table, "+ augmentation")
    truth = (base.final_train_accuracy - base.test_accuracy, aug.final_train_accuracy - aug.test_accuracy)
    given = (float(gap_base), float(gap_augmented))
    if np.allclose([-g for g in given], truth, atol=1e-3):
        raise Incorrect("the sign is flipped: the gap is training accuracy minus test accuracy.")
    if np.allclose([g / 100 for g in given], truth, atol=1e-3):
        raise Incorrect("write the gaps as fractions (0.25), as the table stores accuracies, not in points.")
    if np.allclose(given, (base.test_accuracy, aug.test_accuracy), atol=1e-3):
        raise Incorrect("those are the test accuracies; the gap is training accuracy minus test accuracy.")
    if not np.allclose(given, truth, atol=1e-3):
        raise Incorrect("not the gaps of your table: final training accuracy minus test accuracy, for the "
                        "'base CNN' row and for the '+ augmentation' row.")


q2 = Exercise(
    name="q2", lesson="05", variables=("table", "gap_base", "gap_augmented"), checker=_check_q2,
    purpose="read overfitting off the results table: the train-test gap with and without augmentation",
    expected="the augmented model's gap is the smaller: it memorises less of its training images.",
    cost="seconds (reads the table above)",
    hints=("The table has the columns final_train_accuracy and test_accuracy, one row per configuration.",
           "row = table[table.configuration == 'base CNN'].iloc[0]; gap = row.final_train_accuracy - "
           "row.test_accuracy."),
    solution_code="def gap(name):\n"
                  "    row = table[table.configuration == name].iloc[0]\n"
                  "    return row.final_train_accuracy - row.test_accuracy\n\n"
                  "gap_base = gap(\"base CNN\")\n"
                  "gap_augmented = gap(\"+ augmentation\")",
)


def _check_q3(mixed_label):
    try:
        label = np.asarray(mixed_label, dtype=float)
    except (TypeError, ValueError):
        raise Incorrect("mixed_label should be 10 numbers, one per class.") from None
    if label.shape != (10,):
        raise Incorrect(f"mixed_label has shape {label.shape}: a CIFAR label has one number per class, 10 in all.")
    if not np.isclose(label.sum(), 1.0):
        raise Incorrect("the mixed label should still sum to 1: it is a mixture of two one-hot labels.")
    truth = np.zeros(10)
    truth[3], truth[8] = 0.3, 0.7
    swapped = np.zeros(10)
    swapped[3], swapped[8] = 0.7, 0.3
    if np.allclose(label, swapped):
        raise Incorrect("the weights are swapped: λ weights the first image (the cat), 1 − λ the second.")
    if not np.allclose(label, truth):
        raise Incorrect("mixup mixes the labels with the same weights as the pixels: λ × cat's one-hot + "
                        "(1 − λ) × ship's one-hot.")


q3 = Exercise(
    name="q3", lesson="05", variables=("mixed_label",), checker=_check_q3,
    purpose="see what mixup asks the network to predict",
    expected="a mixed image's label is the same mixture of the two labels: the network is asked to be "
             "30% sure of 'cat' and 70% of 'ship'.",
    cost="seconds",
    hints=("A mixed image is λ × image1 + (1 − λ) × image2; its label is mixed the same way.",
           "Cat is class 3 and ship class 8: start from np.zeros(10)."),
    solution_code="import numpy as np\n\n"
                  "mixed_label = np.zeros(10)\n"
                  "mixed_label[3], mixed_label[8] = 0.3, 0.7    # lambda = 0.3 for the cat, 0.7 for the ship",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
