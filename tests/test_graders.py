"""The solved copies with the real graders (issue 27): ``otter assign`` on the otter copy of each lesson
gives a student notebook without any solution line and an autograder zip whose tests are the exercises'
checks; otter's tests grade the solved answers full and the blanks zero; ``nbgrader generate_assignment``
releases the nbgrader copy of each lesson without any solution line.

Skipped, with the reason, where otter-grader or nbgrader is not installed (``pip install otter-grader
nbgrader``).  The expensive parts are shared: one ``otter assign`` per lesson (in this process, the
function otter's command line calls, with --no-run-tests: running the tests would execute the whole
lesson) and one ``nbgrader generate_assignment`` for all six lessons.  The end-to-end ``otter run`` is
done on one lesson with its exercise cells only (the lesson's training cells are not needed by its
exercises), twice: the solved copy scores full, the student copy zero.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from cnncourse.exercises.solve import ANSWER, lesson_exercises, lessons_with_exercises, solve_notebook
from cnncourse.tooling.runner import find_notebooks

LESSONS = lessons_with_exercises()

needs_otter = pytest.mark.skipif(importlib.util.find_spec("otter") is None,
                                 reason="otter-grader is not installed (pip install otter-grader)")
needs_nbgrader = pytest.mark.skipif(importlib.util.find_spec("nbgrader") is None,
                                    reason="nbgrader is not installed (pip install nbgrader)")


def learner_notebook(lesson: str) -> Path:
    (path,) = find_notebooks([lesson])
    return path


def code_lines(nb) -> list[str]:
    return [line.strip() for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()]


def solution_lines(lesson: str) -> set[str]:
    """The lines of the lesson's solutions that the learner's notebook does not have (``import keras``
    is in both): a student copy that holds one of them gives an answer away."""
    learner = set(code_lines(nbformat.read(learner_notebook(lesson), as_version=4)))
    return {line.strip() for e in lesson_exercises(lesson).values()
            for line in e.solution_code.splitlines()} - learner - {""}


def leaked(lesson: str, notebook) -> list[str]:
    """The solution lines found in ``notebook`` (a path or a notebook)."""
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    secret = solution_lines(lesson)
    return [line for line in code_lines(nb) if line in secret]


def answer_cells(nb) -> dict[str, str]:
    return {ANSWER.match(c.source.splitlines()[0]).group(1): c.source for c in nb.cells
            if c.cell_type == "code" and c.source and ANSWER.match(c.source.splitlines()[0])}


def otter_assign(master: Path, result: Path) -> dict:
    """Run otter assign on ``master`` without running its tests; the student copy, the autograder
    notebook and zip."""
    from otter.assign import main as assign

    assign(str(master), str(result), no_pdfs=True, no_run_tests=True)
    (zip_path,) = (result / "autograder").glob("*.zip")
    return {"student": result / "student" / master.name, "autograder": result / "autograder" / master.name,
            "zip": zip_path}


@pytest.fixture(scope="module")
def otter_outputs(tmp_path_factory):
    """``otter assign`` on the otter copy of each lesson: {lesson: its outputs}."""
    root = tmp_path_factory.mktemp("otter")
    outputs = {}
    for lesson in LESSONS:
        master = solve_notebook(learner_notebook(lesson), root / "source", format="otter")
        outputs[lesson] = otter_assign(master, root / f"dist{lesson}")
    return outputs


@pytest.mark.parametrize("format", ["nbgrader", "otter"])
def test_the_leak_check_finds_every_solution_line_in_the_solved_copy(tmp_path, format):
    """The leak check has something to look for in every lesson, and finds all of it in the solved copy."""
    for lesson in LESSONS:
        assert len(solution_lines(lesson)) >= 3, lesson
        solved = solve_notebook(learner_notebook(lesson), tmp_path, format=format)
        assert set(leaked(lesson, solved)) == solution_lines(lesson)
        assert leaked(lesson, learner_notebook(lesson)) == []


@needs_otter
@pytest.mark.parametrize("lesson", LESSONS)
def test_otter_student_copy_has_no_answer_and_the_learners_blanks(otter_outputs, lesson):
    student = nbformat.read(otter_outputs[lesson]["student"], as_version=4)
    assert leaked(lesson, student) == []
    learner = nbformat.read(learner_notebook(lesson), as_version=4)
    assert answer_cells(student) == answer_cells(learner)          # the learner's ____ / NotImplementedError
    sources = [c.source for c in student.cells]
    for name in lesson_exercises(lesson):
        assert f'grader.check("{name}")' in sources and f"{name}.check()" in sources
    assert not any(c.cell_type == "raw" for c in student.cells)   # otter's blocks are gone


@needs_otter
@pytest.mark.parametrize("lesson", LESSONS)
def test_otter_autograder_tests_are_the_exercises_checks(otter_outputs, lesson):
    with zipfile.ZipFile(otter_outputs[lesson]["zip"]) as z:
        tests = {Path(n).stem: z.read(n).decode() for n in z.namelist() if n.startswith("tests/")}
    assert set(tests) == set(lesson_exercises(lesson))
    for name, text in tests.items():
        assert f">>> {name}.assert_correct(globals())" in text
    autograder = nbformat.read(otter_outputs[lesson]["autograder"], as_version=4)
    assert len(leaked(lesson, autograder)) == len(solution_lines(lesson))   # the autograder keeps them


@needs_otter
def test_the_leak_check_catches_otter_assign_on_the_nbgrader_copy(tmp_path):
    """Issue 27 as reported: otter assign on the nbgrader copy copies every answer to the student."""
    master = solve_notebook(learner_notebook("03"), tmp_path / "source")
    student = otter_assign(master, tmp_path / "dist")["student"]
    assert set(leaked("03", student)) == solution_lines("03")


def _otter_tests(zip_path):
    from otter.test_files import OKTestFile

    with zipfile.ZipFile(zip_path) as z:
        names = sorted(n for n in z.namelist() if n.startswith("tests/"))
        return {Path(n).stem: OKTestFile.from_spec(_spec(z.read(n).decode()), path=n) for n in names}


def _spec(text: str) -> dict:
    namespace: dict = {}
    exec(text, namespace)   # noqa: S102 - otter's own test file, written above
    return namespace["test"]


def _namespace(nb, lesson: str) -> dict:
    """What the notebook's exercise cells define: the exercises' import cell, then the answer cells."""
    namespace: dict = {}
    if lesson == "05":                 # lesson 05's q2 reads the lesson's ablation table
        import pandas as pd

        namespace["table"] = pd.DataFrame({"configuration": ["base CNN", "+ augmentation"],
                                           "final_train_accuracy": [0.9, 0.6], "test_accuracy": [0.3, 0.4]})
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.source.startswith("from cnncourse.exercises import")
                                         or ANSWER.match(cell.source.splitlines()[0] if cell.source else "")):
            exec(cell.source, namespace)   # noqa: S102 - the course's own cells
    return namespace


def _grade(tests: dict, namespace: dict) -> dict[str, float]:
    scores = {}
    for name, test in tests.items():
        test.run(dict(namespace))
        scores[name] = test.score
    return scores


@needs_otter
@pytest.mark.parametrize("lesson", ["02", "03"])
def test_otters_tests_grade_the_solved_answers_full_the_blanks_zero(otter_outputs, lesson):
    """otter's own test runner, on the tests of the autograder zip, against the answer cells of the
    autograder notebook (solved) and of the student copy (blank), and with one planted wrong answer."""
    tests = _otter_tests(otter_outputs[lesson]["zip"])
    solved = _namespace(nbformat.read(otter_outputs[lesson]["autograder"], as_version=4), lesson)
    blank = _namespace(nbformat.read(otter_outputs[lesson]["student"], as_version=4), lesson)
    assert _grade(tests, solved) == {name: 1 for name in tests}
    assert _grade(tests, blank) == {name: 0 for name in tests}
    variable = lesson_exercises(lesson)["q1"].variables[0]
    wrong = dict(solved, **{variable: {"A": "L1", "B": "L2", "C": "none", "D": "dropout"} if lesson == "03"
                            else (8, 28, 28, 16)})
    assert _grade(tests, wrong) == {"q1": 0, "q2": 1, "q3": 1}


def _exercise_cells_only(nb):
    """The notebook with its lesson's code cells dropped: otter's cells and the exercises' cells stay."""
    keep = re.compile(r"^(# Initialize Otter|from cnncourse\.exercises import|# Your answer to q\d|q\d\.check\(\)"
                      r"|grader\.check\()")
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or keep.match(c.source)]
    return nb


