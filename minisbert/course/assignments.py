"""Course assignments: the student edition and the autograder.

The parts of the library a student writes are marked in the source:

    # BEGIN SOLUTION <assignment>: <a hint for the student>
    ...the instructor's code...
    # END SOLUTION    (the block ends here)

`make_student_edition` copies the repository and replaces every marked block by
`raise NotImplementedError(<the hint>)`; `grade` runs each assignment's grading
tests (tests/grading/test_grade_<name>.py) against an edition and scores it, all or
nothing per assignment, with the first failing check's message. Each grading test
replaces the *other* assignments' code by reference implementations, so one
wrong assignment costs only its own points.

    python -m minisbert student-edition OUT     # write and check the student edition
    python -m minisbert grade [PATH]            # score an edition (default: this repository)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import MarkerError, MissingFileError, OutputExistsError

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
# Never copied into an edition: version control, caches, fine-tuned models, benchmark results, exercise solutions.
SKIP = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "checkpoints", "results",
        "solutions", "build", "dist", ".ipynb_checkpoints"}


def strip_solutions(source: str, where: str = "<source>") -> tuple[str, list[str]]:
    """The source with every marked block replaced by a stub; and the assignments found."""
    out, found, block = [], [], None
    for n, line in enumerate(source.splitlines(keepends=True), 1):
        begin, end = BEGIN.match(line.rstrip("\n")), END.match(line.rstrip("\n"))
        if begin:
            if block:
                raise MarkerError(f"{where}, line {n}: BEGIN SOLUTION inside the block opened on line {block}")
            name = begin["name"]
            if name not in ASSIGNMENTS:
                raise MarkerError(f"{where}, line {n}: unknown assignment {name!r}; known: {', '.join(ASSIGNMENTS)}")
            hint = (begin["hint"] or "").strip()
            message = f"assignment {name!r}" + (f": {hint}" if hint else "") + " (see lessons/assignments/)"
            out.append(f"{begin['indent']}raise NotImplementedError({message!r})\n")
            found.append(name)
            block = n
        elif end:
            if not block:
                raise MarkerError(f"{where}, line {n}: END SOLUTION without a BEGIN SOLUTION")
            block = None
        elif not block:
            out.append(line)
    if block:
        raise MarkerError(f"{where}, line {block}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "".join(out), found


def make_student_edition(out: Path, repo: Path, keep_solutions: bool = False) -> dict[str, int]:
    """Copy the course checkout `repo` to `out` with every solution removed (kept with keep_solutions, e.g. to grade a
    variant); returns the number of marked blocks per assignment."""
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
        else:
            shutil.copy2(src, dest)
    missing = [name for name, n in removed.items() if not n]
    if missing:
        raise MarkerError(f"no solution markers found for {', '.join(missing)}")
    return removed


def _files(repo: Path) -> list[Path]:
    """The repository's files: those git tracks or would track, else every file; never those in SKIP."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                                capture_output=True, text=True, check=True).stdout.splitlines()
        files = [Path(f) for f in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        files = [p.relative_to(repo) for p in repo.rglob("*")]
    return sorted(f for f in files if (repo / f).is_file()
                  and not any(part in SKIP or part.endswith(".egg-info") for part in f.parts))


@dataclass
class Result:
    name: str
    points: int
    earned: int
    message: str
    seconds: float


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")) and " - " in line:
            return line.split(" - ", 1)[1].strip()
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "the grading tests did not run"


def grade(path: Path, names: list[str] | None = None, timeout: int = 240) -> list[Result]:
    """Run each assignment's grading tests against the edition at `path`."""
    path = Path(path).resolve()
    if not (path / "minisbert" / "__init__.py").is_file():
        raise MissingFileError(f"{path} holds no minisbert/ package; give the root of an edition")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
           "COLUMNS": "1000"}  # pytest cuts its summary lines, the failure messages, to the terminal width
    results = []
    for name in names or list(ASSIGNMENTS):
        points = ASSIGNMENTS[name][0]
        tests = path / "tests" / "grading" / f"test_grade_{name}.py"
        start = time.perf_counter()
        if not tests.is_file():
            results.append(Result(name, points, 0, f"no grading tests at {tests}", 0.0))
            continue
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-rfE", "-p", "no:cacheprovider",
                                   "--no-header", str(tests)], cwd=path, env=env, capture_output=True, text=True,
                                  timeout=timeout)
            ok, message = done.returncode == 0, _first_failure(done.stdout + done.stderr)
        except subprocess.TimeoutExpired:
            ok, message = False, f"the grading tests took longer than {timeout} s"
        results.append(Result(name, points, points if ok else 0, "all checks passed" if ok else message,
                              time.perf_counter() - start))
    return results


def report(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{r.name:<{width}}  {r.earned:>3}/{r.points:<3} {r.message}" for r in results]
    earned, total = sum(r.earned for r in results), sum(r.points for r in results)
    lines.append(f"total: {earned}/{total} ({100 * earned / total:.0f}%)")
    return "\n".join(lines)


def check_edition(out: Path) -> list[str]:
    """Problems of a student edition: it must import, score 0 on every assignment because the
    solutions are missing, and pass the tests that need no assignment (wordpiece, data, model_finder)."""
    problems = []
    env = {**os.environ, "PYTHONPATH": str(out)}
    done = subprocess.run([sys.executable, "-c", "import minisbert, minisbert.training, minisbert.cli"],
                          cwd=out, env=env, capture_output=True, text=True)
    if done.returncode:
        problems.append(f"the edition does not import: {done.stderr.strip().splitlines()[-1]}")
        return problems
    for r in grade(out):
        if r.earned or "NotImplementedError" not in r.message:
            problems.append(f"{r.name}: expected to fail on a missing solution, got: {r.message}")
    independent = [f"tests/test_{m}.py" for m in ("wordpiece", "data", "model_finder")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *independent],
                          cwd=out, env=env, capture_output=True, text=True)
    if done.returncode:
        problems.append(f"tests that need no assignment fail: {_first_failure(done.stdout)}")
    return problems
