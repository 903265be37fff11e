"""Augmentation and mixup pipelines (lesson 05) on small synthetic images."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cnncourse import augment


def _images(n=40, size=8, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, size, size, 3)).astype("float32")
    y = np.eye(classes, dtype="float32")[np.arange(n) % classes]
    return x, y


def test_mixup_weights_follow_beta_alpha_alpha():
    alpha = 0.2
    w = augment.sample_mixup_weights(4000, alpha, [42, 0]).numpy()
    assert w.shape == (4000,) and w.min() >= 0 and w.max() <= 1
    # Kolmogorov-Smirnov against Beta(0.2, 0.2): fixed seed, so the p-value is fixed too
    assert stats.kstest(w, stats.beta(alpha, alpha).cdf).pvalue > 0.05
    # and not against a clearly different law (Beta(1, 1) = uniform)
    assert stats.kstest(w, stats.beta(1.0, 1.0).cdf).pvalue < 1e-6
    np.testing.assert_array_equal(w, augment.sample_mixup_weights(4000, alpha, [42, 0]).numpy())
    with pytest.raises(ValueError, match="alpha must be positive"):
        augment.sample_mixup_weights(3, 0.0, [0, 0])


def test_mix_batches_is_a_convex_combination_and_labels_sum_to_one():
    x, y = _images(n=6)
    w = np.array([0.0, 1.0, 0.5, 0.25, 0.9, 0.1], dtype="float32")
    mx, my = augment.mix_batches(x, y, x[::-1], y[::-1], w)
    np.testing.assert_allclose(mx[0], x[::-1][0])
    np.testing.assert_allclose(mx[1], x[1])
    np.testing.assert_allclose(mx[2], 0.5 * x[2] + 0.5 * x[::-1][2], rtol=1e-6)
    np.testing.assert_allclose(np.sum(my, axis=1), 1.0, rtol=1e-6)


def test_train_dataset_with_mixup_gives_soft_labels_summing_to_one():
    x, y = _images()
    ds = augment.make_train_dataset(x, y, batch_size=8, mixup_alpha=0.2, seed=3)
    batches = list(ds)
    assert len(batches) == 5
    labels = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert ((labels > 0.01) & (labels < 0.99)).any(), "some labels should be mixed"
    images = np.concatenate([b[0].numpy() for b in batches])
    assert images.shape == x.shape and images.min() >= 0 and images.max() <= 1
    rerun = augment.make_train_dataset(x, y, batch_size=8, mixup_alpha=0.2, seed=3)
    again = np.concatenate([b[1].numpy() for b in rerun])
    np.testing.assert_allclose(labels, again)   # reproducible from the seed


def test_augmenter_changes_training_images_only():
    x, _ = _images(n=16, size=16)
    aug = augment.build_augmenter(seed=1)
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)
    assert out.min() >= 0 and out.max() <= 1             # 'nearest' fill adds no new values
    np.testing.assert_allclose(np.asarray(aug(x, training=False)), x)
    assert [layer.name for layer in aug.layers] == ["flip", "rotate", "shift"]


def test_train_dataset_rejects_integer_labels_and_length_mismatch():
    x, y = _images()
    with pytest.raises(ValueError, match="must be one-hot"):
        augment.make_train_dataset(x, y.argmax(1), batch_size=8)
    with pytest.raises(ValueError, match="40 images but 39 labels"):
        augment.make_train_dataset(x, y[:-1], batch_size=8)
