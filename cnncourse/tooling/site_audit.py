"""``python -m cnncourse site --check``: everything wrong with a built reading copy.

:func:`audit_site` lists the problems (an empty list when there is none), in three kinds:

- a lesson's executed notebook: an error output, a line on stderr, a TensorFlow warning, no figure,
  a failed run, no claims recorded;
- its page: missing, over its size budget, a raw object repr or progress-bar debris, no link to
  download its notebook or open it in Colab, an animation of the notebook (``image/gif``) missing;
- every page's links and loads: a link or download that is not in the site, anything loaded from
  the network.
"""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

from .. import colab
from .site import Lesson, find_lessons, progress_debris

#: the most a lesson page may weigh (figures are embedded in it), and the index
PAGE_BUDGET_BYTES = 6 * 2**20
INDEX_BUDGET_BYTES = 200 * 2**10

_RAW_REPR = re.compile(r"&lt;[\w.]+ object(?: at 0x[0-9a-f]+)?&gt;")
_OUTSIDE = re.compile(r"^[a-z]+:|^//")


class _Links(HTMLParser):
    """Collects what a page links to and loads."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []     # <a href>
        self.loads: list[str] = []     # <img src>, <script src>, <link href>, <iframe src>, ...

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("img", "script", "iframe", "source", "video", "audio", "embed") and attrs.get("src"):
            self.loads.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])


def notebook_problems(lesson: Lesson, nb) -> list[str]:
    """What is wrong in a lesson's executed notebook ``nb`` and its run record."""
    name = lesson.notebook.name
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"{name}: cell {i} ends in an error ({out.ename})")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"{name}: cell {i} wrote to stderr: {out.text.strip()[:80]!r}")
            elif out.output_type == "stream" and "WARNING:tensorflow" in out.text:
                problems.append(f"{name}: cell {i} shows a TensorFlow warning: {out.text.strip()[:80]!r}")
    if not any(k.startswith("image/") for cell in nb.cells for out in cell.get("outputs", []) for k in out.get("data", {})):
        problems.append(f"{name} has no figure (a kernel on a non-inline matplotlib backend, such as "
                        f"MPLBACKEND=Agg, draws none)")
    if lesson.run.get("status") not in (None, "ok"):
        problems.append(f"{name}: its run failed")
    if not lesson.claims:
        problems.append(f"lesson {lesson.number} recorded no claims for its table")
    return problems


def animations(nb) -> int:
    """How many animations (``image/gif`` outputs) a notebook shows."""
    return sum("image/gif" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def page_problems(lesson: Lesson, nb, text: str) -> list[str]:
    """What is wrong on a lesson's page (its HTML ``text``), made from the executed notebook ``nb``."""
    name = lesson.page
    problems = []
    size = len(text.encode())
    if size > PAGE_BUDGET_BYTES:
        problems.append(f"{name} weighs {size / 2**20:.1f} MiB, over its {PAGE_BUDGET_BYTES / 2**20:.0f} MiB")
    if _RAW_REPR.search(text):
        problems.append(f"{name} shows a raw object repr: {_RAW_REPR.search(text).group(0)}")
    debris = progress_debris(html.unescape(re.sub(r"<[^>]+>", "", text)))
    if "\r" in text or "\b" in text or debris:
        problems.append(f"{name} shows progress bars redrawn line after line ({', '.join(debris)[:80]})")
    if f'href="{lesson.notebook.name}"' not in text:
        problems.append(f"{name} has no link to download its notebook")
    if colab.colab_url(lesson.notebook.name) not in text:
        problems.append(f"{name} has no Colab link for its notebook")
    shown = text.count("data:image/gif;base64,")
    wanted = animations(nb)
    if shown < wanted:
        problems.append(f"{name} shows {shown} of its notebook's {wanted} animation(s)")
    return problems


def link_problems(page: Path, text: str, site_dir: Path, stats: dict) -> list[str]:
    """What ``page`` (its HTML ``text``) links to or loads that is not in the site, or loads from the
    network; counts the links, outside links (not followed) and embedded images into ``stats``."""
    parser = _Links()
    parser.feed(text)
    problems = []
    for src in parser.loads:
        if src.startswith("data:"):
            stats["embedded_images"] += 1
        elif _OUTSIDE.match(src):
            problems.append(f"{page.name} loads {src[:80]} from the network")
        elif not (site_dir / src.split("#")[0]).is_file():
            problems.append(f"{page.name} loads {src}, which is not in the site")
    for href in parser.links:
        if _OUTSIDE.match(href):
            stats["outside_links"] += 1   # an outside page (GitHub, Colab, the articles): the reader follows it if online
            continue
        stats["internal_links"] += 1
        target = href.split("#")[0]
        if target and not (site_dir / target).is_file():
            problems.append(f"{page.name} links {href}, which is not in the site")
    return problems


def audit_site(site_dir: str | os.PathLike, executed_dir: str | os.PathLike | None = None,
               stats: dict | None = None) -> list[str]:
    """Everything wrong with the site built in ``site_dir`` from the notebooks in ``executed_dir``
    (default: the site's parent folder); an empty list when it is fine.  ``stats``, when given, is
    filled with what was checked: pages, notebooks, internal links, outside links (not followed),
    embedded images, claims."""
    stats = stats if stats is not None else {}
    stats.update(pages=0, internal_links=0, outside_links=0, embedded_images=0, claims=0, notebooks=0)
    site_dir = Path(site_dir)
    executed_dir = Path(executed_dir) if executed_dir is not None else site_dir.parent
    lessons = find_lessons(executed_dir)
    problems = [] if lessons else [f"no executed notebooks in {executed_dir}"]
    index = site_dir / "index.html"
    if not index.is_file():
        return problems + [f"{index} is missing"]
    index_text = index.read_text(encoding="utf-8")
    if len(index_text.encode()) > INDEX_BUDGET_BYTES:
        problems.append(f"index.html weighs {len(index_text.encode()):,} bytes, over its {INDEX_BUDGET_BYTES:,}")
    pages = {index: index_text}
    for lesson in lessons:
        page = site_dir / lesson.page
        if not page.is_file():
            problems.append(f"{lesson.notebook.name} has no page ({page.name})")
            continue
        if lesson.page not in index_text:
            problems.append(f"index.html does not link {lesson.page}")
        pages[page] = page.read_text(encoding="utf-8")
        problems += notebook_problems(lesson, lesson.nb) + page_problems(lesson, lesson.nb, pages[page])
        stats["claims"] += len(lesson.claims)
        stats["notebooks"] += 1
    for page, text in pages.items():
        problems += link_problems(page, text, site_dir, stats)
        stats["pages"] += 1
    return problems
