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
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

STUB_TAG, ALLOWED_TAG = "exercise", "raises-exception"
HEADING = re.compile(r"^# (?:%% )?Exercise (\d+)\b")


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


def solution_blocks(path: str | Path) -> dict[int, str]:
    """{N: code} from a solutions file's `# %% Exercise N` blocks.

    A block runs to the next `# %%` line; other `# %%` sections (the answers to the
    lesson's questions, in comments) and the text before the first block are not code
    for a stub.
    """
    blocks, number, lines = {}, None, []
    for line in [*Path(path).read_text(encoding="utf-8").splitlines(), "# %% end"]:
        if not line.startswith("# %%"):
            lines.append(line)
            continue
        if number is not None:
            blocks[number] = "\n".join(lines).strip() + "\n"
        heading = HEADING.match(line)
        number = int(heading.group(1)) if heading else None
        lines = [f"# Exercise {heading.group(1)}{line[heading.end():]}"] if heading else []
    return blocks


def fill(nb, solutions: dict[int, str]):
    """A copy of the notebook with each stub replaced by its solution and every check made strict."""
    filled = copy.deepcopy(nb)
    found = exercises(filled)
    numbers = {e.number for e in found}
    missing, extra = sorted(numbers - set(solutions)), sorted(set(solutions) - numbers)
    if missing or extra:
        raise ValueError(f"the notebook's exercises and the solutions file disagree: no solution for {missing}, "
                         f"no exercise cell for {extra}")
    for e in found:
        filled["cells"][e.stub]["source"] = solutions[e.number]
        tags = _tags(filled["cells"][e.check])
        if ALLOWED_TAG in tags:
            tags.remove(ALLOWED_TAG)
    return filled


def unfinished_checks_failed(nb) -> list[str]:
    """After a run of the notebook as committed: what is wrong with its exercises ([] when all is well).

    Each check must have failed with CheckFailed and a hint, since its stub is empty;
    a check that passes with nothing written could not tell a learner anything.
    """
    problems = []
    for e in exercises(nb):
        cell = nb["cells"][e.check]
        if ALLOWED_TAG not in _tags(cell):
            problems.append(f"exercise {e.number}: its check cell lacks the {ALLOWED_TAG!r} tag")
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            problems.append(f"exercise {e.number}: the check passed with the stub left empty")
        elif errors[0]["ename"] != "CheckFailed" or "hint:" not in errors[0]["evalue"]:
            problems.append(f"exercise {e.number}: the empty stub gave {errors[0]['ename']}: "
                            f"{errors[0]['evalue'][:200]} (expected CheckFailed with a hint)")
    return problems
