"""Training helpers: fit one model or a set of models and get a tidy results table."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from . import arguments
from .data import ImageDataset, as_float_pixels
from .reproducibility import DEFAULT_SEED, set_seed

OptimizerSpec = str | Callable[[], keras.optimizers.Optimizer]


class EpochProgressBar(keras.callbacks.Callback):
    """A one-line progress bar per model (tqdm), updated after every epoch with its loss and accuracy."""

    def __init__(self, epochs: int, description: str = ""):
        super().__init__()
        self.epochs = epochs
        self.description = description
        self._bar = None

    def on_train_begin(self, logs=None):
        from tqdm import tqdm

        self._bar = tqdm(total=self.epochs, desc=self.description, unit="epoch", file=sys.stdout,
                         dynamic_ncols=True, leave=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        self._bar.set_postfix(shown, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()


class ArrayBatches(keras.utils.PyDataset):
    """Batches cut from in-memory arrays as Keras asks for them, in a new random order every epoch.

    ``model.fit(x, y)`` on NumPy arrays makes two whole copies of ``x`` inside TensorFlow (1.2 GB
    more for CIFAR-10's 50,000 training images); this feed copies one batch at a time.  ``x``:
    images, shape (N, ...), float32 in [0, 1] or uint8 pixels (0-255), which each batch turns into
    float32 in [0, 1]; ``y``: labels, shape (N,) or (N, classes).  ``shuffle``: draw a new
    order each epoch from a generator seeded with ``seed`` (default: a number drawn from NumPy's
    global generator, which :func:`cnncourse.set_seed` seeds, so a seeded run repeats itself).
    The last batch may be smaller, as in Keras.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = True,
                 seed: int | None = None):
        super().__init__(workers=1, use_multiprocessing=False, max_queue_size=10)
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images but {len(y)} labels")
        if len(x) == 0:
            raise ValueError("no images to make batches from")
        self.x, self.y = x, y
        self.batch_size = arguments.count("batch_size", batch_size)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(np.random.randint(2**31) if seed is None else seed)
        self._order = self._rng.permutation(len(x)) if shuffle else None

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        start, stop = index * self.batch_size, (index + 1) * self.batch_size
        if self._order is None:
            return as_float_pixels(self.x[start:stop]), self.y[start:stop]
        rows = np.sort(self._order[start:stop])   # sorted rows read memory in order
        return as_float_pixels(self.x[rows]), self.y[rows]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.x))


#: training or evaluation arrays larger than this (MiB) are fed to Keras a batch at a time
#: (:class:`ArrayBatches`); smaller ones go to Keras as arrays, whose per-step cost is lower
FEED_IN_BATCHES_ABOVE_MIB = 64


def batch_feed(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool) -> dict:
    """The ``fit``/``evaluate`` arguments that feed (x, y): big arrays through :class:`ArrayBatches`
    (no whole copies inside TensorFlow), small ones as arrays with Keras' own batching."""
    if x.nbytes + y.nbytes > FEED_IN_BATCHES_ABOVE_MIB * 2**20:
        return {"x": ArrayBatches(x, y, batch_size, shuffle=shuffle)}
    return {"x": as_float_pixels(x), "y": y, "batch_size": batch_size, "shuffle": shuffle}


@dataclass
class TrainResult:
    """What one training run produced.

    ``history`` maps Keras' metric names ('loss', 'accuracy', 'val_loss',
    'val_accuracy') to one value per epoch.  Epochs are counted from 1.
    """

    name: str
    model: keras.Model
    history: dict[str, list[float]]
    test_loss: float
    test_accuracy: float
    train_seconds: float
    params: int

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    @property
    def best_epoch(self) -> int | None:
        """The epoch (from 1) with the lowest validation loss: where the model starts to overfit."""
        val = self.history.get("val_loss")
        return int(np.argmin(val)) + 1 if val else None

    def as_row(self) -> dict:
        val_loss = self.history.get("val_loss")
        return {
            "model": self.name,
            "params": self.params,
            "epochs": self.epochs,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "best_val_loss": float(np.min(val_loss)) if val_loss else np.nan,
            "best_epoch": self.best_epoch,
            "train_s": self.train_seconds,
            "s_per_epoch": self.train_seconds / max(self.epochs, 1),
        }


#: the optimizer names Keras accepts as strings
OPTIMIZER_NAMES = ("adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lamb", "lion",
                   "nadam", "rmsprop", "sgd")


def make_optimizer(spec: OptimizerSpec) -> keras.optimizers.Optimizer:
    """A fresh optimizer from a Keras name ('adam') or a zero-argument factory."""
    if isinstance(spec, str):
        try:
            return keras.optimizers.get(spec)
        except ValueError:
            raise ValueError(f"optimizer {spec!r} is not a Keras optimizer name; valid: "
                             f"{', '.join(OPTIMIZER_NAMES)} (or pass a function that returns an optimizer, "
                             f"e.g. lambda: keras.optimizers.Adam(1e-4))") from None
    if not callable(spec):
        raise TypeError(f"optimizer must be a name or a zero-argument function, got {spec!r}")
    return spec()


