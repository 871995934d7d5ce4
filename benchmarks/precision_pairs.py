"""Which of two precisions runs encode faster on this CPU, measured in pairs of runs on the same sentences.

encode_speed.py times each path over a whole set of sentences, in alternating rounds, and reports
medians. On a shared machine whose speed drifts by more than a tenth between runs, two paths that
close (int8 and bf16 on a CPU that has VNNI and AVX512-BF16 but no AMX, the choice
`precision="auto"` makes in minisbert/fast/hardware.py) can come out in either order. Here the two
paths encode the same chunk of sentences one right after the other, in one process, the order
alternating from round to round, and each pair gives one ratio of their times: a drift slower than a
pair of runs (a second or less) cancels in it. Reported for each set of sentences: how many pairs,
the median gain of the first path over the second (speed ratio - 1, in %), the quartiles of that gain,
and the share of pairs in which the first path was the faster.

Sentence sets as in encode_speed.py: the STS Benchmark test sentences (../shared/data, where present),
in chunks of 250, and the generated mixed-length set (5 to 120 words), in chunks of 100.

    python benchmarks/precision_pairs.py [--paths int8,bf16] [--rounds 10] [--json out.json]
"""

import argparse
import statistics
import time

import torch
from common import mixed_length_sentences, per_machine_json, print_table, sts_test_sentences

from minisbert import SentenceBert, resolve_model
from minisbert.fast.hardware import REPORTED_FLAGS, auto_precision, read_cpu
from minisbert.fast.precision import ENCODE_PRECISIONS


def pair_ratios(model: SentenceBert, first: str, second: str, sentences: list[str], chunk: int,
                rounds: int) -> list[float]:
    """The speed of `first` over that of `second` (time of second / time of first), once per chunk and round."""
    def seconds(precision: str, texts: list[str]) -> float:
        start = time.perf_counter()
        model.encode(texts, precision=precision, show_progress=False)
        return time.perf_counter() - start

    for precision in (first, second):  # warm-up: each path's inference copy is made on its first call
        seconds(precision, sentences)
    ratios = []
    for r in range(rounds):
        for start in range(0, len(sentences), chunk):
            texts = sentences[start:start + chunk]
            if r % 2:  # the order alternates, so that neither path always runs second
                t_second, t_first = seconds(second, texts), seconds(first, texts)
            else:
                t_first, t_second = seconds(first, texts), seconds(second, texts)
            ratios.append(t_second / t_first)
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", default="int8,bf16",
                    help="the two precisions compared, first,second (default: %(default)s; any of "
                         f"{', '.join(p for p in ENCODE_PRECISIONS if p != 'auto')})")
    ap.add_argument("--rounds", type=int, default=10, help="rounds over each set (default: %(default)s)")
    ap.add_argument("--json", default=per_machine_json("precision_pairs"),
                    help="write the table here (default, one file per kind of machine: %(default)s)")
    args = ap.parse_args()
    paths = args.paths.split(",")
    if len(paths) != 2 or not set(paths) <= set(ENCODE_PRECISIONS) - {"auto"}:
        ap.error(f"--paths {args.paths!r}: give two of {', '.join(p for p in ENCODE_PRECISIONS if p != 'auto')}, "
                 "separated by a comma, e.g. int8,bf16")
    if args.rounds < 2:
        ap.error(f"--rounds {args.rounds}: use at least 2, so that each path runs first as often as second")
    first, second = paths
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model = SentenceBert.from_pretrained(resolve_model(), device="cpu")
    sets = {"mixed-length": (mixed_length_sentences(300), 100)}
    sts = sts_test_sentences()
    if sts:
        sets = {"STS-B test": (sts[:1000], 250), **sets}
    rows = []
    for name, (sentences, chunk) in sets.items():
        gains = [100 * (ratio - 1) for ratio in pair_ratios(model, first, second, sentences, chunk, args.rounds)]
        q1, median, q3 = statistics.quantiles(gains, n=4)
        rows.append([name, len(gains), f"{median:.1f}", f"{q1:.1f}", f"{q3:.1f}",
                     f"{100 * sum(g > 0 for g in gains) / len(gains):.0f}"])
    cpu = read_cpu()
    auto, why = auto_precision(torch.device("cpu"))
    print_table(f"encode's speed, {first} over {second}, in pairs of runs on the same chunk of sentences "
                f"({args.rounds} rounds)",
                ["sentences", "pairs", f"median gain of {first} (%)", "first quartile (%)", "third quartile (%)",
                 f"pairs {first} won (%)"], rows, json_path=args.json,
                extra={"cpu": {"name": cpu.name, "kind": cpu.kind, "flags": sorted(set(REPORTED_FLAGS) & cpu.flags)},
                       "auto": {"precision": auto, "why": why}})


if __name__ == "__main__":
    main()
