"""Exercises: every solution passes, planted mistakes fail with their message, placeholders read
"not attempted", no message gives the answer away.  (The solved copies themselves are run by the
README's test command, with nbval: `build/solutions`.)"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from cnncourse.tooling import runner
from cnncourse.exercises import (CORRECT, INCORRECT, NOT_ATTEMPTED, ____, lesson01, lesson02, lesson03, lesson04,
                                  lesson05, lesson06)
from cnncourse.exercises.solve import lesson_exercises, solve_notebook

LESSONS = ("01", "02", "03", "04", "05", "06")


def _imagenet_cached() -> bool:
    from cnncourse import download

    weights = download.MOBILENET_WEIGHTS[0.25]
    return download.weights_problem(weights, weights.cached_path()) is None


needs_imagenet = pytest.mark.skipif(not _imagenet_cached(), reason="MobileNet 0.25 ImageNet weights not in "
                                    "$KERAS_HOME (python -m cnncourse fetch)")
# MobileNet warns that it loads the 224 px weights for other input sizes: what lesson 06 means it to do
imagenet_at_96px = pytest.mark.filterwarnings("ignore:.input_shape. is undefined or non-square:UserWarning")
ALL = [pytest.param(e, marks=[needs_imagenet, imagenet_at_96px]) if e.grade_id == "l06_q1" else e
       for lesson in LESSONS for e in lesson_exercises(lesson).values()]


def _ablation_table():
    import pandas as pd

    return pd.DataFrame({"configuration": ["base CNN", "+ augmentation"], "final_train_accuracy": [0.9, 0.6],
                         "test_accuracy": [0.3, 0.4]})


def _solved_namespace(exercise) -> dict:
    namespace: dict = {"table": _ablation_table()}   # what lesson 05's notebook has when its exercises run
    exec(exercise.solution_code, namespace)   # noqa: S102 - the course's own solution text
    return namespace


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: getattr(e, "grade_id", str(e)))
def test_the_solution_is_correct_and_a_blank_is_not_attempted(exercise):
    assert exercise.result(_solved_namespace(exercise)).outcome == CORRECT
    blank = {v: ____ for v in exercise.variables}
    blank.update({"table": _ablation_table()} if "table" in blank else {})
    assert exercise.result(blank).outcome == NOT_ATTEMPTED
    assert exercise.result({}).outcome == NOT_ATTEMPTED
    assert exercise.result({v: ... for v in exercise.variables}).outcome == NOT_ATTEMPTED   # otter's stub
    with pytest.raises(AssertionError, match="not attempted"):
        exercise.assert_correct(blank)
    exercise.assert_correct(_solved_namespace(exercise))
    assert len(exercise.hints) >= 2 and exercise.purpose and exercise.expected and exercise.cost


# (exercise, wrong answers, a word the message must contain); lesson 01's answers are 20x20x128, 73,856
# and 524,416
PLANTED = [
    (lesson01.q1, {"conv4_shape": (20, 20, 64), "conv4_params": 73_856}, "one channel per filter"),
    (lesson01.q1, {"conv4_shape": (22, 22, 128), "conv4_params": 73_856}, "trims one pixel"),
    (lesson01.q1, {"conv4_shape": (20, 20, 128), "conv4_params": 73_728}, "one bias"),
    (lesson01.q1, {"conv4_shape": (20, 20, 128), "conv4_params": 1_280}, "every input channel"),
    (lesson01.q1, {"conv4_shape": (20, 20, 128), "conv4_params": 36_928}, "of conv4 itself"),
    (lesson01.q1, {"conv4_shape": (1, 20, 20, 128), "conv4_params": 73_856}, "without the batch axis"),
    (lesson01.q2, {"dense_params_pool3": (12 * 12 * 64 + 1) * 128}, "2×2 pooling"),
    (lesson01.q2, {"dense_params_pool3": (24 * 24 * 64 + 1) * 128}, "without any pooling"),
    (lesson01.q2, {"dense_params_pool3": 8 * 8 * 64 * 128}, "bias"),
    (lesson01.q2, {"dense_params_pool3": 1000}, "not yet"),
]


@pytest.mark.parametrize("exercise, answers, says", PLANTED, ids=lambda x: getattr(x, "grade_id", ""))
def test_a_planted_mistake_is_incorrect_with_its_message(exercise, answers, says):
    result = exercise.result(answers)
    assert result.outcome == INCORRECT and says in result.message
    for answer in ("73856", "73,856", "(20, 20, 128)", "524416", "524,416"):
        assert answer not in result.message


def _model(layers_after_pool):
    import keras

    def build(input_shape=(32, 32, 3)):
        inputs = keras.Input(shape=input_shape)
        x = keras.layers.Conv2D(30, 5, activation="relu")(inputs)
        x = keras.layers.MaxPooling2D(2)(x)
        for layer in layers_after_pool():
            x = layer(x)
        return keras.Model(inputs, x)
    return build


def test_the_pitfall_fix_catches_each_mistake():
    import keras

    L = keras.layers
    cases = [
        (_model(lambda: [L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")]), "still a map"),
        (_model(lambda: [L.GlobalAveragePooling2D(), L.Dense(100, activation="relu"), L.Dense(10)]), "softmax"),
        (_model(lambda: [L.GlobalAveragePooling2D(), L.Dense(5, activation="softmax")]), "10 numbers per image"),
        (_model(lambda: [L.Flatten(), L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")]),
         "without it"),                                                   # the SimpleConvNet shown above
        (_model(lambda: [L.GlobalAveragePooling2D(), L.Dense(10, activation="softmax")]), "Dense(100, relu)"),
        (_model(lambda: [L.MaxPooling2D(7), L.Reshape((120,)), L.Dense(100, activation="relu"),
                         L.Dense(10, activation="softmax")]), "one number per feature map"),
        (lambda input_shape=(32, 32, 3): "a model", "should return a keras.Model"),
    ]
    for build, says in cases:
        result = lesson01.q3.result({"build_fixed": build})
        assert result.outcome == INCORRECT and says in result.message, result.message

    def stub(input_shape=(32, 32, 3)):
        raise NotImplementedError
    assert lesson01.q3.result({"build_fixed": stub}).outcome == NOT_ATTEMPTED
    for pooling in (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D):   # either summary of a whole map
        fixed = _model(lambda: [pooling(), L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")])
        assert lesson01.q3.result({"build_fixed": fixed}).outcome == CORRECT


def test_check_shows_and_never_raises(capsys):
    assert lesson01.q2.check({"dense_params_pool3": 3}) is None    # nothing for a cell to echo as Out:
    assert "Incorrect:" in capsys.readouterr().out
    lesson01.q1.hint(3)
    assert "Hint:" in capsys.readouterr().out
    with pytest.raises(ValueError, match="hints 1 to 3"):
        lesson01.q1.hint(4)
    lesson01.q1.solution()
    assert "73,856" in capsys.readouterr().out          # the solution is shown when asked


def test_a_learners_error_is_reported_not_raised():
    def broken(input_shape=(32, 32, 3)):
        return 1 / 0
    result = lesson01.q3.result({"build_fixed": broken})
    assert result.outcome == INCORRECT and "ZeroDivisionError" in result.message


def test_the_solved_copy_has_graders_markers_and_the_learners_copy_none(tmp_path):
    learner = runner.find_notebooks(["01"])[0]
    assert not any("nbgrader" in c.metadata for c in nbformat.read(learner, as_version=4).cells)
    solved = nbformat.read(solve_notebook(learner, tmp_path), as_version=4)
    marked = {c.metadata["nbgrader"]["grade_id"]: c for c in solved.cells if "nbgrader" in c.metadata}
    assert set(marked) == {"l01_q1", "l01_q1_check", "l01_q2", "l01_q2_check", "l01_q3", "l01_q3_check"}
    assert "# BEGIN SOLUTION" in marked["l01_q1"].source and "# END SOLUTION" in marked["l01_q1"].source
    assert marked["l01_q1"].metadata["nbgrader"]["solution"] is True
    assert "q1.assert_correct()" in marked["l01_q1_check"].source
    assert marked["l01_q1_check"].metadata["nbgrader"]["points"] == 1


def test_a_lesson_without_its_answer_cell_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("q1.check()")]
    path = tmp_path / "01_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"no answer cell .* for q1, q2, q3"):
        solve_notebook(path, tmp_path / "out")
    with pytest.raises(KeyError, match="lessons with exercises: 01, 02, 03, 04, 05, 06"):
        lesson_exercises("09")


def _residual(branch_filters=None, pad="same", batch_norm=True, shortcut="project", shortcut_kernel=1, join="add"):
    """A learner's residual_block with one planted mistake (the defaults give a correct block)."""
    def residual_block(x, filters=64, kernel_size=2):
        import keras

        L, f = keras.layers, branch_filters or filters
        y = L.Conv2D(f, kernel_size, padding=pad)(x)
        y = L.BatchNormalization()(y) if batch_norm else y
        y = L.ReLU()(y)
        y = L.Conv2D(f, kernel_size, padding=pad)(y)
        s = {"identity": lambda: x, "dense": lambda: L.Dense(filters)(x), "branch": lambda: y,
             "project": lambda: L.Conv2D(filters, shortcut_kernel, padding="same")(x)}[shortcut]()
        return L.Add()([y, s]) if join == "add" else L.Concatenate()([y, s])
    return residual_block


