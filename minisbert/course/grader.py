"""The autograder: a student's solution blocks, run against the instructor's tests.

For each grading, `grade` builds a fresh temporary copy of the instructor's tree (the
library, tests/grading/ and the lessons' reference values), puts the code of the
student's solution blocks into it (and nothing else of the student's: no conftest.py,
pyproject.toml, tests or references), refuses the blocks that break the rules
(rules.py), and runs each assignment's grading tests there with pytest in a
subprocess: working directory the copy, an environment with nothing but PATH, HOME,
the locale and thread settings (no inherited PYTHONPATH, MINISBERT_*, tokens or keys),
pytest configured by the grader's own ini file, a time limit. The copy is removed
afterwards.

Each grading test is one check, worth the points of its `@pytest.mark.points(n)`
marker; an assignment earns the points of the checks that pass.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..support.errors import MissingFileError
from .assignments import ASSIGNMENTS, Block, fill_blocks, parse_blocks, student_blocks
from .rules import block_problems, enclosing_arguments

# What the grading tests need from the instructor's tree; nothing else is copied.
INSTRUCTOR_PARTS = ("minisbert", "tests/grading", "lessons/reference")
# The only variables the grading subprocess inherits: how to find programs, the home folder
# (where installed models and caches live) and the locale; the thread settings keep a
# shared machine's limits.
KEPT_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")
PYTEST_INI = """[pytest]
markers =
    points(n): the points a grading check is worth
"""


@dataclass
class Check:
    name: str
    points: int
    earned: int = 0
    message: str = ""


@dataclass
class Result:
    name: str
    points: int
    earned: int
    message: str
    seconds: float
    checks: list[Check] = field(default_factory=list)


def graded_files(instructor: Path) -> dict[Path, list[str]]:
    """The instructor's source files that hold solution blocks, with the assignments of their blocks."""
    files = {}
    for path in sorted((instructor / "minisbert").rglob("*.py")):
        rel = path.relative_to(instructor)
        names = [p.name for p in parse_blocks(path.read_text(encoding="utf-8"), str(rel)) if isinstance(p, Block)]
        if names:
            files[rel] = names
    return files


