"""Exercises that check themselves (the learner side of the course's practice).

One :class:`Exercise` object per question, with learntools' API::

    from cnncourse.exercises import ____          # the placeholder a learner replaces
    from cnncourse.exercises.lesson01 import q1

    conv_params = ____                            # the learner's answer
    q1.check()       # Correct / what is wrong / not attempted yet / cannot check
    q1.hint()        # hint(2), hint(3): more and more specific
    q1.solution()    # the solution, only when asked

``check()`` reads the learner's variables from the notebook, never prints the expected
value, and never raises: a placeholder left in place reads "not attempted".
``assert_correct()`` raises on anything but correct, for solved copies run by CI and by
graders (nbgrader, otter).  Checks use only public Keras 3 and numpy API.  Each lesson's
exercises live in ``cnncourse.exercises.lessonNN``; ``python -m cnncourse solutions NN``
writes a copy of lesson NN with every exercise solved (see :mod:`cnncourse.exercises.solve`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
CANNOT_CHECK = "cannot check"


class _Placeholder:
    """The blank a learner fills in: ``x = ____``."""

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False


____ = _Placeholder()


class Incorrect(Exception):
    """Raised by a checker: the answer is wrong; the message says what, without the answer."""


class CannotCheck(Exception):
    """Raised by a checker: the answer cannot be judged (a missing tool, a bad environment)."""


class NotAttempted(Exception):
    """Raised by a checker (or found by :class:`Exercise`): the learner has not answered yet."""


def is_blank(value) -> bool:
    """True for the placeholders a learner (or an nbgrader/otter student copy) leaves in place."""
    return value is ____ or isinstance(value, _Placeholder) or value is Ellipsis


def whole_number(name: str, value) -> int:
    """``value`` as an int, or :class:`Incorrect` saying ``name`` should be a whole number."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise Incorrect(f"{name} should be a whole number.")
    return int(value)


def call_learner(function: Callable, *args, **kwargs):
    """Call a learner's function; a ``NotImplementedError`` (nbgrader's stub) means not attempted."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted("the function still raises NotImplementedError") from None


@dataclass(frozen=True)
class Result:
    """What a check found: one of the four outcomes and a message in plain words."""

    outcome: str
    message: str

    @property
    def correct(self) -> bool:
        return self.outcome == CORRECT


_COLOURS = {CORRECT: "#1a7f37", INCORRECT: "#cf222e", NOT_ATTEMPTED: "#6e7781", CANNOT_CHECK: "#9a6700"}
_HEADINGS = {CORRECT: "Correct", INCORRECT: "Incorrect", NOT_ATTEMPTED: "Not attempted yet",
             CANNOT_CHECK: "Cannot check"}


def _show(kind: str, text: str, code: str | None = None, colour: str = "#24292f") -> None:
    """Show a message in the notebook (coloured HTML) or print it elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        in_notebook = get_ipython() is not None and hasattr(get_ipython(), "kernel")
    except ImportError:  # pragma: no cover - IPython comes with JupyterLab
        in_notebook = False
    if not in_notebook:
        print(f"{kind}: {text}" + (f"\n{code}" if code else ""))
        return
    body = f'<span style="color:{colour}"><b>{html.escape(kind)}:</b></span> {html.escape(text)}'
    if code:
        body += f"<pre>{html.escape(code)}</pre>"
    display(HTML(body))


@dataclass
class Exercise:
    """One question.

    name      : "q1" (also the solved copy's grade id suffix)
    lesson    : "01"
    variables : the names the learner's answer cell defines, read from the notebook
    checker   : ``checker(**answers)``; returns None when correct, raises :class:`Incorrect`,
                :class:`NotAttempted` or :class:`CannotCheck` with a message otherwise
    hints     : tiered, the first the gentlest
    solution_code : the answer cell, solved (shown by ``solution()``; used by the solved copy)
    purpose, expected, cost : one line each, for the lesson's text and the teacher's view
    """

    name: str
    lesson: str
    variables: Sequence[str]
    checker: Callable[..., None]
    hints: Sequence[str]
    solution_code: str
    purpose: str = ""
    expected: str = ""
    cost: str = "seconds"
    _namespace: Mapping | None = field(default=None, repr=False)

    @property
    def grade_id(self) -> str:
        return f"l{self.lesson}_{self.name}"

    def result(self, namespace: Mapping | None = None) -> Result:
        """Judge the learner's answer in ``namespace`` (default: the notebook's variables)."""
        namespace = self._learner_namespace() if namespace is None else namespace
        missing = [v for v in self.variables if v not in namespace]
        if missing:
            return Result(NOT_ATTEMPTED, f"define {', '.join(missing)} in the answer cell above, then check again.")
        answers = {v: namespace[v] for v in self.variables}
        blank = [v for v, value in answers.items() if is_blank(value)]
        if blank:
            return Result(NOT_ATTEMPTED, f"replace the ____ in {', '.join(blank)} with your answer.")
        try:
            self.checker(**answers)
        except NotAttempted as err:
            return Result(NOT_ATTEMPTED, str(err))
        except Incorrect as err:
            return Result(INCORRECT, str(err))
        except CannotCheck as err:
            return Result(CANNOT_CHECK, str(err))
        except Exception as err:  # noqa: BLE001 - the learner's code failed: say so, do not crash
            return Result(INCORRECT, f"running your answer raised {type(err).__name__}: {err}")
        return Result(CORRECT, "well done." if not self.expected else self.expected)

    def check(self, namespace: Mapping | None = None) -> None:
        """Show whether the answer is right (never the expected value).  Returns nothing, so that a
        cell ending with it shows no ``Out:`` value; :meth:`result` gives the outcome as a value."""
        result = self.result(namespace)
        _show(_HEADINGS[result.outcome], result.message, colour=_COLOURS[result.outcome])

    def assert_correct(self, namespace: Mapping | None = None) -> None:
        """Raise AssertionError unless the answer is correct (for solved copies, CI and graders)."""
        result = self.result(namespace)
        if not result.correct:
            raise AssertionError(f"{self.grade_id}: {result.outcome}: {result.message}")

    def hint(self, n: int = 1) -> None:
        """Show hint ``n`` (1 = the gentlest; there are ``len(hints)``)."""
        if not 1 <= n <= len(self.hints):
            raise ValueError(f"{self.name} has hints 1 to {len(self.hints)}; got {n}")
        more = f" (hint({n + 1}) says more)" if n < len(self.hints) else ""
        _show("Hint", self.hints[n - 1] + more, colour=_COLOURS[CANNOT_CHECK])

    def solution(self) -> None:
        """Show a solution (only when asked)."""
        _show("Solution", "one way to answer:", self.solution_code, colour=_COLOURS[CORRECT])

    @staticmethod
    def _learner_namespace() -> Mapping:
        """The notebook's variables (IPython's user namespace), else the running script's."""
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None:
                return shell.user_ns
        except ImportError:  # pragma: no cover
            pass
        import __main__

        return vars(__main__)