def compile_classifier(model: keras.Model, optimizer: OptimizerSpec, *, one_hot: bool,
                       run_eagerly: bool = False) -> keras.Model:
    """``model.compile`` for classification: a fresh optimizer from ``optimizer``, the cross-entropy
    that matches the labels (one-hot rows: categorical; integers: sparse categorical), accuracy."""
    model.compile(
        optimizer=make_optimizer(optimizer),
        loss="categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    return model


def validation_arrays(data: ImageDataset, validation: str, validation_split: float = 0.1) -> tuple:
    """``(x_train, y_train, x_val, y_val)`` under a validation policy: 'split' holds out the last
    ``validation_split`` of the training arrays (Keras' ``validation_split``, before shuffling),
    'val' uses ``data.x_val``, 'test' the test set."""
    if validation == "split":
        cut = int(np.ceil(len(data.x_train) * (1.0 - validation_split)))
        if cut == 0 or cut == len(data.x_train):
            raise ValueError(f"validation_split={validation_split} of {len(data.x_train)} images leaves an empty "
                             f"training or validation set")
        return data.x_train[:cut], data.y_train[:cut], data.x_train[cut:], data.y_train[cut:]
    if validation == "val":
        return data.x_train, data.y_train, data.x_val, data.y_val
    return data.x_train, data.y_train, data.x_test, data.y_test


def _check_fit_arguments(model, data, *, epochs, batch_size, validation, validation_split, restore_best,
                         train_batches) -> None:
    """:func:`fit_and_evaluate`'s arguments, each checked with a message that names it."""
    arguments.count("epochs", epochs)
    arguments.count("batch_size", batch_size)
    arguments.choice("validation", validation, ("split", "val", "test"))
    if validation == "split":
        arguments.fraction("validation_split", validation_split)
    arguments.images_for_model(model, data.x_train[:1])
    if validation == "val" and data.x_val is None:
        raise ValueError("validation='val' needs a dataset loaded with n_val > 0 (a held-out validation set)")
    if train_batches is not None and validation == "split":
        raise ValueError("validation='split' cuts the training arrays; with train_batches use 'val' or 'test'")
    if restore_best and validation == "test":
        raise ValueError("restore_best picks an epoch on validation data: use validation='val' or 'split', "
                         "not the test set")


def fit_and_evaluate(
    model: keras.Model,
    data: ImageDataset,
    *,
    optimizer: OptimizerSpec,
    epochs: int,
    batch_size: int,
    validation: str = "split",
    validation_split: float = 0.1,
    progress: bool = True,
    name: str | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    run_eagerly: bool = False,
    restore_best: bool = False,
    train_batches=None,
) -> TrainResult:
    """Compile ``model`` for classification, train it on ``data`` and evaluate it on the test split.

    Labels may be integers or one-hot (the loss is chosen to match).
    ``validation='split'`` holds out the last ``validation_split`` of the
    training set (Keras' ``validation_split``, as article 001 did);
    ``validation='val'`` validates on ``data.x_val``, images held out from the rest of the
    training split (``load_*(n_val=...)``);
    ``validation='test'`` validates on the test set after each epoch (as article 004 did).
    ``restore_best`` (with 'split' or 'val') trains every epoch, then keeps the weights of the
    epoch with the lowest validation loss and evaluates the test set once, on those: the epoch
    is chosen without looking at the test set.
    ``name`` labels the result (default: the model's name); ``callbacks`` are
    passed to ``fit`` (e.g. a :class:`HiddenActivationRecorder`); ``run_eagerly`` skips
    compiling a graph (faster for a few steps; see ``Profile.run_eagerly``).
    ``train_batches``, when given, is what the model trains on instead of ``data.x_train`` (a
    ``tf.data.Dataset`` of batches, e.g. augmented ones from :func:`cnncourse.augment.make_train_dataset`);
    ``data`` still provides the validation and test images.
    """
    _check_fit_arguments(model, data, epochs=epochs, batch_size=batch_size, validation=validation,
                         validation_split=validation_split, restore_best=restore_best,
                         train_batches=train_batches)
    compile_classifier(model, optimizer, one_hot=data.y_train.ndim == 2, run_eagerly=run_eagerly)
    x_train, y_train, x_val, y_val = validation_arrays(data, validation, validation_split)
    eval_batch = max(batch_size, 256)
    callbacks = list(callbacks) + ([EpochProgressBar(epochs, name or model.name)] if progress else [])
    if restore_best:   # never stops early: the whole curve is drawn, the best epoch's weights are kept
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=epochs + 1,
                                                       restore_best_weights=True))
    start = time.perf_counter()
    feed = (batch_feed(x_train, y_train, batch_size, shuffle=True) if train_batches is None
            else {"x": train_batches, "shuffle": False})   # a pipeline shuffles (or not) itself
    validation_feed = batch_feed(x_val, y_val, eval_batch, shuffle=False)
    validation_data = validation_feed["x"] if "y" not in validation_feed else (x_val, y_val)
    history = model.fit(**feed, epochs=epochs, verbose=0, callbacks=callbacks, validation_data=validation_data,
                        validation_batch_size=None if "y" not in validation_feed else eval_batch)
    seconds = time.perf_counter() - start
    if validation == "test" and not restore_best:   # the last epoch's validation pass scored the test set
        test_loss, test_accuracy = history.history["val_loss"][-1], history.history["val_accuracy"][-1]
    else:
        test_feed = batch_feed(data.x_test, data.y_test, eval_batch, shuffle=False)
        test_feed.pop("shuffle", None)
        test_loss, test_accuracy = model.evaluate(**test_feed, verbose=0)
    return TrainResult(
        name=name or model.name,
        model=model,
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
        test_loss=float(test_loss),
        test_accuracy=float(test_accuracy),
        train_seconds=seconds,
        params=model.count_params(),
    )


