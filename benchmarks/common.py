"""What every benchmark shares: the sentences, timing, and the result table."""

from __future__ import annotations

import csv
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
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


def machine() -> str:
    import torch
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def print_table(title: str, header: list[str], rows: list[list], json_path: str | None = None):
    print(f"\n{title}\n{machine()}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    if json_path:
        Path(json_path).write_text(json.dumps({"title": title, "machine": machine(),
                                               "header": header, "rows": rows}, indent=1))


median = statistics.median