@pytest.mark.parametrize("block, says", [
    (_residual(shortcut="identity"), "different numbers of channels"),
    (_residual(pad="valid"), "padding='same'"),
    (_residual(join="concat"), "no Add layer"),
    (_residual(branch_filters=32, shortcut="identity"), "every convolution in it should have `filters`"),
    (_residual(shortcut="branch"), "straight from x"),
    (_residual(shortcut="dense"), "make it a convolution"),
    (_residual(shortcut_kernel=2), "should be 1×1"),
    (_residual(batch_norm=False), "normalises"),
    (lambda x, filters=64, kernel_size=2: None, "should return the block's output tensor"),
], ids=["no projection", "valid padding", "concatenate", "ignores filters", "no shortcut", "dense shortcut",
        "2x2 projection", "no batchnorm", "returns None"])
def test_residual_block_mistakes(block, says):
    result = lesson04.q1.result({"residual_block": block})
    assert result.outcome == INCORRECT and says in result.message, result.message
    assert "27,072" not in result.message and "27072" not in result.message   # the block's parameter count


def _inception(kernels=(2, 3), pool="keep", project=True, join="concat", pad="same", pool_first=True):
    """A learner's inception_block with one planted mistake (the defaults give a correct block)."""
    def inception_block(x, filters=32):
        import keras

        L = keras.layers
        outs = []
        for k in kernels:
            b = L.Conv2D(filters, k, padding=pad)(x)
            b = L.Conv2D(filters, k, padding=pad)(b)
            outs.append(L.ReLU()(b))
        if pool:
            pooling = {"keep": lambda: L.MaxPooling2D(3, strides=1, padding="same"),
                       "default strides": lambda: L.MaxPooling2D(3),
                       "2x2": lambda: L.MaxPooling2D(2, strides=1, padding="same")}[pool]()
            if not project:
                p = pooling(x)
            elif pool_first:
                p = L.Conv2D(filters, 1)(pooling(x))
            else:
                p = pooling(L.Conv2D(filters, 1)(x))
            outs.append(L.ReLU()(p))
        return L.Concatenate()(outs) if join == "concat" else L.Add()(outs)
    return inception_block


