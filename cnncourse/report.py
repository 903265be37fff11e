"""Record a notebook's key numbers and claim verdicts so that the runner and the benchmarks can show them.

``report_metric("mnist/model1/test_accuracy", 0.991)`` records a value and
:func:`cnncourse.claims.check_greater` records a verdict.  When the notebook runs
headless under ``python -m cnncourse run`` (which sets ``CNNCOURSE_METRICS`` to a
JSON file such as ``build/metrics.json``), both land there under the notebook's name::

    {"01_cnn_basics": {"metrics": {"name": 0.99, ...},
                       "claims": [{"claim": ..., "outcome": "HOLDS", "difference": ..., ...}]}}

Outside the runner nothing is written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

METRICS_ENV = "CNNCOURSE_METRICS"
NOTEBOOK_ENV = "CNNCOURSE_NOTEBOOK"


def _metrics_path() -> str:
    return os.environ.get(METRICS_ENV, "").strip()


def _notebook_entry(metrics: dict, notebook: str | None = None) -> dict:
    name = notebook or os.environ.get(NOTEBOOK_ENV, "").strip() or "unnamed"
    entry = metrics.setdefault(name, {})
    entry.setdefault("metrics", {})
    entry.setdefault("claims", [])
    return entry


def report_metric(name: str, value: float, *, digits: int = 4) -> None:
    """Record ``name = value`` in ``$CNNCOURSE_METRICS`` if that is set, and print it (outside a notebook).

    Returns nothing, so that a cell ending with it shows no stray ``Out:`` value."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} is not a finite number: {value}")
    from .quiet import in_notebook_kernel

    if not in_notebook_kernel():   # a learner's notebook shows the lesson's own output, not bookkeeping
        print(f"[metric] {name} = {value:.{digits}f}")
    path = _metrics_path()
    if path:
        metrics = read_metrics(path)
        _notebook_entry(metrics)["metrics"][name] = value
        write_metrics(path, metrics)


def record_claim(record: dict) -> None:
    """Record one claim's verdict (a :meth:`cnncourse.claims.Verdict.as_record` dict) in
    ``$CNNCOURSE_METRICS`` if that is set; a verdict on the same claim text replaces the earlier one."""
    path = _metrics_path()
    if not path:
        return
    metrics = read_metrics(path)
    claims = _notebook_entry(metrics)["claims"]
    claims[:] = [c for c in claims if c.get("claim") != record["claim"]] + [record]
    write_metrics(path, metrics)


def read_metrics(path: str | os.PathLike) -> dict[str, dict]:
    """Everything recorded so far in ``path``: {notebook: {"metrics": {...}, "claims": [...]}}
    (empty if there is no file)."""
    p = Path(path)
    if not p.is_file():
        return {}
    return json.loads(p.read_text() or "{}")


def write_metrics(path: str | os.PathLike, metrics: dict[str, dict]) -> None:
    """Write the record to ``path`` atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    tmp.replace(path)
