"""The graded tree: what the graded process may see, built afresh for each assignment graded.

    TREE/minisbert/             the student edition of the instructor's library (every block a stub,
                                as edition.py writes it), with the student's blocks that keep the rules
    TREE/grading/probe_<name>.py          the probe of the one assignment graded
    TREE/grading/draws.py                 the inputs drawn from the seed, which every probe shares
    TREE/grading/reference_<other>.py     the references of the other assignments, so that one mistake
                                          costs only its own points

Never in it: the solutions, the judges and the reference of the assignment graded, the lessons'
reference values. The student's copy gives nothing but the code between its markers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .assignments import Block, fill_blocks, parse_blocks, student_blocks
from .rules import block_problems, enclosing_arguments, file_names


def graded_files(instructor: Path) -> dict[Path, list[str]]:
    """The instructor's source files that hold solution blocks, with the assignments of their blocks."""
    files = {}
    for path in sorted((instructor / "minisbert").rglob("*.py")):
        rel = path.relative_to(instructor)
        names = [p.name for p in parse_blocks(path.read_text(encoding="utf-8"), str(rel)) if isinstance(p, Block)]
        if names:
            files[rel] = names
    return files


def student_library(student: Path, instructor: Path) -> tuple[dict[Path, str], dict[str, str]]:
    """The graded files' sources as the graded tree holds them, and the refused assignments with why.

    A refused assignment's blocks keep the stub (NotImplementedError), in every file, so that a block that
    does not compile cannot break the others' imports.
    """
    found: dict[Path, list[Block]] = {}
    refused: dict[str, str] = {}
    files = graded_files(instructor)
    for rel, names in files.items():
        mine = (instructor / rel).read_text(encoding="utf-8")
        theirs = student / rel
        if not theirs.is_file():
            refused.update({n: f"{rel} is missing from the student's copy" for n in names if n not in refused})
            continue
        blocks, problem = student_blocks(mine, theirs.read_text(encoding="utf-8"), str(rel))
        if problem:
            refused.update({n: problem for n in names if n not in refused})
            continue
        found[rel] = blocks
        places = [p.line for p in parse_blocks(mine, str(rel)) if isinstance(p, Block)]
        for i, block in enumerate(blocks):
            alone = [None] * len(blocks)
            alone[i] = block.body
            problems = block_problems(block, str(rel), enclosing_arguments(mine, places[i]), file_names(mine)) \
                or _compile_problems(fill_blocks(mine, alone, str(rel)), rel)
            if problems and block.name not in refused:
                refused[block.name] = problems[0]
    sources = {}
    for rel in files:
        bodies = [None if b.name in refused else b.body for b in found.get(rel, [])] or [None] * len(files[rel])
        sources[rel] = fill_blocks((instructor / rel).read_text(encoding="utf-8"), bodies, str(rel))
    return sources, refused


def _compile_problems(source: str, rel: Path) -> list[str]:
    try:
        compile(source, str(rel), "exec")
    except SyntaxError as e:
        return [f"{rel}, line {e.lineno}: {e.msg}"]
    return []


def build_tree(tree: Path, name: str, instructor: Path, library: dict[Path, str]) -> None:
    """Write the graded tree of assignment `name` at `tree` (see the module's docstring)."""
    for path in sorted((instructor / "minisbert").rglob("*")):
        rel = path.relative_to(instructor)
        if path.is_dir() or "__pycache__" in rel.parts:
            continue
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel in library:
            dest.write_text(library[rel], encoding="utf-8")
        else:  # a file without blocks is the same in the edition
            shutil.copy2(path, dest)
    grading = instructor / "tests" / "grading"
    (tree / "grading").mkdir()
    shutil.copy2(grading / f"probe_{name}.py", tree / "grading")
    shutil.copy2(grading / "draws.py", tree / "grading")  # the input builders every probe shares
    for reference in sorted(grading.glob("reference_*.py")):
        if reference.stem != f"reference_{name}":
            shutil.copy2(reference, tree / "grading")
