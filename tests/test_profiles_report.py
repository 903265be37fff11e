"""Profiles, seeding and metric reporting."""

from __future__ import annotations

import json

import pytest

from cnncourse import profiles, report, reproducibility


def test_default_profile_is_laptop(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    assert profiles.get_profile().name == "laptop"


@pytest.mark.parametrize("name", ["smoke", "laptop", "full", " SMOKE "])
def test_profile_from_environment(monkeypatch, name):
    monkeypatch.setenv(profiles.PROFILE_ENV, name)
    assert profiles.get_profile().name == name.strip().lower()


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "gpu")
    with pytest.raises(profiles.ProfileError, match="'gpu'.*smoke, laptop, full"):
        profiles.get_profile()


def test_profiles_grow_from_smoke_to_full():
    s, l, f = (profiles.get_profile(n).lesson01 for n in ("smoke", "laptop", "full"))
    assert s.mnist_epochs == s.cifar_epochs == 1
    assert f.mnist_val == 6000          # the article's validation_split=0.1 of 60,000
    from cnncourse import articles

    assert s.mnist_epochs <= l.mnist_epochs <= f.mnist_epochs == articles.LESSON01_MNIST_SETTINGS["epochs"]
    assert f.cifar_epochs == 20 and f.cifar_batch_size == 100  # article 004
    assert f.mnist_train is None and f.cifar_train is None  # all the data
    assert f.mnist_batch_size == articles.LESSON01_MNIST_SETTINGS["batch size"]


def test_summary_names_the_profile_and_its_sizes():
    smoke = profiles.get_profile("smoke")
    text = smoke.summary()
    assert text.startswith("cnncourse profile: smoke") and "mnist_epochs=1" in text
    assert "lesson02" in text and "lesson02" not in smoke.summary("lesson01")
    with pytest.raises(ValueError, match="lesson01"):
        smoke.summary("lesson99")


def test_report_metric_prints_and_records(tmp_path, monkeypatch, capsys):
    path = tmp_path / "build" / "metrics.json"
    monkeypatch.setenv(report.METRICS_ENV, str(path))
    monkeypatch.setenv(report.NOTEBOOK_ENV, "01_x")
    assert report.report_metric("acc", 0.5) is None      # a cell ending with it shows no stray Out: value
    report.report_metric("loss", 1.25)
    assert "[metric] acc = 0.5000" in capsys.readouterr().out
    assert json.loads(path.read_text()) == {"01_x": {"metrics": {"acc": 0.5, "loss": 1.25}, "claims": []}}


def test_report_metric_without_runner_only_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(report.METRICS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    report.report_metric("acc", 1)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="finite"):
        report.report_metric("bad", float("nan"))


def test_set_seed_makes_keras_reproducible():
    import keras
    import numpy as np

    from cnncourse import set_seed

    set_seed(7)
    a = keras.layers.Dense(3, kernel_initializer="glorot_uniform")
    a.build((None, 4))
    n1 = np.random.rand()
    set_seed(7)
    b = keras.layers.Dense(3, kernel_initializer="glorot_uniform")
    b.build((None, 4))
    assert np.random.rand() == n1
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())


def test_lesson04_probe_fits_umap_and_full_is_the_articles():
    for name in ("smoke", "laptop", "full"):
        s = profiles.get_profile(name).lesson04
        assert s.n_neighbors < s.probe_size
        assert s.fashion_train is None or s.probe_size <= s.fashion_train
        assert len(s.seeds) >= 2 and len(set(s.seeds)) == len(s.seeds)   # a ranking needs a spread
    full = profiles.get_profile("full").lesson04
    assert (full.epochs, full.batch_size, full.n_neighbors) == (100, 500, 40)
    assert full.fashion_train is None and full.fashion_val == 12000    # the article's 20% of 60,000
    assert profiles.get_profile("smoke").lesson04.epochs == 1


