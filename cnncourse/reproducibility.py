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

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed
