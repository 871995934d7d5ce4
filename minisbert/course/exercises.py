"""A lesson's exercises: stub cells the learner fills in, each followed by its check.

In a notebook an exercise is two code cells:

    # Exercise 2: a causal mask                   <- the stub (tag "exercise"): the learner's code goes here
    def causal_attention(q, k, v):
        # your code here
        ...

    check_close("ex03.causal", causal_attention(q, k, v))   <- the check (tag "raises-exception")

Left empty, the stub returns None and the check fails with its hint (that is the
committed output a learner first sees). The tag "raises-exception" lets a headless
run go on past that failure. The solutions live in lessons/solutions/NN_name.py as
blocks headed `# %% Exercise N`; `fill` puts each block in place of its stub and
drops the tag, so a run of the filled notebook fails on any failed check.

The same file holds the wrong answers that learners really write, as blocks headed
`# %% Wrong N: what is wrong` (optionally ending `[says: text]`, a text the check's
message must contain, where the check can name the mistake). `fill` puts each one
before the solution, with a copy of the check that must raise CheckFailed: a run of
the filled notebook also fails when a check accepts a wrong answer.
"""

from __future__ import annotations

import copy
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .language import hint_label

STUB_TAG, ALLOWED_TAG = "exercise", "raises-exception"
HEADING = re.compile(r"^# (?:%% )?Exercise (\d+)\b")
WRONG = re.compile(r"^# %% Wrong (\d+): (.+?)(?: \[says: (.+)\])?$")


@dataclass
class Wrong:
    """A wrong answer to an exercise: what is wrong with it, what the check should say, the code."""
    number: int
    mistake: str
    says: str | None
    code: str


@dataclass
class Exercise:
    number: int
    stub: int   # index of the stub cell in the notebook
    check: int  # index of the check cell right after it


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])  # reading adds nothing to the notebook


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def exercises(nb) -> list[Exercise]:
    """The notebook's exercises in order; a stub must be numbered and followed by a code cell."""
    found = []
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or STUB_TAG not in _tags(cell):
            continue
        heading = HEADING.match(_source(cell))
        if not heading:
            raise ValueError(f"cell {i} is tagged {STUB_TAG!r} but does not start with '# Exercise N'")
        after = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"), None)
        if after is None:
            raise ValueError(f"exercise {heading.group(1)} (cell {i}) has no check cell after it")
        found.append(Exercise(int(heading.group(1)), i, after))
    return found


def _sections(path: str | Path) -> list[tuple[str, str]]:
    """A solutions file as (heading line, code below it) for each `# %%` section."""
    sections, heading, lines = [], None, []
    for line in [*Path(path).read_text(encoding="utf-8").splitlines(), "# %% end"]:
        if not line.startswith("# %%"):
            lines.append(line)
            continue
        if heading is not None:
            sections.append((heading, "\n".join(lines).strip() + "\n"))
        heading, lines = line, []
    return sections


def solution_blocks(path: str | Path) -> dict[int, str]:
    """{N: code} from a solutions file's `# %% Exercise N` blocks.

    A block runs to the next `# %%` line; other `# %%` sections (the wrong answers, the
    answers to the lesson's questions, in comments) and the text before the first block
    are not code for a stub.
    """
    blocks = {}
    for heading, code in _sections(path):
        if match := HEADING.match(heading):
            blocks[int(match.group(1))] = f"# Exercise {match.group(1)}{heading[match.end():]}\n{code}"
    return blocks


def wrong_blocks(path: str | Path) -> dict[int, list[Wrong]]:
    """{N: [Wrong, ...]} from a solutions file's `# %% Wrong N: mistake` blocks."""
    wrong: dict[int, list[Wrong]] = {}
    for heading, code in _sections(path):
        if match := WRONG.match(heading):
            number = int(match.group(1))
            wrong.setdefault(number, []).append(Wrong(number, match.group(2), match.group(3), code))
    return wrong


def rejection_cell(wrong: Wrong, check: str) -> str:
    """The code of a cell that runs a wrong answer and then the exercise's check, which must reject it."""
    accepted = f"exercise {wrong.number}: the check accepted a wrong answer: {wrong.mistake}"
    silent = f"exercise {wrong.number}: the check rejected the wrong answer ({wrong.mistake}) without saying " \
             f"{wrong.says!r}: "
    # the English message, whichever edition runs the cell (course/language.py)
    unsaid = f"{wrong.says!r} not in getattr(_error, 'english', str(_error))" if wrong.says else "False"
    return (f"# Exercise {wrong.number}, a wrong answer ({wrong.mistake}): the check must reject it\n"
            f"from minisbert.course.check import CheckFailed as _CheckFailed\n{wrong.code}try:\n"
            + textwrap.indent(check.rstrip() + "\n", "    ")
            + f"except _CheckFailed as _error:\n"
              f"    if {unsaid}:\n"
              f"        raise AssertionError({silent!r} + str(_error))\n"
              f"    print({f'✓ wrong answer rejected ({wrong.mistake}):'!r}, str(_error).splitlines()[0][:160])\n"
              f"else:\n"
              f"    raise AssertionError({accepted!r})\n")


