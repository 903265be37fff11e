"""Run notebooks headless (``python -m cnncourse run``) and collect what they report."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .data import repository_root
from .profiles import PROFILE_ENV, get_profile
from .report import METRICS_ENV, NOTEBOOK_ENV, format_claims, read_metrics, write_metrics


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


def run_notebook(
    path: str | os.PathLike,
    *,
    profile: str | None = None,
    output_dir: str | os.PathLike = "build",
    timeout: int = 3600,
    kernel_name: str = "python3",
) -> NotebookRun:
    """Execute one notebook in a fresh kernel and write the executed copy to ``output_dir``.

    The kernel sees ``CNNCOURSE_PROFILE`` (when ``profile`` is given) and
    ``CNNCOURSE_METRICS`` = ``output_dir/metrics.json``, so that
    :func:`cnncourse.report.report_metric` records the notebook's figures there.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = output_dir / "metrics.json"
    name = path.stem
    _forget_metrics(metrics_path, name)

    env_before = {k: os.environ.get(k) for k in (PROFILE_ENV, METRICS_ENV, NOTEBOOK_ENV, "TF_CPP_MIN_LOG_LEVEL")}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the log
    if profile is not None:
        os.environ[PROFILE_ENV] = get_profile(profile).name
    os.environ[METRICS_ENV] = str(metrics_path)
    os.environ[NOTEBOOK_ENV] = name
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent)}})
    status, error = "ok", None
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        status, error = "failed", _last_error_line(err)
    except (CellTimeoutError, DeadKernelError) as err:
        status, error = "failed", f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    output = output_dir / path.name
    nbformat.write(nb, output)
    entry = read_metrics(metrics_path).get(name, {})
    return NotebookRun(name, status, seconds, output, entry.get("metrics", {}), error, entry.get("claims", []))


def _forget_metrics(metrics_path: Path, name: str) -> None:
    metrics = read_metrics(metrics_path)
    if metrics.pop(name, None) is not None:
        write_metrics(metrics_path, metrics)


def _last_error_line(err: Exception) -> str:
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", "")
    return f"{ename}: {evalue}".strip()


def format_runs(runs: Sequence[NotebookRun]) -> str:
    """A plain-text table: notebook, status, wall time, then the metrics and claims each one reported."""
    header = f"{'notebook':<38} {'status':<7} {'wall time':>10}"
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(f"{run.notebook:<38} {run.status:<7} {run.seconds:>9.1f}s")
        if run.error:
            lines.append(f"    error: {run.error}")
        lines += [f"    {name:<44} {value:.4f}" for name, value in run.metrics.items()]
        if run.claims:
            lines.append("  claims:")
            lines += format_claims(run.claims)
    return "\n".join(lines)
