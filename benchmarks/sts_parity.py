"""STS Benchmark parity: minisbert against sentence-transformers on sts-test.

Encodes every test sentence with both libraries in one run and prints the
per-sentence cosine between the two embeddings and each library's Spearman
correlation (x100) with the gold scores, beside the published 82.03 for
all-MiniLM-L6-v2. minisbert's row is computed with minisbert's own reader and
Spearman; sentence-transformers' row independently of minisbert: the file read
with Python's csv module and the correlation by scipy.stats.spearmanr. Needs
../shared/data (skips with a message where absent).

    python benchmarks/sts_parity.py [--model all-MiniLM-L6-v2] [--json out.json]
"""

import argparse
import csv

from common import RESULTS, SHARED_DATA, print_table, row_cosines

from minisbert import SentenceBert, resolve_model
from minisbert.trainkit.data import read_pairs
from minisbert.evaluation import evaluate_sts

PUBLISHED = {"all-MiniLM-L6-v2": 82.03}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="all-MiniLM-L6-v2")
    ap.add_argument("--json", default=str(RESULTS / "sts_parity.json"),
                    help="write the table and its provenance here (default: %(default)s)")
    args = ap.parse_args()
    path = SHARED_DATA / "stsbenchmark" / "sts-test.csv"
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared benchmark data is not on this machine)")
        return
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer
    pairs = read_pairs(path)
    sentences = list(dict.fromkeys(s for p in pairs for s in (p.sentence1, p.sentence2)))
    with path.open(encoding="utf-8", newline="") as f:  # the same file, read without minisbert
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    independent = [(r[5], r[6], float(r[4])) for r in rows]
    assert len(independent) == len(pairs), "the two readers disagree on the number of pairs"
    ours = SentenceBert.from_pretrained(args.model, device="cpu")
    theirs = SentenceTransformer(str(resolve_model(args.model)), device="cpu")
    a = ours.encode(sentences, show_progress=False)
    b = theirs.encode(sentences, normalize_embeddings=False)
    cos = row_cosines(a, b)

    def st_spearman():
        u = theirs.encode([r[0] for r in independent])
        v = theirs.encode([r[1] for r in independent])
        cosine = row_cosines(u, v)
        return 100 * spearmanr(cosine, [r[2] for r in independent]).statistic

    ours_sts = evaluate_sts(ours, pairs, show_progress=False)["spearman"]
    rows = [["minisbert", f"{ours_sts:.4f}", f"{cos.min():.7f}", f"{cos.mean():.7f}"],
            ["sentence-transformers (csv + scipy)", f"{st_spearman():.4f}", "", ""],
            ["published", f"{PUBLISHED.get(args.model, float('nan')):.2f}", "", ""]]
    print_table(f"STS Benchmark test ({len(pairs)} pairs, {len(sentences)} sentences), {args.model}",
                ["", "Spearman x100", "min cosine to ST", "mean cosine to ST"], rows, args.json)


if __name__ == "__main__":
    main()
