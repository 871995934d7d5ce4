"""Execute the lesson notebooks headless, in order, and report each one's time.

    python lessons/run_lessons.py              # re-execute all, writing the outputs into the notebooks
    python lessons/run_lessons.py --check      # execute without writing (CI): fail on any error or failed check
    python lessons/run_lessons.py 03 07        # only the lessons whose names start with these
    python lessons/run_lessons.py --check --solutions   # with the exercises solved (solutions/*.py)

A lesson fails when a cell raises, which is what a failed reference check
(minisbert.course.check) does; the first failing cell's error is printed. Each lesson
has a time limit (--timeout, default 180 s) and the run a total one (--budget).
MINISBERT_DEVICE chooses the device the lessons run on (cpu, cuda, mps).

Exercises (minisbert/course/exercises.py): as committed, each stub is empty and its
check must fail with a hint; with --solutions the notebook runs with every stub
replaced by its block of solutions/NN_name.py, and every check must pass, after each
of the wrong answers in that file (`# %% Wrong N: ...`) has been run through the same
check and rejected (the bonus, which has no exercises, runs as it is).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from minisbert.course.exercises import exercises, fill, solution_blocks, unfinished_checks_failed, wrong_blocks

HERE = Path(__file__).resolve().parent


def notebooks(prefixes: list[str]) -> list[Path]:
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb")) + sorted(HERE.glob("B[0-9]_*.ipynb"))  # lessons, then bonus
    return [n for n in found if not prefixes or any(n.name.startswith(p) for p in prefixes)]


def solution_file(lesson: Path) -> Path:
    return HERE / "solutions" / (lesson.stem + ".py")


def run(path: Path, nb, timeout: int, write: bool, solved: bool) -> float:
    """Execute one notebook (nb, read from path); solved: with its exercise stubs replaced by the solutions
    (never written)."""
    if solved:
        solutions = solution_file(path)
        nb, write = fill(nb, solution_blocks(solutions), wrong_blocks(solutions)), False
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if not solved and (problems := unfinished_checks_failed(nb)):
        raise CellExecutionError("; ".join(problems), "", "")
    if write:
        nbformat.write(nb, path)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lessons", nargs="*", help="name prefixes, e.g. 03 (default: all)")
    ap.add_argument("--check", action="store_true", help="do not write the outputs back")
    ap.add_argument("--solutions", action="store_true", help="run the lessons with their exercises solved (solutions/*.py)")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per lesson (default 180)")
    ap.add_argument("--budget", type=int, default=1200, help="seconds for all lessons together (default 1200)")
    args = ap.parse_args()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = notebooks(args.lessons)
    if not paths:
        print(f"no lesson matches {args.lessons}", file=sys.stderr)
        return 2
    total, failed = 0.0, []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        solved = args.solutions and bool(exercises(nb))
        try:
            seconds = run(path, nb, args.timeout, write=not args.check, solved=solved)
            if seconds > args.timeout:
                raise CellTimeoutError(f"{path.name} took {seconds:.0f} s, over its limit of {args.timeout} s")
            print(f"ok    {path.name + (' (solved)' if solved else ''):<40} {seconds:6.1f} s", flush=True)
        except (CellExecutionError, CellTimeoutError, ValueError) as e:
            seconds = 0.0
            failed.append(path.name)
            print(f"FAIL  {path.name}\n{e}", flush=True)
        total += seconds
    print(f"{len(paths) - len(failed)} of {len(paths)} passed in {total:.0f} s")
    if total > args.budget:
        print(f"over the time budget of {args.budget} s", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