def empty_stub_cell(number: int, stub: str, check: str) -> str:
    """The code of a cell that runs an exercise's stub as committed (empty) and its check, which must fail with
    CheckFailed and a hint in the learner's language: one run of the notebook, solved, covers the empty case."""
    failed = f"exercise {number}: the check passed with the stub left empty"
    unhinted = f"exercise {number}: the empty stub's check failed without a hint: "
    return (f"# Exercise {number} as committed (the stub left empty): its check must fail with a hint\n"
            f"from minisbert.course.check import CheckFailed as _CheckFailed\n"
            f"from minisbert.course.language import translate as _translate\n{stub.rstrip()}\n\ntry:\n"
            + textwrap.indent(check.rstrip() + "\n", "    ")
            + f"except _CheckFailed as _error:\n"
              f"    if _translate('check', 'hint') + ': ' not in str(_error):\n"
              f"        raise AssertionError({unhinted!r} + str(_error))\n"
              f"    print('✓ empty stub rejected with a hint:', str(_error).splitlines()[0][:160])\n"
              f"else:\n"
              f"    raise AssertionError({failed!r})\n")


def fill(nb, solutions: dict[int, str], wrong: dict[int, list[Wrong]] | None = None):
    """A copy of the notebook with each stub replaced by its solution and every check made strict; before each
    solution, a cell that runs the empty stub through the check (it must fail with a hint) and a cell per wrong
    answer whose run fails unless the check rejects it."""
    filled = copy.deepcopy(nb)
    found = exercises(filled)
    stubs = {e.number: _source(filled["cells"][e.stub]) for e in found}
    numbers = {e.number for e in found}
    missing, extra = sorted(numbers - set(solutions)), sorted(set(solutions) - numbers)
    stray = sorted(set(wrong or {}) - numbers)
    if missing or extra or stray:
        raise ValueError(f"the notebook's exercises and the solutions file disagree: no solution for {missing}, "
                         f"no exercise cell for {extra + stray}")
    for e in found:
        filled["cells"][e.stub]["source"] = solutions[e.number]
        tags = _tags(filled["cells"][e.check])
        if ALLOWED_TAG in tags:
            tags.remove(ALLOWED_TAG)
    for e in reversed(found):  # from the end, so that the earlier cells' indices stay valid
        check = _source(filled["cells"][e.check])
        cells = [_code_cell(filled["cells"][e.stub], f"empty-{e.number}",
                            empty_stub_cell(e.number, stubs[e.number], check))]
        cells += [_code_cell(filled["cells"][e.stub], f"wrong-{e.number}-{k}", rejection_cell(w, check))
                  for k, w in enumerate((wrong or {}).get(e.number, []))]
        filled["cells"][e.stub:e.stub] = cells
    return filled


def _code_cell(like, cell_id: str, source: str):
    """A new code cell of the same mapping type as `like` (nbformat's NotebookNode, or a plain dict)."""
    node = type(like)
    return node(id=cell_id, cell_type="code", execution_count=None, metadata=node(), outputs=[], source=source)


def unfinished_checks_failed(nb, language: str = "en") -> list[str]:
    """After a run of the notebook as committed: what is wrong with its exercises ([] when all is well).

    Each check must have failed with CheckFailed and a hint in the edition's language, since its stub
    is empty; a check that passes with nothing written could not tell a learner anything.
    """
    hinted = re.compile(rf"^{re.escape(hint_label(language))}: ", re.M)
    problems = []
    for e in exercises(nb):
        cell = nb["cells"][e.check]
        if ALLOWED_TAG not in _tags(cell):
            problems.append(f"exercise {e.number}: its check cell lacks the {ALLOWED_TAG!r} tag")
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            problems.append(f"exercise {e.number}: the check passed with the stub left empty")
        elif errors[0]["ename"] != "CheckFailed" or not hinted.search(errors[0]["evalue"]):
            problems.append(f"exercise {e.number}: the empty stub gave {errors[0]['ename']}: "
                            f"{errors[0]['evalue'][:200]} (expected CheckFailed with a hint, in {language})")
    return problems
