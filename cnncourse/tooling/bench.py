"""How long each lesson takes on *this* machine: a short workload and the estimates scaled from it.

``python -m cnncourse doctor --bench`` times :func:`measure_workload` (about 20 s: a few
seconds of each kind of work the lessons do) and scales each lesson's measured run time by
the workload part most like that lesson's own work::

    estimate(lesson, here) = seconds(lesson, reference) * part(here) / part(reference)

The reference figures come from ``lesson_costs.json`` beside this module, which
``benchmarks/run_lessons.py --record-costs`` writes: the lesson's wall time and its kernel's
peak memory under a profile, and the workload timed on the same machine in the same session.
Lessons do not slow down alike from one machine to another (a machine with slow single-thread
Python hurts the many tiny steps of lesson 03 more than the convolutions of lesson 05), which
is why each lesson is scaled by its own kind of work and not by one speed number.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the workload's parts: what each times, and the lessons whose main work it is like
WORKLOAD_PARTS = {
    "mnist_convnet": "training a small CNN on 28x28 grey images (lessons 01, 02, 04)",
    "cifar_batchnorm_cnn": "training a 10-conv CIFAR-10 CNN with batch norm (lesson 05)",
    "mobilenet": "MobileNet features of 64 px images and a small CNN trained on 32 px ones (lesson 06)",
    "tiny_mlp": "many steps of a tiny MLP: Python and Keras overhead per step (lesson 03)",
    "umap": "UMAP of 1,000 points in 128 dimensions (lesson 04's embedding)",
}

#: which workload part scales which lesson (the kind of work its slowest cells do)
LESSON_PART = {
    "01": "mnist_convnet", "02": "mnist_convnet", "03": "tiny_mlp",
    "04": "mnist_convnet", "05": "cifar_batchnorm_cnn", "06": "mobilenet",
}

COSTS_FILE = Path(__file__).with_name("lesson_costs.json")


def _fastest_seconds(work: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timings of ``work()``.  Anything that disturbs a repeat (another
    program, a virtual CPU its host lends elsewhere: on the 2-core VM this was built on, the same
    pass took 0.35 s or 0.65 s from one repeat to the next) only makes it slower, so the fastest
    is what the machine can do, and it varies far less from run to run than one timing."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return float(min(times))


def _time_fit(model, x: np.ndarray, y: np.ndarray, batch_size: int, repeats: int = 12) -> float:
    """Seconds per pass of training ``model`` over (x, y): the fastest of ``repeats`` passes, after
    one untimed pass (which builds and traces the training step)."""
    from ..training import ArrayBatches

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    feed = ArrayBatches(x, y, batch_size, seed=0)
    model.fit(feed, epochs=1, verbose=0, shuffle=False)
    return _fastest_seconds(lambda: model.fit(feed, epochs=1, verbose=0, shuffle=False), repeats)


def _images(n: int, shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, 10, n)


def _mnist_convnet() -> float:
    from .. import models

    x, y = _images(256, (28, 28, 1))
    return _time_fit(models.build_mnist_base_cnn(), x, y, batch_size=32)


def _cifar_batchnorm_cnn() -> float:
    from .. import models

    x, y = _images(256, (32, 32, 3))
    return _time_fit(models.build_ablation_cnn(width=0.5, batch_norm=True, residual=True), x, y, batch_size=64)


def _mobilenet() -> float:
    from .. import models
    from ..training import ArrayBatches

    x, y = _images(512, (32, 32, 3))
    extractor = models.build_mobilenet_features(0.25, weights=None, image_size=64)
    feed = ArrayBatches(x, y, 64, shuffle=False)
    extractor.predict(feed, verbose=0)
    predict = _fastest_seconds(lambda: extractor.predict(feed, verbose=0), 12)
    return predict + _time_fit(models.build_simple_convnet(), x, y, batch_size=100)


def _tiny_mlp() -> float:
    from .. import models

    x, y = _images(8000, (10,))
    return _time_fit(models.build_regularized_mlp(10, 10), x, y, batch_size=32)


def _umap() -> float:
    from ..embedding import embed_epochs

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 128)).astype(np.float32)
    points = centres[rng.integers(0, 10, 1000)] + rng.normal(scale=0.7, size=(1000, 128)).astype(np.float32)
    embed_epochs({0: points[:200]}, align=False)   # compiles umap's numba functions (or loads them)
    return _fastest_seconds(lambda: embed_epochs({0: points}, align=False), 4)


_PARTS: dict[str, Callable[[], float]] = {
    "mnist_convnet": _mnist_convnet, "cifar_batchnorm_cnn": _cifar_batchnorm_cnn, "mobilenet": _mobilenet,
    "tiny_mlp": _tiny_mlp, "umap": _umap,
}


def measure_workload(*, progress: bool = True) -> dict[str, float]:
    """Time each part of the workload on this machine: {part: seconds of one repeat, the fastest of
    several} (about 20 s in all on a 2-core laptop CPU, warm-ups and imports included).  Seeds
    everything first, so the work is the same on every run."""
    from ..quiet import hide_tensorflow_logs
    from ..reproducibility import set_seed

    hide_tensorflow_logs()
    timings = {}
    for name, part in _PARTS.items():
        if progress:
            print(f"  timing {name:<20} ({WORKLOAD_PARTS[name]}) ...", end="", flush=True)
        set_seed(0)
        timings[name] = round(part(), 3)
        if progress:
            print(f" {timings[name]:.1f} s", flush=True)
    return timings


# ----------------------------------------------------------------------------- the costs file
def read_costs(path: str | Path | None = None) -> dict:
    """The recorded lesson costs: {"lessons": {lesson: {profile: {"seconds", "peak_mib",
    "workload", "measured", "machine"}}}} (empty "lessons" if there is no file)."""
    path = Path(path if path is not None else COSTS_FILE)
    if not path.is_file():
        return {"lessons": {}}
    return json.loads(path.read_text())


def record_cost(lesson: str, profile: str, *, seconds: float, peak_mib: float | None,
                workload: Mapping[str, float], machine: str, measured: str,
                path: str | Path | None = None) -> dict:
    """Add (or replace) one lesson's cost under ``profile`` in the costs file and return the file's
    content.  ``workload``: the workload's timings on the machine that ran the lesson, in the
    same session."""
    if lesson not in LESSON_PART:
        raise ValueError(f"unknown lesson {lesson!r}; lessons: {', '.join(LESSON_PART)}")
    missing = set(_PARTS) - set(workload)
    if missing:
        raise ValueError(f"the workload timings lack {sorted(missing)}")
    path = Path(path if path is not None else COSTS_FILE)
    costs = read_costs(path)
    costs.setdefault("lessons", {}).setdefault(lesson, {})[profile] = {
        "seconds": round(float(seconds), 1), "peak_mib": None if peak_mib is None else round(float(peak_mib)),
        "workload": {k: float(workload[k]) for k in _PARTS}, "machine": machine, "measured": measured,
    }
    costs["how"] = ("written by benchmarks/run_lessons.py --record-costs: each lesson's wall time and "
                    "kernel peak memory, with the workload (cnncourse.tooling.bench) timed in the same session")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(costs, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return costs


@dataclass
class Estimate:
    """One lesson's estimated cost on this machine under one profile."""

    lesson: str
    profile: str
    seconds: float        # estimated wall time here
    reference_seconds: float
    speed_ratio: float    # this machine's time for the lesson's workload part / the reference machine's
    peak_mib: float | None
    part: str

    @property
    def advice(self) -> str:
        """What a teacher should do with this lesson here, from its estimated time."""
        minutes = self.seconds / 60
        if minutes <= 5:
            return "runs while you introduce it"
        if minutes <= 15:
            return "start it, then teach: discuss the first figures while it trains"
        if minutes <= 40:
            return "start it before a break, or use the smoke profile in class"
        return "too long for a class slot here: run it beforehand, or use smoke and the reading copy"


