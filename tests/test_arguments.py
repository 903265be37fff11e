"""Wrong arguments fail at once, naming the argument, the value and what is valid."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import arguments, embedding, models, training, viz
from cnncourse.data import ImageDataset, load_dataset


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "n must be >= 1, got 0"),
    (-3, ValueError, "n must be >= 1, got -3"),
    (2.5, TypeError, r"n must be an integer >= 1, got 2.5 \(float\)"),
    ("10", TypeError, r"got '10' \(str\)"),
    (True, TypeError, r"got True \(bool\)"),
])
def test_count_refuses_what_is_not_a_count(value, error, message):
    with pytest.raises(error, match=message):
        arguments.count("n", value)


def test_count_fraction_and_choice_pass_what_is_valid():
    assert arguments.count("n", np.int64(3)) == 3 and arguments.count("n", None, allow_none=True) is None
    assert arguments.fraction("f", 0.2) == 0.2
    with pytest.raises(ValueError, match=r"f must lie in \(0.0, 1.0\), got 1.5"):
        arguments.fraction("f", 1.5)
    with pytest.raises(ValueError, match="v must be one of 'a', 'b'; got 'c'"):
        arguments.choice("v", "c", ["a", "b"])


def test_a_loader_checks_its_sizes_before_touching_the_disk(tmp_path):
    with pytest.raises(TypeError, match="n_test must be an integer >= 1 or None, got '10'"):
        load_dataset("mnist", 10, "10", data_dir=tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="n_val must be >= 0, got -1"):
        load_dataset("mnist", 10, n_val=-1, data_dir=tmp_path / "nothing-here")
    assert not (tmp_path / "nothing-here").exists()


def _tiny(shape=(28, 28, 1)):
    rng = np.random.default_rng(0)
    x = rng.random((20,) + shape, dtype=np.float32)
    y = np.arange(20) % 10
    return ImageDataset("tiny", x, y, x[:10], y[:10], tuple("0123456789"), "synthetic")


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be >= 1, got 0"),
    ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
    ({"optimizer": "adamm"}, "optimizer 'adamm' is not a Keras optimizer name; valid: adadelta"),
    ({"validation": "holdout"}, "validation must be one of 'split', 'val', 'test'; got 'holdout'"),
    ({"validation_split": 1.0}, r"validation_split must lie in \(0.0, 1.0\), got 1.0"),
])
def test_training_arguments_are_checked_before_training(kwargs, message):
    args = {"optimizer": "adam", "epochs": 1, "batch_size": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        training.fit_and_evaluate(models.build_mnist_single_conv(), _tiny(), progress=False, **args)


def test_a_model_for_other_images_is_named_with_both_shapes():
    with pytest.raises(ValueError, match=r"takes images of shape \(N, 32, 32, 3\); got \(1, 28, 28, 1\)\. Is this"):
        training.fit_and_evaluate(models.build_simple_convnet(), _tiny(), optimizer="adam", epochs=1,
                                  batch_size=8, progress=False)


def test_plot_and_embedding_arguments_are_named():
    with pytest.raises(ValueError, match="per_class must be >= 1, got 0"):
        viz.plot_sample_grid(_tiny().x_train, _tiny().y_train, tuple("0123456789"), per_class=0)
    with pytest.raises(ValueError, match="features has 10 rows but labels has 5"):
        embedding.compute_separability(np.zeros((10, 3)), np.arange(5))
