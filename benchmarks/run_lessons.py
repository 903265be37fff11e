"""Benchmark lessons: run notebooks headless under a profile and record wall time,
peak memory, the slowest cells, the metrics each notebook reported (next to the
articles' figures) and its claims table (HOLDS / NOT SEEN / WITHIN NOISE).

    python benchmarks/run_lessons.py --profile laptop 01
    python benchmarks/run_lessons.py --profile smoke          # every notebook

Each notebook runs in its own child process (so that its peak memory is its
own), from a copy in a fresh temporary folder, so that no cache an earlier run left
(lesson 05's finished runs, lesson 06's features) is read: the times are a learner's
first run (``--warm`` runs the notebooks where they are, caches and all).  The results are
printed as a table and appended as one JSON line per notebook to ``build/benchmarks.jsonl``.

``--record-costs`` also times the workload of ``python -m cnncourse doctor --bench``
(:mod:`cnncourse.tooling.bench`) before and after the lessons, and writes each lesson's wall time
and peak memory with it to ``cnncourse/tooling/lesson_costs.json``, from which ``doctor --bench``
estimates each lesson's time on another machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnncourse import articles
from cnncourse.tooling import bench
from cnncourse.claims import format_claims
from cnncourse.tooling.runner import find_notebooks

# What each reported metric is compared with: (the article's figure, a pass test, what the test means).
ARTICLE_FIGURES = {
    **{
        f"mnist_{name.split(':')[0]}_test_accuracy": (
            acc, lambda v, a: v >= a - 0.015, "laptop target: within 1.5 points of the article")
        for name, (_, acc) in articles.LESSON01_MNIST_VARIANTS.items() if acc is not None
    },
    "mnist_test_accuracy_spread": (0.01, lambda v, a: v < a, "laptop target: spread across variants below 1 point"),
    "mnist_variants_overfit": (5, lambda v, a: v >= a, "laptop target: at least 5 of 6 overfit"),
    "best_transfer_minus_scratch_points": (10, lambda v, a: v >= a, "laptop target: at least 10 points"),
    "mnist_single_conv_test_accuracy": (
        articles.LESSON02_MNIST_SINGLE_CONV_ACCURACY, lambda v, a: v >= a - 0.01, "within 1 point of 'about 99%'"),
    "check_L1_units_using_signal": (
        articles.LESSON03_L1_UNITS_USING_SIGNAL, lambda v, a: v <= 2 * a, "a few units, as the article's 'about 5'"),
    "check_L1_noise_zero_fraction": (1.0, lambda v, a: v >= 0.95, "noise weights exactly zero"),
}


def _run_one(notebook: str, profile: str, output_dir: str, warm: bool) -> dict:
    """Run one notebook in this process; return its record (called in a child process)."""
    from cnncourse.tooling.runner import run_notebook

    if warm:
        run = run_notebook(notebook, profile=profile, output_dir=output_dir)
    else:   # a copy in a fresh folder: every cache the notebook keeps (under ./build) starts empty
        with tempfile.TemporaryDirectory(prefix="cnncourse_cold_") as folder:
            copy = Path(folder) / Path(notebook).name
            shutil.copy(notebook, copy)
            run = run_notebook(copy, profile=profile, output_dir=output_dir)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, a child of ours
    peak = run.peak_rss_mib if run.peak_rss_mib is not None else peak_kib / 1024
    return {
        "notebook": run.notebook, "profile": profile, "status": run.status, "error": run.error,
        "wall_s": round(run.seconds, 1), "kernel_peak_rss_mib": round(peak, 1),
        "memory_cells": run.memory_cells,
        "slowest_cells": run.slowest, "metrics": run.metrics, "claims": run.claims,
    }


def _workload() -> dict[str, float]:
    """Time doctor --bench's workload in a fresh process (as doctor does)."""
    proc = subprocess.run([sys.executable, __file__, "--workload"], capture_output=True, text=True, check=True)
    timings = json.loads([l for l in proc.stdout.splitlines() if l.startswith("RESULT ")][-1][len("RESULT "):])
    print("workload: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), flush=True)
    return timings


def _cpu_name() -> str:
    """The CPU's model name (Linux), else the platform's machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _record_costs(records: list[dict], profile: str, workloads: list[dict[str, float]]) -> None:
    """Write each finished lesson's cost, with the mean of the workload timed before and after."""
    mean = {k: sum(w[k] for w in workloads) / len(workloads) for k in workloads[0]}
    spread = {k: abs(workloads[0][k] - workloads[-1][k]) / mean[k] for k in mean}
    print("workload, before vs after the lessons: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in spread.items()))
    machine = f"{_cpu_name()}, {os.cpu_count()} CPUs"
    for r in records:
        if r["status"] == "ok":
            bench.record_cost(r["notebook"][:2], profile, seconds=r["wall_s"], peak_mib=r.get("kernel_peak_rss_mib"),
                              workload=mean, machine=machine, measured=time.strftime("%Y-%m-%d"))
    print(f"lesson costs written to {bench.COSTS_FILE}")


def _verdict(name: str, value: float) -> tuple[str, str]:
    if name not in ARTICLE_FIGURES:
        return "-", ""
    article, passes, rule = ARTICLE_FIGURES[name]
    return f"{article:.4f}", ("ok" if passes(value, article) else "MISSED") + f" ({rule})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="names or prefixes ('01'); default: all")
    parser.add_argument("--profile", default="laptop", choices=["smoke", "laptop", "full"])
    parser.add_argument("--output-dir", default="build/benchmarks")
    parser.add_argument("--warm", action="store_true",
                        help="run the notebooks in place, reusing their caches (default: cold, from a fresh folder)")
    parser.add_argument("--record-costs", action="store_true",
                        help=f"time doctor --bench's workload too and write the lessons' costs to {bench.COSTS_FILE}")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one notebook, print JSON
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)

    if args.one:
        print("RESULT " + json.dumps(_run_one(args.one, args.profile, args.output_dir, args.warm)))
        return 0
    if args.workload:
        print("RESULT " + json.dumps(bench.measure_workload(progress=False)))
        return 0
    if args.record_costs and args.warm:
        parser.error("--record-costs measures first runs: it cannot be combined with --warm")

    workloads = [_workload()] if args.record_costs else []
    records = []
    for path in find_notebooks(args.notebooks):
        print(f"running {path.name} under '{args.profile}' ...", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--one", str(path), "--profile", args.profile,
                               "--output-dir", args.output_dir] + (["--warm"] if args.warm else []),
                              capture_output=True, text=True)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if not lines:
            print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
            records.append({"notebook": path.stem, "status": "crashed", "wall_s": time.perf_counter() - start,
                            "metrics": {}})
            continue
        record = json.loads(lines[-1][len("RESULT "):])
        record.update(machine=f"{platform.machine()}, {os.cpu_count()} CPUs", date=time.strftime("%Y-%m-%d %H:%M"),
                      cnncourse_data=os.environ.get("CNNCOURSE_DATA", "(default)"))
        records.append(record)

    if args.record_costs:
        workloads.append(_workload())
        _record_costs(records, args.profile, workloads)

    out = Path("build") / "benchmarks.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")

    for r in records:
        print(f"\n{r['notebook']}  [{r['profile'] if 'profile' in r else args.profile}]  status={r['status']}  "
              f"wall={r['wall_s']:.0f}s  peak RSS={r.get('kernel_peak_rss_mib', float('nan')):.0f} MiB")
        if r.get("error"):
            print(f"  error: {r['error']}")
        for cell in r.get("slowest_cells", []):
            print(f"  slow cell {cell['cell']:>2}: {cell['seconds']:>6.1f}s  {cell['first_line']}")
        for cell in r.get("memory_cells", []):
            print(f"  memory cell {cell['cell']:>2}: +{cell['rise_mib']:>5} MiB to {cell['peak_mib']:>5} MiB  "
                  f"{cell['first_line']}")
        print(f"  {'metric':<40} {'yours':>8} {'article':>8}  verdict")
        for name, value in r["metrics"].items():
            article, verdict = _verdict(name, value)
            print(f"  {name:<40} {value:>8.4f} {article:>8}  {verdict}")
        print("  claims:")
        print("\n".join(format_claims(r.get("claims", []), indent="    ")))
    print(f"\nappended to {out}")
    return 0 if all(r["status"] == "ok" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
