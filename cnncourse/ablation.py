"""An ablation: train cumulative configurations one after another and tabulate what each
technique added (lesson 05, article 002).  Resumable: each finished run is saved as JSON
with a key that cannot go stale (the settings, a fingerprint of the code that builds and
trains the configuration, and of the exact data), and a rerun with the same key loads it
instead of training again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import re
import sys
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .claims import Measurement
from .data import ImageDataset
from .fingerprints import array_sha256
from .reproducibility import set_seed


@dataclass(frozen=True)
class AblationConfig:
    """One configuration of the lesson 05 CNN and its training (every switch off = the base CNN)."""

    augment: bool = False            # rotation 20 deg, shifts 0.2, horizontal flips
    batch_norm: bool = False         # BatchNorm before every activation
    residual: bool = False           # residual blocks instead of the plain 3x3 pairs
    global_pooling: bool = False     # GlobalAveragePooling2D instead of Flatten
    dropout: float = 0.0             # after each stride-2 block
    mixup_alpha: float | None = None  # mixup with Beta(alpha, alpha) weights
    amsgrad: bool = False            # Adam(amsgrad=True)


ABLATION_STEPS: tuple[tuple[str, dict], ...] = (
    ("base CNN", {}),
    ("+ augmentation", {"augment": True}),
    ("+ batch norm", {"batch_norm": True}),
    ("+ residual blocks", {"residual": True}),
    ("+ global avg pooling", {"global_pooling": True}),
    ("+ dropout", {"dropout": 0.2}),
    ("+ mixup", {"mixup_alpha": 0.2}),
    ("+ AMSGrad", {"amsgrad": True}),
)
"""Article 002's order: each row adds one technique to the row above."""


def cumulative_configs(steps: Sequence[tuple[str, dict]] = ABLATION_STEPS) -> dict[str, AblationConfig]:
    """{row name: configuration}, each row's configuration = the previous one plus its change."""
    configs: dict[str, AblationConfig] = {}
    current = AblationConfig()
    for name, change in steps:
        unknown = set(change) - set(asdict(current))
        if unknown:
            raise ValueError(f"step {name!r} changes unknown switches {sorted(unknown)}; "
                             f"valid: {sorted(asdict(current))}")
        current = replace(current, **change)
        configs[name] = current
    return configs


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def build_configuration_model(config: AblationConfig, *, width: float = 1.0, input_shape=(32, 32, 3),
                              num_classes: int = 10) -> keras.Model:
    """The (uncompiled) network of ``config``: :func:`cnncourse.models.build_ablation_cnn` with its
    architecture switches (augmentation, mixup and AMSGrad change the training, not the network)."""
    from .models import build_ablation_cnn

    return build_ablation_cnn(width=width, batch_norm=config.batch_norm, residual=config.residual,
                              global_pooling=config.global_pooling, dropout=config.dropout,
                              input_shape=input_shape, num_classes=num_classes)


def code_fingerprint(*functions) -> str:
    """A sha256 of the source of ``functions`` and, recursively, of every function or class of
    their own modules that they name (the private helpers a builder calls, say).

    Any edit to that code, including a learner's, gives another fingerprint, so a saved
    result of the old code is never taken for one of the new.
    """
    seen: dict[str, str] = {}

    def visit(obj) -> None:
        key = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
        if key in seen:
            return
        try:
            seen[key] = inspect.getsource(obj)
        except (OSError, TypeError):      # no source to read (a builtin, a C extension)
            seen[key] = repr(obj)
            return
        module = sys.modules.get(getattr(obj, "__module__", ""), None)
        codes = [obj.__code__] if isinstance(obj, types.FunctionType) else [
            f.__code__ for f in vars(obj).values() if isinstance(f, types.FunctionType)]
        names = set()
        while codes:                       # nested functions and lambdas name helpers too
            code = codes.pop()
            names.update(code.co_names)
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        for name in sorted(names):
            target = getattr(module, name, None) if module is not None else None
            if isinstance(target, (types.FunctionType, type)) and getattr(target, "__module__", "") == module.__name__:
                visit(target)

    for function in functions:
        visit(function)
    digest = hashlib.sha256()
    for key in sorted(seen):
        digest.update(f"{key}\n{seen[key]}\n".encode())
    return digest.hexdigest()


