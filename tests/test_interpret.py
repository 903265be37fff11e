"""Sub-models by layer name, kernels, feature maps and Grad-CAM on tiny models."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import interpret, models


@pytest.fixture(scope="module")
def model():
    return models.build_mnist_single_conv()


def test_single_conv_matches_article_003(model):
    assert model.count_params() == 23_466
    assert model.get_layer("conv").kernel.shape == (5, 5, 1, 16)


def test_wrong_layer_name_lists_the_valid_ones(model):
    with pytest.raises(ValueError, match=r"no layer 'conv1'.*Valid layer names: image, conv, pool, flatten, output"):
        interpret.get_layer(model, "conv1")


def test_non_convolutional_layer_is_refused(model):
    with pytest.raises(ValueError, match=r"'pool' is a MaxPooling2D, not a convolutional layer.*: conv"):
        interpret.build_activation_model(model, "pool")


def test_wrong_input_shape_is_explained(model):
    with pytest.raises(ValueError, match=r"takes images of shape \(N, 28, 28, 1\); got \(28, 28, 1\).*images\[None\]"):
        interpret.get_feature_maps(model, "conv", np.zeros((28, 28, 1)))


def test_feature_maps_equal_a_manual_convolution(model):
    rng = np.random.default_rng(0)
    x = rng.random((2, 28, 28, 1)).astype("float32")
    maps = interpret.get_feature_maps(model, "conv", x)
    assert maps.shape == (2, 24, 24, 16)
    k = interpret.get_conv_kernels(model, "conv")
    b = np.asarray(model.get_layer("conv").bias)
    manual = max(0.0, float((x[1, 3:8, 7:12, 0] * k[:, :, 0, 5]).sum() + b[5]))
    np.testing.assert_allclose(maps[1, 3, 7, 5], manual, rtol=1e-4, atol=1e-5)


def test_gradcam_shape_range_and_class_choice(model):
    rng = np.random.default_rng(1)
    x = rng.random((3, 28, 28, 1)).astype("float32")
    cams = interpret.compute_gradcam(model, x, "conv")
    assert cams.shape == (3, 28, 28)
    assert cams.min() >= 0 and cams.max() <= 1
    other = interpret.compute_gradcam(model, x, "conv", class_index=np.array([0, 1, 2]))
    assert other.shape == (3, 28, 28)


def test_predict_labels(model):
    labels, conf = interpret.predict_labels(model, np.zeros((4, 28, 28, 1), "float32"))
    assert labels.shape == conf.shape == (4,)
    assert np.all((conf > 0) & (conf <= 1))


def test_weight_stats_count_zeros_and_signal_units():
    w = np.zeros((10, 30))
    w[3, :5] = 0.5           # five units use feature 3
    w[6, 2:7] = -0.25        # units 2-6 use feature 6
    w[0, 0] = 0.0005         # below the threshold: counts as zero
    w[1, 0] = 0.1            # one noise weight survives
    stats = interpret.compute_weight_stats(w, signal=(3, 6))
    assert stats["units_using_signal"] == 7
    assert stats["noise_zero_fraction"] == (8 * 30 - 1) / (8 * 30)
    assert stats["mean_abs_signal"] == (5 * 0.5 + 5 * 0.25) / 60
    assert stats["max_abs"] == 0.5


def test_dense_kernel_refuses_other_layers(model):
    assert interpret.get_dense_kernel(model, "output").shape == (2304, 10)
    with pytest.raises(ValueError, match="not a Dense layer"):
        interpret.get_dense_kernel(model, "conv")


def test_find_examples_most_confident_first():
    y_true = np.array([0, 0, 0, 0, 1])
    y_pred = np.array([0, 8, 2, 0, 1])
    conf = np.array([0.6, 0.7, 0.9, 0.95, 0.99])
    assert interpret.find_examples(y_true, y_pred, conf, 0, correct=True).tolist() == [3]
    assert interpret.find_examples(y_true, y_pred, conf, 0, correct=False, n=5).tolist() == [2, 1]
    assert interpret.find_examples(y_true, y_pred, conf, 1, correct=False).size == 0


def _manual_gradcam_on_logits(model, x, cls):
    """Grad-CAM by hand: the class logit (output layer without its softmax) differentiated by the conv maps."""
    import keras
    import tensorflow as tf

    conv_out = keras.Model(model.inputs, [model.get_layer("conv").output, model.get_layer("output").input])
    dense = model.get_layer("output")
    with tf.GradientTape() as tape:
        maps, feats = conv_out(tf.convert_to_tensor(x))
        logit = (tf.matmul(feats, dense.kernel) + dense.bias)[:, cls]
    grads = tape.gradient(logit, maps)
    cam = tf.nn.relu(tf.reduce_sum(tf.reduce_mean(grads, axis=(1, 2), keepdims=True) * maps, axis=-1)).numpy()
    cam = cam / (cam.max(axis=(1, 2), keepdims=True) + 1e-12)
    return tf.image.resize(cam[..., None], (28, 28)).numpy()[..., 0]


def test_gradcam_differentiates_the_logit_not_the_softmax_probability():
    import keras

    keras.utils.set_random_seed(3)
    net = models.build_mnist_single_conv()
    x = np.random.default_rng(2).random((2, 28, 28, 1)).astype("float32")
    cams = interpret.compute_gradcam(net, x, "conv", class_index=4)
    np.testing.assert_allclose(cams, np.clip(_manual_gradcam_on_logits(net, x, 4), 0, 1), atol=1e-5)
    # Scaling the output layer x30 saturates the softmax, whose gradient then mostly vanishes or
    # points elsewhere; the logit's gradient only scales, so the normalised map is unchanged.
    dense = net.get_layer("output")
    dense.kernel.assign(dense.kernel * 30.0)
    dense.bias.assign(dense.bias * 30.0)
    np.testing.assert_allclose(interpret.compute_gradcam(net, x, "conv", class_index=4), cams, atol=1e-4)


def test_gradcam_on_a_softmax_layer_without_bias():
    import keras

    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, activation="softmax", use_bias=False, name="output")(x)
    cams = interpret.compute_gradcam(keras.Model(inputs, outputs), np.random.default_rng(0).random((2, 12, 12, 1)),
                                     "conv")
    assert cams.shape == (2, 12, 12) and 0 <= cams.min() and cams.max() <= 1
