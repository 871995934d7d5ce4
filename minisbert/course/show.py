"""Showing the library's code inside a lesson, right before the lesson uses it.

The library is the single implementation of each concept; a notebook does not copy
it. `show(fn)` prints the function's (or class's) source with its file and first
line, so the learner reads the code that is about to run. The assignments'
`# BEGIN SOLUTION` / `# END SOLUTION` marker lines (assignments.py) are left out:
they are for the grader, not part of the concept.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from .assignments import BEGIN, END


def show(obj) -> None:
    """Print the source of a function, method or class, headed by its file and line."""
    lines, first = inspect.getsourcelines(obj)
    path = Path(inspect.getsourcefile(obj)).resolve()
    package = Path(__file__).resolve().parent.parent  # .../minisbert
    shown = path.relative_to(package.parent).as_posix() if path.is_relative_to(package) else path.name
    print(f"# {shown}, line {first}")
    print("".join(line for line in lines if not (BEGIN.match(line.rstrip("\n")) or END.match(line))).rstrip())