def data_fingerprint(data: ImageDataset) -> str:
    """A sha256 of the exact training and test arrays (images and labels) a run uses."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(array_sha256(array).encode())
    return digest.hexdigest()


def ablation_code_fingerprint() -> str:
    """The fingerprint of everything that builds and trains a configuration (see :func:`code_fingerprint`)."""
    from . import augment, models, training

    return code_fingerprint(train_configuration, build_configuration_model, models.build_ablation_cnn,
                            augment.build_augmenter, augment.make_train_dataset, augment.sample_mixup_weights,
                            augment.mix_batches, set_seed, training.fit_and_evaluate, training.make_optimizer)


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def train_configuration(
    config: AblationConfig,
    data: ImageDataset,
    *,
    width: float,
    epochs: int,
    batch_size: int,
    seed: int,
    progress: bool = True,
    name: str = "",
    run_eagerly: bool = False,
    augmenter="config",
) -> dict:
    """Build and train one configuration, validating on the test set after every epoch (as the article did).

    ``augmenter``: "config" (the configuration's own: :func:`~cnncourse.augment.build_augmenter` when
    it augments), or a Keras model of random layers, or None, in its place.
    Returns a JSON-ready dict: params, test_loss and test_accuracy (the last epoch's validation scores),
    history (per-epoch lists), epoch_seconds (training + validation per epoch).
    """
    from .augment import build_augmenter, make_train_dataset
    from .training import fit_and_evaluate

    if data.y_train.ndim != 2:
        raise ValueError("the ablation needs one-hot labels (load with one_hot=True)")
    set_seed(seed)
    model = build_configuration_model(config, width=width, input_shape=data.x_train.shape[1:],
                                      num_classes=data.num_classes)
    if isinstance(augmenter, str) and augmenter == "config":
        augmenter = build_augmenter(seed=seed) if config.augment else None
    # shuffled batches, augmented and mixed up when the configuration says so
    train = make_train_dataset(data.x_train, data.y_train, batch_size=batch_size, augmenter=augmenter,
                               mixup_alpha=config.mixup_alpha, seed=seed)
    timer = _EpochTimer()
    # compile with a fresh Adam (AMSGrad when the configuration says so), fit, evaluate; the test set
    # is the validation set (as in the article), so its last-epoch scores are the test scores
    run = fit_and_evaluate(model, data, optimizer=lambda: keras.optimizers.Adam(amsgrad=config.amsgrad),
                           epochs=epochs, batch_size=batch_size, validation="test", progress=progress,
                           name=name or "model", callbacks=[timer], run_eagerly=run_eagerly, train_batches=train)
    return {
        "params": int(run.params),
        "test_loss": run.test_loss,
        "test_accuracy": run.test_accuracy,
        "history": run.history,
        "epoch_seconds": timer.seconds,
    }


def compare_augmenters(
    augmenters: Mapping[str, keras.Model | None],
    data: ImageDataset,
    *,
    width: float,
    epochs: int,
    batch_size: int,
    seed: int,
    progress: bool = True,
) -> pd.DataFrame:
    """Train the base CNN once per augmenter ({label: augmenter or None}) under the same seed and
    return a table: label, final train accuracy, test accuracy, gap (train minus test), seconds.
    For a learner's own augmenter next to none (lesson 05's exercise)."""
    base = cumulative_configs()["base CNN"]
    rows = []
    for label, augmenter in augmenters.items():
        run = train_configuration(base, data, width=width, epochs=epochs, batch_size=batch_size, seed=seed,
                                  progress=progress, name=label, augmenter=augmenter)
        train_accuracy = run["history"]["accuracy"][-1]
        rows.append({"augmenter": label, "final_train_accuracy": train_accuracy,
                     "test_accuracy": run["test_accuracy"], "gap": train_accuracy - run["test_accuracy"],
                     "seconds": float(sum(run["epoch_seconds"]))})
    return pd.DataFrame(rows)


@dataclass
class AblationResult:
    """What :func:`run_ablation` returns: the summary table and every run, by row name."""

    table: pd.DataFrame
    runs: dict[str, list[dict]]       # row name -> one dict per seed (see train_configuration)
    resumed: list[str]                # "<row> (seed N)" loaded from disk instead of trained

    def histories(self, seed_index: int = 0) -> dict[str, dict[str, list[float]]]:
        """{row name: Keras history dict} of one seed's runs, for the learning-curve plots."""
        return {name: runs[seed_index]["history"] for name, runs in self.runs.items()}


def run_ablation(
    data: ImageDataset,
    *,
    configs: Mapping[str, AblationConfig] | None = None,
    width: float = 1.0,
    epochs: int,
    batch_size: int = 128,
    seeds: Sequence[int] = (42,),
    repeat_rows: Sequence[str] | None = None,
    results_dir: str | os.PathLike | None = None,
    article: Mapping[str, float] | None = None,
    progress: bool = True,
    run_eagerly: bool = False,
) -> AblationResult:
    """Train every configuration (in order) with every seed; return one table.

    configs     : {row name: configuration}, default :func:`cumulative_configs`
    seeds       : one run per seed; with several, the table shows mean and std
    repeat_rows : the rows that run with every seed; the others run once, with the first
        seed (None: every row runs with every seed)
    results_dir : each finished run is saved there as JSON; a later call with the
        same key (configuration, width, epochs, batch size, seed, the fingerprint of
        the code that builds and trains it, and of the exact data) loads it instead of
        training, so an interrupted ablation continues where it stopped.  A file with
        another key is retrained (and overwritten); an unreadable or partial one is
        reported and retrained.
    article     : {row name: the article's accuracy} for the comparison columns
    run_eagerly : passed to ``compile`` (faster for a few steps; see ``Profile.run_eagerly``)

    Table columns: configuration, params, runs (how many seeds), test_accuracy (mean over
    seeds), test_accuracy_std, change (from the row above, in accuracy), article_accuracy,
    article_change, final_train_accuracy, s_per_epoch.
    """
    configs = dict(configs or cumulative_configs())
    if not configs:
        raise ValueError("configs is empty")
    if not seeds:
        raise ValueError("seeds is empty")
    unknown = set(repeat_rows or ()) - set(configs)
    if unknown:
        raise ValueError(f"repeat_rows names unknown rows {sorted(unknown)}; rows: {list(configs)}")
    folder = Path(results_dir) if results_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {}
    resumed: list[str] = []
    fingerprints = ({"code": ablation_code_fingerprint(), "data": data_fingerprint(data)}
                    if folder is not None else {})
    for index, (name, config) in enumerate(configs.items()):
        runs[name] = []
        for seed in (seeds if repeat_rows is None or name in repeat_rows else seeds[:1]):
            settings = {"config": asdict(config), "width": width, "epochs": epochs, "batch_size": batch_size,
                        "n_train": int(len(data.x_train)), "n_test": int(len(data.x_test)),
                        "dataset": data.name, "seed": int(seed), **fingerprints}
            path = folder / f"{index:02d}_{_slug(name)}_seed{seed}.json" if folder is not None else None
            stored = _read_run(path, settings) if path is not None else None
            if stored is not None:
                runs[name].append(stored)
                resumed.append(f"{name} (seed {seed})")
                print(f"{name} (seed {seed}): loaded from {path}", file=sys.stdout)
                continue
            result = train_configuration(config, data, width=width, epochs=epochs, batch_size=batch_size,
                                         seed=seed, progress=progress, name=f"{name} (seed {seed})",
                                         run_eagerly=run_eagerly)
            if path is not None:
                partial = path.with_suffix(".json.part")
                partial.write_text(json.dumps({"settings": settings, "result": result}))
                partial.replace(path)   # a crash mid-write never leaves a half file behind
            runs[name].append(result)
    return AblationResult(table=_ablation_table(runs, article or {}), runs=runs, resumed=resumed)


_RESULT_KEYS = ("params", "test_loss", "test_accuracy", "history", "epoch_seconds")


def _read_run(path: Path, settings: dict) -> dict | None:
    """The saved result at ``path`` if it is whole and was made with ``settings``; else None,
    printing why when a file was there."""
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
        result = stored["result"]
        whole = all(k in result for k in _RESULT_KEYS) and len(result["history"]["loss"]) == settings["epochs"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"{path.name} is unreadable or partial ({type(err).__name__}); training this run again")
        return None
    if stored.get("settings") != settings:
        changed = sorted(k for k in settings if stored.get("settings", {}).get(k) != settings[k])
        print(f"{path.name} was made with other {', '.join(changed)}; training this run again")
        return None
    if not whole:
        print(f"{path.name} is partial; training this run again")
        return None
    return result


def pooled_seed_std(table: pd.DataFrame) -> float:
    """The run-to-run spread of one configuration's test accuracy, pooled over the rows that
    ran with several seeds (the root of their mean variance); NaN when no row did.  It stands
    for the noise of every run, the single ones included."""
    repeated = table[table["runs"] > 1]
    if repeated.empty:
        return float("nan")
    weights = repeated["runs"] - 1
    return float(np.sqrt((weights * repeated["test_accuracy_std"] ** 2).sum() / weights.sum()))


class AblationNoise:
    """The measurements behind an ablation table's verdicts, each with its standard error.

    table    : :func:`run_ablation`'s table (one row per configuration, in order)
    n_test   : test images each accuracy was counted on
    n_train  : training images the final training accuracy was counted on

    A row's SE is the run-to-run spread (:func:`pooled_seed_std`) over the root of its runs;
    with no repeated row, the binomial SE of an accuracy on ``n_test`` images stands in (it
    leaves out the seed's share of the noise, so it is too small).
    """

    def __init__(self, table: pd.DataFrame, n_test: int, n_train: int):
        self.rows = table.set_index("configuration")
        self.order = list(self.rows.index)
        self.n_test, self.n_train = int(n_test), int(n_train)
        self.seed_spread = pooled_seed_std(table)

    def _row(self, name: str) -> pd.Series:
        if name not in self.rows.index:
            raise KeyError(f"no configuration {name!r}; the table has: {', '.join(self.order)}")
        return self.rows.loc[name]

    def accuracy(self, name: str) -> Measurement:
        """The row's mean test accuracy (a fraction) and its SE."""
        row = self._row(name)
        value, runs = float(row["test_accuracy"]), int(row["runs"])
        if np.isfinite(self.seed_spread):
            se = self.seed_spread / np.sqrt(runs)
        else:
            se = Measurement.accuracy(value, self.n_test).se
        return Measurement(value, float(se), name, runs)

    def gain(self, name: str) -> Measurement:
        """The row's change in test accuracy from the row above it, and the SE of that difference."""
        index = self.order.index(self._row(name).name)
        if index == 0:
            raise ValueError(f"{name!r} is the first row: it has no row above to gain on")
        here, above = self.accuracy(name), self.accuracy(self.order[index - 1])
        return Measurement(here.value - above.value, float(np.hypot(here.se, above.se)), f"{name} gain")

    def gain_difference(self, name: str, other: str) -> Measurement:
        """``gain(name) - gain(other)`` and its SE.  Two gains can share a row (adjacent rows do:
        one row's accuracy enters both, with opposite signs), so the SE is not that of two
        independent gains: each row's accuracy is counted once, with its net coefficient."""
        coefficients: dict[str, float] = {}
        for row, sign in ((name, 1.0), (other, -1.0)):
            index = self.order.index(self._row(row).name)
            if index == 0:
                raise ValueError(f"{row!r} is the first row: it has no row above to gain on")
            for part, coefficient in ((row, sign), (self.order[index - 1], -sign)):
                coefficients[part] = coefficients.get(part, 0.0) + coefficient
        accuracies = {row: self.accuracy(row) for row in coefficients}
        value = sum(c * accuracies[row].value for row, c in coefficients.items())
        se = math.sqrt(sum((c * accuracies[row].se) ** 2 for row, c in coefficients.items()))
        return Measurement(float(value), float(se), f"{name} gain - {other} gain")

    def train_test_gap(self, name: str) -> Measurement:
        """Final training accuracy minus test accuracy, and its SE."""
        train = Measurement.accuracy(float(self._row(name)["final_train_accuracy"]), self.n_train)
        test = self.accuracy(name)
        return Measurement(train.value - test.value, float(np.hypot(train.se, test.se)), f"{name} gap")


def _ablation_table(runs: Mapping[str, list[dict]], article: Mapping[str, float]) -> pd.DataFrame:
    rows = []
    for name, results in runs.items():
        accuracies = np.array([r["test_accuracy"] for r in results])
        rows.append({
            "configuration": name,
            "params": results[0]["params"],
            "runs": len(results),
            "test_accuracy": float(accuracies.mean()),
            "test_accuracy_std": float(accuracies.std(ddof=1)) if len(accuracies) > 1 else np.nan,
            "article_accuracy": article.get(name, np.nan),
            "final_train_accuracy": float(np.mean([r["history"]["accuracy"][-1] for r in results])),
            "s_per_epoch": float(np.mean([np.mean(r["epoch_seconds"]) for r in results])),
        })
    table = pd.DataFrame(rows)
    table.insert(5, "change", table["test_accuracy"].diff())
    table.insert(7, "article_change", table["article_accuracy"].astype(float).diff())
    return table
