"""Lesson 06 builders: MobileNet transfer model (no download: random weights or a faked
offline cache) and the GAP SimpleConvNet."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnncourse import download, models


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_mobilenet_alpha_one_has_the_articles_counts():
    model = models.build_mobilenet_classifier(1.0, weights=None)
    assert model.count_params() == 3_239_114
    assert _trainable(model) == 3_217_226
    assert model.count_params() - _trainable(model) == 21_888
    assert model.output_shape == (None, 10)


def test_frozen_base_trains_only_the_head():
    model = models.build_mobilenet_classifier(0.25, weights=None, train_base=False)
    assert _trainable(model) == model.get_layer("output").count_params()


def test_mobilenet_inputs_rescale_as_preprocess_input():
    model = models.build_mobilenet_classifier(0.25, weights=None, inputs="mobilenet")
    pixels = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    rescaled = model.get_layer("to_minus1_1")(pixels)
    expected = keras.applications.mobilenet.preprocess_input(pixels * 255.0)
    np.testing.assert_allclose(np.asarray(rescaled), np.asarray(expected), atol=1e-5)
    with pytest.raises(ValueError, match="inputs must be one of"):
        models.build_mobilenet_classifier(0.25, weights=None, inputs="caffe")
    with pytest.raises(ValueError, match="alpha must be one of"):
        models.build_mobilenet_classifier(0.3, weights=None)


def _offline(monkeypatch, tmp_path):
    def fail(fname, origin, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", fail)
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", fail)
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def test_missing_weights_name_the_file_and_the_fetch_command(monkeypatch, tmp_path):
    home = _offline(monkeypatch, tmp_path)
    with pytest.raises(download.WeightsNotAvailableError) as err:
        models.build_mobilenet_classifier(0.25)
    message = str(err.value)
    assert "mobilenet_2_5_224_tf_no_top.h5" in message and "python -m cnncourse fetch" in message
    assert str(home / "models") in message


def test_pick_alpha_falls_back_to_cached_weights_and_says_why(monkeypatch, tmp_path):
    home = _offline(monkeypatch, tmp_path)
    (home / "models").mkdir(parents=True)
    (home / "models" / "mobilenet_2_5_224_tf_no_top.h5").write_bytes(b"cached")
    alpha, why = download.pick_mobilenet_alpha((1.0, 0.25), keras_home=home)
    assert alpha == 0.25
    assert "alpha=1.0: mobilenet_1_0_224_tf_no_top.h5 is not in" in why and "found in the Keras cache" in why


def test_pick_alpha_with_nothing_available_refuses(monkeypatch, tmp_path):
    home = _offline(monkeypatch, tmp_path)
    with pytest.raises(download.WeightsNotAvailableError, match="python -m cnncourse fetch"):
        download.pick_mobilenet_alpha((1.0, 0.25), keras_home=home)
    with pytest.raises(ValueError, match="valid: \\[0.25, 1.0\\]"):
        download.pick_mobilenet_alpha((0.5,), keras_home=home)


def test_gap_convnet_has_6390_parameters_and_a_vector_per_image():
    model = models.build_simple_gap_convnet()
    assert model.count_params() == 6_390
    assert model.get_layer("gap").output.shape == (None, 30)
    assert models.build_simple_convnet().count_params() == 591_390


def _first_batchnorm(model):
    base = model.get_layer("mobilenet_0.25_32")
    return next(layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization))


def test_batchnorm_inference_keeps_statistics_fixed_while_weights_train():
    model = models.build_mobilenet_classifier(0.25, weights=None, batchnorm_inference=True)
    full = models.build_mobilenet_classifier(0.25, weights=None)
    assert 0 < _trainable(model) < _trainable(full)          # the convolutions train, BN's gamma/beta do not
    bn = _first_batchnorm(model)
    before = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    model.compile("adam", "categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 1, (8, 32, 32, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[np.arange(8)]
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), before)
    trained = models.build_mobilenet_classifier(0.25, weights=None)
    bn2 = _first_batchnorm(trained)
    trained.compile("adam", "categorical_crossentropy")
    trained.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(keras.ops.convert_to_numpy(bn2.moving_mean), before)
