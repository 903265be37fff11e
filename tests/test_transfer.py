"""Lesson 06 builders: MobileNet transfer model (no download: random weights or a faked
offline cache) and the GAP SimpleConvNet."""

from __future__ import annotations

import hashlib
from dataclasses import replace

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

    def no_network(url, *args, **kwargs):
        raise OSError(f"<urlopen error [Errno -2] Name or service not known> ({url})")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
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
    monkeypatch.setitem(download.MOBILENET_WEIGHTS, 0.25, replace(   # let the stand-in file pass the checks
        download.MOBILENET_WEIGHTS[0.25], sha256=hashlib.sha256(b"cached").hexdigest(), size=6))
    alpha, why = download.pick_mobilenet_alpha((1.0, 0.25), keras_home=home)
    assert alpha == 0.25
    assert "alpha=1.0: mobilenet_1_0_224_tf_no_top.h5 in" in why and "is missing and could not be downloaded" in why
    assert "Name or service not known" in why and "found in the Keras cache" in why


def test_a_truncated_cached_weights_file_is_not_used(monkeypatch, tmp_path):
    home = _offline(monkeypatch, tmp_path)
    (home / "models").mkdir(parents=True)
    (home / "models" / "mobilenet_2_5_224_tf_no_top.h5").write_bytes(b"cut")
    with pytest.raises(download.WeightsNotAvailableError, match="not the published 2,108,140"):
        download.pick_mobilenet_alpha((0.25,), keras_home=home)


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
    bn, bn_full = _first_batchnorm(model), _first_batchnorm(full)
    before = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    x = np.random.default_rng(0).uniform(0, 1, (8, 32, 32, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[np.arange(8)]
    for m in (model, full):   # one step each; eager: tracing MobileNet would cost more than the step
        m.compile("adam", "categorical_crossentropy", run_eagerly=True)
        m.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), before)
    assert not np.allclose(keras.ops.convert_to_numpy(bn_full.moving_mean), before)


# ----------------------------------------------------------------------------- feature cache
def _tiny_extractor(scale=1.0):
    image = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(scale)(image))
    return keras.Model(image, x, name="tiny_features")


def _images(seed=0, n=10):
    return np.random.default_rng(seed).random((n, 8, 8, 3)).astype("float32")


def test_features_are_computed_once_then_read_from_the_cache(tmp_path):
    from cnncourse import transfer

    images = _images()
    first = transfer.extract_features(_tiny_extractor(), images, describe={"weights": "w1"}, cache_dir=tmp_path,
                                      progress=False)
    assert not first.cached and first.values.shape == (10, 3) and first.path.is_file()
    np.testing.assert_allclose(first.values, images.mean(axis=(1, 2)), rtol=1e-5)
    again = transfer.extract_features(_tiny_extractor(), images, describe={"weights": "w1"}, cache_dir=tmp_path,
                                      progress=False)
    assert again.cached and again.seconds == pytest.approx(first.seconds) and again.path == first.path
    np.testing.assert_array_equal(again.values, first.values)
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]         # no temporary file left behind


@pytest.mark.parametrize("change", ["weights", "size", "images", "subset"])
def test_any_change_of_what_features_depend_on_recomputes(tmp_path, change):
    from cnncourse import transfer

    images, describe = _images(), {"weights": "w1", "image_size": 96}
    first = transfer.extract_features(_tiny_extractor(), images, describe=describe, cache_dir=tmp_path,
                                      progress=False)
    if change == "weights":
        describe = {"weights": "w2", "image_size": 96}
    elif change == "size":
        describe = {"weights": "w1", "image_size": 64}
    elif change == "images":
        images = images.copy()
        images[3, 0, 0, 0] += 0.5                   # one pixel of one image
    else:
        images = images[:9]                          # another subset
    other = transfer.extract_features(_tiny_extractor(), images, describe=describe, cache_dir=tmp_path,
                                      progress=False)
    assert not other.cached and other.path != first.path


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong key", "wrong rows"])
def test_a_partial_corrupt_or_stale_cache_file_is_recomputed(tmp_path, capsys, damage):
    from cnncourse import transfer

    images = _images()
    first = transfer.extract_features(_tiny_extractor(), images, describe={"weights": "w1"}, cache_dir=tmp_path,
                                      progress=False)
    raw = first.path.read_bytes()
    if damage == "truncated":
        first.path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        first.path.write_bytes(b"not a numpy file")
    elif damage == "wrong key":                      # e.g. a file copied in from another setting
        transfer._write_cache(first.path, {"weights": "other"}, first.values)
    else:
        key = transfer.cache_key(_tiny_extractor(), images, {"weights": "w1"})
        transfer._write_cache(first.path, key, first.values[:5])
    redo = transfer.extract_features(_tiny_extractor(2.0), images, describe={"weights": "w1"},
                                     cache_dir=tmp_path, progress=False)
    assert not redo.cached and "recomputing" in capsys.readouterr().out
    np.testing.assert_allclose(redo.values, 2 * images.mean(axis=(1, 2)), rtol=1e-5)   # really recomputed
    assert transfer.extract_features(_tiny_extractor(), images, describe={"weights": "w1"}, cache_dir=tmp_path,
                                     progress=False).cached                             # and rewritten whole