def train_models(
    builders: Mapping[str, Callable[[], keras.Model]],
    data: ImageDataset,
    *,
    optimizer: OptimizerSpec,
    epochs: int,
    batch_size: int,
    validation: str = "split",
    validation_split: float = 0.1,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    callbacks: Mapping[str, Sequence[keras.callbacks.Callback]] | None = None,
    run_eagerly: bool = False,
    restore_best: bool = False,
) -> tuple[pd.DataFrame, dict[str, TrainResult]]:
    """Build, train and evaluate every model in ``builders`` under the same settings.

    The seed is reset before each model is built, so each result is the same
    whether a model is trained alone or after the others.

    Returns ``(table, results)``: a DataFrame with one row per model (columns
    model, params, epochs, test_loss, test_accuracy, best_val_loss, best_epoch,
    train_s, s_per_epoch) and the :class:`TrainResult` of each model by name.
    ``callbacks`` maps a model name to the callbacks for its ``fit``; ``run_eagerly``
    is passed to every ``compile``; ``restore_best`` to every :func:`fit_and_evaluate`.
    """
    callbacks = callbacks or {}
    unknown = set(callbacks) - set(builders)
    if unknown:
        raise KeyError(f"callbacks for unknown models {sorted(unknown)}; models: {list(builders)}")
    results: dict[str, TrainResult] = {}
    for label, build in builders.items():
        set_seed(seed)
        results[label] = fit_and_evaluate(
            build(), data, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            validation=validation, validation_split=validation_split, progress=progress, name=label,
            callbacks=callbacks.get(label, ()), run_eagerly=run_eagerly, restore_best=restore_best,
        )
    table = pd.DataFrame([r.as_row() for r in results.values()])
    return table, results


class HiddenActivationRecorder(keras.callbacks.Callback):
    """Record one layer's output for a fixed probe set before training (epoch 0) and after every epoch.

    Keras calls a callback's ``on_*`` methods at fixed points of ``fit``, with ``self.model``
    set to the model being trained.  When ``fit`` starts, this one builds a sub-model from the
    input to ``layer_name`` (it shares the trained model's weights, so it is built once) and
    predicts only the probe images with it.  After ``fit``:

    - ``features``: {epoch: float32 array (n_probe, units)}, epoch 0 = before training
    - ``seconds``: {epoch: seconds spent predicting}, to compare with the training time
    - ``epoch_seconds``: {epoch: seconds of training (and validation) in that epoch,
      recording excluded}, epochs counted from 1
    - ``extractor``: the sub-model (None until ``fit`` starts)

    A layer name the model does not have, or probe images of the wrong shape,
    raise ValueError when ``fit`` starts.
    """

    def __init__(self, probe_images: np.ndarray, layer_name: str = "hidden", batch_size: int = 512):
        super().__init__()
        self.probe_images = np.asarray(probe_images, dtype=np.float32)
        self.layer_name = layer_name
        self.batch_size = batch_size
        self.features: dict[int, np.ndarray] = {}
        self.seconds: dict[int, float] = {}
        self.epoch_seconds: dict[int, float] = {}
        self.extractor: keras.Model | None = None

    def on_train_begin(self, logs=None):
        from .interpret import get_layer

        layer = get_layer(self.model, self.layer_name)
        arguments.images_for_model(self.model, self.probe_images)
        self.extractor = keras.Model(self.model.inputs, layer.output)
        if 0 not in self.features:   # a second fit() on the same model goes on from where it was
            self._record(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):   # Keras counts epochs from 0; after epoch 0 is "epoch 1"
        self.epoch_seconds[epoch + 1] = time.perf_counter() - self._epoch_start
        self._record(epoch + 1)

    def _record(self, epoch: int) -> None:
        start = time.perf_counter()
        out = self.extractor.predict(self.probe_images, batch_size=self.batch_size, verbose=0)
        self.features[epoch] = out.reshape(len(self.probe_images), -1).astype(np.float32)
        self.seconds[epoch] = time.perf_counter() - start