@pytest.mark.parametrize("block, says", [
    (_inception(join="add"), "no Concatenate"),
    (_inception(pool=None), "has three"),
    (_inception(pool="default strides"), "strides=1"),
    (_inception(pad="valid"), "padding='same'"),
    (_inception(pool="2x2"), "3×3 window"),
    (_inception(project=False), "a 1×1 convolution after it"),
    (_inception(kernels=(2, 2)), "two 3×3"),
    (_inception(pool_first=False), "pool x first"),
], ids=["add", "two branches", "pool strides", "valid padding", "2x2 pool", "no projection", "two 2x2 branches",
        "projection before pool"])
def test_inception_block_mistakes(block, says):
    result = lesson04.q2.result({"inception_block": block})
    assert result.outcome == INCORRECT and says in result.message, result.message
    assert "42,144" not in result.message and "42144" not in result.message   # the block's parameter count
    assert "96" not in result.message                                         # the block's channel count


def test_the_blocks_without_a_planted_mistake_are_correct():
    assert lesson04.q1.result({"residual_block": _residual()}).outcome == CORRECT
    assert lesson04.q2.result({"inception_block": _inception()}).outcome == CORRECT


def test_the_parameter_question_matches_the_models():
    import keras

    from cnncourse import models

    inception, sequential = models.build_inception_cnn(), models.build_sequential_cnn()

    def conv_params(model, kernel):
        return sum(layer.count_params() for layer in model.layers
                   if isinstance(layer, keras.layers.Conv2D) and tuple(layer.kernel_size) == (kernel, kernel))
    extra = {"3x3 convolutions": conv_params(inception, 3) - conv_params(sequential, 3),
             "2x2 convolutions": conv_params(inception, 2) - conv_params(sequential, 2),
             "dense layer": (inception.get_layer("hidden").count_params()
                             - sequential.get_layer("hidden").count_params())}
    assert sum(extra.values()) == inception.count_params() - sequential.count_params()
    ranked = sorted(extra, key=extra.get, reverse=True)
    assert ranked == ["3x3 convolutions", "dense layer", "2x2 convolutions"]   # what q3's messages say
    assert lesson04.q3.result({"biggest_share": ranked[0]}).outcome == CORRECT
    assert lesson04.q3.result({"biggest_share": "dense layer"}).outcome == INCORRECT
    assert "9" in lesson04.q3.result({"biggest_share": "2x2 convolutions"}).message
    assert "answer with one of" in lesson04.q3.result({"biggest_share": "convs"}).message


