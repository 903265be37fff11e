"""The lesson 05 ablation: its configurations, its builder's parameter counts, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cnncourse import ablation, models
from cnncourse.data import ImageDataset


def _conv(k, cin, cout):
    return k * k * cin * cout + cout


# Hand counts at width 1.0 (article 002's 64/128/256 filters, 32x32x3 input, 3x3x256 before the head)
BASE = (_conv(1, 3, 64) + 2 * _conv(3, 64, 64) + _conv(3, 64, 64)
        + _conv(3, 64, 128) + _conv(3, 128, 128) + _conv(3, 128, 128)
        + _conv(3, 128, 256) + _conv(3, 256, 256) + _conv(3, 256, 256) + 3 * 3 * 256 * 10 + 10)
BN_CHANNELS = 64 + 3 * 64 + 3 * 128 + 3 * 256           # one BN after each of the 10 convs
RESIDUAL_BN = (_conv(1, 3, 64) + 4 * 64                          # stem conv + BN
               + 2 * _conv(3, 64, 64) + 2 * 4 * 64 + _conv(3, 64, 64) + 4 * 64        # stage 1
               + 2 * _conv(3, 64, 64) + 2 * 4 * 64 + _conv(3, 64, 128) + 4 * 128      # stage 2
               + 2 * _conv(3, 128, 128) + 2 * 4 * 128 + _conv(3, 128, 256) + 4 * 256  # stage 3
               + 3 * 3 * 256 * 10 + 10)


@pytest.mark.parametrize("switches, expected", [
    ({}, BASE),
    ({"batch_norm": True}, BASE + 4 * BN_CHANNELS),
    ({"batch_norm": True, "residual": True}, RESIDUAL_BN),
    ({"batch_norm": True, "residual": True, "global_pooling": True}, RESIDUAL_BN - 3 * 3 * 256 * 10 + 256 * 10),
    ({"batch_norm": True, "residual": True, "global_pooling": True, "dropout": 0.2},
     RESIDUAL_BN - 3 * 3 * 256 * 10 + 256 * 10),
])
def test_ablation_cnn_parameter_counts_at_width_one(switches, expected):
    model = models.build_ablation_cnn(**switches)
    assert model.count_params() == expected
    assert sum(layer.__class__.__name__ == "Conv2D" for layer in model.layers) == 10


def test_base_count_is_the_published_arithmetic():
    assert BASE == 1_978_442 and RESIDUAL_BN == 876_234


def test_width_shrinks_filters_and_bad_switches_fail():
    small = models.build_ablation_cnn(width=0.25)
    assert small.get_layer("stage3_down_conv").filters == 64
    assert small.count_params() < BASE / 10
    with pytest.raises(ValueError, match="width must be positive"):
        models.build_ablation_cnn(width=0)
    with pytest.raises(ValueError, match="dropout must be in"):
        models.build_ablation_cnn(dropout=1.0)


def test_cumulative_configs_follow_the_articles_order():
    configs = ablation.cumulative_configs()
    assert list(configs) == [name for name, _ in ablation.ABLATION_STEPS]
    last = configs["+ AMSGrad"]
    assert last == ablation.AblationConfig(augment=True, batch_norm=True, residual=True, global_pooling=True,
                                           dropout=0.2, mixup_alpha=0.2, amsgrad=True)
    assert configs["+ batch norm"].augment and not configs["+ batch norm"].residual
    with pytest.raises(ValueError, match="unknown switches \\['batchnorm'\\]"):
        ablation.cumulative_configs([("x", {"batchnorm": True})])


def _tiny_cifar(n=48, size=16):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    x = rng.uniform(0, 0.3, (n, size, size, 3)).astype("float32")
    x[labels == 1, :, :, 0] += 0.6        # class 1 is red, class 2 is blue
    x[labels == 2, :, :, 2] += 0.6
    y = np.eye(3, dtype="float32")[labels]
    return ImageDataset("tiny", x, y, x[:24], y[:24], ("grey", "red", "blue"), "synthetic")


def test_run_ablation_saves_each_run_and_resumes(tmp_path, capsys):
    data = _tiny_cifar()
    configs = dict(list(ablation.cumulative_configs().items())[:3])
    kwargs = dict(configs=configs, width=0.125, epochs=1, batch_size=16, results_dir=tmp_path,
                  article={"base CNN": 0.7288, "+ augmentation": 0.8609}, progress=False, run_eagerly=True)
    first = ablation.run_ablation(data, **kwargs)
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert files == ["00_base_cnn_seed42.json", "01_augmentation_seed42.json", "02_batch_norm_seed42.json"]
    assert first.resumed == []
    table = first.table
    assert list(table.configuration) == list(configs)
    np.testing.assert_allclose(table["change"].iloc[1], table.test_accuracy.iloc[1] - table.test_accuracy.iloc[0])
    assert table["article_change"].iloc[1] == pytest.approx(0.8609 - 0.7288)
    assert np.isnan(table["article_accuracy"].iloc[2])

    # "interrupted" after two rows: the third file is gone; a rerun trains only that one
    (tmp_path / "02_batch_norm_seed42.json").unlink()
    second = ablation.run_ablation(data, **kwargs)
    assert second.resumed == ["base CNN (seed 42)", "+ augmentation (seed 42)"]
    assert second.table.test_accuracy.tolist() == pytest.approx(first.table.test_accuracy.tolist())

    # different settings (2 epochs) are not mistaken for finished runs
    first_row = dict(list(configs.items())[:1])
    third = ablation.run_ablation(data, **{**kwargs, "configs": first_row, "epochs": 2})
    assert third.resumed == []
    assert len(json.loads((tmp_path / "00_base_cnn_seed42.json").read_text())["result"]["history"]["loss"]) == 2


def test_several_seeds_give_mean_and_std():
    data = _tiny_cifar()
    result = ablation.run_ablation(data, configs={"base CNN": ablation.AblationConfig()}, width=0.125, epochs=1,
                                   batch_size=16, seeds=(1, 2), progress=False, run_eagerly=True)
    assert len(result.runs["base CNN"]) == 2
    assert np.isfinite(result.table.test_accuracy_std.iloc[0])
    assert set(result.histories(1)) == {"base CNN"}


# ----------------------------------------------------------------------------- a resume key that cannot go stale
def _build_from_source(folder, source):
    """Load ``source`` as a module named fp_module from its own file in ``folder``; return its ``build``."""
    import importlib.util

    folder.mkdir()
    path = folder / "fp_module.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("fp_module", path)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["fp_module"] = module          # the fingerprint looks helpers up in the function's module
    spec.loader.exec_module(module)
    return module.build


SOURCE = ("def _helper(x):\n    return x + 1\n\n"
          "def build(x):\n    return _helper(x) * 2\n\n"
          "def unrelated():\n    return 0\n")


def test_code_fingerprint_follows_the_helpers_a_builder_calls(tmp_path):
    fingerprint = ablation.code_fingerprint
    original = fingerprint(_build_from_source(tmp_path / "a", SOURCE))
    helper_edited = fingerprint(_build_from_source(tmp_path / "b", SOURCE.replace("x + 1", "x + 2")))
    unrelated_edited = fingerprint(_build_from_source(tmp_path / "c", SOURCE.replace("return 0", "return 1")))
    commented = fingerprint(_build_from_source(tmp_path / "d", SOURCE + "\n# a comment at the end\n"))
    assert helper_edited != original          # an edit to a helper the builder calls changes its fingerprint
    assert unrelated_edited == original       # an edit to code it never calls does not
    assert commented == original
    # the real one covers the private helpers of the lesson 05 builder
    assert ablation.ablation_code_fingerprint() == ablation.ablation_code_fingerprint()


def _resume_kwargs(tmp_path):
    configs = dict(list(ablation.cumulative_configs().items())[:2])
    return dict(configs=configs, width=0.125, epochs=1, batch_size=16, results_dir=tmp_path, progress=False, run_eagerly=True)


@pytest.fixture(scope="module")
def _trained_folder(tmp_path_factory):
    """A results folder of the first two rows, trained once for the resume tests below."""
    folder = tmp_path_factory.mktemp("ablation-trained")
    ablation.run_ablation(_tiny_cifar(), **_resume_kwargs(folder))
    return folder


@pytest.fixture
def trained_copy(_trained_folder, tmp_path):
    """A copy of the trained folder that a test may change: an interrupted or edited course's results."""
    import shutil

    return Path(shutil.copytree(_trained_folder, tmp_path / "results"))


