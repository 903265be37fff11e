"""Run notebooks headless (``python -m cnncourse run``) and collect what they report."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..catalogue import repository_root
from ..claims import format_claims
from ..profiles import PROFILE_ENV, get_profile
from ..report import METRICS_ENV, NOTEBOOK_ENV, read_metrics, write_metrics
from .pool import record_run, run_record


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    output: Path
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    claims: list[dict] = field(default_factory=list)   # recorded verdicts (cnncourse.claims)
    slowest: list[dict] = field(default_factory=list)  # the slowest cells (see slowest_cells)
    peak_rss_mib: float | None = None   # the kernel's peak resident memory (Linux; None elsewhere)
    memory_cells: list[dict] = field(default_factory=list)  # the cells that raised that peak most
    solved_output: Path | None = None   # the executed solved copy (``with_solutions``)


def notebooks_dir() -> Path:
    """The course's ``notebooks/`` folder (the repository's, else ``./notebooks``)."""
    root = repository_root()
    return root / "notebooks" if root is not None else Path.cwd() / "notebooks"


def find_notebooks(names: Sequence[str] = ()) -> list[Path]:
    """Resolve notebook names to paths: a path, a file name, or a prefix such as '01'.

    No names means every numbered notebook.  An unknown name raises
    FileNotFoundError listing the notebooks there are.
    """
    folder = notebooks_dir()
    available = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            found.append(path)
            continue
        matches = [p for p in available if p.stem == name or p.stem.startswith(name)]
        if len(matches) != 1:
            listing = ", ".join(p.stem for p in available) or f"none in {folder}"
            problem = "matches several notebooks" if matches else "matches no notebook"
            raise FileNotFoundError(f"{name!r} {problem}; the notebooks are: {listing}")
        found.append(matches[0])
    return found


#: seconds allowed per cell when none is asked for, except under ``full`` (no limit there: lesson
#: 05 trains 8 models for 100 epochs in one cell)
DEFAULT_CELL_TIMEOUT_S = 3600


def current_python_kernel_manager():
    """A Jupyter kernel-manager class that starts ``ipykernel`` with this very interpreter (the one
    running ``cnncourse``), whatever kernels Jupyter has registered.  Pass it to nbclient as
    ``kernel_manager_class``, so that nbclient owns the kernel and shuts it down."""
    import sys

    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    spec = KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                      display_name=f"Python ({sys.executable})", language="python")

    class ThisPythonKernelManager(AsyncKernelManager):   # the kind nbclient drives
        @property
        def kernel_spec(self):
            return spec

    return ThisPythonKernelManager


def run_notebook(
    path: str | os.PathLike,
    *,
    profile: str | None = None,
    output_dir: str | os.PathLike = "build",
    timeout: int | None = None,
    with_solutions: bool = False,
) -> NotebookRun:
    """Execute one notebook in a fresh kernel and write the executed copy to ``output_dir``.

    ``with_solutions``: the same kernel then runs the lesson's solved exercises (the cells where
    the solved copy, :func:`cnncourse.exercises.solve.solved_notebook`, differs from the learner's,
    and the cells after them), and the executed solved copy -- the learner's executed cells above
    its exercises, then the solved ones -- is written to ``output_dir/solutions/``: the lesson runs
    once for both copies.

    The kernel runs on this interpreter and sees ``CNNCOURSE_PROFILE`` (when ``profile``
    is given) and ``CNNCOURSE_METRICS`` = ``output_dir/metrics.json``, so that
    :func:`cnncourse.report.report_metric` records the notebook's figures there.
    ``timeout``: seconds per cell (default :data:`DEFAULT_CELL_TIMEOUT_S`, none under ``full``).
    Any failure -- an exception in a cell, a timeout, a kernel that dies -- is returned as a
    ``failed`` run naming the cell (its index and first line) and the executed copy; the
    copy is written whatever happened.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path).resolve()
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = output_dir / "metrics.json"
    output = output_dir / path.name
    name = path.stem
    _forget_metrics(metrics_path, name)
    effective = get_profile(profile).name
    if timeout is None and effective != "full":
        timeout = DEFAULT_CELL_TIMEOUT_S

    nb = nbformat.read(path, as_version=4)
    learner_cells = len(nb.cells)
    solved_from = _append_solved_exercises(nb, path) if with_solutions else None
    env_before = {k: os.environ.get(k)
                  for k in (PROFILE_ENV, METRICS_ENV, NOTEBOOK_ENV, "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
    status, error, started = "ok", None, []
    peaks: list[tuple[int, float]] = []   # (cell index, the kernel's peak RSS after it, MiB)
    start = time.perf_counter()
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the log
        os.environ[PROFILE_ENV] = effective
        os.environ[METRICS_ENV] = str(metrics_path)
        os.environ[NOTEBOOK_ENV] = name
        os.environ.pop("MPLBACKEND", None)   # the kernel's own inline backend, so the executed copy has its figures
        client = NotebookClient(nb, timeout=timeout, kernel_manager_class=current_python_kernel_manager(),
                                resources={"metadata": {"path": str(path.parent)}},
                                on_cell_start=lambda cell, cell_index: started.append(cell_index))
        client.on_cell_executed = lambda cell, cell_index, **_: _note_peak(client, cell_index, peaks)
        client.execute()
    except Exception as err:  # noqa: BLE001 - a failed notebook is a result, not the end of `run`
        status, error = "failed", f"{_describe_failure(nb, err, started, learner_cells, solved_from)} (executed copy: {output})"
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    nb.metadata["cnncourse"] = {   # what the reading copy (python -m cnncourse site) says about this run
        "profile": effective, "status": status, "seconds": round(seconds, 1),
        "executed": time.strftime("%Y-%m-%d %H:%M"), "versions": package_versions(),
    }
    solved_output = None
    if solved_from is not None:
        solved = copy.deepcopy(nb)
        solved.cells = nb.cells[:solved_from] + nb.cells[learner_cells:]
        solved_output = output_dir / "solutions" / path.name
        solved_output.parent.mkdir(exist_ok=True)
        nbformat.write(solved, solved_output)
        nb.cells = nb.cells[:learner_cells]   # the learner's copy, whose code the record fingerprints
        peaks = [(i, peak) for i, peak in peaks if i < learner_cells]
    pooled_record = run_record(nb, effective, status)   # the seed, course version, lesson code: what `pool` compares
    entry = record_run(metrics_path, name, pooled_record)
    nb.metadata["cnncourse"].update(pooled_record, claims=entry.get("claims", []))
    nbformat.write(nb, output)
    return NotebookRun(name, status, seconds, output, entry.get("metrics", {}), error, entry.get("claims", []),
                       slowest_cells(nb), peaks[-1][1] if peaks else None, memory_cells(nb, peaks), solved_output)


def _append_solved_exercises(nb, path: Path) -> int:
    """Append to the learner's notebook ``nb`` the cells of its solved copy from the first one that
    differs (the first exercise's answer) to the end; return that cell's index in the solved copy."""
    from ..exercises.solve import solved_notebook

    solved = solved_notebook(path)
    same = [(a.cell_type, a.source) == (b.cell_type, b.source) for a, b in zip(nb.cells, solved.cells)]
    first = same.index(False) if False in same else min(len(nb.cells), len(solved.cells))
    nb.cells += [copy.deepcopy(cell) for cell in solved.cells[first:]]
    return first


def package_versions() -> dict[str, str]:
    """The versions a run used: Python, cnncourse, TensorFlow, Keras (read without importing them)."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for pkg in ("cnncourse", "tensorflow", "keras"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


def peak_rss_mib(pid: int) -> float | None:
    """The peak resident memory of process ``pid`` so far, in MiB (``VmHWM`` of ``/proc``; None
    where there is no ``/proc``, e.g. macOS and Windows)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _note_peak(client, cell_index: int, peaks: list) -> None:
    """After each cell: the kernel's peak RSS so far (nbclient's ``on_cell_executed`` hook)."""
    pid = getattr(getattr(getattr(client, "km", None), "provisioner", None), "pid", None)
    peak = peak_rss_mib(pid) if pid else None
    if peak is not None:
        peaks.append((cell_index, peak))


def memory_cells(nb, peaks: list[tuple[int, float]], n: int = 3) -> list[dict]:
    """The ``n`` cells that raised the kernel's peak memory most: index, the rise and the peak
    after the cell (MiB), first line.  ``peaks``: (cell index, peak after it) in execution order."""
    rises, before = [], 0.0
    for i, peak in peaks:
        rises.append({"cell": i, "rise_mib": round(peak - before), "peak_mib": round(peak),
                      "first_line": first_line(nb.cells[i])[:70]})
        before = peak
    return sorted(rises, key=lambda c: -c["rise_mib"])[:n]


def first_line(cell) -> str:
    """A cell's first non-blank line: how the runner names a cell."""
    return next((line for line in cell.source.splitlines() if line.strip()), "")


def _describe_failure(nb, err: Exception, started: Sequence[int], learner_cells: int | None = None,
                      solved_from: int | None = None) -> str:
    """What failed: the error (its last line) and the cell it happened in -- the last cell that
    started -- by index and first line (in the solved copy, for a cell past the learner's
    ``learner_cells`` when its solved exercises from ``solved_from`` were appended)."""
    ename = getattr(err, "ename", None) or type(err).__name__
    evalue = getattr(err, "evalue", None)
    if evalue is None:
        evalue = (str(err).strip().splitlines() or [""])[0]
    where = ""
    if started:
        i = started[-1]
        where = f" in cell {i} ({first_line(nb.cells[i])[:60]!r})"
        if solved_from is not None and i >= learner_cells:
            where = f" in the solved copy's cell {solved_from + i - learner_cells} ({first_line(nb.cells[i])[:60]!r})"
    return f"{ename}: {evalue}".strip() + where


def slowest_cells(nb, n: int = 3) -> list[dict]:
    """The ``n`` slowest code cells of an executed notebook (a NotebookNode or a path): index,
    seconds, first line; from the timings nbclient records in each cell's metadata."""
    import datetime

    import nbformat

    if not hasattr(nb, "cells"):
        nb = nbformat.read(nb, as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type != "code" or not (begin and end):
            continue
        seconds = (datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
                   - datetime.datetime.fromisoformat(begin.replace("Z", "+00:00"))).total_seconds()
        cells.append({"cell": i, "seconds": round(seconds, 1), "first_line": first_line(cell)[:70]})
    return sorted(cells, key=lambda c: -c["seconds"])[:n]


def _forget_metrics(metrics_path: Path, name: str) -> None:
    metrics = read_metrics(metrics_path)
    if metrics.pop(name, None) is not None:
        write_metrics(metrics_path, metrics)


def format_runs(runs: Sequence[NotebookRun]) -> str:
    """A plain-text table: notebook, status, wall time, then the metrics and claims each one reported."""
    header = f"{'notebook':<38} {'status':<7} {'wall time':>10}"
    lines = [header, "-" * len(header)]
    for run in runs:
        peak = f"  peak memory {run.peak_rss_mib:,.0f} MiB" if run.peak_rss_mib is not None else ""
        lines.append(f"{run.notebook:<38} {run.status:<7} {run.seconds:>9.1f}s{peak}")
        if run.error:
            lines.append(f"    error: {run.error}")
        lines += [f"    slow cell {c['cell']:>2}: {c['seconds']:>7.1f}s  {c['first_line']}" for c in run.slowest]
        lines += [f"    {name:<44} {value:.4f}" for name, value in run.metrics.items()]
        if run.claims:
            lines.append("  claims:")
            lines += format_claims(run.claims)
    return "\n".join(lines)
