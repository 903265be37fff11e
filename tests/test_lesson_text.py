"""The lessons as a text: no number of one run in the prose, and no exercise answered above it.

A lesson's prose may quote an article's figure, a definition or a setting of the lesson, never a
result of the reader's run (that one is printed by the code, on the reader's own run).  Every
percentage, "points" difference or seconds figure in a markdown cell is therefore listed below,
with where it comes from; an article's figure is computed from ``cnncourse.articles``, so that the
prose and the tables the lessons print cannot disagree.  A new number in the prose fails this
test until it is classified here.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from cnncourse import articles
from cnncourse.tooling import runner
from cnncourse.exercises import lesson01, lesson02, lesson06
from conftest import lesson_cells_before_exercises

# a number with the unit that makes it a measurement: %, percentage points, points, seconds
NUMBER = re.compile(r"[+−-]?\d[\d,]*(?:\.\d+)?(?:%|\s?percentage points|\s?points?\b|\s?seconds\b|\ss\b)")

ABL = articles.LESSON05_ABLATION
EPOCHS06 = articles.LESSON06_EPOCHS


def _pct(x: float, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f}%"


def _pts(x: float, digits: int = 1, sign: bool = False) -> str:
    return f"{100 * x:{'+' if sign else ''}.{digits}f} points"


# {lesson: {the number as written: where it comes from}}.  Article figures are computed.
ALLOWED = {
    "01": {
        _pct(articles.LESSON01_SIMPLE_CONVNET_CIFAR10_ACCURACY): "article 004: the SimpleConvNet's best test accuracy",
        "10%": "chance on ten classes", "99.0%": "a worked example of percentage points", "99.5%": "the same example", "0.5 points": "the same",
        "0.4 points": "article 001: its models' test accuracies lie within this (checked below)",
    },
    "02": {"99%": "article 003: ~99% right", "10%": "validation_split=0.1, a setting"},
    "03": {"100%": "article 003 (and the check data's design)", "30%": "the lesson's dropout rate",
           "50%": "chance on two balanced classes", "10%": "validation_split=0.1, a setting"},
    "04": {"99%": "MNIST's well-known ceiling, a remark", "1%": "BatchNormalization's momentum 0.99, Keras' default",
           "10%": "chance on ten classes"},
    "05": {
        "51 s": "article 002: an epoch with GAP", "52 s": "article 002: an epoch with Flatten",
        "20%": "the augmentation's shift (article 002) and exercise 1's brightness range",
        "100%": "article 002: the base CNN's training accuracy, 'almost 100%'",
        _pts(ABL["+ augmentation"] - ABL["base CNN"], sign=True): "article 002: augmentation's gain",
        _pts(abs(ABL["+ residual blocks"] - ABL["+ batch norm"])): "article 002: residual blocks' loss",
        _pct(ABL["+ batch norm"], 2): "article 002: the batch-norm row", _pct(ABL["+ AMSGrad"], 2): "article 002: the final row",
        _pts(ABL["+ dropout"] - ABL["+ global avg pooling"], 2, sign=True): "article 002: dropout's gain",
    },
    "06": {
        _pct(EPOCHS06[2][1], 2): "article 004: validation accuracy after two epochs",
        "10 points": "article 004: 'almost 10%' (transfer) and 'about 10%' (GAP)", "10%": "article 004's own words",
        _pct(articles.LESSON01_SIMPLE_CONVNET_CIFAR10_ACCURACY): "article 004: the SimpleConvNet from scratch",
        "99%": "the GAP model's parameters: 1 - 6,390 / 591,390",
    },
}


def _prose(lesson: str) -> list[tuple[int, str]]:
    path = runner.find_notebooks([lesson])[0]
    cells = nbformat.read(path, as_version=4).cells
    return [(i, c.source) for i, c in enumerate(cells) if c.cell_type == "markdown"]


@pytest.mark.parametrize("lesson", sorted(ALLOWED))
def test_every_measured_number_in_the_prose_is_an_articles_figure_or_a_setting(lesson):
    found = {}
    for index, text in _prose(lesson):
        for match in NUMBER.finditer(text):
            found.setdefault(match.group(0).replace("−", "-"), index)
    unknown = {number: cell for number, cell in found.items() if number not in ALLOWED[lesson]}
    assert not unknown, (f"lesson {lesson}: numbers in the prose that are not an article's figure or a setting "
                         f"(print a run's numbers from the run; list an article's figure in this test): {unknown}")
    unused = set(ALLOWED[lesson]) - set(found)
    assert not unused, f"lesson {lesson}: listed here but no longer in the prose: {unused}"


def test_the_article_figures_the_prose_quotes_are_the_articles():
    # the computed entries above are the numbers the articles print
    assert _pts(ABL["+ augmentation"] - ABL["base CNN"], sign=True) == "+13.2 points"     # 86.09 - 72.88
    assert _pct(EPOCHS06[2][1], 2) == "74.99%"
    assert _pct(ABL["+ batch norm"], 2) == "91.24%" and _pct(ABL["+ AMSGrad"], 2) == "90.96%"
    assert _pts(ABL["+ dropout"] - ABL["+ global avg pooling"], 2, sign=True) == "+0.02 points"
    accuracies = [a for _, a in articles.LESSON01_MNIST_VARIANTS.values() if a is not None]
    assert max(accuracies) - min(accuracies) < 0.004                                     # "under 0.4 points"


def _cells_above_exercises(lesson: str) -> str:
    return "\n".join(cell.source for cell in lesson_cells_before_exercises(lesson))


def _forms(value) -> list[str]:
    """The ways a numeric answer can be written in a cell: 73856, 73,856, (20, 20, 128)."""
    if isinstance(value, tuple):
        return [str(tuple(int(v) for v in value))]
    return [f"{int(value)}", f"{int(value):,}"]


def _answers() -> dict[tuple[str, str], object]:
    import keras

    shape, params, _ = lesson01._four_conv_conv4()
    return {
        ("01", "q1 shape"): shape, ("01", "q1 parameters"): params,
        ("01", "q2"): lesson01._dense_after_pooling(3).count_params(),
        ("02", "q1"): tuple(keras.layers.Conv2D(**lesson02.Q1_LAYER).compute_output_shape((8, 28, 28, 1))),
        ("06", "q2"): lesson06.finetune_param_count(11),
    }


@pytest.mark.parametrize("key", sorted(_answers()), ids=lambda k: " ".join(k))
def test_no_numeric_answer_appears_above_its_exercise(key):
    lesson, _ = key
    above = _cells_above_exercises(lesson)
    for form in _forms(_answers()[key]):
        assert not re.search(rf"(?<![\d,]){re.escape(form)}(?![\d,])", above), \
            f"lesson {lesson}: the answer to exercise {key[1]} ({form}) appears above the exercises"