def estimate(costs: Mapping, workload_here: Mapping[str, float]) -> list[Estimate]:
    """Each recorded (lesson, profile) scaled to this machine by its workload part (see the module's
    docstring).  ``costs``: :func:`read_costs`'s content; ``workload_here``: :func:`measure_workload`'s."""
    out = []
    for lesson, by_profile in sorted(costs.get("lessons", {}).items()):
        part = LESSON_PART[lesson]
        for profile, entry in by_profile.items():
            reference = float(entry["workload"][part])
            if reference <= 0 or workload_here.get(part, 0) <= 0:
                raise ValueError(f"workload part {part!r} has no positive timing")
            ratio = float(workload_here[part]) / reference
            out.append(Estimate(lesson, profile, float(entry["seconds"]) * ratio, float(entry["seconds"]),
                                ratio, entry.get("peak_mib"), part))
    order = {"smoke": 0, "laptop": 1, "full": 2}
    return sorted(out, key=lambda e: (e.lesson, order.get(e.profile, 9)))


def format_duration(seconds: float) -> str:
    """'45 s', '7 min', '1 h 05 min'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def format_estimates(estimates: list[Estimate], *, memory_limit_mib: float | None = None) -> str:
    """The table ``doctor --bench`` prints: lesson, profile, estimated time here, peak memory, advice."""
    lines = [f"{'lesson':<7}{'profile':<8}{'here (est.)':>12}{'measured on ref.':>18}{'peak memory':>13}  advice",
             "-" * 100]
    for e in estimates:
        memory = f"{e.peak_mib / 1024:.1f} GiB" if e.peak_mib else "?"
        advice = e.advice if e.profile == "laptop" else ""
        if memory_limit_mib and e.peak_mib and e.peak_mib > memory_limit_mib:
            advice = f"NEEDS {e.peak_mib / 1024:.1f} GiB, more than this machine has free; " + advice
        lines.append(f"{e.lesson:<7}{e.profile:<8}{format_duration(e.seconds):>12}"
                     f"{format_duration(e.reference_seconds):>18}{memory:>13}  {advice}")
    return "\n".join(lines)
