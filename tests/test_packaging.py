"""The install files agree with each other, the README's commands are what CI runs,
and notebooks are committed clean, each reading the profile and seeding first."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _dep_names(deps):
    return {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in deps}


def test_pyproject_has_the_course_dependencies():
    names = _dep_names(PYPROJECT["project"]["dependencies"])
    for required in ("tensorflow", "keras", "numpy", "matplotlib", "seaborn", "umap-learn",
                     "scikit-learn", "jupyterlab", "nbval", "pillow", "pydot", "ipykernel"):
        assert required in names, required


def test_python_floor_covers_what_the_code_uses():
    low = int(re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"]).group(1))
    assert low >= 11   # tomllib (this file) is 3.11+


def test_every_declared_dependency_is_used():
    """A package in pyproject's dependencies that nothing imports is dead weight on every install."""
    used_by = {"tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "pandas": "pandas",
               "matplotlib": "matplotlib", "seaborn": "seaborn", "umap-learn": "umap", "scikit-learn": "sklearn",
               "pillow": "PIL", "pydot": "pydot", "tqdm": "tqdm", "nbclient": "nbclient", "nbformat": "nbformat"}
    sources = "\n".join(p.read_text() for p in (ROOT / "cnncourse").rglob("*.py"))
    for package, module in used_by.items():
        assert package in _dep_names(PYPROJECT["project"]["dependencies"]), package
        assert re.search(rf"^\s*(import|from) {module}\b", sources, re.M), f"{package} is declared but not imported"
    assert "pytest" in _dep_names(PYPROJECT["project"]["optional-dependencies"]["test"])


def test_environment_yml_is_consistent_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {"pip", "graphviz"} <= {re.split(r"[=<> ]", d)[0] for d in conda}
    python = next(d for d in conda if d.startswith("python"))
    major, minor = map(int, python.split("=")[1].split(".")[:2])
    low = re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    assert major == 3 and minor >= int(low)
    # Every Python package comes from pyproject through the package itself, with its test extra:
    assert pip == ['-e ".[test]"'] or pip == ["-e .[test]"]
    # ... so conda must not pin Python packages that pyproject also lists (they would disagree).
    assert not _dep_names(conda) & _dep_names(PYPROJECT["project"]["dependencies"])


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"CNNCOURSE_PROFILE=smoke (python -m pytest [^\n#]*?)\s+#", readme).group(1)
    assert command.replace("python ", "python3 ") in ci
    assert "export CNNCOURSE_PROFILE=smoke" in ci
    assert 'pip install' in ci and re.search(r'-e "\.\[test[],]', ci)   # the test extra (with the graders')
    assert command.split()[-1] == "tests" and "--nbval" not in command   # tests/test_notebooks.py runs the lessons


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean_and_starts_with_profile_and_seed(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    from cnncourse.colab import SETUP_CELL

    assert code[0].source == SETUP_CELL            # Colab's setup, a no-op elsewhere (tests/test_colab.py)
    first = code[1].source                         # then the lesson's own first cell
    assert "get_profile()" in first and "print(profile.summary(" in first and "set_seed(" in first
    assert not any("NBVAL_CHECK_OUTPUT" in c.source for c in code), "outputs are stripped: use assert"
