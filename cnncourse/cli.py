"""``python -m cnncourse``: doctor, fetch, run, pool, solutions, site, colab."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from . import data
from .download import PRETRAINED_WEIGHTS, fetch_all
from .profiles import PROFILE_ENV, PROFILES, ProfileError, get_profile

REQUIRED_PACKAGES = (
    "tensorflow", "keras", "numpy", "pandas", "matplotlib", "seaborn", "umap-learn",
    "scikit-learn", "pillow", "pydot", "tqdm", "jupyterlab", "nbclient", "nbval",
)


# ----------------------------------------------------------------------------- doctor
def _keras_cache_location(name: str, keras_home: Path) -> Path | None:
    datasets = keras_home / "datasets"
    candidates = {
        "mnist": [datasets / "mnist.npz"],
        "fashion_mnist": [datasets / "fashion-mnist" / "train-images-idx3-ubyte.gz"],
        "cifar10": [datasets / "cifar-10-batches-py-target_archive", datasets / "cifar-10-batches-py-target"],
    }[name]
    return next((p for p in candidates if p.exists()), None)


def doctor(offline: bool = False, bench: bool = False) -> int:
    """Print what the course will use and where it comes from; return the exit code.  ``bench``:
    then time a short workload and estimate each lesson's run time and memory here."""
    problems: list[str] = []
    warnings: list[str] = []
    print(f"Python       {platform.python_version()} ({sys.executable})")
    for pkg in REQUIRED_PACKAGES:
        try:
            version = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            version = "MISSING"
            problems.append(f"{pkg} is not installed. Fix: pip install -e . (from the course folder)")
        print(f"  {pkg:<13}{version}")
    keras_version = _safe_version("keras")
    if keras_version and int(keras_version.split(".")[0]) < 3:
        problems.append(f"Keras {keras_version} is installed; the course needs Keras 3. Fix: pip install -U 'keras>=3'")

    from .viz import graphviz_available

    if graphviz_available():
        print("Graphviz     found (model diagrams are drawn)")
    else:
        warnings.append("Graphviz/pydot not found: model diagrams fall back to text summaries. "
                        "Fix: conda install graphviz, or apt install graphviz")
        print("Graphviz     not found")

    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        print(f"GPU          {', '.join(g.name for g in gpus) if gpus else 'none (CPU only: use the laptop or smoke profile)'}")
    except Exception as err:  # noqa: BLE001
        problems.append(f"TensorFlow does not import: {err}")

    try:
        profile = get_profile()
        print(f"Profile      {profile.name} ({PROFILE_ENV}; valid: {', '.join(PROFILES)})")
    except ProfileError as err:
        problems.append(str(err))

    data_dir = data.get_data_dir()
    keras_home = data.get_keras_home()
    print(f"Data dir     {data_dir}  ({data.DATA_ENV})")
    print(f"Keras cache  {keras_home}  (KERAS_HOME)")
    if keras_home.exists() and not os.access(keras_home, os.W_OK):
        problems.append(f"{keras_home} is not writable, so Keras ignores it and downloads instead. "
                        f"Fix: copy it to a writable folder and point KERAS_HOME there")
    needs_download = []
    for name in data.DATASETS:
        missing = data.missing_files(name)
        cached = _keras_cache_location(name, keras_home)
        if not missing:
            where = f"data directory ({data.dataset_dir(name)})"
        elif cached is not None:
            where = f"Keras cache ({cached})"
        else:
            where = "MUST BE DOWNLOADED (not in the data directory nor the Keras cache)"
            needs_download.append(name)
        print(f"  {name:<14}{where}")
    for w in PRETRAINED_WEIGHTS:
        path = w.cached_path(keras_home)
        if path.is_file():
            where = f"Keras cache ({path})"
        else:
            where = "MUST BE DOWNLOADED"
            needs_download.append(w.label)
        print(f"  {w.label:<40}{where}")
    if needs_download:
        msg = (f"{len(needs_download)} item(s) must be downloaded before use: {', '.join(needs_download)}. "
               f"Fix: run `python -m cnncourse fetch` while online")
        (problems if offline else warnings).append(msg)

    for w in warnings:
        print(f"WARNING: {w}")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("The course can run." if not problems else "The course cannot run as it is; see the fixes above.")
    if bench and not problems:
        print_bench()
    return 1 if problems else 0


