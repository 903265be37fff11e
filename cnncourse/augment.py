"""Training input pipelines: data augmentation with Keras preprocessing layers, and mixup,
both as tf.data transformations (lesson 05).

Keras 2's ``ImageDataGenerator`` is gone in Keras 3; its random rotations, shifts and
flips are preprocessing layers now, applied here to whole batches inside ``tf.data``
so that they run in the input pipeline, not in the model.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .data import as_float_pixels

def build_augmenter(
    *,
    rotation_degrees: float = 20.0,
    shift: float = 0.2,
    horizontal_flip: bool = True,
    seed: int = 0,
) -> keras.Sequential:
    """A Keras model of random image transformations for training batches (N, H, W, C); the defaults
    are article 002's ``ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
    height_shift_range=0.2, horizontal_flip=True)``.

    rotation_degrees : rotate by up to +/- this many degrees
    shift            : translate by up to this fraction of the width and of the height
    horizontal_flip  : mirror left-right half of the time
    Empty space is filled with the nearest edge pixel, as ImageDataGenerator did.
    Call it with ``training=True``; at inference it returns its input unchanged.
    """
    steps = []
    if horizontal_flip:
        steps.append(keras.layers.RandomFlip("horizontal", seed=seed, name="flip"))
    if rotation_degrees:
        steps.append(keras.layers.RandomRotation(rotation_degrees / 360.0, fill_mode="nearest", seed=seed + 1,
                                                 name="rotate"))
    if shift:
        steps.append(keras.layers.RandomTranslation(shift, shift, fill_mode="nearest", seed=seed + 2, name="shift"))
    if not steps:
        raise ValueError("an augmenter needs at least one transformation")
    return keras.Sequential(steps, name="augment")


def sample_mixup_weights(n: int, alpha: float, seed) -> tf.Tensor:
    """``n`` mixing weights drawn from Beta(alpha, alpha), reproducibly from ``seed``
    (two ints, as TensorFlow's stateless random ops take).  Returns float32, shape (n,)."""
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    a = tf.random.stateless_gamma([n], seed=seed, alpha=alpha)
    b = tf.random.stateless_gamma([n], seed=seed + tf.constant([0, 1], tf.int64) * 7919 + 1, alpha=alpha)
    return tf.cast(a / (a + b), tf.float32)


def mix_batches(images_a, labels_a, images_b, labels_b, weights):
    """Mixup of two batches: ``w * a + (1 - w) * b`` for images and for one-hot labels, one
    weight per example.  The mixed labels of each example still sum to 1."""
    w = tf.cast(weights, images_a.dtype)
    wx = tf.reshape(w, [-1] + [1] * (len(images_a.shape) - 1))
    wy = tf.reshape(tf.cast(weights, labels_a.dtype), [-1, 1])
    return wx * images_a + (1 - wx) * images_b, wy * labels_a + (1 - wy) * labels_b


def make_train_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    augmenter: keras.Model | None = None,
    mixup_alpha: float | None = None,
    seed: int = 0,
) -> tf.data.Dataset:
    """A shuffled, batched training ``tf.data.Dataset`` of (images, one-hot labels).

    x : float32 images (N, H, W, C) in [0, 1];  y : one-hot labels (N, classes)
    augmenter   : e.g. :func:`build_augmenter`'s model, applied to every batch
    mixup_alpha : when given, each batch is mixed with a second, independently
        shuffled batch with weights from Beta(alpha, alpha) (article 002: 0.2)
    The order, the augmentations and the mixing weights are reproducible from ``seed``.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 2:
        raise ValueError(f"labels must be one-hot (N, classes) for mixup and soft labels; got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")

    x = as_float_pixels(x)           # bytes (train_as_bytes) would reach the model unscaled

    def batches(shuffle_seed):
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=shuffle_seed,
                                                                reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        if augmenter is not None:
            ds = ds.map(lambda images, labels: (augmenter(images, training=True), labels),
                        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds

    ds = batches(seed)
    if mixup_alpha is not None:
        # one fresh random int per batch (new each epoch, the same on every run) seeds its weights
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        pairs = tf.data.Dataset.zip((ds, batches(seed + 1), keys))

        def mix(first, second, key):
            (xa, ya), (xb, yb) = first, second
            n = tf.minimum(tf.shape(xa)[0], tf.shape(xb)[0])
            w = sample_mixup_weights(n, mixup_alpha, tf.stack([tf.constant(seed, tf.int64), key]))
            return mix_batches(xa[:n], ya[:n], xb[:n], yb[:n], w)

        ds = pairs.map(mix, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
