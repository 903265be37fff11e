"""The reading copy: the executed notebooks as static web pages (``python -m cnncourse site``).

``python -m cnncourse run`` leaves executed notebooks and ``metrics.json`` in ``build/``;
:func:`build_site` renders them, without executing anything, into ``build/site/``:

- ``index.html``: the lessons, one line each, with the profile and versions the run used, each
  lesson's run time and its claims table (claim, outcome, margin); and the class's pooled table
  when ``python -m cnncourse pool`` wrote one (``pooled.json``) into the executed folder;
- one page per lesson (nbconvert's JupyterLab template, with the course's header and footer):
  its outputs and figures, the animation of lesson 04 playing, long outputs scrolling, progress
  bars as their final line; a link to the executed ``.ipynb`` (copied beside the page), a link that
  opens the lesson in Colab, and how to run it locally.

Pages need nothing from the network: figures are embedded, CSS is inline, and the scripts nbconvert
would load from a CDN (require.js, MathJax, Mermaid; the lessons use none of them) are left out.
:mod:`cnncourse.tooling.site_audit` checks a built site (``site --check``).
"""

from __future__ import annotations

import base64
import copy
import html
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import colab
from ..claims import HOLDS, NOT_JUDGED, NOT_SEEN, OUTCOMES, WITHIN_NOISE, claims_table
from ..report import read_metrics


_TITLE = re.compile(r"^#\s+(?:Lesson\s+\d+\s+[—-]\s+)?(.+)$", re.MULTILINE)

_CSS = """
.course-bar { position: sticky; top: 0; z-index: 10; background: #f5f7fa; border-bottom: 1px solid #d0d7de;
  padding: 8px 16px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline; }
.course-bar a { color: #0b5cad; text-decoration: none; }
.course-bar a:hover { text-decoration: underline; }
.course-bar .course-name { font-weight: 600; margin-right: auto; }
.course-run { max-width: 1100px; margin: 16px auto 0; padding: 10px 16px; background: #fbfbf4;
  border: 1px solid #e3e3c8; border-radius: 6px; font: 14px/1.5 system-ui, sans-serif; }
.course-run code { font-size: 13px; }
.course-footer { max-width: 1100px; margin: 24px auto; padding: 12px 16px; border-top: 1px solid #d0d7de;
  font: 14px/1.5 system-ui, sans-serif; color: #444; }
/* long outputs scroll inside their cell instead of stretching the page */
.jp-OutputArea-output pre { max-height: 32em; overflow: auto; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
main { max-width: 1100px; margin: 0 auto; }
"""

_RUN_LOCALLY = (
    "<b>Run it yourself:</b> <code>git clone https://github.com/{repo}.git</code>, "
    "<code>cd {name}</code>, <code>pip install -e .</code>, <code>python -m cnncourse doctor</code>, then "
    "<code>jupyter lab notebooks/{notebook}</code> (the README says more)."
)

_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style type="text/css">""" + _CSS + """</style>{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.course_header }}
<main>
{%- endblock body_header -%}
{% block body_footer %}
</main>
{{ resources.course_footer }}
</body>
{% endblock body_footer %}
"""


@dataclass
class Lesson:
    """One executed notebook as the site shows it."""

    notebook: Path          # the executed copy
    number: str             # "01"
    title: str              # the lesson's title, without "Lesson 01 —"
    run: dict               # the runner's record: profile, status, seconds, executed, versions
    claims: list[dict] = field(default_factory=list)
    nb: Any = field(default=None, repr=False)   # the executed notebook (NotebookNode), read once

    @property
    def page(self) -> str:
        return self.notebook.with_suffix(".html").name


def find_lessons(executed_dir: str | os.PathLike) -> list[Lesson]:
    """The executed lesson notebooks in ``executed_dir`` with their run records and claims."""
    import nbformat

    executed_dir = Path(executed_dir)
    metrics = read_metrics(executed_dir / "metrics.json")
    lessons = []
    for path in sorted(executed_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title_cell = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
        match = _TITLE.search(title_cell)
        lessons.append(Lesson(path, path.name[:2], match.group(1).strip() if match else path.stem,
                              dict(nb.metadata.get("cnncourse", {})),
                              metrics.get(path.stem, {}).get("claims", []), nb))
    return lessons


# ----------------------------------------------------------------------------- cleaning outputs
def final_terminal_text(text: str) -> str:
    """What a terminal would show for ``text``: each carriage return starts its line over and each
    backspace erases a character, so a progress bar that redrew itself a hundred times leaves its
    final line only."""
    lines = []
    for line in text.split("\n"):
        shown: list[str] = []
        col = 0
        for ch in line:
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(col - 1, 0)
            else:
                if col < len(shown):
                    shown[col] = ch
                else:
                    shown.append(ch)
                col += 1
        lines.append("".join(shown).rstrip())
    return "\n".join(lines)


def coalesce_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream into one (a progress bar that redrew itself
    is stored as one output per redraw, each starting with a carriage return)."""
    joined: list = []
    for out in outputs:
        if (out.output_type == "stream" and joined and joined[-1].output_type == "stream"
                and joined[-1].name == out.name):
            joined[-1].text += out.text
        else:
            joined.append(out)
    return joined