def checks_of(test_file: Path) -> list[Check]:
    """The checks of a grading test module, read from its source: each test function and its points."""
    checks = []
    for node in ast.parse(test_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            points = [d.args[0].value for d in node.decorator_list
                      if isinstance(d, ast.Call) and ast.unparse(d.func) == "pytest.mark.points"]
            checks.append(Check(node.name, points[0] if points else 0))
    return checks


def grade(student: Path, instructor: Path = Path("."), names: list[str] | None = None,
          timeout: int = 300) -> list[Result]:
    """Score the student's copy at `student` with the tests of the instructor's checkout `instructor`."""
    student, instructor = Path(student).resolve(), Path(instructor).resolve()
    for role, path in (("student's copy", student), ("instructor's checkout", instructor)):
        if not (path / "minisbert" / "__init__.py").is_file():
            raise MissingFileError(f"{path} holds no minisbert/ package; give the root of the {role}")
    with tempfile.TemporaryDirectory(prefix="minisbert-grade-") as tmp:
        tree = Path(tmp) / "course"
        for part in INSTRUCTOR_PARTS:
            if (instructor / part).is_dir():
                shutil.copytree(instructor / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
        refused = _put_student_blocks(student, instructor, tree)
        ini = Path(tmp) / "grader.ini"
        ini.write_text(PYTEST_INI, encoding="utf-8")
        return [_grade_one(name, tree, ini, refused.get(name), timeout) for name in names or list(ASSIGNMENTS)]


def _put_student_blocks(student: Path, instructor: Path, tree: Path) -> dict[str, str]:
    """Write the student's blocks into the copy's graded files; returns the refused assignments and why.

    A refused assignment's blocks keep the stub (NotImplementedError), in every file, so that a
    block that does not compile cannot break the others' imports.
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
            arguments = enclosing_arguments(mine, places[i])
            problems = block_problems(block, str(rel), arguments) \
                or _compile_problems(fill_blocks(mine, alone, str(rel)), rel)
            if problems and block.name not in refused:
                refused[block.name] = problems[0]
    for rel in files:
        bodies = [None if b.name in refused else b.body for b in found.get(rel, [])] or [None] * len(files[rel])
        (tree / rel).write_text(fill_blocks((instructor / rel).read_text(encoding="utf-8"), bodies, str(rel)),
                                encoding="utf-8")
    return refused


def _compile_problems(source: str, rel: Path) -> list[str]:
    try:
        compile(source, str(rel), "exec")
    except SyntaxError as e:
        return [f"{rel}, line {e.lineno}: {e.msg}"]
    return []


def _environment(tree: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}
    # the copy alone on the import path; no plugins but pytest's own (none of them reads the student's files)
    env.update(PYTHONPATH=str(tree), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def _grade_one(name: str, tree: Path, ini: Path, refusal: str | None, timeout: int) -> Result:
    points = ASSIGNMENTS[name][0]
    tests = Path("tests") / "grading" / f"test_grade_{name}.py"
    if not (tree / tests).is_file():
        return Result(name, points, 0, f"the instructor's checkout has no {tests}", 0.0)
    checks = checks_of(tree / tests)
    if refusal:
        return Result(name, points, 0, refusal, 0.0, [Check(c.name, c.points, 0, refusal) for c in checks])
    xml = ini.with_name(f"{name}.xml")
    command = [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(tree), "-p", "no:cacheprovider",
               "-q", "--no-header", f"--junitxml={xml}", str(tests)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=tree, env=_environment(tree), capture_output=True, text=True,
                              timeout=timeout)
        # pytest ends 0 (all passed) or 1 (some failed); anything else (killed, crashed, interrupted, an
        # exit forced from inside) scores 0, whatever report it left behind
        crash = None if xml.is_file() else _last_line(done.stdout + done.stderr)
        if done.returncode not in (0, 1):
            crash = f"the graded process ended with status {done.returncode} (killed, crashed or stopped): " \
                    "nothing it wrote counts"
    except subprocess.TimeoutExpired:
        crash = f"the grading tests took longer than {timeout} s"
    seconds = time.perf_counter() - start
    outcomes = {} if crash else _outcomes(xml)
    # a check missing from the report did not run: say why when pytest did (a collection error)
    not_run = next((m for test, m in outcomes.items() if m and test not in {c.name for c in checks}),
                   "this check did not run")
    for check in checks:
        failure = crash or outcomes.get(check.name, not_run)
        check.earned, check.message = (check.points, "passed") if failure is None else (0, failure)
    failed = [c.message for c in checks if not c.earned]
    return Result(name, points, sum(c.earned for c in checks), failed[0] if failed else "all checks passed",
                  seconds, checks)


def _outcomes(xml: Path) -> dict[str, str | None]:
    """Test function name -> None when it passed (every parametrized case), else the first failure's message."""
    outcomes: dict[str, str | None] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        test = case.get("name", "").split("[")[0]
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        message = None if problem is None else _message(problem)
        outcomes[test] = outcomes.get(test) or message
    return outcomes


def _message(problem: ET.Element) -> str:
    """A failure's message; for an error while collecting, the error's last line, not pytest's summary."""
    message = problem.get("message") or ""
    if not message or message == "collection failure":
        return _last_line(problem.text or problem.tag)
    return _first_line(message)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else text


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "the grading tests did not run"


def report(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.earned:>3}/{r.points:<3} {r.message}")
        lines += [f"{'':<{width}}    {c.earned:>2}/{c.points:<2} {c.name}" for c in r.checks]
    earned, total = sum(r.earned for r in results), sum(r.points for r in results)
    lines.append(f"total: {earned}/{total} ({100 * earned / total:.0f}%)")
    return "\n".join(lines)


def report_json(results: list[Result]) -> str:
    """The report for a gradebook: each assignment with its checks, and the totals."""
    return json.dumps({"assignments": [asdict(r) for r in results], "earned": sum(r.earned for r in results),
                       "points": sum(r.points for r in results)}, indent=2)