@needs_otter
def test_otter_run_grades_the_solved_copy_full_and_the_student_copy_zero(otter_outputs, tmp_path):
    """``otter run`` (the function its command line calls, in this process), on lesson 02's exercise cells:
    the student copy's blanks leave keras unimported, the solved copy imports it."""
    from otter.run import main as otter_run

    scores = {}
    for kind in ("autograder", "student"):
        nb = _exercise_cells_only(nbformat.read(otter_outputs["02"][kind], as_version=4))
        submission = tmp_path / kind / otter_outputs["02"][kind].name
        submission.parent.mkdir()
        nbformat.write(nb, submission)
        otter_run(str(submission), autograder=str(otter_outputs["02"]["zip"]), output_dir=str(submission.parent),
                  no_logo=True)
        results = json.loads((submission.parent / "results.json").read_text())
        scores[kind] = {t["name"]: t["score"] for t in results["tests"] if "score" in t}
    assert scores["autograder"] == {"q1": 1, "q2": 1, "q3": 1}
    assert scores["student"] == {"q1": 0, "q2": 0, "q3": 0}


@needs_nbgrader
def test_nbgrader_releases_every_lesson_without_its_answers(tmp_path):
    course = tmp_path / "course"
    for lesson in LESSONS:
        solve_notebook(learner_notebook(lesson), course / "source" / "cnncourse")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "cnncourse", "--no-db", "--force",
                    f"--CourseDirectory.root={course}"], check=True, capture_output=True, cwd=course)
    for lesson in LESSONS:
        released = nbformat.read(course / "release" / "cnncourse" / learner_notebook(lesson).name, as_version=4)
        assert leaked(lesson, released) == []
        graded = {c.metadata["nbgrader"]["grade_id"]: c for c in released.cells if "nbgrader" in c.metadata}
        for name, exercise in lesson_exercises(lesson).items():
            assert graded[exercise.grade_id].source.endswith("raise NotImplementedError()")
            check = graded[f"{exercise.grade_id}_check"]
            assert check.metadata["nbgrader"]["locked"] and f"{name}.assert_correct()" in check.source