def test_an_unchanged_rerun_loads_everything(trained_copy):
    again = ablation.run_ablation(_tiny_cifar(), **_resume_kwargs(trained_copy))
    assert again.resumed == ["base CNN (seed 42)", "+ augmentation (seed 42)"]


def test_a_changed_builder_retrains(trained_copy, monkeypatch, capsys):
    real = models.build_ablation_cnn

    def edited(*args, **kwargs):          # a learner's edit: same signature, another network
        kwargs["dropout"] = 0.5
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "build_ablation_cnn", edited)
    again = ablation.run_ablation(_tiny_cifar(), **_resume_kwargs(trained_copy))
    assert again.resumed == []
    assert "made with other code" in capsys.readouterr().out


def test_a_changed_subset_retrains(trained_copy, capsys):
    from dataclasses import replace

    data = _tiny_cifar()
    other = replace(data, x_train=data.x_train[::-1].copy(), y_train=data.y_train[::-1].copy())  # same size, other order
    again = ablation.run_ablation(other, **_resume_kwargs(trained_copy))
    assert again.resumed == []
    assert "made with other data" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["truncated", "no history", "fewer epochs"])
def test_a_corrupt_or_partial_result_is_reported_and_retrained(trained_copy, capsys, damage):
    path = trained_copy / "01_augmentation_seed42.json"
    stored = json.loads(path.read_text())
    if damage == "truncated":
        path.write_text(path.read_text()[:40])
    elif damage == "no history":
        del stored["result"]["history"]
        path.write_text(json.dumps(stored))
    else:
        stored["result"]["history"]["loss"] = []
        path.write_text(json.dumps(stored))
    again = ablation.run_ablation(_tiny_cifar(), **_resume_kwargs(trained_copy))
    assert again.resumed == ["base CNN (seed 42)"]
    out = capsys.readouterr().out
    assert "01_augmentation_seed42.json is" in out and "training this run again" in out