def test_feature_map_exercises_catch_each_mistake():
    q1, q2, q3 = lesson02.q1, lesson02.q2, lesson02.q3
    # q1's layer is Conv2D(16, 5, strides=2, padding="same") on 28x28x1: the answer is (8, 14, 14, 16)
    for shape, says in [((14, 14, 16), "batch axis"), ((8, 28, 28, 16), "every second position"),
                        ((8, 24, 24, 16), "lesson's layer"), ((8, 12, 12, 16), "no border positions"),
                        ((8, 13, 13, 16), "not right"), ((8, 14, 14, 1), "per filter"),
                        ((1, 14, 14, 16), "images you passed"), ("big", "tuple of numbers")]:
        result = q1.result({"maps_shape": shape})
        assert result.outcome == INCORRECT and says in result.message, result.message
        assert "14" not in result.message
    for function, says in [(lambda m: int(np.argmax(m.max(axis=(0, 1, 2)))), "single largest value"),
                           (lambda m: int(np.argmax(m.mean(axis=0).mean(axis=0)[0])), "largest mean"),
                           (lambda m: [2], "one filter index")]:
        result = q2.result({"strongest_filter": function})
        assert result.outcome == INCORRECT and says in result.message, result.message
    for function, says in [(lambda h: int(np.argmax(h)), "flattened"),
                           (lambda h: np.unravel_index(np.argmax(h), h.shape)[::-1], "swapped"),
                           (lambda h: (0, 0), "largest value")]:
        result = q3.result({"hot_spot": function})
        assert result.outcome == INCORRECT and says in result.message, result.message


