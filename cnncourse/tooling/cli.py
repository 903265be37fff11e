"""``python -m cnncourse``: the course's command line, one function per command.

=============  ==========================================================================
``doctor``     what is installed, the profile, where each dataset and weight comes from;
               ``--offline`` fails on anything that needs a download, ``--bench`` estimates
               each lesson's time and memory here
``fetch``      download every dataset and pretrained weight the course uses, checked
``run``        execute notebooks headless; executed copies and ``metrics.json`` in ``build/``;
               ``--with-solutions`` also runs the solved exercises, in the same kernel
``pool``       many learners' runs (``metrics.json``, executed notebooks): each claim's verdict over
               the class, into ``pooled.md`` and ``pooled.json`` (the reading copy shows the latter)
``solutions``  the lessons with every exercise solved, for teachers (``build/solutions/``), in
               nbgrader's source format or, with ``--format otter``, otter-grader's
``site``       the reading copy from what ``run`` left; ``--check`` audits it
``colab``      every notebook's Colab address; ``--sync`` rewrites their first cell and badge
=============  ==========================================================================

A mistake in what was asked (an unknown profile or lesson, a bad environment variable, runs that
cannot be pooled) prints one line, ``python -m cnncourse COMMAND: error: ...``, and exits with 2.
"""

from __future__ import annotations

import argparse
import sys

from .. import catalogue
from ..exercises.solve import FORMATS
from ..profiles import PROFILE_ENV, PROFILES

PROG = "python -m cnncourse"


# ----------------------------------------------------------------------------- the commands
def doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor as run_doctor

    return run_doctor(offline=args.offline, bench=args.bench)


def fetch(args: argparse.Namespace) -> int:
    from ..download import fetch_all

    try:
        fetch_all(args.data_dir, datasets=args.datasets, weights=not args.no_weights)
    except catalogue.DataError as err:
        print(f"fetch failed: {err}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile
    from .runner import find_notebooks, format_runs, run_notebook

    get_profile(args.profile)   # an unknown $CNNCOURSE_PROFILE or a bad $CNNCOURSE_SEED stops here, before any kernel
    runs = []
    for path in find_notebooks(args.notebooks):
        print(f"running {path.name} ...", flush=True)
        runs.append(run_notebook(path, profile=args.profile, output_dir=args.output_dir, timeout=args.timeout,
                                 with_solutions=args.with_solutions))
    print(format_runs(runs))
    return 0 if all(r.status == "ok" for r in runs) else 1


def pool(args: argparse.Namespace) -> int:
    from .pool import main as pool_main

    return pool_main(args.paths, args.output_dir)


def solutions(args: argparse.Namespace) -> int:
    """Write the solved copy of each lesson asked for (default: every lesson that has exercises)."""
    from ..exercises.solve import lesson_exercises, lessons_with_exercises, solve_notebook
    from .runner import find_notebooks

    for lesson in args.lessons or lessons_with_exercises():
        exercises = lesson_exercises(lesson)
        (path,) = find_notebooks([lesson])
        out = solve_notebook(path, args.output_dir, args.format)
        print(f"{out}: {len(exercises)} exercises solved")
    return 0


def site(args: argparse.Namespace) -> int:
    """Build the reading copy from the executed notebooks; with ``--check``, audit it too."""
    from .site import build_site
    from .site_audit import audit_site

    report = build_site(args.executed_dir, args.output_dir)
    print(f"{len(report.pages)} pages, {report.total_bytes / 2**20:.1f} MiB in all (largest "
          f"{max(report.pages.values()) / 2**20:.1f} MiB), in {report.seconds:.1f} s: {report.output_dir / 'index.html'}")
    if not args.check:
        return 0
    stats: dict = {}
    problems = audit_site(report.output_dir, args.executed_dir, stats)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"site check: {stats['pages']} pages for {stats['notebooks']} notebooks, {stats['internal_links']} "
          f"internal links and downloads resolved, {stats['embedded_images']} embedded images, "
          f"{stats['outside_links']} outside links (not followed), {stats['claims']} claims in the tables: "
          + (f"{len(problems)} problem(s)" if problems else "no problem"))
    return 1 if problems else 0