def test_resized_extractor_and_head_shapes_and_top_unfreezing():
    from cnncourse import transfer

    extractor = models.build_mobilenet_features(0.25, weights=None, image_size=64)
    assert extractor.output_shape == (None, 256)
    assert extractor.get_layer("resize_64").output.shape[1:] == (64, 64, 3)
    assert not extractor.trainable_weights
    head = models.build_linear_head(256)
    assert head.count_params() == 2570
    # features ~1e-16 (a random-weight MobileNet's) standardize as well as features of unit size
    rng = np.random.default_rng(0)
    train, test = rng.normal(3e-16, 1e-16, (50, 4)), rng.normal(3e-16, 1e-16, (20, 4))
    train[:, 2] = 5.0                                            # a constant feature
    mean, std, (z_train, z_test) = transfer.standardize(train, test)
    np.testing.assert_allclose(z_train[:, [0, 1, 3]].std(axis=0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(z_train.mean(axis=0), 0.0, atol=1e-5)
    assert std[2] == 1 and z_test.dtype == np.float32
    np.testing.assert_allclose(z_test[:, 2], -5.0)
    np.testing.assert_allclose(z_test, (test - train.mean(0)) / np.where(train.std(0) == 0, 1, train.std(0)),
                               rtol=1e-4)
    # the full model standardizes the pooled features the same way before the copied head
    mean, std = np.linspace(0, 1, 256), np.linspace(0.5, 2, 256)
    full = models.build_mobilenet_classifier(0.25, weights=None, image_size=64, feature_mean=mean, feature_std=std)
    z = np.asarray(full.get_layer("standardize")(np.ones((1, 256), "float32")))
    np.testing.assert_allclose(z[0], (1 - mean) / std, rtol=1e-5)
    model = models.build_mobilenet_classifier(0.25, weights=None, inputs="mobilenet", image_size=64)
    assert model.get_layer("resize_64") is not None and model.name.endswith("_64px")
    n = transfer.unfreeze_top(model, "conv_dw_13")
    base = transfer.get_base(model)
    assert n == 3 * 3 * 256 + 256 * 256            # depthwise 3x3 on 256 channels, pointwise 256 -> 256
    trainable = [l.name for l in base.layers if l.trainable_weights]
    assert trainable == ["conv_dw_13", "conv_pw_13"]                 # BatchNorm stays frozen
    with pytest.raises(ValueError, match="conv_pw_13"):
        transfer.unfreeze_top(model, "block_99")
    with pytest.raises(ValueError, match="at least 32x32"):
        models.build_mobilenet_features(0.25, weights=None, image_size=16)


def test_a_feature_run_trains_a_head_on_cached_features(tmp_path):
    from cnncourse import data, transfer

    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    x = rng.random((40, 32, 32, 3)).astype("float32") * 0.2 + 0.6 * y[:, None, None, None]   # bright = class 1
    onehot = data.to_one_hot(y, 2)
    ds = data.ImageDataset("tiny", x[:24], onehot[:24], x[32:], onehot[32:], ("dark", "bright"), "memory",
                           x[24:32], onehot[24:32])
    run = transfer.mobilenet_feature_run(0.25, ds, image_size=48, weights=None, cache_dir=tmp_path, epochs=3,
                                         batch_size=8, progress=False)
    assert run.result.epochs == 3 and run.feature_mean.shape == run.feature_std.shape == (256,)
    assert run.seconds >= run.result.train_seconds > 0 and 0 <= run.zero_fraction <= 1
    assert len(list(tmp_path.glob("*.npz"))) == 3                                        # train, val, test
    again = transfer.mobilenet_feature_run(0.25, ds, image_size=48, weights=None, cache_dir=tmp_path, epochs=3,
                                           batch_size=8, progress=False)
    assert again.extract_seconds == pytest.approx(run.extract_seconds)                  # read back, cost kept
    assert again.result.history == run.result.history
    with pytest.raises(ValueError, match="n_val"):
        transfer.mobilenet_feature_run(0.25, replace_val(ds), image_size=48, weights=None, cache_dir=None,
                                       epochs=1, batch_size=8)


def replace_val(ds):
    from dataclasses import replace

    return replace(ds, x_val=None, y_val=None)


def test_one_progress_bar_can_span_several_extractions(tmp_path):
    from cnncourse import transfer

    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    for seed in (0, 1):
        transfer.extract_features(_tiny_extractor(), _images(seed, n=10), describe={"w": 1}, cache_dir=tmp_path,
                                  batch_size=4, bar=bar)
    assert bar.n == 6                                          # 3 batches each
    transfer.extract_features(_tiny_extractor(), _images(0, n=10), describe={"w": 1}, cache_dir=tmp_path,
                              batch_size=4, bar=bar)           # from the cache: advanced all the same
    assert bar.n == 9
