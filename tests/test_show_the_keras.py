"""Every lesson shows the Keras it teaches, before its exercises: written in a code cell, or the
package's own source displayed with ``show_source`` (issue "Show the Keras")."""

from __future__ import annotations

import ast
import importlib
import re

import nbformat
import pytest

from cnncourse.tooling import runner
from cnncourse.source import get_source
from conftest import lesson_cells_before_exercises

# What each lesson teaches, as the Keras a learner must be able to read in it (regular expressions).
TAUGHT = {
    "01": [r"keras\.Sequential\(", r"keras\.Input\(", r"layers\.Conv2D\(", r"layers\.MaxPooling2D\(",
           r"layers\.Flatten\(", r"layers\.Dense\(", r"layers\.Dropout\(", r"\.compile\(", r"\.fit\(",
           r"\.evaluate\(", r"callbacks\.EarlyStopping\(", r"restore_best_weights=True", r"\.history\b"],
    "02": [r"keras\.Model\(", r"\.output\b", r"GradientTape\(", r"\.gradient\(", r"reduce_mean|\.mean\(",
           r"relu"],
    "03": [r"kernel_regularizer=", r"regularizers\.L1L2\(|regularizers\.L1\(", r"layers\.Dropout\(",
           r"RandomNormal\(stddev="],
    "04": [r"layers\.Concatenate\(", r"layers\.BatchNormalization\(", r"layers\.Add\(", r"keras\.Model\(",
           r"keras\.callbacks\.Callback\b", r"def on_epoch_end\("],
    "05": [r"layers\.RandomFlip\(", r"beta\(", r"layers\.BatchNormalization\(", r"layers\.GlobalAveragePooling2D\(",
           r"amsgrad=", r"layers\.Add\("],
    "06": [r"applications\.MobileNet\(", r"include_top=False", r"weights=", r"layers\.Resizing\(",
           r"preprocess_input", r"\.trainable = False", r"training=False", r"GlobalAveragePooling2D|pooling=\"avg\"",
           r"\.trainable = True"],
}


def _shown_code(lesson: str) -> str:
    """The code cells of ``lesson`` before its exercises, plus the source of every object they show."""
    parts = []
    for cell in lesson_cells_before_exercises(lesson):
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source":
                for arg in node.args:
                    module, _, name = ast.unparse(arg).partition(".")
                    obj = importlib.import_module(f"cnncourse.{module}")
                    for attribute in name.split("."):
                        obj = getattr(obj, attribute)
                    parts.append(get_source(obj))
    return "\n".join(parts)


@pytest.mark.parametrize("lesson", sorted(TAUGHT))
def test_every_lesson_shows_the_keras_it_teaches(lesson):
    shown = _shown_code(lesson)
    missing = [pattern for pattern in TAUGHT[lesson] if not re.search(pattern, shown)]
    assert not missing, f"lesson {lesson} does not show {missing} before its exercises"


def test_lesson_01_writes_its_first_cnn_in_code_cells_not_only_in_displayed_source():
    path = runner.find_notebooks(["01"])[0]
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    for call in (".compile(", ".fit(", ".evaluate("):
        assert call in code
    assert len(re.findall(r"layers\.\w+\(", code)) >= 6
