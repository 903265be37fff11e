"""``python -m cnncourse doctor``: what the course will use on this machine, and where it comes from.

Each section prints its lines and returns the problems (the course cannot run) and warnings (it
runs, with less) it found; :func:`doctor` prints them together with the fixes and returns the exit
code.  ``--bench`` then times a short workload (:mod:`cnncourse.tooling.bench`) and estimates
every lesson's time and memory here.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .. import catalogue
from ..profiles import PROFILE_ENV, PROFILES, ProfileError, get_profile

REQUIRED_PACKAGES = (
    "tensorflow", "keras", "numpy", "pandas", "matplotlib", "seaborn", "umap-learn",
    "scikit-learn", "pillow", "pydot", "tqdm", "jupyterlab", "nbclient", "nbval",
)


@dataclass
class Findings:
    """What the sections found: ``problems`` stop the course, ``warnings`` make it run with less."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def report_packages(found: Findings) -> None:
    """The Python and the version of each package the course needs; Keras must be 3."""
    print(f"Python       {platform.python_version()} ({sys.executable})")
    for package in REQUIRED_PACKAGES:
        version = _installed_version(package)
        if version is None:
            found.problems.append(f"{package} is not installed. Fix: pip install -e . (from the course folder)")
        print(f"  {package:<13}{version or 'MISSING'}")
    keras_version = _installed_version("keras")
    if keras_version and int(keras_version.split(".")[0]) < 3:
        found.problems.append(f"Keras {keras_version} is installed; the course needs Keras 3. "
                              f"Fix: pip install -U 'keras>=3'")


def report_devices(found: Findings) -> None:
    """Graphviz (model diagrams) and the GPU TensorFlow sees."""
    from ..viz import graphviz_available

    if graphviz_available():
        print("Graphviz     found (model diagrams are drawn)")
    else:
        found.warnings.append("Graphviz/pydot not found: model diagrams fall back to text summaries. "
                              "Fix: conda install graphviz, or apt install graphviz")
        print("Graphviz     not found")
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        print(f"GPU          {', '.join(g.name for g in gpus) if gpus else 'none (CPU only: use the laptop or smoke profile)'}")
    except Exception as err:  # noqa: BLE001  (any failure to import TensorFlow is the finding)
        found.problems.append(f"TensorFlow does not import: {err}")


def report_profile(found: Findings) -> None:
    """The active run profile (``$CNNCOURSE_PROFILE``)."""
    try:
        profile = get_profile()
        print(f"Profile      {profile.name} ({PROFILE_ENV}; valid: {', '.join(PROFILES)})")
    except ProfileError as err:
        found.problems.append(str(err))


def report_data(found: Findings, *, offline: bool) -> None:
    """Where each dataset and weight file will be read from, and what would need a download
    (a problem when ``offline``, a warning otherwise)."""
    data_dir = catalogue.get_data_dir()
    keras_home = catalogue.get_keras_home()
    print(f"Data dir     {data_dir}  ({catalogue.DATA_ENV})")
    print(f"Keras cache  {keras_home}  (KERAS_HOME)")
    if keras_home.exists() and not os.access(keras_home, os.W_OK):
        found.problems.append(f"{keras_home} is not writable, so Keras ignores it and downloads instead. "
                              f"Fix: copy it to a writable folder and point KERAS_HOME there")
    needs_download = []
    for name in catalogue.DATASETS:
        keras_copy = catalogue.keras_cache_copy(name, keras_home)
        if not catalogue.missing_files(name):
            where = f"data directory ({catalogue.dataset_dir(name)})"
        elif keras_copy is not None:
            where = f"Keras cache ({keras_copy})"
        else:
            where = "MUST BE DOWNLOADED (not in the data directory nor the Keras cache)"
            needs_download.append(name)
        print(f"  {name:<14}{where}")
    for weights in catalogue.PRETRAINED_WEIGHTS:
        path = weights.cached_path(keras_home)
        if path.is_file():
            where = f"Keras cache ({path})"
        else:
            where = "MUST BE DOWNLOADED"
            needs_download.append(weights.label)
        print(f"  {weights.label:<40}{where}")
    if needs_download:
        message = (f"{len(needs_download)} item(s) must be downloaded before use: {', '.join(needs_download)}. "
                   f"Fix: run `python -m cnncourse fetch` while online")
        (found.problems if offline else found.warnings).append(message)


def doctor(offline: bool = False, bench: bool = False) -> int:
    """Print what the course will use and where it comes from; return the exit code (1 on a problem).
    ``bench``: then time a short workload and estimate each lesson's run time and memory here."""
    found = Findings()
    report_packages(found)
    report_devices(found)
    report_profile(found)
    report_data(found, offline=offline)
    for warning in found.warnings:
        print(f"WARNING: {warning}")
    for problem in found.problems:
        print(f"PROBLEM: {problem}")
    print("The course can run." if not found.problems else "The course cannot run as it is; see the fixes above.")
    if bench and not found.problems:
        print_bench()
    return 1 if found.problems else 0


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
