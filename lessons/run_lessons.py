"""Execute the lesson notebooks headless, in order, and report each one's time.

    python lessons/run_lessons.py              # re-execute all, writing the outputs into the notebooks
    python lessons/run_lessons.py --check      # execute without writing (CI): fail on any error or failed check
    python lessons/run_lessons.py 03 07        # only the lessons whose names start with these
    python lessons/run_lessons.py --check --solutions   # with the exercises solved (solutions/*.py)
    python lessons/run_lessons.py --edition zh 03       # only the Chinese edition's lesson 03 (lessons/zh/)
    python lessons/run_lessons.py --check --solutions --json benchmarks/results/lessons.json   # and record the times

A lesson fails when a cell raises, which is what a failed reference check
(minisbert.course.check) does; the first failing cell's error is printed. Each lesson
has a time limit (--timeout, default 180 s) and the run a total one (--budget).
MINISBERT_DEVICE chooses the device the lessons run on (cpu, cuda, mps). Both editions run by
default, the English and then the Chinese one (lessons/zh/, built by minisbert.course.translation),
each notebook from its own folder as Jupyter would start it.

Exercises (minisbert/course/exercises.py): as committed, each stub is empty and its
check must fail with a hint; with --solutions the notebook runs with every stub
replaced by its block of solutions/NN_name.py, and every check must pass, after the
empty stub (it must fail with a hint) and each of the wrong answers in that file
(`# %% Wrong N: ...`) have been run through the same check and rejected; so one solved
run checks the empty case too (the bonus, which has no exercises, runs as it is). In the Chinese edition an
empty stub's check must fail in Chinese.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from minisbert.course.exercises import exercises, fill, solution_blocks, unfinished_checks_failed, wrong_blocks

HERE = Path(__file__).resolve().parent
EDITIONS = {"en": HERE, "zh": HERE / "zh"}


def notebooks(prefixes: list[str], editions: list[str]) -> list[Path]:
    found = []
    for edition in editions:
        folder = EDITIONS[edition]
        found += sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(folder.glob("B[0-9]_*.ipynb"))  # lessons, bonus
    return [n for n in found if not prefixes or any(n.name.startswith(p) for p in prefixes)]


def solution_file(lesson: Path) -> Path:
    return HERE / "solutions" / (lesson.stem + ".py")


def run(path: Path, nb, timeout: int, write: bool, solved: bool) -> float:
    """Execute one notebook (nb, read from path); solved: with its exercise stubs replaced by the solutions
    (never written)."""
    if solved:
        solutions = solution_file(path)
        nb, write = fill(nb, solution_blocks(solutions), wrong_blocks(solutions)), False
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    problems = [] if solved else unfinished_checks_failed(nb, "zh" if path.parent.name == "zh" else "en")
    if problems:
        raise CellExecutionError("; ".join(problems), "", "")
    if write:
        nbformat.write(nb, path)
    return seconds


# what a lesson's time depends on besides the library (benchmarks/common.py's provenance() names that): the
# notebooks of both editions, the solutions and reference values they run with (git pathspecs)
LESSON_SOURCES = ["lessons/*.ipynb", "lessons/solutions", "lessons/reference"]


def record(times: dict[Path, float], solved: bool, failed: list[str], provenance: dict) -> dict:
    """What --json writes: the run's provenance and each lesson's seconds per edition,
    {"lessons": {"03_attention": {"en": 11.2, "zh": 10.9}, ...}} (a failed lesson has no time)."""
    lessons: dict[str, dict[str, float]] = {}
    for path, seconds in times.items():
        lessons.setdefault(path.stem, {})["zh" if path.parent.name == "zh" else "en"] = round(seconds, 1)
    commit = provenance["commit"]
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *LESSON_SOURCES],
                             cwd=HERE.parent, capture_output=True, text=True).stdout
    if changed and not commit.endswith("-dirty"):
        commit += "-dirty"  # the notebooks that ran are not the committed ones
    return {"title": "Each lesson's seconds, executed headless" + (" with the exercises solved" if solved else ""),
            **provenance, "commit": commit, "sources": sorted({*provenance["sources"], *LESSON_SOURCES}),
            "runs": len(times), "seconds": round(sum(times.values()), 1), "failed": failed, "lessons": lessons}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lessons", nargs="*", help="name prefixes, e.g. 03 (default: all)")
    ap.add_argument("--check", action="store_true", help="do not write the outputs back")
    ap.add_argument("--solutions", action="store_true", help="run the lessons with their exercises solved (solutions/*.py)")
    ap.add_argument("--edition", choices=["en", "zh", "both"], default="both",
                    help="the English lessons, the Chinese edition (lessons/zh/) or both (default)")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per lesson (default 180)")
    ap.add_argument("--budget", type=int, default=2400, help="seconds for all lessons together (default 2400)")
    ap.add_argument("--json", metavar="PATH", help="also write each lesson's seconds per edition to PATH, with "
                    "the command, commit, date, machine and source files of the run (benchmarks/common.py)")
    args = ap.parse_args()
    if args.json:  # the provenance is taken now, at the start: the code that runs is the code of the start
        sys.path.insert(0, str(HERE.parent / "benchmarks"))
        from common import provenance
        provenance()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = notebooks(args.lessons, ["en", "zh"] if args.edition == "both" else [args.edition])
    if not paths:
        print(f"no lesson matches {args.lessons}", file=sys.stderr)
        return 2
    total, failed, times = 0.0, [], {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        solved = args.solutions and bool(exercises(nb))
        try:
            seconds = run(path, nb, args.timeout, write=not args.check, solved=solved)
            if seconds > args.timeout:
                raise CellTimeoutError(f"{path.name} took {seconds:.0f} s, over its limit of {args.timeout} s")
            shown = path.relative_to(HERE).as_posix() + (" (solved)" if solved else "")
            print(f"ok    {shown:<43} {seconds:6.1f} s", flush=True)
            times[path] = seconds
        except (CellExecutionError, CellTimeoutError, ValueError) as e:
            seconds = 0.0
            failed.append(path.name)
            print(f"FAIL  {path.relative_to(HERE).as_posix()}\n{e}", flush=True)
        total += seconds
    print(f"{len(paths) - len(failed)} of {len(paths)} passed in {total:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(record(times, args.solutions, failed, provenance()), indent=1,
                                              ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}" + (f" (without the {len(failed)} failed)" if failed else ""))
    if total > args.budget:
        print(f"over the time budget of {args.budget} s", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