def test_augmentation_gap_and_mixup_exercises_catch_each_mistake():
    import keras

    L = keras.layers

    def colour(brightness=0.2, contrast=0.2, value_range=(0, 1)):
        return [L.RandomBrightness(brightness, value_range=value_range),
                L.RandomContrast(contrast, value_range=value_range)]

    for layers, says in [(colour(), "no RandomFlip"),
                         ([L.RandomFlip("vertical"), *colour()], "left-right only"),
                         ([L.RandomFlip("horizontal"), L.RandomContrast(0.2, value_range=(0, 1))],
                          "no RandomBrightness"),
                         ([L.RandomFlip("horizontal"), L.RandomBrightness(0.2, value_range=(0, 1))],
                          "no RandomContrast"),
                         ([L.RandomFlip("horizontal"), *colour(value_range=(0, 255))], "value_range"),
                         ([L.RandomFlip("horizontal"), *colour(brightness=0.9)], "factor is large"),
                         ([L.RandomFlip("horizontal"), *colour(), L.Rescaling(0.5)], "at inference")]:
        result = lesson05.q1.result({"build_my_augmenter": lambda layers=layers: keras.Sequential(layers)})
        assert result.outcome == INCORRECT and says in result.message, result.message
        assert "(0, 1)" not in result.message
    import pandas as pd

    rows = ["base CNN", "+ augmentation", "+ batch norm", "+ residual blocks"]
    table = pd.DataFrame({"configuration": rows, "final_train_accuracy": [0.9, 0.6, 0.8, 0.75],
                          "test_accuracy": [0.3, 0.4, 0.5, 0.45]})     # gaps 0.6, 0.2, 0.3, 0.3
    right = pd.Series([-0.4, 0.1, 0.0], index=rows[1:])
    assert lesson05.q2.result({"table": table, "gap_change": right, "narrows_most": "+ augmentation"}).correct
    assert lesson05.q2.result({"table": table, "gap_change": {"base CNN": np.nan, **right},
                               "narrows_most": "+ augmentation"}).correct
    for change, narrows, says in [(-right, "+ augmentation", "sign"), (right * 100, "+ augmentation", "fractions"),
                                  (pd.Series([0.1, 0.1, -0.05], index=rows[1:]), "+ augmentation", "test accuracy"),
                                  (pd.Series([0.2, 0.3, 0.3], index=rows[1:]), "+ augmentation", "gaps themselves"),
                                  (right[:2], "+ augmentation", "one entry per row"),
                                  (pd.Series([-0.4, 0.2, 0.0], index=rows[1:]), "+ augmentation", "not the changes"),
                                  ([-0.4, 0.1, 0.0], "+ augmentation", "Series"),
                                  (right, "+ batch norm", "widened"), (right, "+ residual blocks", "more"),
                                  (right, "base CNN", "after the base CNN"), (right, 1, "row name")]:
        result = lesson05.q2.result({"table": table, "gap_change": change, "narrows_most": narrows})
        assert result.outcome == INCORRECT and says in result.message, result.message
        assert "-0.4" not in result.message and "augmentation" not in result.message

    def mixed(p, a, b, lam):
        return lam * a + (1 - lam) * b

    for function, says in [(lambda p, a, b, lam: -np.sum(mixed(p, b, a, lam) * np.log(p)), "swapped"),
                           (lambda p, a, b, lam: np.sum(mixed(p, a, b, lam) * np.log(p)), "sign"),
                           (lambda p, a, b, lam: -np.mean(mixed(p, a, b, lam) * np.log(p)), "mean"),
                           (lambda p, a, b, lam: -np.sum(b * np.log(p)), "one of the two labels"),
                           (lambda p, a, b, lam: -mixed(p, a, b, lam) * np.log(p), "single number"),
                           (lambda p, a, b, lam: -np.sum(mixed(p, a, b, lam) * np.log1p(p)), "not the categorical"),
                           (lambda p, a, b, lam: "0.5", "one number")]:
        result = lesson05.q3.result({"mixup_loss": function})
        assert result.outcome == INCORRECT and says in result.message, result.message
    # Keras' own loss is accepted as well as the sum by hand
    by_keras = lambda p, a, b, lam: keras.losses.categorical_crossentropy(mixed(p, a, b, lam), p)  # noqa: E731
    assert lesson05.q3.result({"mixup_loss": by_keras}).correct


