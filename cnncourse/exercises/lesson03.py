"""Lesson 03's exercises: tell the regularizers apart from their weights, compute a penalty by
hand, and ask Keras for one."""

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
            raise Incorrect(f"{right} of 4 right. Start with the easiest: which penalty pushes weights to "
                            "exactly zero (the bar at −6)?")
        raise Incorrect(f"{right} of 4 right. L1 is placed; now compare how far the other three reach to the "
                        "right (the largest weights) and whether their small weights pile up.")


q1 = Exercise(
    name="q1", lesson="03", variables=("mystery",), checker=_check_q1,
    purpose="read a regularizer's fingerprint in the weights it leaves",
    expected="L1 piles weights at exactly zero; L2 shrinks them all (nothing large, nothing exactly zero); "
             "without regularization the largest weights are largest; dropout keeps the noise weights alive.",
    cost="seconds (uses the four runs above)",
    hints=("Look for the panel with a tall bar at −6 (weights that are zero, or below 1e-6): that is the "
           "penalty that removes inputs.",
           "L2's pull grows with the weight: it leaves no very large weight, but hardly any exactly zero.",
           "Without regularization nothing holds the weights back: the panel reaching furthest right. "
           "Dropout penalises no weight, but spreads the signal: many mid-sized weights."),
    solution_code='mystery = {"A": "L2", "B": "dropout", "C": "none", "D": "L1"}',
)

PENALTY_WEIGHTS = np.array([[0.5, -0.2], [0.0, 1.0]])
PENALTY_FACTOR = 0.01


def _check_q2(l1_penalty):
    if isinstance(l1_penalty, bool) or not isinstance(l1_penalty, (int, float, np.floating, np.integer)):
        raise Incorrect("l1_penalty should be a number.")
    w = PENALTY_WEIGHTS
    if math.isclose(l1_penalty, PENALTY_FACTOR * np.abs(w).sum(), rel_tol=1e-6):
        return
    if math.isclose(l1_penalty, PENALTY_FACTOR * w.sum(), rel_tol=1e-6):
        raise Incorrect("the penalty sums the absolute values: a negative weight costs as much as a positive one.")
    if math.isclose(l1_penalty, PENALTY_FACTOR * (w**2).sum(), rel_tol=1e-6):
        raise Incorrect("that is the L2 penalty (squares); L1 sums the absolute values.")
    if math.isclose(l1_penalty, np.abs(w).sum(), rel_tol=1e-6):
        raise Incorrect("almost: the sum is multiplied by the factor given to the regularizer.")
    raise Incorrect("not yet: L1(0.01) adds 0.01 × the sum of |w| over the layer's weights.")


q2 = Exercise(
    name="q2", lesson="03", variables=("l1_penalty",), checker=_check_q2,
    purpose="see what the L1 penalty adds to the loss",
    expected="0.01 × Σ|w|: every weight costs in proportion to its size, the small ones as much per unit "
             "as the large, which is why L1 drives unneeded weights to exactly zero.",
    cost="seconds",
    hints=("keras.regularizers.L1(0.01) adds 0.01 × Σ|w| to the loss.",
           "Σ|w| = |0.5| + |−0.2| + |0| + |1.0|."),
    solution_code="l1_penalty = 0.01 * (0.5 + 0.2 + 0.0 + 1.0)    # 0.017",
)


def _check_q3(l2_layer):
    import keras

    if not isinstance(l2_layer, keras.layers.Dense):
        raise Incorrect(f"l2_layer should be a keras.layers.Dense; it is a {type(l2_layer).__name__}.")
    config = l2_layer.get_config()
    if config["units"] != 30 or config["activation"] != "relu":
        raise Incorrect("the layer should be the lesson's hidden layer: 30 units, ReLU.")
    regularizer = config.get("kernel_regularizer")
    if regularizer is None:
        if config.get("activity_regularizer") or config.get("bias_regularizer"):
            raise Incorrect("the penalty should be on the weights (the kernel), the map the lesson draws.")
        raise Incorrect("the layer has no regularizer on its weights.")
    name, factors = regularizer.get("class_name"), regularizer.get("config", {})
    l1, l2 = factors.get("l1", 0.0), factors.get("l2", 0.0)
    if l1:
        raise Incorrect("that regularizer includes L1 (a pull of the same size on every weight); the exercise "
                        "asks for L2.")
    if not math.isclose(l2, 0.01, rel_tol=1e-6):
        raise Incorrect(f"the L2 factor should be the lesson's 0.01 ({name} here has another).")


q3 = Exercise(
    name="q3", lesson="03", variables=("l2_layer",), checker=_check_q3,
    purpose="ask Keras for a penalty on a layer's weights",
    expected="kernel_regularizer puts the penalty on the weights; Keras adds it to the loss in training.",
    cost="seconds",
    hints=("Dense takes kernel_regularizer=...", "keras.regularizers.L2(0.01)"),
    solution_code="import keras\n\n"
                  "l2_layer = keras.layers.Dense(30, activation=\"relu\", kernel_regularizer=keras.regularizers.L2(0.01))",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
