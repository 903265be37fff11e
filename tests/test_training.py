"""The training helper on a tiny synthetic problem."""

from __future__ import annotations

import numpy as np
import keras

from cnncourse import data, training


def _tiny_dataset(one_hot=True):
    rng = np.random.default_rng(0)
    x = rng.random((64, 8, 8, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("int64")
    xt = rng.random((32, 8, 8, 1)).astype("float32")
    yt = (xt.mean(axis=(1, 2, 3)) > 0.5).astype("int64")
    if one_hot:
        y, yt = data.to_one_hot(y, 2), data.to_one_hot(yt, 2)
    return data.ImageDataset("tiny", x, y, xt, yt, ("low", "high"), "memory")


def _build():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(2, activation="softmax")], name="tiny")


def test_train_models_returns_a_tidy_table_and_histories():
    table, results = training.train_models({"a": _build, "b": _build}, _tiny_dataset(),
                                           optimizer="adam", epochs=3, batch_size=16, progress=False)
    assert list(table["model"]) == ["a", "b"]
    assert {"params", "epochs", "test_loss", "test_accuracy", "best_epoch", "s_per_epoch"} <= set(table.columns)
    assert (table["epochs"] == 3).all() and (table["params"] == 130).all()
    assert len(results["a"].history["val_loss"]) == 3
    assert 1 <= results["a"].best_epoch <= 3
    # the seed is reset before each model: same builder, same numbers
    assert results["a"].history == results["b"].history


def test_integer_labels_and_test_set_validation():
    result = training.fit_and_evaluate(_build(), _tiny_dataset(one_hot=False), optimizer="adam",
                                       epochs=2, batch_size=16, validation="test", progress=False)
    assert result.epochs == 2 and 0.0 <= result.test_accuracy <= 1.0
    # validating on the test set: the last val_loss is the test loss
    np.testing.assert_allclose(result.history["val_loss"][-1], result.test_loss, rtol=1e-4)


def test_optimizer_factory_gives_each_model_its_own_optimizer():
    made = []

    def factory():
        made.append(keras.optimizers.Adadelta(learning_rate=1.0))
        return made[-1]

    training.train_models({"a": _build, "b": _build}, _tiny_dataset(), optimizer=factory,
                          epochs=1, batch_size=32, progress=False)
    assert len(made) == 2 and made[0] is not made[1]
    assert float(made[0].learning_rate) == 1.0


def test_bad_validation_mode():
    import pytest

    with pytest.raises(ValueError, match="validation must be one of 'split', 'val', 'test'; got 'holdout'"):
        training.fit_and_evaluate(_build(), _tiny_dataset(), optimizer="adam", epochs=1,
                                  batch_size=8, validation="holdout")


def _tiny_with_hidden():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(4, name="hidden")(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="tiny_hidden")


def test_recorder_captures_epoch_zero_and_every_epoch():
    ds = _tiny_dataset()
    probe = ds.x_test[:10]
    model = _tiny_with_hidden()
    recorder = training.HiddenActivationRecorder(probe)
    model.compile("adam", "categorical_crossentropy")
    before = keras.Model(model.inputs, model.get_layer("hidden").output).predict(probe, verbose=0)
    model.fit(ds.x_train, ds.y_train, epochs=3, batch_size=16, verbose=0, callbacks=[recorder])
    assert sorted(recorder.features) == [0, 1, 2, 3]
    assert all(f.shape == (10, 4) for f in recorder.features.values())
    np.testing.assert_allclose(recorder.features[0], before, rtol=1e-5)
    after = keras.Model(model.inputs, model.get_layer("hidden").output).predict(probe, verbose=0)
    np.testing.assert_allclose(recorder.features[3], after, rtol=1e-5)
    assert not np.allclose(recorder.features[0], recorder.features[3])
    assert set(recorder.seconds) == {0, 1, 2, 3}
    assert set(recorder.epoch_seconds) == {1, 2, 3} and all(t > 0 for t in recorder.epoch_seconds.values())


def test_train_models_passes_each_model_its_callbacks():
    import pytest

    ds = _tiny_dataset()
    recorder = training.HiddenActivationRecorder(ds.x_test[:6])
    table, results = training.train_models({"tiny": _tiny_with_hidden}, ds, optimizer="adam", epochs=2,
                                           batch_size=16, progress=False, callbacks={"tiny": [recorder]})
    assert sorted(recorder.features) == [0, 1, 2]
    with pytest.raises(KeyError, match=r"unknown models \['tiny2'\]"):
        training.train_models({"tiny": _tiny_with_hidden}, ds, optimizer="adam", epochs=1, batch_size=16,
                              progress=False, callbacks={"tiny2": [recorder]})


def test_recorder_bad_layer_or_probe_fails_when_fit_starts():
    import pytest

    ds = _tiny_dataset()
    model = _tiny_with_hidden()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="no layer 'hiden'.*Valid layer names"):
        model.fit(ds.x_train, ds.y_train, epochs=1, verbose=0,
                  callbacks=[training.HiddenActivationRecorder(ds.x_test[:5], layer_name="hiden")])
    with pytest.raises(ValueError, match=r"takes images of shape \(N, 8, 8, 1\); got \(5, 8, 8\)"):
        model.fit(ds.x_train, ds.y_train, epochs=1, verbose=0,
                  callbacks=[training.HiddenActivationRecorder(ds.x_test[:5, ..., 0])])


