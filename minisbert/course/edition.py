"""The student edition: the course checkout with its solutions removed, and the check of it.

Every marked block's code becomes `raise NotImplementedError(<hint>)` between its
markers; what holds solutions whole is left out: the grading tests and their
references (tests/grading/, which stay with the instructor and are run by the grader
from the instructor's checkout) and the lessons' exercise solutions. The lesson
notebooks come without their outputs: those were made by the instructor's library,
whose code the lessons print before running it (course/show.py); a student's own run
prints the student's code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..support.errors import MarkerError, OutputExistsError
from .assignments import ASSIGNMENTS, Block, parse_blocks, strip_solutions
from .grader import grade, graded_files

# Never copied into an edition: version control, caches, fine-tuned models, benchmark results, and the
# solutions (lessons/solutions/, the grading tests with their reference implementations).
SKIP = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "checkpoints", "results",
        "solutions", "build", "dist", ".ipynb_checkpoints",
        ".venv", "venv"}  # a virtual environment inside the checkout: gigabytes with torch, and not the course's
SKIP_FOLDERS = {Path("tests") / "grading"}
# Instructors' tests, which need what the edition leaves out: the grader's tests (the probes and judges of
# tests/grading/), the attacks on it (with honest variants that are solutions written differently), the
# exercises' solutions (lessons/solutions/), and the checks of the pages' figures and promises against the
# benchmark results and the course's git history.
SKIP_FILES = {Path("tests") / name for name in ("test_assignments.py", "test_attacks.py", "fixtures/attacks.json",
                                                 "test_exercises.py", "test_readme_figures.py",
                                                 "test_figure_provenance.py", "test_recorded_results.py")}
# A solution line shorter than this ("return x", "u, v = embeddings") says nothing on its own.
DISTINCTIVE = 16


def make_student_edition(out: Path, repo: Path, keep_solutions: bool = False) -> dict[str, int]:
    """Copy the course checkout `repo` to `out` with every solution removed (kept with keep_solutions, e.g. to
    build a student's copy in a test); returns the number of marked blocks per assignment."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise OutputExistsError(f"{out} exists and is not empty; choose a new folder for the student edition")
    removed = dict.fromkeys(ASSIGNMENTS, 0)
    for rel in _files(repo):
        src = repo / rel
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".py" and rel.parts[0] == "minisbert":
            text, found = strip_solutions(src.read_text(encoding="utf-8"), str(rel))
            dest.write_text(src.read_text(encoding="utf-8") if keep_solutions else text, encoding="utf-8")
            for name in found:
                removed[name] += 1
        elif src.suffix == ".ipynb" and not keep_solutions:
            dest.write_text(_without_outputs(src.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copy2(src, dest)
    missing = [name for name, n in removed.items() if not n]
    if missing:
        raise MarkerError(f"no solution markers found for {', '.join(missing)}")
    return removed


def _without_outputs(notebook: str) -> str:
    nb = json.loads(notebook)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


def _files(repo: Path) -> list[Path]:
    """The repository's files: those git tracks or would track, else every file; never those skipped."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                                capture_output=True, text=True, check=True).stdout.splitlines()
        files = [Path(f) for f in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        files = [p.relative_to(repo) for p in repo.rglob("*")]
    return sorted(f for f in files if (repo / f).is_file()
                  and not any(part in SKIP or part.endswith(".egg-info") for part in f.parts)
                  and not any(f.is_relative_to(folder) for folder in SKIP_FOLDERS) and f not in SKIP_FILES)


def solution_lines(repo: Path) -> dict[str, str]:
    """The distinctive lines of the solutions in `repo`: each block's code lines (whitespace collapsed,
    comments dropped) that appear nowhere else in the library (not `u, v = embeddings`, which other losses share)."""
    blocks, outside = [], set()
    for path in sorted((repo / "minisbert").rglob("*.py")):
        for part in parse_blocks(path.read_text(encoding="utf-8"), str(path)):
            if isinstance(part, Block):
                blocks.append(part)
            else:
                outside.add(_normal(part))
    lines = {}
    for block in blocks:
        for line in map(_normal, block.body):
            if len(line) >= DISTINCTIVE and line not in outside:
                lines[line] = block.name
    return lines


def leaked_solutions(edition: Path, repo: Path) -> list[str]:
    """Where the edition at `edition` still holds a distinctive solution line of `repo`."""
    lines = solution_lines(repo)
    leaks = []
    for path in sorted(p for p in edition.rglob("*") if p.is_file()):
        text = _searchable(path)
        leaks += [f"{path.relative_to(edition)} holds the {name} solution line {line!r}"
                  for line, name in lines.items() if line in text]
    return leaks


def _normal(line: str) -> str:
    return " ".join(line.split("#", 1)[0].split()) if not line.lstrip().startswith("#") else ""


def _searchable(path: Path) -> str:
    """The file's text, whitespace collapsed; a notebook's cells and their outputs, not their JSON quoting."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""
    if path.suffix == ".ipynb":
        parts = []
        for cell in json.loads(text).get("cells", []):
            parts.append("".join(cell.get("source", "")))
            for output in cell.get("outputs", []):
                parts += ["".join(output.get("text", "")), "".join(output.get("data", {}).get("text/plain", "")),
                          output.get("evalue", "")]
        text = "\n".join(parts)
    return " ".join(text.split())


def check_edition(out: Path, repo: Path) -> list[str]:
    """Problems of the student edition `out` of the course checkout `repo`: it must import, hold no solution
    line, score 0 on every check of every assignment with NotImplementedError (graded with `repo`'s judges),
    and pass the tests that need no assignment (wordpiece, data, model_finder)."""
    problems = []
    out, repo = Path(out), Path(repo)
    env = {**os.environ, "PYTHONPATH": str(out)}
    done = subprocess.run([sys.executable, "-c", "import minisbert, minisbert.training, minisbert.app.cli"],
                          cwd=out, env=env, capture_output=True, text=True)
    if done.returncode:
        problems.append(f"the edition does not import: {done.stderr.strip().splitlines()[-1]}")
        return problems
    problems += leaked_solutions(out, repo)
    blocks = {name for names in graded_files(repo).values() for name in names}
    for r in grade(out, repo):
        if r.name not in blocks or r.earned or any("NotImplementedError" not in c.message for c in r.checks):
            problems.append(f"{r.name}: expected every check to fail on the missing solution, got: {r.message}")
    independent = [f"tests/test_{m}.py" for m in ("wordpiece", "data", "model_finder")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *independent],
                          cwd=out, env=env, capture_output=True, text=True)
    if done.returncode:
        last = (done.stdout.strip().splitlines() or ["no output"])[-1]
        problems.append(f"tests that need no assignment fail: {last}")
    return problems