def test_lesson06_every_alpha_has_a_size_and_smoke_uses_the_cached_one():
    for name in ("smoke", "laptop", "full"):
        s = profiles.get_profile(name).lesson06
        for alpha in s.mobilenet_alphas:
            s.transfer_images(alpha)          # raises when a size is missing
        # the fine-tuning size is the largest frozen-feature size, and 32 px (the article's) is among them
        assert s.image_size == max(s.image_sizes) and min(s.image_sizes) == 32
        # Keras has separate ImageNet files for 128/160/192 px: offline, only the 224 one may be cached
        assert not set(s.image_sizes) & {128, 160, 192}
    assert profiles.get_profile("smoke").lesson06.mobilenet_alphas == (0.25,)
    assert profiles.get_profile("laptop").lesson06.mobilenet_alphas[0] == 1.0
    with pytest.raises(ValueError, match="no transfer_train size for alpha=0.5"):
        profiles.get_profile("laptop").lesson06.transfer_images(0.5)


def test_only_smoke_runs_eagerly_and_says_so():
    assert profiles.get_profile("smoke").run_eagerly
    assert "Keras runs eagerly" in profiles.get_profile("smoke").summary("lesson06")
    assert not profiles.get_profile("laptop").run_eagerly and not profiles.get_profile("full").run_eagerly


def test_tensorflow_log_lines_are_dropped_and_the_rest_kept():
    from cnncourse import quiet

    dropped = [b"I0000 00:00:1795994676.611090    2900 port.cc:153] oneDNN custom operations are on.",
               b"E0000 00:00:1795990707.763081   29927 node_def_util.cc:682] NodeDef mentions attribute",
               b"W0000 00:00:1795990707.763081   29927 cpu_feature_guard.cc:227] This TensorFlow binary",
               b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
               b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild"]
    kept = [b"Traceback (most recent call last):", b"ValueError: Model 'x' has no layer 'conv1'",
            b"WARNING: something a learner should see", b"I0000 is not a log line without its prefix"]
    assert not any(quiet.keep_line(line) for line in dropped)
    assert all(quiet.keep_line(line) for line in kept)
    assert not quiet.in_notebook_kernel()      # pytest is not a Jupyter kernel: nothing is filtered here


def test_the_filter_passes_other_output_through_a_descriptor(tmp_path):
    import subprocess
    import sys

    script = ("import os, time\nfrom cnncourse import quiet\nquiet.hide_tensorflow_logs()\n"
              "os.write(2, b'I0000 00:00:1.5    12 port.cc:153] chatter\\nkeep me\\n')\ntime.sleep(0.5)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stderr == "keep me\n"


def test_the_retracing_notice_is_dropped_and_other_tensorflow_warnings_kept(tmp_path):
    import subprocess
    import sys

    script = ("import logging, sys\nlogging.basicConfig(stream=sys.stdout, format='%(message)s')\n"
              "from cnncourse import quiet\nquiet.hide_retracing_notices()\n"
              "log = logging.getLogger('tensorflow')\n"
              "log.warning('5 out of the last 9 calls to <function f> triggered tf.function retracing. Tracing')\n"
              "log.warning('a warning a learner should see')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout == "a warning a learner should see\n"


def test_a_learner_can_ask_for_tensorflow_logs_back(monkeypatch):
    from cnncourse import quiet

    monkeypatch.delenv(quiet.SHOW_LOGS_ENV, raising=False)
    assert not quiet.logs_wanted()
    monkeypatch.setenv(quiet.SHOW_LOGS_ENV, "1")
    assert quiet.logs_wanted()


def test_the_thread_cap_is_read_and_checked(monkeypatch):
    monkeypatch.delenv(reproducibility.THREADS_ENV, raising=False)
    assert reproducibility.thread_cap() is None
    monkeypatch.setenv(reproducibility.THREADS_ENV, "2")
    assert reproducibility.thread_cap() == 2
    monkeypatch.setenv(reproducibility.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="CNNCOURSE_THREADS must be a positive whole number of threads, got 'two'"):
        reproducibility.thread_cap()


def test_the_thread_cap_reaches_tensorflow():
    import os
    import subprocess
    import sys

    script = ("import cnncourse, os\ncnncourse.set_seed(1)\nimport tensorflow as tf\n"
              "print(tf.config.threading.get_intra_op_parallelism_threads(),"
              " tf.config.threading.get_inter_op_parallelism_threads(), os.environ['OMP_NUM_THREADS'])")
    env = dict(os.environ, CNNCOURSE_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("OMP_NUM_THREADS", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["1", "1", "1"], done.stderr[-500:]