def test_regularizer_exercises_catch_each_mistake():
    import keras

    q1, q2, q3 = lesson03.q1, lesson03.q2, lesson03.q3
    right = dict(zip(lesson03.PANELS, lesson03.MYSTERY_ORDER))
    swapped = {**right, "A": right["B"], "B": right["A"]}
    assert "2 of 4 right" in q1.result({"mystery": swapped}).message
    no_l1 = {**right, "D": right["C"], "C": right["D"]}
    assert "(about) zero" in q1.result({"mystery": no_l1}).message
    assert "exactly one panel" in q1.result({"mystery": {p: "L1" for p in "ABCD"}}).message
    assert "keys" in q1.result({"mystery": ["L1"]}).message
    w = lesson03.GRADIENT_WEIGHTS
    l1_right, l2_right = 0.01 * np.sign(w), 0.02 * w
    for l1_gradient, l2_gradient, says in [(l2_right, l1_right, "swapped"),
                                           (-l1_right, l2_right, "wrong sign"),
                                           (l1_right, -l2_right, "wrong sign"),
                                           (0.01 * np.abs(w), l2_right, "share of the penalty"),
                                           (0.01 * w, l2_right, "same however large"),
                                           (np.sign(w), l2_right, "factor"),
                                           (l1_right, 0.01 * w, "derivative of w² is not w"),
                                           (l1_right, 0.01 * w**2, "share of the penalty"),
                                           (l1_right, 2 * w, "factor"),
                                           (l1_right.tolist(), [1.0, 2.0], "shape"),
                                           ("zero", l2_right, "array of numbers")]:
        result = q2.result({"l1_gradient": l1_gradient, "l2_gradient": l2_gradient})
        assert result.outcome == INCORRECT and says in result.message, result.message
    assert q2.result({"l1_gradient": l1_right.tolist(), "l2_gradient": l2_right.tolist()}).outcome == CORRECT
    dense, reg = keras.layers.Dense, keras.regularizers
    for layer, says in [(dense(30, activation="relu"), "no penalty on its outputs"),
                        (dense(30, activation="relu", kernel_regularizer=reg.L1(0.01)), "penalises the weights"),
                        (dense(30, activation="relu", kernel_regularizer=reg.L1(0.01), activity_regularizer="l1"),
                         "only the layer's outputs"),
                        (dense(30, activation="relu", bias_regularizer=reg.L1(0.01)), "biases"),
                        (dense(30, activation="relu", activity_regularizer=reg.L2(0.01)), "includes L2"),
                        (dense(30, activation="relu", activity_regularizer=reg.L1(0.1)), "0.01"),
                        (dense(10, activation="relu", activity_regularizer="l1"), "30 units")]:
        result = q3.result({"sparse_layer": layer})
        assert result.outcome == INCORRECT and says in result.message, result.message
    for penalty in ("l1", reg.L1L2(l1=0.01)):
        layer = dense(30, activation="relu", activity_regularizer=penalty)
        assert q3.result({"sparse_layer": layer}).outcome == CORRECT


def test_regularizer_gradients_in_exercise_2_are_what_keras_computes():
    import keras
    import tensorflow as tf

    w = tf.Variable(lesson03.GRADIENT_WEIGHTS, dtype=tf.float64)
    namespace = {}
    exec(lesson03.q2.solution_code, namespace)   # noqa: S102 - the course's own solution text
    for regularizer, answer in ((keras.regularizers.L1(0.01), "l1_gradient"),
                                (keras.regularizers.L2(0.01), "l2_gradient")):
        with tf.GradientTape() as tape:
            penalty = regularizer(w)
        np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), namespace[answer], rtol=1e-6)