#: a progress bar's line: its label, then a percentage and the bar
_PROGRESS_LINE = re.compile(r"^([^\n<>%|]{1,80}?):\s*(\d{1,3})%\|", re.MULTILINE)


def progress_debris(text: str) -> list[str]:
    """Labels of progress bars shown at more than one percentage in ``text`` (a bar whose redraws
    were kept instead of its final line)."""
    seen: dict[str, set[str]] = {}
    for label, percent in _PROGRESS_LINE.findall(text):
        seen.setdefault(label.strip(), set()).add(percent)
    return sorted(label for label, percents in seen.items() if len(percents) > 1)


def prepare_notebook(nb):
    """A copy of an executed notebook ready for the page: progress bars reduced to their final line,
    animations (``image/gif``, which nbconvert's HTML leaves out) as embedded ``<img>``, the Colab
    badge as a plain link (the page loads no image from the network)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)", r"[Open in Colab](\1)", cell.source)
            continue
        if cell.cell_type != "code":
            continue
        cell.outputs = coalesce_streams(cell.get("outputs", []))
        for out in cell.outputs:
            if out.output_type == "stream":
                out.text = final_terminal_text(out.text)
            elif "data" in out and "image/gif" in out.data:
                gif = out.data["image/gif"]
                gif = gif if isinstance(gif, str) else base64.b64encode(gif).decode()
                out.data = {"text/html": f'<img src="data:image/gif;base64,{gif.strip()}" alt="animation">'}
    return nb


# ----------------------------------------------------------------------------- building
def _versions_line(run: dict) -> str:
    versions = run.get("versions", {})
    return ", ".join(f"{name} {versions[name]}" for name in ("cnncourse", "tensorflow", "keras", "python")
                     if name in versions)


def _duration(seconds: float | None) -> str:
    from .bench import format_duration

    return "?" if seconds is None else format_duration(seconds)


def _header(lessons: list[Lesson], current: Lesson | None) -> str:
    links = ['<span class="course-name"><a href="index.html">cnncourse</a> — a hands-on course on CNNs</span>']
    if current is not None:
        i = lessons.index(current)
        if i > 0:
            links.append(f'<a href="{lessons[i - 1].page}">← lesson {lessons[i - 1].number}</a>')
        if i + 1 < len(lessons):
            links.append(f'<a href="{lessons[i + 1].page}">lesson {lessons[i + 1].number} →</a>')
        links.append(f'<a href="{current.notebook.name}" download>download the notebook (.ipynb)</a>')
        links.append(f'<a href="{colab.colab_url(current.notebook.name)}">open in Colab</a>')
    return f'<nav class="course-bar">{" ".join(links)}</nav>'


def _run_box(lesson: Lesson) -> str:
    run = lesson.run
    repo_name = colab.REPOSITORY.split("/")[-1]
    return (f'<div class="course-run">This is lesson {lesson.number} as it ran under the '
            f'<code>{html.escape(run.get("profile", "?"))}</code> profile on {html.escape(run.get("executed", "?"))} '
            f'in {_duration(run.get("seconds"))} ({html.escape(_versions_line(run))}). Your own run shows your '
            f'own numbers.<br>{_RUN_LOCALLY.format(repo=colab.REPOSITORY, name=repo_name, notebook=lesson.notebook.name)}'
            f'</div>')


def _footer(lesson: Lesson | None) -> str:
    where = (f' · <a href="{colab.notebook_url(lesson.notebook.name)}">this notebook on GitHub</a>'
             if lesson is not None else "")
    return (f'<footer class="course-footer">Built by <code>python -m cnncourse site</code> from executed '
            f'notebooks; nothing on this page needs the network.{where}</footer>')


def render_lesson(lesson: Lesson, lessons: list[Lesson]) -> str:
    """The HTML page of one lesson."""
    import jinja2
    from nbconvert import HTMLExporter

    nb = prepare_notebook(lesson.nb)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[jinja2.DictLoader({"course.html.j2": _TEMPLATE})],
                            template_file="course.html.j2")
    exporter.log.setLevel("ERROR")   # not its notice that it gave each figure a generic alt text
    resources = {"course_header": _header(lessons, lesson) + _run_box(lesson), "course_footer": _footer(lesson),
                 "metadata": {"name": f"Lesson {lesson.number} — {lesson.title}"}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def claims_rows(claims: list[dict]) -> list[tuple[str, str, str]]:
    """(claim, outcome, margin) for each recorded verdict."""
    if not claims:
        return []
    table = claims_table(claims)
    return [(row.claim, row.outcome, row.margin) for row in table.itertuples()]


def _tally(rows: list[tuple[str, str, str]]) -> str:
    """'3 claims: 2 HOLDS, 1 WITHIN NOISE' (outcomes in claims.OUTCOMES' order)."""
    if not rows:
        return "no claims"
    counts = {outcome: sum(r[1] == outcome for r in rows) for outcome in OUTCOMES}
    parts = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    return f"{len(rows)} claim{'s' if len(rows) != 1 else ''}: {parts}"


_OUTCOME_STYLE = {HOLDS: "#1a7f37", NOT_SEEN: "#b35900", WITHIN_NOISE: "#57606a", NOT_JUDGED: "#57606a"}


def render_index(lessons: list[Lesson], pooled: str = "") -> str:
    """The index page: each lesson, its run and its claims table; ``pooled``: the class's pooled
    table (:func:`cnncourse.tooling.pool.pooled_html`), shown after the lessons when given."""
    profiles = sorted({lesson.run.get("profile", "?") for lesson in lessons})
    versions = sorted({_versions_line(lesson.run) for lesson in lessons})
    parts = []
    for lesson in lessons:
        rows = claims_rows(lesson.claims)
        table = "".join(
            f'<tr><td>{html.escape(claim)}</td><td style="color:{_OUTCOME_STYLE.get(outcome, "#000")};'
            f'white-space:nowrap"><b>{html.escape(outcome)}</b></td><td>{html.escape(margin)}</td></tr>'
            for claim, outcome, margin in rows)
        claims_html = (f'<table class="claims"><thead><tr><th>claim</th><th>outcome</th><th>margin</th></tr></thead>'
                       f'<tbody>{table}</tbody></table>') if rows else '<p class="none">No claims recorded.</p>'
        status = lesson.run.get("status", "ok")
        parts.append(
            f'<section class="lesson"><h2><a href="{lesson.page}">Lesson {lesson.number} — '
            f'{html.escape(lesson.title)}</a></h2>'
            f'<p class="meta">{"ran" if status == "ok" else "FAILED"} in {_duration(lesson.run.get("seconds"))} · '
            f'<a href="{lesson.notebook.name}" download>executed notebook</a> · '
            f'<a href="{colab.colab_url(lesson.notebook.name)}">open in Colab</a></p>'
            f'<details open><summary>What this run showed: {_tally(rows)}</summary>{claims_html}</details>'
            f'</section>')
    outcome_note = ("<b>HOLDS</b>: the run shows the claim beyond its noise; <b>NOT SEEN</b>: it shows the "
                    "opposite beyond the noise; <b>WITHIN NOISE</b>: this run cannot tell.")
    if "smoke" in profiles:
        outcome_note += (" <b>These pages come from the <code>smoke</code> profile</b> (tiny data, one epoch): it "
                         "proves that every cell runs and judges no claim (<b>NOT JUDGED</b>, with the margin it measured); a "
                         "reading copy built from a <code>laptop</code> run shows the verdicts.")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cnncourse — the lessons as they ran</title>
<style>{_CSS}
body {{ margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }}
.page {{ max-width: 1000px; margin: 0 auto; padding: 8px 20px 24px; }}
h1 {{ font-size: 28px; margin: 18px 0 4px; }}
h2 {{ font-size: 20px; margin: 28px 0 2px; }} h2 a {{ color: #0b5cad; text-decoration: none; }}
.meta {{ margin: 0 0 6px; color: #444; font-size: 14px; }} .meta a {{ color: #0b5cad; }}
table.claims {{ border-collapse: collapse; width: 100%; font-size: 14px; margin-top: 6px; table-layout: fixed; }}
table.claims th:nth-child(1) {{ width: 58%; }} table.claims th:nth-child(2) {{ width: 13%; }}
table.claims th, table.claims td {{ border-bottom: 1px solid #e1e4e8; padding: 4px 8px; text-align: left;
  vertical-align: top; }}
summary {{ cursor: pointer; color: #444; font-size: 14px; }}
</style></head>
<body>{_header(lessons, None)}
<div class="page">
<h1>The lessons, as they ran</h1>
<p>Six notebooks on convolutional neural networks in Keras 3. Each page below is a lesson executed from top to
bottom, with every figure it drew; read it here, then <a href="#run">run it yourself</a> or open it in Colab.
Profile: <code>{html.escape(", ".join(profiles))}</code> · {html.escape("; ".join(versions))}.</p>
<p style="font-size:14px;color:#444">{outcome_note}</p>
{''.join(parts)}
{pooled}
<h2 id="run">Run it yourself</h2>
<p>{_RUN_LOCALLY.format(repo=colab.REPOSITORY, name=colab.REPOSITORY.split("/")[-1], notebook="01_cnn_basics.ipynb")
    .removeprefix("<b>Run it yourself:</b> ")}
Each lesson also opens in Colab from its link above; its first cell installs the course there.</p>
</div>{_footer(None)}</body></html>
"""


@dataclass
class SiteReport:
    """What :func:`build_site` wrote."""

    output_dir: Path
    pages: dict[str, int]        # file name -> bytes
    seconds: float

    @property
    def total_bytes(self) -> int:
        return sum(self.pages.values())


def build_site(executed_dir: str | os.PathLike = "build", output_dir: str | os.PathLike | None = None) -> SiteReport:
    """Render the executed notebooks in ``executed_dir`` (and its ``metrics.json``) into a static site
    in ``output_dir`` (default ``executed_dir/site``), with a copy of each executed notebook beside
    its page.  Raises FileNotFoundError when there is no executed notebook to render."""
    import time

    start = time.perf_counter()
    executed_dir = Path(executed_dir)
    output_dir = Path(output_dir) if output_dir is not None else executed_dir / "site"
    lessons = find_lessons(executed_dir)
    if not lessons:
        raise FileNotFoundError(f"no executed notebooks (NN_*.ipynb) in {executed_dir}: run "
                                f"`python -m cnncourse run` first (it writes them there)")
    output_dir.mkdir(parents=True, exist_ok=True)
    pages = {}
    for lesson in lessons:
        page = output_dir / lesson.page
        page.write_text(render_lesson(lesson, lessons), encoding="utf-8")
        shutil.copyfile(lesson.notebook, output_dir / lesson.notebook.name)
        pages[lesson.page] = page.stat().st_size
    index = output_dir / "index.html"
    from .pool import pooled_html

    index.write_text(render_index(lessons, pooled_html(executed_dir)), encoding="utf-8")
    pages["index.html"] = index.stat().st_size
    return SiteReport(output_dir, pages, time.perf_counter() - start)
