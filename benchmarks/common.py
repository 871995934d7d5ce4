"""What every benchmark shares: the sentences, timing, and the result table."""

from __future__ import annotations

import csv
import functools
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"  # the JSONs the README quotes are committed here
sys.path.insert(0, str(REPO))


def sts_test_pairs() -> list[tuple[str, str, float]] | None:
    """STS Benchmark test pairs from ../shared/data, or None where it is absent."""
    path = SHARED_DATA / "stsbenchmark" / "sts-test.csv"
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared benchmark data is not on this machine)")
        return None
    rows = []
    with path.open(encoding="utf-8") as f:
        for fields in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append((fields[5], fields[6], float(fields[4])))
    return rows


def sts_test_sentences() -> list[str] | None:
    pairs = sts_test_pairs()
    return None if pairs is None else [s for a, b, _ in pairs for s in (a, b)]


def mixed_length_sentences(n: int = 2000, seed: int = 0) -> list[str]:
    """n sentences of 5 to 120 words drawn from the bundled vocabulary, fixed seed."""
    from minisbert import resolve_model
    words = [w for w in (resolve_model() / "vocab.txt").read_text(encoding="utf-8").split("\n")
             if w.isalpha() and w.isascii() and len(w) > 1]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 120)))
        out.append(sentence[0].upper() + sentence[1:] + ".")
    return out


def alternate(runs: dict, rounds: int = 5) -> dict[str, list[float]]:
    """Time each callable once per round, taking turns, so drift hits all alike."""
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def cpu_model() -> str:
    """The processor's name as the kernel reports it (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def per_machine_json(stem: str) -> str:
    """results/STEM-KIND.json for this kind of machine, e.g. encode_speed-amd-epyc-avx2.json: figures measured
    on different CPUs are never put in one table or one ratio."""
    import re

    from minisbert.fast.hardware import read_cpu
    kind = re.sub(r"\((R|TM)\)|\bCPU\b|\bProcessor\b|@.*?(?=,)", "", read_cpu().kind)
    return str(RESULTS / f"{stem}-{re.sub(r'[^a-z0-9]+', '-', kind.lower()).strip('-')}.json")


def machine() -> str:
    import torch
    return (f"{cpu_model()}, {torch.get_num_threads()} torch threads, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


# The files whose code each benchmark's figures depend on (besides the script itself and this file): a
# change to any of them after a result's recorded commit makes its figures stale
# (tests/test_figure_provenance.py). Folders stand for every file in them.
MODEL = ["minisbert/tokenizers", "minisbert/config.py", "minisbert/attention.py", "minisbert/layers.py",
         "minisbert/bert.py", "minisbert/pooling.py", "minisbert/sbert.py", "minisbert/fast", "minisbert/loading"]
TRAINING = ["minisbert/training.py", "minisbert/losses.py", "minisbert/trainkit", "minisbert/evaluation.py",
            "minisbert/similarity.py"]
SOURCES = {
    "benchmarks/tokenizer_speed.py": ["minisbert/tokenizers"],
    "benchmarks/sts_parity.py": MODEL + ["minisbert/similarity.py", "minisbert/evaluation.py"],
    "benchmarks/bert_parity.py": MODEL + ["tests/test_bert.py"],  # the test holds the cases it measures
    "benchmarks/encode_speed.py": MODEL,
    "benchmarks/fast_kernels.py": ["minisbert/fast/hardware.py"],  # torch's kernels alone, no model
    "benchmarks/compile_speed.py": MODEL,
    "benchmarks/e5_speed.py": MODEL,
    "benchmarks/startup_memory.py": ["minisbert"],
    "benchmarks/train_results.py": MODEL + TRAINING,
    "benchmarks/gpu_check.sh": MODEL + TRAINING + ["benchmarks/gpu_pack.py", "benchmarks/encode_speed.py",
                                                   "benchmarks/train_results.py"],
}


def sources_of(script: str) -> list[str]:
    """The files a script's figures depend on: its own, this module, and SOURCES[script]."""
    return sorted({script, "benchmarks/common.py", *SOURCES.get(script, ["minisbert"])})


@functools.cache
def provenance() -> dict:
    """What produced a figure: the command, the commit (with -dirty for uncommitted changes), date, machine.

    Taken once, at the first call (scripts call it when they start): the code that ran is the code
    of the start, whatever is committed while a long run goes on.
    """
    def git(*args):
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "unknown"
    commit = git("rev-parse", "--short", "HEAD")
    # the code that computes figures; not the committed results, which every run rewrites
    if git("status", "--porcelain", "--untracked-files=no", "--", "minisbert", "benchmarks",
           ":(exclude)benchmarks/results", ":(exclude)benchmarks/measured"):
        commit += "-dirty"
    script = Path(sys.argv[0]).resolve()
    command = " ".join(["python", str(script.relative_to(REPO)) if script.is_relative_to(REPO) else sys.argv[0],
                        *sys.argv[1:]])
    rel = script.relative_to(REPO).as_posix() if script.is_relative_to(REPO) else script.name
    return {"command": command, "commit": commit, "date": time.strftime("%Y-%m-%d"), "machine": machine(),
            "sources": sources_of(rel)}


def print_table(title: str, header: list[str], rows: list[list], json_path: str | Path | None = None,
                extra: dict | None = None):
    """Print a table; with json_path, also write it there with its provenance (benchmarks/results/ by default)
    and the `extra` keys (e.g. the CPU's flags)."""
    print(f"\n{title}\n{machine()}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps({"title": title, **provenance(), "header": header,
                                               "rows": [[str(x) for x in r] for r in rows], **(extra or {})},
                                              indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


median = statistics.median


def row_cosines(a, b):
    """The cosine of each row of a with the same row of b: (n, D), (n, D) numpy arrays -> (n,)."""
    import numpy as np
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

provenance()  # taken as the script starts (cached): the figures are those of the code at the start
