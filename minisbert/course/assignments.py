"""Course assignments: which they are, and the markers that hold their solutions.

The parts of the library a student writes are marked in the source:

    # BEGIN SOLUTION <assignment>: <a hint for the student>
    ...the instructor's code...
    # END SOLUTION    (the block ends here)

The student edition (edition.py) keeps the two marker lines and puts
`raise NotImplementedError(<the hint>)` between them; the student writes there.
The grader (grader.py) takes only what lies between the markers of a student's
copy and puts it between the same markers of the instructor's files
(`student_blocks`, `fill_blocks`), so nothing else a student changes is ever run.

    python -m minisbert student-edition OUT     # write and check the student edition
    python -m minisbert grade [PATH]            # score a student's copy (default: this repository)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..support.errors import MarkerError

# The graded process's time limit per assignment, in seconds (grader.py; `grade --timeout`): an honest
# assignment takes a few seconds on 2 cores, and a block that never returns costs no more than this.
GRADE_TIMEOUT = 120

# name: (points, what the student writes)
ASSIGNMENTS = {
    "attention": (15, "scaled dot-product attention with a padding mask (attention.py)"),
    "multihead": (15, "splitting into heads and merging them back (attention.py)"),
    "encoder_layer": (15, "LayerNorm, GELU, the residual blocks of the encoder layer (layers.py)"),
    "embeddings": (10, "token + position + segment embeddings (bert.py)"),
    "pooling": (15, "mean, max and CLS pooling with the attention mask (pooling.py)"),
    "losses": (15, "cosine regression, (u, v, |u-v|) classification, MNRL, CoSENT (losses.py)"),
    "training_step": (15, "one siamese update: forward, loss, backward, clip, step (training.py)"),
}
BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION (?P<name>\w+)(?::\s*(?P<hint>.*))?$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


@dataclass
class Block:
    """One marked block: its assignment, the marker lines and the code between them."""
    name: str
    indent: str
    hint: str
    begin: str  # the BEGIN line, newline included
    end: str
    body: list[str]  # the lines between the markers, newlines included
    line: int  # where the BEGIN line is (1-based)


def parse_blocks(source: str, where: str = "<source>") -> list[str | Block]:
    """The source as a list of plain lines and Blocks, in order; raises MarkerError on bad markers."""
    parts: list[str | Block] = []
    block: Block | None = None
    for n, line in enumerate(source.splitlines(keepends=True), 1):
        text = line.rstrip("\r\n")
        begin, end = BEGIN.match(text), END.match(text)
        if begin:
            if block:
                raise MarkerError(f"{where}, line {n}: BEGIN SOLUTION inside the block opened on line {block.line}")
            if begin["name"] not in ASSIGNMENTS:
                raise MarkerError(f"{where}, line {n}: unknown assignment {begin['name']!r}; "
                                  f"known: {', '.join(ASSIGNMENTS)}")
            block = Block(begin["name"], begin["indent"], (begin["hint"] or "").strip(), line, "", [], n)
        elif end:
            if not block:
                raise MarkerError(f"{where}, line {n}: END SOLUTION without a BEGIN SOLUTION")
            block.end = line
            parts.append(block)
            block = None
        elif block:
            block.body.append(line)
        else:
            parts.append(line)
    if block:
        raise MarkerError(f"{where}, line {block.line}: BEGIN SOLUTION is never closed by END SOLUTION")
    return parts


def _join(parts: list[str | Block]) -> str:
    return "".join(p if isinstance(p, str) else p.begin + "".join(p.body) + p.end for p in parts)


def strip_solutions(source: str, where: str = "<source>") -> tuple[str, list[str]]:
    """The source with the code of every marked block replaced by a stub (the markers stay, so the
    student knows where to write and the grader where to read); and the assignments found."""
    parts = parse_blocks(source, where)
    blocks = [p for p in parts if isinstance(p, Block)]
    for b in blocks:
        message = f"assignment {b.name!r}" + (f": {b.hint}" if b.hint else "") + " (see lessons/assignments/)"
        b.body = [f"{b.indent}raise NotImplementedError({message!r})\n"]
    return _join(parts), [b.name for b in blocks]


def student_blocks(instructor: str, student: str, where: str) -> tuple[list[Block], str | None]:
    """The student's blocks of a file, one for each of the instructor's, in the same order; or none and
    the reason they cannot be matched (markers deleted, renamed, reordered)."""
    expected = [p.name for p in parse_blocks(instructor, where) if isinstance(p, Block)]
    try:
        theirs = [p for p in parse_blocks(student, where) if isinstance(p, Block)]
    except MarkerError as e:
        return [], f"the solution markers are broken: {e}"
    if [b.name for b in theirs] != expected:
        held = ", ".join(b.name for b in theirs) or "none"
        return [], (f"{where} should hold the blocks {', '.join(expected)} in this order, each between its "
                    f"'# BEGIN SOLUTION' and '# END SOLUTION' lines; it holds {held}")
    return theirs, None


def fill_blocks(instructor: str, bodies: list[list[str] | None], where: str) -> str:
    """The instructor's source with block i's code replaced by bodies[i], or by the stub where that is None."""
    stubbed = parse_blocks(strip_solutions(instructor, where)[0], where)
    blocks = [p for p in stubbed if isinstance(p, Block)]
    for block, body in zip(blocks, bodies, strict=True):
        if body is not None:
            block.body = body
    return _join(stubbed)