def available_memory_mib() -> float | None:
    """The memory a kernel started here can use, in MiB: the container's limit (cgroup) if one is
    set, else the memory the system has available; None where neither can be read."""
    limits = []
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(int(text) / 2**20)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return min(limits) if limits else None


def print_bench() -> None:
    """``doctor --bench``: time the workload, then print each lesson's estimated time and memory here."""
    from . import bench

    costs = bench.read_costs()
    if not costs.get("lessons"):
        print(f"No lesson costs recorded ({bench.COSTS_FILE} is missing): run "
              f"`python benchmarks/run_lessons.py --profile laptop --record-costs` on any machine first.")
        return
    print("\nTiming a short workload (about 30 s; the first time also compiles UMAP's functions) ...")
    here = bench.measure_workload()
    estimates = bench.estimate(costs, here)
    reference = next(iter(next(iter(costs["lessons"].values())).values()))
    print(f"\nEstimated run time of each lesson here (first run; a second run of lessons 05 and 06 reads "
          f"caches),\nscaled from times measured on {reference['machine']} ({reference['measured']}):")
    memory = available_memory_mib()
    print(bench.format_estimates(estimates, memory_limit_mib=memory))
    if memory is not None:
        print(f"Memory a kernel can use here: {memory / 1024:.1f} GiB.")
    print("The 'full' profile (the articles' settings) is meant for a GPU and is not estimated.")


def _safe_version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


# ----------------------------------------------------------------------------- main
def solutions(lessons: list[str], output_dir: str) -> int:
    """Write the solved copy of each lesson in ``lessons`` (default: all that have exercises)."""
    from pathlib import Path

    from .exercises.solve import lesson_exercises, solve_notebook
    from .runner import find_notebooks

    if not lessons:
        lessons = sorted(p.stem.removeprefix("lesson")
                         for p in (Path(__file__).parent / "exercises").glob("lesson[0-9][0-9].py"))
    try:
        for lesson in lessons:
            lesson_exercises(lesson)
            (path,) = find_notebooks([lesson])
            out = solve_notebook(path, output_dir)
            print(f"{out}: {len(lesson_exercises(lesson))} exercises solved")
    except (KeyError, ValueError, FileNotFoundError) as err:
        print(f"solutions: {err.args[0] if isinstance(err, KeyError) else err}", file=sys.stderr)
        return 2
    return 0


