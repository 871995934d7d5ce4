"""Showing the library's code inside a lesson, right before the lesson uses it.

The library is the single implementation of each concept; a notebook does not copy
it. `show(fn)` displays the function's (or class's) source with its file and first
line, so the learner reads the code that is about to run. In Jupyter the source is
highlighted (an HTML rendering by pygments, which Jupyter itself depends on); run
headless or in a terminal it is plain text, the same lines. The assignments'
`# BEGIN SOLUTION` / `# END SOLUTION` marker lines (assignments.py) are left out:
they are for the grader, not part of the concept.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from .assignments import BEGIN, END


class Source:
    """A piece of source code that Jupyter renders highlighted and everything else prints as text."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:  # the text/plain form: what a terminal, a test or a notebook viewer without HTML shows
        return self.text

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
        formatter = HtmlFormatter(noclasses=True, style="friendly", nobackground=True)
        return f'<div style="font-size: 0.9em">{highlight(self.text, PythonLexer(), formatter)}</div>'


def source_of(obj) -> Source:
    """The source of a function, method or class, headed by its file and first line, without grader markers."""
    lines, first = inspect.getsourcelines(obj)
    path = Path(inspect.getsourcefile(obj)).resolve()
    package = Path(__file__).resolve().parent.parent  # .../minisbert
    shown = path.relative_to(package.parent).as_posix() if path.is_relative_to(package) else path.name
    body = "".join(line for line in lines if not (BEGIN.match(line.rstrip("\n")) or END.match(line))).rstrip()
    return Source(f"# {shown}, line {first}\n{body}")


def show(obj) -> None:
    """Display the source of obj: highlighted inside IPython/Jupyter, printed otherwise."""
    source = source_of(obj)
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from IPython.display import display
        display(source)
    else:
        print(source.text)
