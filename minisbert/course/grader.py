"""The autograder: a student's solution blocks, probed in a process of their own, judged in the grader's.

For each assignment, `grade`
1. takes the code between the markers of the student's copy (nothing else of it) and refuses the blocks
   that break the rules (rules.py);
2. writes the graded tree (graded_tree.py): the student edition of the instructor's library with those
   blocks, the assignment's probe and the other assignments' references; no solution, no judge, no
   reference of the assignment graded, no lesson reference values;
3. draws a seed with `secrets` and runs the probe there (probe.py) with `python -I -B` (no PYTHONPATH, no
   user site, the tree alone in front of the import path), an environment holding only PATH, HOME, the
   locale and the thread settings, and a time limit; the probe builds its inputs from the seed, calls the
   student's code and writes the outputs to a safetensors file the grader names;
4. judges those outputs in the grader's own process (judge.py, tests/grading/judge_<name>.py): the same
   inputs rebuilt from the seed, the expected values and the common mistakes' diagnoses from the
   instructor's references, each check's points earned or not.
A graded process that ends other than with status 0, is killed or runs out of time, or writes a tensor
nobody asked for, earns 0 for the assignment; a tensor missing or of another dtype fails its check.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..support.errors import MissingFileError
from .assignments import ASSIGNMENTS, GRADE_TIMEOUT
from .graded_tree import build_tree, graded_files, student_library
from .judge import Check, Failure, checks_of, judge, read_outputs, unasked
from .probe import BOOT

__all__ = ["Check", "Result", "grade", "graded_files", "judge_of", "report", "report_json"]

# The only variables the graded process inherits: how to find programs, the home folder (where installed
# models live) and the locale; the thread settings keep a shared machine's limits.
KEPT_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Result:
    name: str
    points: int
    earned: int
    message: str
    seconds: float
    checks: list[Check] = field(default_factory=list)
    seed: int | None = None  # the seed the inputs were drawn from: grade(..., seeds={name: seed}) replays it


def judge_of(instructor: Path, name: str):
    """The instructor's judge module of assignment `name` (tests/grading/judge_<name>.py), freshly imported
    with its folder in front of the import path (a judge reads its probe's input builders)."""
    folder = str(Path(instructor).resolve() / "tests" / "grading")
    for module in [m for m in sys.modules if m.startswith(("judge_", "probe_", "reference_"))]:
        del sys.modules[module]  # another instructor's checkout may have been graded with before
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(f"judge_{name}")
    finally:
        sys.path.remove(folder)


def grade(student: Path, instructor: Path = Path("."), names: list[str] | None = None,
          timeout: int = GRADE_TIMEOUT, seeds: dict[str, int] | None = None) -> list[Result]:
    """Score the student's copy at `student` with the probes and judges of the instructor's checkout."""
    student, instructor = Path(student).resolve(), Path(instructor).resolve()
    for role, path in (("student's copy", student), ("instructor's checkout", instructor)):
        if not (path / "minisbert" / "__init__.py").is_file():
            raise MissingFileError(f"{path} holds no minisbert/ package; give the root of the {role}")
    library, refused = student_library(student, instructor)
    results = []
    for name in names or list(ASSIGNMENTS):
        seed = (seeds or {}).get(name, secrets.randbelow(2**31))
        results.append(_grade_one(name, instructor, library, refused.get(name), seed, timeout))
    return results


def _grade_one(name: str, instructor: Path, library: dict[Path, str], refusal: str | None, seed: int,
               timeout: int) -> Result:
    points = ASSIGNMENTS[name][0]
    grading = instructor / "tests" / "grading"
    missing = [f for f in (f"judge_{name}.py", f"probe_{name}.py") if not (grading / f).is_file()]
    if missing:
        return Result(name, points, 0, f"the instructor's checkout has no tests/grading/{missing[0]}", 0.0)
    checks = checks_of(judge_of(instructor, name))
    if refusal:
        return Result(name, points, 0, refusal, 0.0, [Check(c.__name__, c.points, 0, refusal) for c in checks], seed)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="minisbert-grade-") as tmp:
        tree, out = Path(tmp) / "tree", Path(tmp) / "outputs.safetensors"
        build_tree(tree, name, instructor, library)
        crash = _run_probe(tree, name, seed, out, [c.__name__ for c in checks], timeout)
        try:
            tensors, metadata = ({}, {}) if crash else read_outputs(out)
        except Failure as e:
            crash = str(e)
        extra = [] if crash else unasked(checks, tensors)
        if extra:
            crash = (f"the graded process wrote tensors nobody asked for ({', '.join(extra[:3])}): "
                     "nothing it wrote counts")
        judged = [Check(c.__name__, c.points, 0, crash) for c in checks] if crash \
            else judge(checks, seed, tensors, metadata)
    failed = [c.message for c in judged if not c.earned]
    return Result(name, points, sum(c.earned for c in judged), failed[0] if failed else "all checks passed",
                  time.perf_counter() - start, judged, seed)


def _run_probe(tree: Path, name: str, seed: int, out: Path, checks: list[str], timeout: int) -> str | None:
    """Run the probe in the graded tree; None when it ended with status 0, else why it scores nothing."""
    env = {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}
    # -I: no PYTHON* variables, no user site, not the current folder; -B: no bytecode written into the tree
    command = [sys.executable, "-I", "-B", "-c", BOOT, str(tree), name, str(seed), str(out), *checks]
    # its own session, so that whatever it started is ended with it (and cannot write into a later grading)
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=os.name == "posix")
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"the graded process took longer than {timeout} s: nothing it wrote counts"
    finally:
        _end_session(process)
    if process.returncode:
        return (f"the graded process ended with status {process.returncode} (killed, crashed or stopped): nothing "
                f"it wrote counts; its last words: {_last_line(stderr or stdout)}")
    return None


def _end_session(process: subprocess.Popen) -> None:
    """Kill the graded process and every process it started in its session; reap it, close its pipes (without
    waiting on them: a process that left the session may hold them)."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # the session has ended already
            pass
    process.kill()
    process.wait()
    for pipe in (process.stdout, process.stderr):
        pipe.close()


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "none"


def report(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.earned:>3}/{r.points:<3} {r.message}")
        if r.seed is not None:  # what replays this grading: grade --seed NAME=SEED
            lines.append(f"{'':<{width}}    seed {r.seed}")
        lines += [f"{'':<{width}}    {c.earned:>2}/{c.points:<2} {c.name}" for c in r.checks]
    earned, total = sum(r.earned for r in results), sum(r.points for r in results)
    lines.append(f"total: {earned}/{total} ({100 * earned / total:.0f}%)")
    return "\n".join(lines)


def report_json(results: list[Result]) -> str:
    """The report for a gradebook: each assignment with its checks and seed, and the totals."""
    return json.dumps({"assignments": [asdict(r) for r in results], "earned": sum(r.earned for r in results),
                       "points": sum(r.points for r in results)}, indent=2)