def test_exercise_3s_layer_adds_its_penalty_on_the_outputs():
    import keras

    namespace = {}
    exec(lesson03.q3.solution_code, namespace)   # noqa: S102 - the course's own solution text
    layer = namespace["sparse_layer"]
    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype="float32")
    outputs = keras.ops.convert_to_numpy(layer(x))
    assert layer.get_config()["kernel_regularizer"] is None and len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.01 * np.abs(outputs).sum() / len(x), rtol=1e-5)


def test_mystery_histograms_draw_four_unnamed_panels():
    rng = np.random.default_rng(0)
    weights = {name: rng.normal(size=(10, 30)) for name in lesson03.MYSTERY_ORDER}
    fig = lesson03.plot_mystery_histograms(weights)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["mystery A", "mystery B", "mystery C", "mystery D"]
    assert not any(name in " ".join(titles) for name in ("L1", "L2", "dropout", "none"))
    with pytest.raises(KeyError, match="no L1"):
        lesson03.plot_mystery_histograms({k: v for k, v in weights.items() if k != "L1"})
    sparse = dict(weights, L1=np.where(np.arange(300).reshape(10, 30) < 280, 0.0, 0.5))   # 280 exact zeros
    fig = lesson03.plot_mystery_histograms(sparse)
    l1_axes = fig.axes[lesson03.MYSTERY_ORDER.index("L1")]
    assert sum(p.get_height() for p in l1_axes.patches) == 300          # every weight drawn, zeros included
    assert max(p.get_height() for p in l1_axes.patches) == 280


def _hidden_head(size=96, scale=True, frozen=True, weights="imagenet", pooling=None, pool="gap", units=64,
                 activation="relu", dropout=0.3):
    """Exercise 1's model, with one planted mistake at a time."""
    def build():
        import keras

        L = keras.layers
        inputs = keras.Input(shape=(32, 32, 3))
        x = L.Resizing(size, size)(inputs)
        if scale:
            x = L.Rescaling(2.0, offset=-1.0)(x)
        base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights,
                                            input_shape=(size, size, 3), pooling=pooling)
        base.trainable = not frozen
        x = base(x, training=False)
        if pool == "gap":
            x = L.GlobalAveragePooling2D()(x)
        elif pool == "flatten":
            x = L.Flatten()(x)
        x = L.Dense(units, activation=activation)(x)
        if dropout:
            x = L.Dropout(dropout)(x)
        return keras.Model(inputs, L.Dense(10, activation="softmax")(x))
    return build


@needs_imagenet
@imagenet_at_96px
@pytest.mark.parametrize("build, says", [
    (_hidden_head(scale=False), "[-1, 1]"),
    (_hidden_head(frozen=False), "not frozen"),
    (_hidden_head(weights=None), "not the ImageNet ones"),
    (_hidden_head(size=64), "resize the 32×32 images to 96×96"),
    (_hidden_head(pooling="avg", pool=None), "pooling=None"),
    (_hidden_head(pool="flatten"), "GlobalAveragePooling2D"),
    (_hidden_head(units=128), "Dense(64) with a ReLU"),
    (_hidden_head(activation=None), "Dense(64) with a ReLU"),
    (_hidden_head(dropout=0), "Dropout(0.3)"),
    (_hidden_head(dropout=0.5), "Dropout(0.3)"),
], ids=["unscaled", "not frozen", "random weights", "64 px", "base pools", "flatten", "128 units", "no relu",
        "no dropout", "dropout 0.5"])
def test_lesson06_hidden_head_model_mistakes(build, says):
    result = lesson06.q1.result({"build_hidden_head_model": build})
    assert result.outcome == INCORRECT and says in result.message, result.message


