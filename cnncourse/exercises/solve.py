"""The teacher's view: a copy of a lesson with every exercise solved, in the form graders read.

In the learner's notebook an exercise is two code cells: an *answer cell* whose first line is
``# Your answer to qN`` and a *check cell* that calls ``qN.check()``.  The solved copy
replaces the answer cell's body by the exercise's solution between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` lines (nbgrader's and otter's marker), makes the check cell also call
``qN.assert_correct()`` (so that CI, nbgrader and otter notice a wrong solution), and gives
both cells nbgrader metadata.  The learner's notebook carries none of it.

That copy is nbgrader's source format (``format="nbgrader"``, the default).  otter-grader strips
solutions only inside its own question blocks, so ``format="otter"`` writes otter's format instead
(see :mod:`cnncourse.exercises.otter`); one file cannot serve both: nbgrader 0.9.6 refuses otter's
raw ``# BEGIN SOLUTION`` cells ("no end solution statement found").
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ANSWER = re.compile(r"^# Your answer to (q\d+)\s*$")
CHECK = re.compile(r"^(q\d+)\.check\(\)\s*$", re.M)


def lessons_with_exercises() -> list[str]:
    """The lessons ("01", ...) that have exercises: those with a ``lessonNN`` module here."""
    return sorted(p.stem.removeprefix("lesson") for p in Path(__file__).parent.glob("lesson[0-9][0-9].py"))


def lesson_exercises(lesson: str) -> dict:
    """The exercises of lesson ``lesson`` ("01"), by name; KeyError naming the lessons that have some."""
    if lesson not in lessons_with_exercises():
        raise KeyError(f"lesson {lesson} has no exercises; lessons with exercises: "
                       f"{', '.join(lessons_with_exercises())}")
    return importlib.import_module(f"cnncourse.exercises.lesson{lesson}").EXERCISES


FORMATS = ("nbgrader", "otter")


def solve_notebook(path: str | Path, output_dir: str | Path = Path("build") / "solutions",
                   format: str = "nbgrader") -> Path:
    """Write the solved copy of notebook ``path`` (:func:`solved_notebook`) into ``output_dir``;
    return its path."""
    import nbformat

    nb = solved_notebook(path, format)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir / Path(path).name
    nbformat.write(nb, out)
    return out


def solved_notebook(path: str | Path, format: str = "nbgrader"):
    """The solved copy of notebook ``path`` (a NotebookNode).

    format : "nbgrader" (nbgrader's source: solution markers and nbgrader cell metadata) or
             "otter" (otter-grader's assign format: question, solution and tests blocks).
    Raises ValueError when an exercise of the lesson has no answer cell or no check cell in
    the notebook, or a cell names an exercise the lesson does not have.
    """
    import nbformat

    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    path = Path(path)
    exercises = lesson_exercises(path.name[:2])
    nb = nbformat.read(path, as_version=4)
    answers, checks = _exercise_cells(nb, exercises, path)
    if format == "otter":
        from .otter import otter_notebook

        apart = [q for q in exercises if checks[q] != answers[q] + 1]
        if apart:
            raise ValueError(f"{path.name}: the check cell of {', '.join(apart)} does not follow its answer cell")
        return otter_notebook(nb, exercises, answers, path.stem)
    for name, exercise in exercises.items():
        answer, check = nb.cells[answers[name]], nb.cells[checks[name]]
        answer.source = f"{answer.source.splitlines()[0]}\n# BEGIN SOLUTION\n{exercise.solution_code}\n# END SOLUTION"
        answer.metadata["nbgrader"] = {"schema_version": 3, "solution": True, "grade": False, "locked": False,
                                       "grade_id": exercise.grade_id}
        check.source = CHECK.sub(lambda m: f"{m.group(1)}.check()\n{m.group(1)}.assert_correct()", check.source)
        check.metadata["nbgrader"] = {"schema_version": 3, "solution": False, "grade": True, "locked": True,
                                      "points": 1, "grade_id": f"{exercise.grade_id}_check"}
    return nb


def _exercise_cells(nb, exercises: dict, path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """({exercise: index of its answer cell}, {exercise: index of its check cell}) in ``nb``;
    ValueError when a cell names an exercise the lesson does not have, or an exercise lacks either cell."""
    answers: dict[str, int] = {}
    checks: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        lines = cell.source.splitlines() if cell.cell_type == "code" else []
        answer = ANSWER.match(lines[0]) if lines else None
        check = CHECK.search(cell.source) if lines and not answer else None
        for match, found in ((answer, answers), (check, checks)):
            if match:
                _known(exercises, match.group(1), path)
                found[match.group(1)] = i
    for what, found in (("answer cell ('# Your answer to qN')", answers), ("check cell ('qN.check()')", checks)):
        missing = sorted(set(exercises) - set(found))
        if missing:
            raise ValueError(f"{path.name}: no {what} for {', '.join(missing)}")
    return answers, checks


def _known(exercises: dict, name: str, path: Path):
    if name not in exercises:
        raise ValueError(f"{path.name} has a cell for {name}, which lesson {path.name[:2]} does not define; "
                         f"it has {', '.join(exercises)}")
