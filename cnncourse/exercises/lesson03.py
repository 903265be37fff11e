"""Lesson 03's exercises: tell the regularizers apart from their weights, work out by hand the
gradient each penalty adds to a weight, and ask Keras for a penalty on a layer's outputs."""

from __future__ import annotations

import math

import numpy as np

from . import Exercise, Incorrect

#: the order in which the mystery panels A-D show the four settings (fixed, so that a solution can
#: be written down; the panels do not say it)
MYSTERY_ORDER = ("L2", "dropout", "none", "L1")
PANELS = ("A", "B", "C", "D")


def plot_mystery_histograms(weights, *, fig=None):
    """The four settings' first-layer weights as histograms of log10 |w|, shuffled into panels A-D.

    weights : {"none", "L1", "L2", "dropout": (n_inputs, n_units) kernel}.  Returns the Figure.
    """
    import matplotlib.pyplot as plt

    missing = [name for name in MYSTERY_ORDER if name not in weights]
    if missing:
        raise KeyError(f"weights has no {', '.join(missing)}; it has {', '.join(weights)}")
    if fig is None:
        fig = plt.figure(figsize=(10, 3.2), layout="constrained")
    axes = fig.subplots(1, 4, sharex=True, sharey=True)
    floor = -6                                   # |w| <= 1e-6 counts as zero and is drawn at -6
    bins = np.linspace(floor - 0.125, 1.125, 30)
    for ax, panel, name in zip(axes, PANELS, MYSTERY_ORDER):
        magnitudes = np.abs(np.asarray(weights[name], dtype=np.float64)).ravel()
        values = np.clip(np.log10(np.maximum(magnitudes, 1e-300)), floor, None)
        ax.hist(values, bins=bins, color="0.35")
        ax.set_title(f"mystery {panel}", fontsize=11)
        ax.set_xlabel("log10 |w|  (−6: zero or below 1e-6)")
    axes[0].set_ylabel("weights")
    fig.suptitle("The 300 first-layer weights of each setting — which setting is which?", fontsize=12)
    return fig


def _check_q1(mystery):
    if not isinstance(mystery, dict) or sorted(mystery) != list(PANELS):
        raise Incorrect('mystery should be a dict with the keys "A", "B", "C", "D", e.g. {"A": "L1", ...}.')
    names = set(MYSTERY_ORDER)
    unknown = [v for v in mystery.values() if v not in names]
    if unknown:
        raise Incorrect(f"{unknown[0]!r} is not a setting; use {', '.join(map(repr, MYSTERY_ORDER))}.")
    if len(set(mystery.values())) != 4:
        raise Incorrect("each setting appears in exactly one panel.")
    right = sum(mystery[p] == name for p, name in zip(PANELS, MYSTERY_ORDER))
    if right < 4:
        l1_panel = PANELS[MYSTERY_ORDER.index("L1")]
        if mystery[l1_panel] != "L1":
            raise Incorrect(f"{right} of 4 right. Start with the easiest: which penalty pushes the most weights "
                            "to (about) zero, the bar at −6?")
        raise Incorrect(f"{right} of 4 right. L1 is placed; now compare how far the other three reach to the "
                        "right (the largest weights) and whether their small weights pile up.")


q1 = Exercise(
    name="q1", lesson="03", variables=("mystery",), checker=_check_q1,
    purpose="read a regularizer's fingerprint in the weights it leaves",
    expected="L1 piles the noise weights at (about) zero; L2 shrinks them all (nothing large), and zeroes only "
             "the weights of hidden units that never switch on; "
             "without regularization the largest weights are largest; dropout keeps the noise weights alive.",
    cost="seconds (uses the four runs above)",
    hints=("Look for the panel with a tall bar at −6 (weights that are zero, or below 1e-6): that is the "
           "penalty that removes inputs.",
           "L2's pull grows with the weight: it leaves no very large weight. Its zeros, if any, come from whole "
           "hidden units that the data never switch on, far fewer than L1's.",
           "Without regularization nothing holds the weights back: the panel reaching furthest right. "
           "Dropout penalises no weight, but spreads the signal: many mid-sized weights."),
    solution_code='mystery = {"A": "L2", "B": "dropout", "C": "none", "D": "L1"}',
)

GRADIENT_WEIGHTS = np.array([[0.5, -0.2], [0.001, -1.0]])
PENALTY_FACTOR = 0.01


def _close(a, b) -> bool:
    return np.allclose(a, b, rtol=1e-6, atol=1e-12)


