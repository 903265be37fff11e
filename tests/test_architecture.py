"""The package's architecture as pyproject.toml's import contracts state it (import-linter): the
teaching modules never import cnncourse.tooling, the modules keep their layers, no import cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the console script pip installed beside this interpreter (found whether or not it is on PATH)
_SCRIPT = Path(sysconfig.get_path("scripts")) / "lint-imports"
LINT_IMPORTS = str(_SCRIPT) if _SCRIPT.is_file() else shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[test]')")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True)


def _copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "cnncourse", tmp_path / "cnncourse", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_contracts_hold():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("module, planted, broken", [
    ("source.py", "from .tooling import runner", "Teaching modules never import the tooling BROKEN"),
    ("fileformats.py", "from . import data", "No import cycles, in the package or any subpackage BROKEN"),
    ("catalogue.py", "from . import download", "The package's layers, highest first BROKEN"),
])
def test_a_planted_import_breaks_its_contract(tmp_path, module, planted, broken):
    tree = _copy_of_the_package(tmp_path)
    with open(tree / "cnncourse" / module, "a") as f:
        f.write(f"\n{planted}  # planted\n")
    done = _lint(tree)
    assert done.returncode != 0 and broken in done.stdout, done.stdout


def test_a_new_module_must_be_given_a_layer(tmp_path):
    tree = _copy_of_the_package(tmp_path)
    (tree / "cnncourse" / "newthing.py").write_text('"""A module nobody placed in a layer."""\n')
    done = _lint(tree)
    assert done.returncode != 0 and "newthing" in done.stdout, done.stdout


def _modules(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.py") if not p.stem.startswith("__")} | {
        p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}


def test_the_package_maps_name_every_module():
    import cnncourse
    import cnncourse.tooling

    package, tooling = ROOT / "cnncourse", ROOT / "cnncourse" / "tooling"
    for module in _modules(package):
        assert f":mod:`cnncourse.{module}`" in cnncourse.__doc__, f"cnncourse/__init__.py's map lacks {module}"
    for module in _modules(tooling):
        assert f":mod:`cnncourse.tooling.{module}`" in cnncourse.tooling.__doc__, f"tooling's map lacks {module}"
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("```text\ncnncourse/"):]
    tree = tree[:tree.index("```", 4)]
    for name in [f"{m}.py" for m in _modules(package) - {"exercises", "tooling"}] + [f"{m}.py" for m in _modules(tooling)]:
        assert f" {name} " in tree, f"README's layout tree lacks {name}"


def test_the_command_line_help_names_every_command():
    import re

    from cnncourse.tooling import cli

    commands = re.search(r"\{([a-z,]+)\}", cli.build_parser().format_usage()).group(1).split(",")
    assert len(commands) >= 6
    for command in commands:
        assert f"``{command}``" in cli.__doc__, f"cli.py's docstring does not describe {command}"
