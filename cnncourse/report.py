"""Report a notebook's key numbers so that the runner and the benchmarks can show them.

``report_metric("mnist/model1/test_accuracy", 0.991)`` prints the value and,
when the notebook runs headless under ``python -m cnncourse run`` (which sets
``CNNCOURSE_METRICS`` to a JSON file such as ``build/metrics.json``), records it
there under the notebook's name.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

METRICS_ENV = "CNNCOURSE_METRICS"
NOTEBOOK_ENV = "CNNCOURSE_NOTEBOOK"


def report_metric(name: str, value: float, *, digits: int = 4) -> float:
    """Print ``name = value`` and record it in ``$CNNCOURSE_METRICS`` if that is set. Returns ``value``."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} is not a finite number: {value}")
    print(f"[metric] {name} = {value:.{digits}f}")
    path = os.environ.get(METRICS_ENV, "").strip()
    if path:
        notebook = os.environ.get(NOTEBOOK_ENV, "").strip() or "unnamed"
        metrics = read_metrics(path)
        metrics.setdefault(notebook, {})[name] = value
        write_metrics(path, metrics)
    return value


def read_metrics(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """The metrics recorded so far in ``path``: {notebook: {metric: value}} (empty if there is no file)."""
    p = Path(path)
    if not p.is_file():
        return {}
    return json.loads(p.read_text() or "{}")


def write_metrics(path: str | os.PathLike, metrics: dict[str, dict[str, float]]) -> None:
    """Write {notebook: {metric: value}} to ``path`` atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    tmp.replace(path)