def colab(args: argparse.Namespace) -> int:
    from .. import colab as colab_links
    from .colab_sync import sync_notebook
    from .runner import find_notebooks

    for path in find_notebooks():
        changed = sync_notebook(path) if args.sync else None
        state = {True: "updated", False: "up to date", None: ""}[changed]
        print(f"{path.name:<40} {colab_links.colab_url(path.name)} {state}".rstrip())
    return 0


# ----------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The cnncourse command line: " + ", ".join(
        ("doctor", "fetch", "run", "pool", "solutions", "site", "colab")) + ".")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check the installation, the data and the weights")
    p.add_argument("--offline", action="store_true",
                   help="treat anything that would need a download as a problem (for offline labs)")
    p.add_argument("--bench", action="store_true",
                   help="then time a short workload (~30 s) and estimate each lesson's run time and memory here")
    p.set_defaults(func=doctor)

    p = sub.add_parser("fetch", help="download every dataset and weight the course uses")
    p.add_argument("--datasets", nargs="*", choices=list(catalogue.DATASETS), default=None,
                   help="only these datasets (default: all)")
    p.add_argument("--no-weights", action="store_true", help="skip the pretrained weights")
    p.add_argument("--data-dir", default=None, help=f"override ${catalogue.DATA_ENV}")
    p.set_defaults(func=fetch)

    p = sub.add_parser("run", help="execute notebooks headless and print their metrics")
    p.add_argument("notebooks", nargs="*", help="names, prefixes ('01') or paths; default: all")
    p.add_argument("--profile", choices=list(PROFILES), default=None,
                   help=f"run profile (default: ${PROFILE_ENV} or laptop)")
    p.add_argument("--output-dir", default="build", help="where executed copies go (default: build)")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds allowed per cell (default: 3600; no limit under the full profile)")
    p.add_argument("--with-solutions", action="store_true",
                   help="then run the solved exercises in the same kernel; executed solved copies in OUTPUT_DIR/solutions")
    p.set_defaults(func=run)

    p = sub.add_parser("pool", help="pool many learners' runs (metrics.json files or executed notebooks): "
                                    "each claim's verdict over the class")
    p.add_argument("paths", nargs="+", help="metrics.json files, executed notebooks, or folders holding them")
    p.add_argument("--output-dir", default="build",
                   help="where pooled.md and pooled.json go, for `site` to show (default: build)")
    p.set_defaults(func=pool)

    p = sub.add_parser("solutions", help="write copies of lessons with every exercise solved (for teachers)")
    p.add_argument("lessons", nargs="*", help="lesson numbers ('01'); default: every lesson with exercises")
    p.add_argument("--output-dir", default="build/solutions", help="where the copies go (default: build/solutions)")
    p.add_argument("--format", choices=FORMATS, default="nbgrader",
                   help="the grader's source format (default: nbgrader; otter: otter-grader's assign format)")
    p.set_defaults(func=solutions)

    p = sub.add_parser("site", help="render the executed notebooks that `run` left into a static reading copy")
    p.add_argument("--executed-dir", default="build", help="where `run` left them (default: build)")
    p.add_argument("--output-dir", default=None, help="where the pages go (default: EXECUTED_DIR/site)")
    p.add_argument("--check", action="store_true",
                   help="then check the site (pages, links, animation, claims, sizes); exit 1 on a problem")
    p.set_defaults(func=site)

    p = sub.add_parser("colab", help="the notebooks' Colab cell and badges")
    p.add_argument("--sync", action="store_true",
                   help="rewrite every notebook's first cell and badge from cnncourse/colab.py's repository and ref")
    p.set_defaults(func=colab)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, KeyError, ValueError) as err:   # ValueError: ProfileError, SeedError too
        # what was asked is wrong (a profile, a lesson, a setting): say so in one line, no traceback
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2