def site(executed_dir: str, output_dir: str | None, *, check: bool) -> int:
    """Build the reading copy from the executed notebooks; with ``check``, check it too."""
    from .site import build_site, check_site

    try:
        report = build_site(executed_dir, output_dir)
    except FileNotFoundError as err:
        print(f"site: {err}", file=sys.stderr)
        return 2
    print(f"{len(report.pages)} pages, {report.total_bytes / 2**20:.1f} MiB in all (largest "
          f"{max(report.pages.values()) / 2**20:.1f} MiB), in {report.seconds:.1f} s: {report.output_dir / 'index.html'}")
    if not check:
        return 0
    stats: dict = {}
    problems = check_site(report.output_dir, executed_dir, stats)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"site check: {stats['pages']} pages for {stats['notebooks']} notebooks, {stats['internal_links']} "
          f"internal links and downloads resolved, {stats['embedded_images']} embedded images, "
          f"{stats['outside_links']} outside links (not followed), {stats['claims']} claims in the tables: "
          + (f"{len(problems)} problem(s)" if problems else "no problem"))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnncourse", description="The cnncourse command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_doc = sub.add_parser("doctor", help="check the installation, the data and the weights")
    p_doc.add_argument("--offline", action="store_true",
                       help="treat anything that would need a download as a problem (for offline labs)")
    p_doc.add_argument("--bench", action="store_true",
                       help="then time a short workload (~30 s) and estimate each lesson's run time and memory here")

    p_fetch = sub.add_parser("fetch", help="download every dataset and weight the course uses")
    p_fetch.add_argument("--datasets", nargs="*", choices=list(data.DATASETS), default=None,
                         help="only these datasets (default: all)")
    p_fetch.add_argument("--no-weights", action="store_true", help="skip the pretrained weights")
    p_fetch.add_argument("--data-dir", default=None, help=f"override ${data.DATA_ENV}")

    p_run = sub.add_parser("run", help="execute notebooks headless and print their metrics")
    p_run.add_argument("notebooks", nargs="*", help="names, prefixes ('01') or paths; default: all")
    p_run.add_argument("--profile", choices=list(PROFILES), default=None,
                       help=f"run profile (default: ${PROFILE_ENV} or laptop)")
    p_run.add_argument("--output-dir", default="build", help="where executed copies go (default: build)")
    p_run.add_argument("--timeout", type=int, default=None,
                       help="seconds allowed per cell (default: 3600; no limit under the full profile)")

    p_pool = sub.add_parser("pool", help="pool many learners' runs (metrics.json files or executed notebooks): "
                                         "each claim's verdict over the class")
    p_pool.add_argument("paths", nargs="+", help="metrics.json files, executed notebooks, or folders holding them")
    p_pool.add_argument("--output-dir", default="build",
                        help="where pooled.md and pooled.json go, for `site` to show (default: build)")

    p_sol = sub.add_parser("solutions", help="write copies of lessons with every exercise solved (for teachers)")
    p_sol.add_argument("lessons", nargs="*", help="lesson numbers ('01'); default: every lesson with exercises")
    p_sol.add_argument("--output-dir", default="build/solutions", help="where the copies go (default: build/solutions)")

    p_site = sub.add_parser("site", help="render the executed notebooks that `run` left into a static reading copy")
    p_site.add_argument("--executed-dir", default="build", help="where `run` left them (default: build)")
    p_site.add_argument("--output-dir", default=None, help="where the pages go (default: EXECUTED_DIR/site)")
    p_site.add_argument("--check", action="store_true",
                        help="then check the site (pages, links, animation, claims, sizes); exit 1 on a problem")

    p_colab = sub.add_parser("colab", help="the notebooks' Colab cell and badges")
    p_colab.add_argument("--sync", action="store_true",
                         help="rewrite every notebook's first cell and badge from cnncourse/colab.py's repository and ref")

    args = parser.parse_args(argv)
    if args.command == "site":
        return site(args.executed_dir, args.output_dir, check=args.check)
    if args.command == "colab":
        from . import colab
        from .runner import find_notebooks

        for path in find_notebooks():
            changed = colab.sync_notebook(path) if args.sync else None
            state = {True: "updated", False: "up to date", None: ""}[changed]
            print(f"{path.name:<40} {colab.colab_url(path.name)} {state}".rstrip())
        return 0
    if args.command == "doctor":
        return doctor(offline=args.offline, bench=args.bench)
    if args.command == "fetch":
        try:
            fetch_all(args.data_dir, datasets=args.datasets, weights=not args.no_weights)
        except data.DataError as err:
            print(f"fetch failed: {err}", file=sys.stderr)
            return 1
        return 0
    if args.command == "solutions":
        return solutions(args.lessons, args.output_dir)
    if args.command == "pool":
        from .pool import main as pool_main

        return pool_main(args.paths, args.output_dir)
    if args.command == "run":
        from .runner import find_notebooks, format_runs, run_notebook

        try:
            paths = find_notebooks(args.notebooks)
            get_profile(args.profile)   # a bad CNNCOURSE_SEED (or profile) stops here, before any kernel starts
        except (FileNotFoundError, ValueError) as err:
            print(err, file=sys.stderr)
            return 2
        runs = []
        for path in paths:
            print(f"running {path.name} ...", flush=True)
            runs.append(run_notebook(path, profile=args.profile, output_dir=args.output_dir,
                                     timeout=args.timeout))
        print(format_runs(runs))
        return 0 if all(r.status == "ok" for r in runs) else 1
    return 2  # pragma: no cover - argparse rejects anything else
