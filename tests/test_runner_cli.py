"""The headless runner and the command line."""

from __future__ import annotations

import os

import nbformat
import pytest

from cnncourse.tooling import cli, doctor, runner
from cnncourse.profiles import PROFILE_ENV


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_notebook_collects_metrics_and_profile(tmp_path):
    nb = _notebook(tmp_path / "07_demo.ipynb",
                   "import os\nfrom cnncourse.report import report_metric",
                   f"report_metric('profile_is_smoke', float(os.environ['{PROFILE_ENV}'] == 'smoke'))")
    run = runner.run_notebook(nb, profile="smoke", output_dir=tmp_path / "build", timeout=120)
    assert run.status == "ok", run.error
    assert run.metrics == {"profile_is_smoke": 1.0}
    executed = nbformat.read(run.output, as_version=4)
    # recorded for the runner, but not printed into the learner's notebook (bookkeeping, not lesson output)
    assert not any("[metric]" in o.get("text", "") for o in executed.cells[1].outputs)
    assert "07_demo" in runner.format_runs([run])
    # what the reading copy shows about the run
    assert executed.metadata["cnncourse"]["profile"] == "smoke" and executed.metadata["cnncourse"]["status"] == "ok"
    assert {"python", "cnncourse", "tensorflow", "keras"} <= set(executed.metadata["cnncourse"]["versions"])


def test_the_kernels_peak_memory_and_the_cells_that_raised_it_are_recorded(tmp_path):
    import sys

    nb = _notebook(tmp_path / "07_memory.ipynb", "x = 1", "import numpy as np\nbig = np.ones(40_000_000)  # 305 MiB",
                   "del big")
    run = runner.run_notebook(nb, output_dir=tmp_path / "build", timeout=120)
    assert run.status == "ok", run.error
    if not sys.platform.startswith("linux"):
        pytest.skip("peak memory is read from /proc (Linux)")
    assert run.memory_cells[0]["cell"] == 1 and run.memory_cells[0]["rise_mib"] >= 290
    assert run.peak_rss_mib >= run.memory_cells[0]["peak_mib"] - 1 and "peak memory" in runner.format_runs([run])


def test_a_failing_notebook_names_the_cell_and_the_executed_copy(tmp_path):
    nb = _notebook(tmp_path / "08_fail.ipynb", "x = 1", "# the second cell\nraise ValueError('boom')")
    run = runner.run_notebook(nb, output_dir=tmp_path / "build", timeout=120)
    assert run.status == "failed" and run.output.exists()
    assert run.error.startswith("ValueError: boom in cell 1 ('# the second cell')")
    assert str(run.output) in run.error
    assert "cell  1" in runner.format_runs([run]) or "slow cell  1" in runner.format_runs([run])


def test_a_dead_kernel_is_a_failed_run_and_the_environment_is_restored(tmp_path, monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    nb = _notebook(tmp_path / "09_dies.ipynb", "x = 1", "import os\nos._exit(1)", "y = 2")
    run = runner.run_notebook(nb, profile="smoke", output_dir=tmp_path / "build", timeout=120)
    assert run.status == "failed" and "DeadKernelError" in run.error and "in cell 1 ('import os')" in run.error
    assert PROFILE_ENV not in __import__("os").environ


def test_the_kernel_is_this_interpreter(tmp_path):
    import sys

    nb = _notebook(tmp_path / "10_which.ipynb", "import os, sys\nfrom cnncourse.report import report_metric",
                   f"report_metric('same_python', float(sys.executable == {sys.executable!r}))\n"
                   "report_metric('pid', float(os.getpid()))")
    run = runner.run_notebook(nb, output_dir=tmp_path / "build", timeout=120)
    assert run.status == "ok", run.error
    assert run.metrics["same_python"] == 1.0
    import os
    import time

    for _ in range(50):   # the runner shuts its kernel down: no process left behind
        try:
            os.kill(int(run.metrics["pid"]), 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the kernel process is still running after run_notebook returned")
    assert [c["cell"] for c in run.slowest] and all(c["seconds"] >= 0 for c in run.slowest)


def test_no_cell_timeout_under_full_unless_asked(tmp_path, monkeypatch):
    seen = []
    import nbclient

    class Recorder(nbclient.NotebookClient):
        def __init__(self, nb, **kwargs):
            seen.append(kwargs.get("timeout"))
            super().__init__(nb, **kwargs)

        def execute(self, **kwargs):
            return self.nb

    monkeypatch.setattr(nbclient, "NotebookClient", Recorder)
    nb = _notebook(tmp_path / "11_t.ipynb", "x = 1")
    for profile, timeout in (("full", None), ("full", 50), ("smoke", None)):
        runner.run_notebook(nb, profile=profile, output_dir=tmp_path / "build", timeout=timeout)
    assert seen == [None, 50, runner.DEFAULT_CELL_TIMEOUT_S]


def test_find_notebooks_by_prefix_and_unknown_name():
    paths = runner.find_notebooks(["01"])
    assert [p.name for p in paths] == ["01_cnn_basics.ipynb"]
    with pytest.raises(FileNotFoundError, match="01_cnn_basics"):
        runner.find_notebooks(["99"])


def test_cli_rejects_unknown_profile(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--profile", "gpu"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_says_a_bad_setting_in_one_line_without_a_traceback():
    import subprocess
    import sys

    env = {**os.environ, PROFILE_ENV: "bogus"}
    done = subprocess.run([sys.executable, "-m", "cnncourse", "run", "01"], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("python -m cnncourse run: error: ") and "Traceback" not in done.stderr
    assert "bogus" in done.stderr and "smoke" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = subprocess.run([sys.executable, "-m", "cnncourse", "solutions", "99"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "99" in done.stderr


def test_doctor_offline_fails_with_the_fix_when_data_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNCOURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert doctor.doctor(offline=True) == 1
    out = capsys.readouterr().out
    assert "MUST BE DOWNLOADED" in out and "python -m cnncourse fetch" in out
    assert "The course cannot run" in out


def test_doctor_bad_profile_is_a_problem(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(PROFILE_ENV, "huge")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert doctor.doctor() == 1
    assert "Valid profiles: smoke, laptop, full" in capsys.readouterr().out


def test_the_executed_copy_has_its_figures_even_under_a_non_inline_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")   # as CI sets it for the tests
    nb = _notebook(tmp_path / "07_plot.ipynb", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    run = runner.run_notebook(nb, output_dir=tmp_path / "build", timeout=120)
    assert run.status == "ok", run.error
    outputs = nbformat.read(run.output, as_version=4).cells[0].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    import os

    assert os.environ["MPLBACKEND"] == "Agg"   # restored after the run