def test_repeat_rows_run_every_seed_and_the_others_once(tmp_path):
    data = _tiny_cifar()
    configs = dict(list(ablation.cumulative_configs().items())[:3])
    result = ablation.run_ablation(data, configs=configs, width=0.125, epochs=1, batch_size=16, seeds=(1, 2),
                                   repeat_rows=("base CNN", "+ batch norm"), progress=False, run_eagerly=True)
    assert [len(result.runs[r]) for r in configs] == [2, 1, 2]
    assert result.table.runs.tolist() == [2, 1, 2]
    assert np.isnan(result.table.test_accuracy_std.iloc[1])
    stds = result.table.test_accuracy_std.iloc[[0, 2]].to_numpy()
    assert ablation.pooled_seed_std(result.table) == pytest.approx(np.sqrt((stds ** 2).mean()))
    with pytest.raises(ValueError, match="unknown rows"):
        ablation.run_ablation(data, configs=configs, epochs=1, seeds=(1, 2), repeat_rows=("+ dropout",))
    once = ablation.run_ablation(data, configs=configs, width=0.125, epochs=1, batch_size=16, seeds=(1, 2),
                                 repeat_rows=(), progress=False, run_eagerly=True)
    assert once.table.runs.tolist() == [1, 1, 1] and np.isnan(ablation.pooled_seed_std(once.table))


def test_compare_augmenters_trains_the_base_cnn_once_per_augmenter():
    from cnncourse import augment

    table = ablation.compare_augmenters({"none": None, "flip": augment.build_augmenter(seed=1)}, _tiny_cifar(),
                                        width=0.125, epochs=1, batch_size=16, seed=3, progress=False)
    assert list(table.augmenter) == ["none", "flip"]
    assert (table.gap == table.final_train_accuracy - table.test_accuracy).all()
    assert table.test_accuracy.between(0, 1).all() and (table.seconds > 0).all()


def _noise_table(runs=(3, 1, 3), std=(0.02, np.nan, 0.04)):
    import pandas as pd

    return pd.DataFrame({"configuration": ["a", "b", "c"], "runs": list(runs), "test_accuracy": [0.5, 0.6, 0.8],
                         "test_accuracy_std": list(std), "final_train_accuracy": [0.9, 0.8, 0.85]})


def test_ablation_noise_pools_the_seed_spread_over_the_repeated_rows():
    noise = ablation.AblationNoise(_noise_table(), n_test=1000, n_train=500)
    spread = np.sqrt((2 * 0.02**2 + 2 * 0.04**2) / 4)
    assert noise.seed_spread == pytest.approx(spread)
    assert noise.accuracy("b").se == pytest.approx(spread)            # one run: the whole spread
    assert noise.accuracy("c").se == pytest.approx(spread / np.sqrt(3))
    gain = noise.gain("c")
    assert gain.value == pytest.approx(0.2) and gain.se == pytest.approx(np.hypot(spread, spread / np.sqrt(3)))
    gap = noise.train_test_gap("a")
    assert gap.value == pytest.approx(0.4)
    assert gap.se == pytest.approx(np.hypot(np.sqrt(0.9 * 0.1 / 500), spread / np.sqrt(3)))
    with pytest.raises(KeyError, match="the table has: a, b, c"):
        noise.accuracy("d")
    with pytest.raises(ValueError, match="first row"):
        noise.gain("a")


def test_gain_difference_counts_a_shared_row_once():
    noise = ablation.AblationNoise(_noise_table(), n_test=1000, n_train=500)
    a, b, c = (noise.accuracy(r) for r in "abc")
    diff = noise.gain_difference("c", "b")          # (c - b) - (b - a) = c - 2b + a: b counts twice
    assert diff.value == pytest.approx(0.8 - 2 * 0.6 + 0.5)
    assert diff.se == pytest.approx(np.sqrt(c.se**2 + (2 * b.se) ** 2 + a.se**2))
    naive = np.hypot(noise.gain("c").se, noise.gain("b").se)
    assert diff.se > naive                          # treating the gains as independent understates it


def test_ablation_noise_without_repeated_rows_uses_the_binomial_se():
    noise = ablation.AblationNoise(_noise_table(runs=(1, 1, 1), std=(np.nan,) * 3), n_test=1000, n_train=500)
    assert np.isnan(noise.seed_spread)
    assert noise.accuracy("b").se == pytest.approx(np.sqrt(0.6 * 0.4 / 1000))
