"""The Colab path: one identical first cell, a no-op outside Colab, badges that name their own notebook."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import types

import nbformat
import pytest

from cnncourse import colab
from cnncourse.tooling import colab_sync
from cnncourse.tooling.runner import find_notebooks

NOTEBOOKS = find_notebooks()


def test_there_are_six_lessons():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_setup_cell_and_the_badge_names_this_notebook(path):
    nb = nbformat.read(path, as_version=4)
    assert colab_sync.first_code_cell(nb).source == colab.SETUP_CELL, "run `python -m cnncourse colab --sync`"
    title = nb.cells[0].source
    assert colab.badge_markdown(path.name) in title
    assert title.count("colab.research.google.com/github") == 1


def test_the_setup_cell_pins_the_repository_and_ref_in_one_place():
    assert f"git+https://github.com/{colab.REPOSITORY}@{colab.REF}" in colab.SETUP_CELL
    assert colab.colab_url("01_cnn_basics.ipynb") == (
        f"https://colab.research.google.com/github/{colab.REPOSITORY}/blob/{colab.REF}/notebooks/01_cnn_basics.ipynb")


def test_outside_colab_the_cell_does_nothing_and_prints_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("the cell ran a command outside Colab"))
    namespace, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(compile(colab.SETUP_CELL, "setup-cell", "exec"), namespace)
    assert out.getvalue() == ""
    assert set(namespace) - {"__builtins__"} == {"sys"}


def test_on_colab_the_cell_installs_the_pinned_package_without_touching_tensorflow(monkeypatch):
    commands, calls = [], []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: commands.append(cmd))
    monkeypatch.setattr(colab, "setup", lambda: calls.append("setup"))
    exec(compile(colab.SETUP_CELL, "setup-cell", "exec"), {})
    (pip,) = commands
    assert pip[1:4] == ["-m", "pip", "install"] and "--no-deps" in pip
    assert pip[-1] == f"cnncourse @ git+https://github.com/{colab.REPOSITORY}@{colab.REF}"
    assert calls == ["setup"]


def test_setup_installs_only_what_colab_lacks_and_keeps_a_chosen_profile(monkeypatch, capsys):
    import importlib.util

    commands = []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "umap" else real_find_spec(name))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: commands.append(cmd))
    monkeypatch.delenv("CNNCOURSE_PROFILE", raising=False)
    colab.setup()
    assert commands == [[sys.executable, "-m", "pip", "install", "--quiet", "umap-learn"]]
    assert "profile 'laptop'" in capsys.readouterr().out
    import os

    assert os.environ["CNNCOURSE_PROFILE"] == "laptop"
    monkeypatch.setenv("CNNCOURSE_PROFILE", "smoke")
    colab.setup()
    assert "profile 'smoke'" in capsys.readouterr().out
    assert not any("tensorflow" in part or "keras" in part for cmd in commands for part in cmd)


def test_sync_inserts_the_cell_and_badge_once(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lesson 09 — Test\n\nText."),
                                         nbformat.v4.new_code_cell("import cnncourse")])
    path = tmp_path / "09_test.ipynb"
    nbformat.write(nb, path)
    assert colab_sync.sync_notebook(path) is True
    assert colab_sync.sync_notebook(path) is False
    synced = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in synced.cells] == ["markdown", "code", "code"]
    assert synced.cells[1].source == colab.SETUP_CELL and synced.cells[2].source == "import cnncourse"
    assert colab.badge_markdown("09_test.ipynb") in synced.cells[0].source
