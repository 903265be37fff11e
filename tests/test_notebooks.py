"""Every lesson, executed once: its learner copy and its solved copy in one kernel.

The runner executes each lesson under the active profile (``smoke`` in the README's test command
and in CI), then, in the same kernel, the solved copy's exercises (``run_notebook(...,
with_solutions=True)``), and writes both executed copies to ``build/test-run/runs/NN_.../`` (the
solved one in ``solutions/``) with the lesson's ``metrics.json``.  The lessons run two at a time,
one TensorFlow thread each, in worker processes that start with the test session
(``conftest.pytest_collection_finish``), so that they execute while the unit tests run; a cell's
test waits for its lesson.

Each code cell of each copy is one test, as under ``pytest --nbval-lax``: it fails when the cell
raised (a wrong fact's ``assert``, a wrong solution's ``assert_correct()``), naming the lesson, the
copy, the cell and the error; a cell that did not run because an earlier one failed fails too,
pointing at that one.  The reading copy is built from the same executed copies and audited
(``site --check``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat
import pytest

from cnncourse.exercises.solve import solved_notebook
from cnncourse.tooling import runner

BUILD = Path(__file__).resolve().parent.parent / "build" / "test-run"
LESSONS = runner.find_notebooks()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cells() -> list[tuple[Path, str, int, str]]:
    """(lesson, copy, cell index, first line) of every code cell of every lesson's two copies."""
    cases = []
    for path in LESSONS:
        for copy, nb in (("learner", nbformat.read(path, as_version=4)), ("solved", solved_notebook(path))):
            cases += [(path, copy, i, runner.first_line(cell)) for i, cell in enumerate(nb.cells)
                      if cell.cell_type == "code"]
    return cases


CELLS = _cells()


_runs: dict = {}   # lesson path -> Future of its NotebookRun
_pool = None


def start_lesson_runs(paths) -> None:
    """Start running ``paths`` (the longest lessons first, by their recorded laptop time) in two
    worker processes, each into its own folder; called once the session knows its tests."""
    global _pool
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from cnncourse.tooling import bench

    seconds = {k: v.get("laptop", {}).get("seconds", 0) for k, v in bench.read_costs()["lessons"].items()}
    todo = sorted((p for p in set(paths) if p not in _runs), key=lambda p: -seconds.get(p.name[:2], 0))
    if not todo:
        return
    _pool = _pool or ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn"), initializer=_one_thread)
    for path in todo:
        _runs[path] = _pool.submit(runner.run_notebook, path, output_dir=BUILD / "runs" / path.stem,
                                   with_solutions=True)


def _one_thread() -> None:
    """A worker's kernels use one TensorFlow thread each (``CNNCOURSE_THREADS``, unless it is set):
    two lessons and the unit tests share the machine's cores, and oversubscribed threads only wait."""
    import os

    os.environ.setdefault("CNNCOURSE_THREADS", "1")


def stop_lesson_runs() -> None:
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)


def _run(path: Path) -> runner.NotebookRun:
    if path not in _runs:
        start_lesson_runs([path])
    return _runs[path].result()


@functools.lru_cache(maxsize=2)
def _executed(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path, copy, index, first", CELLS,
                         ids=[f"{p.stem[:2]}-{c}-cell{i}" for p, c, i, _ in CELLS])
def test_cell_runs(path, copy, index, first):
    run = _run(path)
    cell = _executed(run.output if copy == "learner" else run.solved_output).cells[index]
    where = f"{path.name} ({copy} copy), cell {index} ({first[:60]!r})"
    assert runner.first_line(cell) == first, f"{where}: the executed copy has another cell here"
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            traceback = _ANSI.sub("", "\n".join(out.get("traceback", [])))
            pytest.fail(f"{where} raised {out.ename}: {out.evalue}\n{traceback}", pytrace=False)
    if cell.get("execution_count") is None:
        pytest.fail(f"{where} did not run: {run.error}", pytrace=False)


def test_the_reading_copy_is_built_from_the_same_runs_and_passes_its_audit():
    import shutil

    from cnncourse.report import read_metrics, write_metrics
    from cnncourse.tooling.site import build_site
    from cnncourse.tooling.site_audit import audit_site

    metrics = {}
    for path in LESSONS:   # the lessons' executed copies and records, side by side as `run` leaves them
        run = _run(path)
        shutil.copyfile(run.output, BUILD / path.name)
        metrics.update(read_metrics(run.output.parent / "metrics.json"))
    write_metrics(BUILD / "metrics.json", metrics)
    report = build_site(BUILD)
    stats: dict = {}
    assert audit_site(report.output_dir, BUILD, stats) == []
    assert stats["notebooks"] == len(LESSONS) and stats["claims"] > 0