def test_the_solutions_command_writes_either_format(tmp_path):
    subprocess.run([sys.executable, "-m", "cnncourse", "solutions", "03", "--format", "otter",
                    "--output-dir", str(tmp_path / "otter")], check=True, capture_output=True)
    otter_copy = nbformat.read(tmp_path / "otter" / learner_notebook("03").name, as_version=4)
    nbgrader_copy = nbformat.read(solve_notebook(learner_notebook("03"), tmp_path / "nbgrader"), as_version=4)
    assert sum("nbgrader" in c.metadata for c in nbgrader_copy.cells) == 6
    assert not any(c.cell_type == "raw" for c in nbgrader_copy.cells)
    assert otter_copy.cells[0].cell_type == "raw" and otter_copy.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    assert not any("nbgrader" in c.metadata for c in otter_copy.cells)
    with pytest.raises(ValueError, match="formats: nbgrader, otter"):
        solve_notebook(learner_notebook("03"), tmp_path, format="ok")


def test_the_otter_prompt_keeps_the_learners_blank_whatever_its_quotes():
    import ast

    from cnncourse.exercises.otter import answer_source

    for blank in ("x = ____", 'def f():\n    """doc"""\n    raise NotImplementedError("here")'):
        source = answer_source("# Your answer to q1", blank, "x = 1")
        ast.parse(source)
        assert "# BEGIN PROMPT" in source and f"\n{blank}\n" in source and "# BEGIN SOLUTION NO PROMPT" in source
    both = "a = '''x'''\nb = \"\"\"y\"\"\""     # no quoting holds it: otter's "..." takes the answer's place
    assert answer_source("# Your answer to q1", both, "x = 1") == "# Your answer to q1\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION"


def test_the_otter_copy_refuses_a_lesson_without_an_exercises_cells(tmp_path):
    nb = nbformat.read(learner_notebook("03"), as_version=4)
    q2 = next(i for i, c in enumerate(nb.cells) if c.source.startswith("# Your answer to q2"))
    moved = tmp_path / learner_notebook("03").name
    nb.cells.insert(q2 + 1, nbformat.v4.new_markdown_cell("between"))
    nbformat.write(nb, moved)
    with pytest.raises(ValueError, match="check cell of q2 does not follow its answer cell"):
        solve_notebook(moved, tmp_path / "out", format="otter")
    del nb.cells[q2]
    nbformat.write(nb, moved)
    with pytest.raises(ValueError, match=r"no answer cell \('# Your answer to qN'\) for q2"):
        solve_notebook(moved, tmp_path / "out", format="otter")