def _as_gradient(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Incorrect(f"{name} should be an array of numbers (or nested lists).") from None
    if array.shape != GRADIENT_WEIGHTS.shape:
        raise Incorrect(f"{name} should have W's shape, 2 × 2: one gradient per weight; it has shape {array.shape}.")
    return array


def _check_q2(l1_gradient, l2_gradient):
    w, c = GRADIENT_WEIGHTS, PENALTY_FACTOR
    l1, l2 = _as_gradient("l1_gradient", l1_gradient), _as_gradient("l2_gradient", l2_gradient)
    l1_right, l2_right = c * np.sign(w), 2 * c * w
    if _close(l1, l2_right) and _close(l2, l1_right):
        raise Incorrect("the two answers are swapped: which penalty's gradient grows with the weight?")
    for name, got, right in (("l1_gradient", l1, l1_right), ("l2_gradient", l2, l2_right)):
        if not _close(got, right) and _close(got, -right):
            raise Incorrect(f"{name} has the wrong sign: that is the direction of the step (against the "
                            "gradient); the gradient itself is positive for a positive weight.")
    if not _close(l1, l1_right):
        if _close(l1, c * np.abs(w)):
            raise Incorrect("l1_gradient: that is each weight's share of the penalty, not its gradient.")
        if _close(l1, c * w) or _close(l1, 2 * c * w):
            raise Incorrect("l1_gradient grows with the weight here; the slope of |w| is the same however "
                            "large or small w is (only its sign matters).")
        if _close(l1, np.sign(w)):
            raise Incorrect("l1_gradient: almost — the slope of |w| is multiplied by the regularizer's factor.")
        raise Incorrect("l1_gradient: not yet. Differentiate 0.01 × |w| with respect to w, one weight at a time.")
    if not _close(l2, l2_right):
        if _close(l2, c * w**2):
            raise Incorrect("l2_gradient: that is each weight's share of the penalty, not its gradient.")
        if _close(l2, c * w):
            raise Incorrect("l2_gradient: almost — the derivative of w² is not w.")
        if _close(l2, 2 * w):
            raise Incorrect("l2_gradient: almost — the slope of w² is multiplied by the regularizer's factor.")
        raise Incorrect("l2_gradient: not yet. Differentiate 0.01 × w² with respect to w, one weight at a time.")


q2 = Exercise(
    name="q2", lesson="03", variables=("l1_gradient", "l2_gradient"), checker=_check_q2,
    purpose="see in numbers why L1 drives unneeded weights to zero and L2 does not",
    expected="L1 adds 0.01 × sign(w): the same size for every weight, so the tiny 0.001 is pulled towards zero "
             "as hard as the largest, and unless the loss needs it, it ends at zero (or within a step of it); "
             "L2 adds 0.02 × w, a pull that fades as the weight shrinks, so small weights shrink ever more "
             "slowly and are not driven to zero.",
    cost="seconds",
    hints=("A weight's gradient is the slope of the penalty as that one weight changes; the other weights' "
           "terms of the sum do not change with it.",
           "The slope of |w| is +1 for a positive w and −1 for a negative one; the slope of w² is 2w. Multiply "
           "by the factor, 0.01.",
           "np.sign(W) gives the slope of |w| for every weight at once."),
    solution_code="import numpy as np\n\n"
                  "W = np.array([[0.5, -0.2], [0.001, -1.0]])\n"
                  "l1_gradient = 0.01 * np.sign(W)    # the same size, 0.01, for every weight\n"
                  "l2_gradient = 0.01 * 2 * W         # proportional to the weight",
)


def _check_q3(sparse_layer):
    import keras

    if not isinstance(sparse_layer, keras.layers.Dense):
        raise Incorrect(f"sparse_layer should be a keras.layers.Dense; it is a {type(sparse_layer).__name__}.")
    config = sparse_layer.get_config()
    if config["units"] != 30 or config["activation"] != "relu":
        raise Incorrect("the layer should be the lesson's hidden layer: 30 units, ReLU.")
    outputs_penalty = config.get("activity_regularizer")
    if config.get("kernel_regularizer") is not None:
        if outputs_penalty is None:
            raise Incorrect("kernel_regularizer penalises the weights, as the lesson did; the exercise asks for a "
                            "penalty on what the layer outputs.")
        raise Incorrect("the weights should carry no penalty here: only the layer's outputs.")
    if config.get("bias_regularizer") is not None:
        raise Incorrect("bias_regularizer penalises the biases, which are weights too; the exercise asks for a "
                        "penalty on what the layer outputs.")
    if outputs_penalty is None:
        raise Incorrect("the layer has no penalty on its outputs yet.")
    name, factors = outputs_penalty.get("class_name"), outputs_penalty.get("config", {})
    l1, l2 = factors.get("l1", 0.0), factors.get("l2", 0.0)
    if l2:
        raise Incorrect("that penalty includes L2 (squares); the exercise asks for L1.")
    if not math.isclose(l1, PENALTY_FACTOR, rel_tol=1e-6):
        raise Incorrect(f"the L1 factor should be 0.01, as in the lesson ({name} here has another).")


q3 = Exercise(
    name="q3", lesson="03", variables=("sparse_layer",), checker=_check_q3,
    purpose="find the other place a Dense layer takes a penalty: on its outputs rather than its weights",
    expected="activity_regularizer puts the penalty on what the layer outputs (Keras adds 0.01 × Σ|output|, "
             "divided by the batch size, to the loss): it pushes the hidden units' responses towards zero, "
             "while kernel_regularizer, the lesson's, acts on the weights.",
    cost="seconds",
    hints=("A Dense layer takes three *_regularizer arguments; the lesson used one of them, kernel_regularizer.",
           "The penalty on a layer's outputs is called an activity regularizer.",
           "activity_regularizer=keras.regularizers.L1(0.01)"),
    solution_code="import keras\n\n"
                  "sparse_layer = keras.layers.Dense(30, activation=\"relu\", "
                  "activity_regularizer=keras.regularizers.L1(0.01))",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
