"""One seed function for every notebook, the run's seed (``CNNCOURSE_SEED``), and the CPU thread
cap (``CNNCOURSE_THREADS``).

Unset, every lesson runs with the course's seed, 42, and repeats the run its text describes.  A
learner (or the class server) can give a run a seed of its own: ``CNNCOURSE_SEED=7``, or a name,
``CNNCOURSE_SEED=ada``, which is hashed to a number.  Every seed a lesson uses derives from it: a
seed that the default run uses, ``s`` (42, and 43, 44 for lessons that repeat a run), becomes
``s - 42 + seed`` (modulo 2**31), so that seed 42 is the default run itself.  A class that pools its
runs (``python -m cnncourse pool``) wants seeds at least 10 apart, or names: a lesson that repeats
its runs uses ``seed``, ``seed + 1`` and ``seed + 2``.
"""

from __future__ import annotations

import hashlib
import os
import re

#: caps the CPU threads TensorFlow uses per kernel (for shared class servers); unset: all cores
THREADS_ENV = "CNNCOURSE_THREADS"


def thread_cap() -> int | None:
    """The number of threads each notebook's TensorFlow may use (``$CNNCOURSE_THREADS``), or None for
    TensorFlow's default (every core).  A value that is not a positive integer raises ValueError."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive whole number of threads, got {raw!r}")
    return int(raw)


DEFAULT_SEED = 42
#: the run's seed: a whole number in [0, 2**31) or a name (letters first), hashed to one
SEED_ENV = "CNNCOURSE_SEED"
SEED_LIMIT = 2**31
_NAME = re.compile(r"^[^\W\d_][\w .'-]*$")


class SeedError(ValueError):
    """``$CNNCOURSE_SEED`` is neither a whole number in [0, 2**31) nor a name."""


def run_seed(raw: str | None = None) -> tuple[int, str]:
    """The run's seed and where it comes from: ``(42, "the course's default")`` when
    ``$CNNCOURSE_SEED`` (or ``raw``) is unset or blank; a whole number as it is; a name (starting with
    a letter: letters, digits, spaces, ``.'-_``; case ignored) hashed to a number below 2**31.
    Anything else raises :class:`SeedError` saying what is allowed."""
    text = (os.environ.get(SEED_ENV, "") if raw is None else raw).strip()
    if not text:
        return DEFAULT_SEED, "the course's default"
    if text.isdigit() and text.isascii():
        seed = int(text)
        if seed < SEED_LIMIT:
            return seed, f"{SEED_ENV}={text}"
    elif _NAME.match(text):
        name = " ".join(text.lower().split())
        seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % SEED_LIMIT
        return seed, f"{SEED_ENV}={text!r}, hashed"
    raise SeedError(f"{SEED_ENV} must be a whole number from 0 to {SEED_LIMIT - 1} or a learner's name (starting "
                    f"with a letter), got {text!r}; unset it for the course's seed, {DEFAULT_SEED}")


def derive_seed(default_run_seed: int, seed: int) -> int:
    """The seed this run uses where the default run (seed 42) uses ``default_run_seed``."""
    return (default_run_seed - DEFAULT_SEED + seed) % SEED_LIMIT


def set_seed(seed: int | None = None, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow/Keras, and (by default) make TensorFlow's ops deterministic.

    ``seed`` None: the run's seed (:func:`run_seed`).  Call it once at the top of a notebook
    (with ``profile.seed``); :func:`cnncourse.training.train_models`
    calls it again before building each model so that a model's result does not
    depend on what was trained before it.  Returns the seed.
    """
    import keras
    import tensorflow as tf

    if seed is None:
        seed = run_seed()[0]
    apply_thread_cap()
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed


def apply_thread_cap() -> int | None:
    """Limit TensorFlow to ``$CNNCOURSE_THREADS`` threads (within and across ops), when set; returns the
    cap.  Takes effect only before TensorFlow runs its first op, which is why :func:`set_seed` (the
    first call of every notebook) calls it; importing :mod:`cnncourse` also sets TensorFlow's and
    OpenMP's thread variables for it."""
    cap = thread_cap()
    if cap is None:
        return None
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(cap)
        tf.config.threading.set_inter_op_parallelism_threads(cap)
    except RuntimeError:   # TensorFlow already running: the environment variables set at import still hold
        pass
    return cap


def export_thread_cap() -> int | None:
    """With ``$CNNCOURSE_THREADS`` set, tell TensorFlow and OpenMP through their own environment
    variables, before either starts (importing :mod:`cnncourse` calls it); returns the cap.  A value
    that is not a positive whole number is left for :func:`apply_thread_cap` (called by
    :func:`set_seed`, a notebook's first call) to report: an import does not fail on it."""
    try:
        cap = thread_cap()
    except ValueError:
        return None
    if cap is not None:
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(name, str(cap))
    return cap
