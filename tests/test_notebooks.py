"""Every lesson, executed once: its learner copy and its solved copy in one kernel.

The runner executes each lesson under the active profile (``smoke`` in the README's test command
and in CI), then, in the same kernel, the solved copy's exercises (``run_notebook(...,
with_solutions=True)``), and writes both executed copies to ``build/test-run/`` (the solved ones in
``solutions/``) with the lesson's ``metrics.json``.  Each code cell of each copy is one test, as
under ``pytest --nbval-lax``: it fails when the cell raised (a wrong fact's ``assert``, a wrong
solution's ``assert_correct()``), naming the lesson, the copy, the cell and the error; a cell that
did not run because an earlier one failed fails too, pointing at that one.  The reading copy is
built from the same executed copies and audited (``site --check``).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import nbformat
import pytest

from cnncourse.exercises.solve import solve_notebook
from cnncourse.tooling import runner

BUILD = Path(__file__).resolve().parent.parent / "build" / "test-run"
LESSONS = runner.find_notebooks()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cells() -> list[tuple[Path, str, int, str]]:
    """(lesson, copy, cell index, first line) of every code cell of every lesson's two copies."""
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        for path in LESSONS:
            for copy, nb in (("learner", nbformat.read(path, as_version=4)),
                             ("solved", nbformat.read(solve_notebook(path, folder), as_version=4))):
                cases += [(path, copy, i, runner.first_line(cell)) for i, cell in enumerate(nb.cells)
                          if cell.cell_type == "code"]
    return cases


CELLS = _cells()


@pytest.fixture(scope="session")
def lesson_runs() -> dict:
    """Each lesson's run, made the first time one of its cells is tested."""
    return {}


def _run(path: Path, runs: dict) -> runner.NotebookRun:
    if path not in runs:
        runs[path] = runner.run_notebook(path, output_dir=BUILD, with_solutions=True)
    return runs[path]


@pytest.mark.parametrize("path, copy, index, first", CELLS,
                         ids=[f"{p.stem[:2]}-{c}-cell{i}" for p, c, i, _ in CELLS])
def test_cell_runs(path, copy, index, first, lesson_runs):
    run = _run(path, lesson_runs)
    executed = nbformat.read(run.output if copy == "learner" else run.solved_output, as_version=4)
    cell = executed.cells[index]
    where = f"{path.name} ({copy} copy), cell {index} ({first[:60]!r})"
    assert runner.first_line(cell) == first, f"{where}: the executed copy has another cell here"
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            traceback = _ANSI.sub("", "\n".join(out.get("traceback", [])))
            pytest.fail(f"{where} raised {out.ename}: {out.evalue}\n{traceback}", pytrace=False)
    if cell.get("execution_count") is None:
        pytest.fail(f"{where} did not run: {run.error}", pytrace=False)


def test_the_reading_copy_is_built_from_the_same_runs_and_passes_its_audit(lesson_runs):
    from cnncourse.tooling.site import build_site
    from cnncourse.tooling.site_audit import audit_site

    for path in LESSONS:
        _run(path, lesson_runs)
    report = build_site(BUILD)
    stats: dict = {}
    assert audit_site(report.output_dir, BUILD, stats) == []
    assert stats["notebooks"] == len(LESSONS) and stats["claims"] > 0