def test_lesson06_fine_tuning_count_is_what_keras_trains():
    import keras

    from cnncourse import transfer

    inputs = keras.Input(shape=(64, 64, 3))
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(64, 64, 3),
                                        pooling="avg")
    model = keras.Model(inputs, keras.layers.Dense(10)(base(inputs)))
    for first_block in (13, 11, 7):
        transfer.unfreeze_top(model, f"conv_dw_{first_block}")
        trained = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert lesson06.finetune_param_count(first_block) == trained
    assert lesson06.q2.result({"finetune_params": lesson06.finetune_param_count(11)}).outcome == CORRECT


@pytest.mark.parametrize("answer, says", [
    (lesson06.finetune_param_count(11) - 2570, "head trains in stage 2 too"),
    (lesson06.finetune_param_count(11, batchnorm=2), "BatchNormalization layers stay frozen"),
    (lesson06.finetune_param_count(11, batchnorm=4), "BatchNormalization layers stay frozen"),
    (lesson06.finetune_param_count(11, conv_bias=True), "no bias"),
    (lesson06.finetune_param_count(11, full_depthwise=True), "one 3×3 filter per input channel"),
    (lesson06.finetune_param_count(12), "block 11 is unfrozen as well"),
    (lesson06.finetune_param_count(10), "block 10 frozen"),
    (1000, "not yet"),
    (121_866.0, "whole number"),
], ids=["no head", "bn scale+shift", "bn all", "conv bias", "full depthwise", "two blocks", "four blocks",
        "far off", "float"])
def test_lesson06_fine_tuning_count_mistakes(answer, says):
    result = lesson06.q2.result({"finetune_params": answer})
    assert result.outcome == INCORRECT and says in result.message, result.message
    assert "121866" not in result.message and "121,866" not in result.message


def _prepare(shift=0, batchnorm=False, base_flag=True, compile_it=True, optimizer="adam", rate=None,
             loss="categorical_crossentropy", returns="count", fixed_blocks=None):
    """Exercise 3's function, with one planted mistake at a time."""
    def prepare_fine_tuning(model, n_blocks, learning_rate):
        import keras

        base = next(layer for layer in model.layers if isinstance(layer, keras.Model))
        names = [layer.name for layer in base.layers]
        start = names.index(f"conv_dw_{14 - (fixed_blocks or n_blocks) + shift}")
        base.trainable = base_flag
        if base_flag:
            for i, layer in enumerate(base.layers):
                layer.trainable = i >= start and (batchnorm or not isinstance(layer, keras.layers.BatchNormalization))
        else:
            for layer in base.layers[start:]:
                layer.trainable = True
        if compile_it:
            lr = learning_rate if rate is None else rate
            opt = keras.optimizers.Adam(learning_rate=lr) if optimizer == "adam" else keras.optimizers.SGD(lr)
            model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        return {"count": count, "none": None, "base only": count - model.layers[-1].count_params()}[returns]
    return prepare_fine_tuning


@pytest.mark.parametrize("function, says", [
    (_prepare(shift=1), "stay frozen"),
    (_prepare(shift=-1), "below the last"),
    (_prepare(batchnorm=True), "BatchNormalization"),
    (_prepare(base_flag=False), "still frozen"),
    (_prepare(compile_it=False), "not compiled"),
    (_prepare(optimizer="sgd"), "Adam"),
    (_prepare(rate=1e-3), "learning rate"),
    (_prepare(loss="sparse_categorical_crossentropy"), "one-hot"),
    (_prepare(returns="none"), "return"),
    (_prepare(returns="base only"), "base and head"),
    (_prepare(fixed_blocks=3), "n_blocks=1"),
], ids=["a block short", "a block more", "batchnorm trains", "base frozen", "not compiled", "sgd", "default rate",
        "sparse loss", "returns nothing", "base only", "ignores n_blocks"])
def test_lesson06_prepare_fine_tuning_mistakes(function, says):
    result = lesson06.q3.result({"prepare_fine_tuning": function})
    assert result.outcome == INCORRECT and says in result.message, result.message
