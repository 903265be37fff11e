"""``python -m cnncourse colab --sync``: every notebook's first cell and badge, from
:mod:`cnncourse.colab`'s repository and ref."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..colab import SETUP_CELL, badge_markdown


def first_code_cell(nb):
    """The first code cell of a notebook (a NotebookNode), or None."""
    return next((c for c in nb.cells if c.cell_type == "code"), None)


_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def sync_notebook(path: str | os.PathLike) -> bool:
    """Make a notebook's first code cell :data:`SETUP_CELL` (inserting it after the title cell if
    the notebook has none yet) and its title cell's badge point at this notebook; return whether
    the file changed."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    title = nb.cells[0]
    if title.cell_type != "markdown":
        raise ValueError(f"{path.name}: the first cell should be the lesson's title (Markdown)")
    badge = badge_markdown(path.name)
    if _BADGE.search(title.source):
        title.source = _BADGE.sub(lambda _: badge, title.source)
    else:
        heading, _, rest = title.source.partition("\n")
        title.source = f"{heading}\n\n{badge}\n{rest}"
    first = first_code_cell(nb)
    if first is None or first.source != SETUP_CELL and "google.colab" not in first.source:
        cell = nbformat.v4.new_code_cell(SETUP_CELL)
        cell.id = "colab-setup"
        nb.cells.insert(1, cell)
    else:
        first.source = SETUP_CELL
    if nbformat.writes(nb) == before:
        return False
    nbformat.write(nb, path)
    return True
