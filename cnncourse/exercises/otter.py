"""The solved copy in otter-grader's format (``python -m cnncourse solutions --format otter``).

``otter assign`` strips solutions only inside its own question blocks, so the otter copy wraps
each exercise in otter's raw cells (otter-grader 7 "assign" format)::

    [raw]  # ASSIGNMENT CONFIG ...            (once, first cell)
    [raw]  # BEGIN QUESTION / name: q1 / points: 1
    [raw]  # BEGIN SOLUTION
    [code] # Your answer to q1                 the answer cell: the learner's blank as an otter
           ''' # BEGIN PROMPT                  prompt in a triple-quoted string, three double
           mystery = ____                      quotes unless the blank has them (what the student
           ''' # END PROMPT                    copy gets back), the solution between otter's
           # BEGIN SOLUTION NO PROMPT          solution lines (what the autograder notebook runs)
           mystery = {...}
           # END SOLUTION
    [raw]  # END SOLUTION
    [code] q1.check()                          the learner's check cell, unchanged
    [raw]  # BEGIN TESTS
    [code] q1.assert_correct(globals())        the exercise's own check is otter's test
    [raw]  # END TESTS
    [raw]  # END QUESTION

``otter assign`` turns this into a student notebook whose answer cells are the learner's
(``mystery = ____``), with a ``grader.check("q1")`` cell after each question, and an autograder
zip whose tests ``tests/q1.py`` are ``q1.assert_correct(globals())``.  This file is not an
nbgrader source: ``nbgrader generate_assignment`` 0.9.6 stops at otter's raw ``# BEGIN SOLUTION``
cells ("no end solution statement found"), which is why the nbgrader copy (the default) is a
separate format.
"""

from __future__ import annotations

import ast

import nbformat

#: otter's assignment configuration for a lesson: no PDFs (they need LaTeX), tests in the
#: notebook's metadata and in the autograder zip; ``otter assign`` runs the tests on the solved
#: notebook (the whole lesson, under $CNNCOURSE_PROFILE) unless given --no-run-tests
ASSIGNMENT_CONFIG = """\
# ASSIGNMENT CONFIG
name: {name}
export_cell:
  pdf: false
generate:
  pdf: false
"""


def raw(source: str):
    return nbformat.v4.new_raw_cell(source)


def answer_source(first_line: str, blank: str, solution: str) -> str:
    """The answer cell: ``first_line``, the learner's ``blank`` body as otter's prompt (kept for the
    student, a string the autograder ignores), then the solution between otter's solution lines."""
    solved = f"# BEGIN SOLUTION NO PROMPT\n{solution}\n# END SOLUTION"
    for quote in ('"""', "'''"):
        if quote in blank or not blank.strip():
            continue
        source = f"{first_line}\n{quote} # BEGIN PROMPT\n{blank}\n{quote} # END PROMPT\n{solved}"
        try:
            ast.parse(source)
        except SyntaxError:
            continue
        return source
    # no quoting keeps the blank intact: the student copy gets otter's "..." in its place
    return f"{first_line}\n# BEGIN SOLUTION\n{solution}\n# END SOLUTION"


def question_cells(exercise, answer_cell, check_cell) -> list:
    """Otter's question block around one exercise's answer cell and check cell (both reused)."""
    lines = answer_cell.source.splitlines()
    answer_cell.source = answer_source(lines[0], "\n".join(lines[1:]), exercise.solution_code)
    test = nbformat.v4.new_code_cell(f"{exercise.name}.assert_correct(globals())")
    return [raw(f"# BEGIN QUESTION\nname: {exercise.name}\npoints: 1"), raw("# BEGIN SOLUTION"), answer_cell,
            raw("# END SOLUTION"), check_cell, raw("# BEGIN TESTS"), test, raw("# END TESTS"),
            raw("# END QUESTION")]


def otter_notebook(nb, exercises: dict, answer_at: dict, name: str):
    """``nb`` with otter's assignment config first and each exercise in a question block.

    answer_at : {exercise name: the index of its answer cell in ``nb``}; its check cell is the next
    cell.  The question block takes the two cells' place.
    """
    exercise_at = {i: q for q, i in answer_at.items()}
    checks = {i + 1 for i in answer_at.values()}
    cells = [raw(ASSIGNMENT_CONFIG.format(name=name))]
    for i, cell in enumerate(nb.cells):
        if i in exercise_at:
            cells.extend(question_cells(exercises[exercise_at[i]], cell, nb.cells[i + 1]))
        elif i not in checks:
            cells.append(cell)
    nb.cells = cells
    return nb
