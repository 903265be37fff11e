"""One seed function for every notebook."""

from __future__ import annotations

DEFAULT_SEED = 42


def set_seed(seed: int = DEFAULT_SEED, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow/Keras, and (by default) make TensorFlow's ops deterministic.

    Call it once at the top of a notebook; :func:`cnncourse.training.train_models`
    calls it again before building each model so that a model's result does not
    depend on what was trained before it.  Returns the seed.
    """
    import keras
    import tensorflow as tf

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
    from .profiles import thread_cap

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
    import os

    from .profiles import thread_cap

    try:
        cap = thread_cap()
    except ValueError:
        return None
    if cap is not None:
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(name, str(cap))
    return cap
