"""Show the package's own code in a lesson: the source that actually runs, highlighted.

A lesson either writes a model in a cell (and asserts it matches the package's builder with
:func:`cnncourse.models.assert_same_architecture`) or displays the builder's source with
:func:`show_source`, so the learner reads exactly the code that the lesson runs.
"""

from __future__ import annotations

import inspect
import textwrap


def get_source(*objects) -> str:
    """The source code of functions or classes, in the order given, separated by a blank line.

    Raises TypeError naming the object when Python cannot find its source (a built-in, or
    something defined at an interactive prompt).
    """
    if not objects:
        raise TypeError("get_source needs at least one function or class")
    parts = []
    for obj in objects:
        try:
            parts.append(textwrap.dedent(inspect.getsource(obj)).rstrip())
        except (TypeError, OSError) as err:
            raise TypeError(f"no source code can be found for {obj!r}: {err}") from None
    return "\n\n\n".join(parts) + "\n"


def show_source(*objects) -> None:
    """Display the source of ``objects`` (functions or classes) as one highlighted Python block.

    In JupyterLab it shows as syntax-highlighted code; in a plain terminal, as text.  Returns
    nothing, so a cell that ends with it shows no ``Out:`` value.
    """
    from IPython.display import Code, display

    display(Code(get_source(*objects), language="python"))