def test_run_eagerly_reaches_compile_and_validation_on_test_reuses_its_scores():
    ds = _tiny_dataset()
    run = training.fit_and_evaluate(_tiny_with_hidden(), ds, optimizer="adam", epochs=2, batch_size=16,
                                    validation="test", progress=False, run_eagerly=True)
    assert run.model.run_eagerly
    assert run.test_accuracy == run.history["val_accuracy"][-1]
    expected = run.model.evaluate(ds.x_test, ds.y_test, verbose=0)[1]
    assert abs(run.test_accuracy - expected) < 1e-6


def _tiny_with_validation(n_val=48):
    ds = _tiny_dataset()
    rng = np.random.default_rng(1)
    xv = rng.random((n_val, 8, 8, 1)).astype("float32")
    yv = data.to_one_hot((xv.mean(axis=(1, 2, 3)) > 0.5).astype("int64"), 2)
    from dataclasses import replace

    return replace(ds, x_val=xv, y_val=yv)


def test_restore_best_keeps_the_lowest_validation_loss_epoch_and_tests_once():
    import pytest

    ds = _tiny_with_validation()
    result = training.fit_and_evaluate(_build(), ds, optimizer=lambda: keras.optimizers.SGD(2.0), epochs=6,
                                       batch_size=8, validation="val", restore_best=True, progress=False)
    assert result.epochs == 6                    # trains every epoch: the whole curve is drawn
    # the kept weights are the best epoch's: their validation loss is the minimum of the curve
    val_loss = result.model.evaluate(ds.x_val, ds.y_val, verbose=0)[0]
    np.testing.assert_allclose(val_loss, min(result.history["val_loss"]), rtol=1e-4)
    with pytest.raises(ValueError, match="not the test set"):
        training.fit_and_evaluate(_build(), ds, optimizer="adam", epochs=1, batch_size=8, validation="test",
                                  restore_best=True)
    with pytest.raises(ValueError, match="n_val"):
        training.fit_and_evaluate(_build(), _tiny_dataset(), optimizer="adam", epochs=1, batch_size=8,
                                  validation="val")


def test_array_batches_cover_every_row_once_per_epoch_in_a_new_order():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10)
    feed = training.ArrayBatches(x, y, 4, seed=3)
    assert len(feed) == 3 and [len(feed[i][0]) for i in range(3)] == [4, 4, 2]   # the last batch is smaller
    first = np.concatenate([feed[i][1] for i in range(3)])
    assert sorted(first) == list(range(10))
    assert all((feed[i][0][:, 0] == feed[i][1]).all() for i in range(3))        # images stay with their labels
    feed.on_epoch_end()
    second = np.concatenate([feed[i][1] for i in range(3)])
    assert sorted(second) == list(range(10)) and list(second) != list(first)
    again = training.ArrayBatches(x, y, 4, seed=3)
    assert list(np.concatenate([again[i][1] for i in range(3)])) == list(first)  # a seed repeats its order
    plain = training.ArrayBatches(x, y, 4, shuffle=False)
    assert list(np.concatenate([plain[i][1] for i in range(3)])) == list(range(10))


def test_array_batches_reject_bad_input():
    import pytest

    with pytest.raises(ValueError, match="10 images but 9 labels"):
        training.ArrayBatches(np.zeros((10, 1)), np.zeros(9), 4)
    with pytest.raises(ValueError, match="batch_size"):
        training.ArrayBatches(np.zeros((10, 1)), np.zeros(10), 0)
    with pytest.raises(IndexError):
        training.ArrayBatches(np.zeros((10, 1)), np.zeros(10), 4)[3]


def test_validation_split_holds_out_the_last_images_as_keras_does():
    ds = _tiny_dataset()
    result = training.fit_and_evaluate(_build(), ds, optimizer="adam", epochs=1, batch_size=16,
                                       validation="split", validation_split=0.25, progress=False)
    # 64 images: 48 train (3 batches of 16), 16 validate; evaluated by hand on the last 16 it agrees
    model = result.model
    loss, _ = model.evaluate(ds.x_train[48:], ds.y_train[48:], verbose=0)
    np.testing.assert_allclose(result.history["val_loss"][-1], loss, rtol=1e-4)


def test_big_arrays_are_fed_a_batch_at_a_time_with_the_same_split(monkeypatch):
    monkeypatch.setattr(training, "FEED_IN_BATCHES_ABOVE_MIB", 0)   # every array counts as big
    ds = _tiny_dataset()
    assert isinstance(training.batch_feed(ds.x_train, ds.y_train, 16, shuffle=True)["x"], training.ArrayBatches)
    result = training.fit_and_evaluate(_build(), ds, optimizer="adam", epochs=2, batch_size=16,
                                       validation="split", validation_split=0.25, progress=False)
    loss, _ = result.model.evaluate(ds.x_train[48:], ds.y_train[48:], verbose=0)
    np.testing.assert_allclose(result.history["val_loss"][-1], loss, rtol=1e-4)
    test_loss, _ = result.model.evaluate(ds.x_test, ds.y_test, verbose=0)
    np.testing.assert_allclose(result.test_loss, test_loss, rtol=1e-4)
