"""The reading copy, built from small synthetic executed notebooks (nothing is executed)."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest

from cnncourse import colab
from cnncourse.tooling import site, site_audit

GIF = base64.b64encode(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
                       b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;").decode()
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
CLAIM = {"claim": "the model learns", "outcome": "HOLDS", "difference": 0.3, "se": 0.05, "z": 2.0, "by": 6.0,
         "unit": "points", "values": {}}


def _executed(number: str) -> nbformat.NotebookNode:
    name = f"{number}_lesson.ipynb"
    cells = [
        nbformat.v4.new_markdown_cell(f"# Lesson {number} — Learning things\n\n{colab.badge_markdown(name)}\n\nText."),
        nbformat.v4.new_code_cell("train()", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="settings\n"),
            nbformat.v4.new_output("stream", name="stdout", text="\rmodel:  10%|#  | 1/10"),
            nbformat.v4.new_output("stream", name="stdout", text="\rmodel:  50%|#####  | 5/10"),
            nbformat.v4.new_output("stream", name="stdout", text="\rmodel: 100%|##########| 10/10\n")]),
        nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"})]),
    ]
    cells.append(nbformat.v4.new_code_cell("animate()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/gif": GIF, "text/plain": "<IPython.core.display.Image object>"})]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["cnncourse"] = {"profile": "smoke", "status": "ok", "seconds": 12.5, "executed": "2026-11-30 03:00",
                                "versions": {"cnncourse": "0.1.0", "tensorflow": "2.21.0", "keras": "3.15.1",
                                             "python": "3.11.7"}}
    return nb


@pytest.fixture
def executed(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    for number in ("03", "04"):
        nbformat.write(_executed(number), build / f"{number}_lesson.ipynb")
    (build / "metrics.json").write_text(json.dumps({f"{n}_lesson": {"metrics": {}, "claims": [CLAIM]}
                                                    for n in ("03", "04")}))
    return build


def test_a_built_site_passes_its_checks(executed):
    report = site.build_site(executed)
    assert sorted(report.pages) == ["03_lesson.html", "04_lesson.html", "index.html"]
    assert site_audit.audit_site(report.output_dir, executed) == []
    page = (report.output_dir / "04_lesson.html").read_text()
    assert "data:image/gif;base64," in page and "IPython.core.display.Image" not in page
    assert "model: 100%|##########| 10/10" in page and "model:  50%" not in page   # the final line
    assert 'href="04_lesson.ipynb"' in page and colab.colab_url("04_lesson.ipynb") in page
    assert "colab-badge.svg" not in page                                   # no image from the network
    assert "<script src=" not in page and "cdnjs" not in page and "mathjax" not in page.lower()
    index = (report.output_dir / "index.html").read_text()
    assert "Learning things" in index and "the model learns" in index and "HOLDS" in index
    assert "smoke" in index and "tensorflow 2.21.0" in index and "12 s" in index
    assert (report.output_dir / "04_lesson.ipynb").read_bytes() == (executed / "04_lesson.ipynb").read_bytes()


def test_the_check_finds_what_is_wrong(executed):
    nb = _executed("04")
    nb.cells[1].outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[]))
    nbformat.write(nb, executed / "04_lesson.ipynb")
    metrics = json.loads((executed / "metrics.json").read_text())
    metrics["03_lesson"]["claims"] = []
    (executed / "metrics.json").write_text(json.dumps(metrics))
    report = site.build_site(executed)
    (report.output_dir / "03_lesson.ipynb").unlink()
    page = report.output_dir / "03_lesson.html"
    page.write_text(page.read_text().replace("</main>", '<img src="https://example.org/x.png"></main>'))
    animated = report.output_dir / "04_lesson.html"   # the page lost the animation its notebook shows
    animated.write_text(animated.read_text().replace("data:image/gif;base64,", "data:image/png;base64,"))
    problems = "\n".join(site_audit.audit_site(report.output_dir, executed))
    assert "cell 1 ends in an error (ValueError)" in problems
    assert "04_lesson.html shows 0 of its notebook's 1 animation(s)" in problems
    assert "lesson 03 recorded no claims" in problems
    assert "links 03_lesson.ipynb, which is not in the site" in problems
    assert "loads https://example.org/x.png from the network" in problems


def test_the_size_budget_is_checked(executed, monkeypatch):
    monkeypatch.setattr(site_audit, "PAGE_BUDGET_BYTES", 1000)
    report = site.build_site(executed)
    assert any("over its" in p for p in site_audit.audit_site(report.output_dir, executed))


def test_no_executed_notebooks_says_to_run_them_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m cnncourse run"):
        site.build_site(tmp_path)


def test_a_progress_bar_left_redrawn_is_found(executed):
    report = site.build_site(executed)
    page = report.output_dir / "03_lesson.html"
    page.write_text(page.read_text().replace("</main>", "<pre>fit:  10%|#  |\nfit:  20%|## |</pre></main>"))
    assert any("redrawn" in p and "fit" in p for p in site_audit.audit_site(report.output_dir, executed))
    assert site.progress_debris("a:  10%|#\na:  10%|#\nb: 100%|##") == []


def test_progress_bars_keep_their_final_line():
    assert site.final_terminal_text("a 10%\ra 50%\ra 100%\nnext") == "a 100%\nnext"
    assert site.final_terminal_text("abc\b\bX") == "aXc"
    assert site.final_terminal_text("long line\rshort") == "shortline"


def test_a_lesson_without_figures_is_a_problem(executed):
    nb = nbformat.read(executed / "03_lesson.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "plot()" not in c.source and "animate()" not in c.source]
    nbformat.write(nb, executed / "03_lesson.ipynb")
    report = site.build_site(executed)
    assert any("03_lesson.ipynb has no figure" in p for p in site_audit.audit_site(report.output_dir, executed))
