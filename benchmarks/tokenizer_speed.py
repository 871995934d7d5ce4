"""Tokenizer throughput: minisbert's WordPiece against transformers' Python BertTokenizer.

Both tokenize the same sentences to ids (with [CLS]/[SEP]) in alternating
rounds; the table gives median sentences per second. transformers' Rust
("fast") tokenizer is shown for reference: it is compiled code, not Python, timed
two ways: one Python call per sentence (as the others are called), and one batch
call for all the sentences (its fair use: the loop runs in Rust, on every core).

    python benchmarks/tokenizer_speed.py [--rounds 5] [--json out.json]
"""

import argparse

from common import RESULTS, alternate, median, mixed_length_sentences, print_table, sts_test_sentences

from minisbert import WordPieceTokenizer, resolve_model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", default=str(RESULTS / "tokenizer_speed.json"),
                    help="write the table and its provenance here (default: %(default)s)")
    args = ap.parse_args()
    from transformers import AutoTokenizer, BertTokenizerLegacy
    folder = resolve_model()
    python_ref = BertTokenizerLegacy(vocab_file=str(folder / "vocab.txt"))
    rust_ref = AutoTokenizer.from_pretrained(folder)

    sets = {"mixed 5-120 words (2000)": mixed_length_sentences(2000)}
    sts = sts_test_sentences()
    if sts is not None:
        sets[f"STS-B test ({len(sts)})"] = sts
    rows = []
    for name, sentences in sets.items():
        def ours(sentences=sentences):
            tok = WordPieceTokenizer.from_pretrained(folder)  # a cold word cache every round
            for s in sentences:
                tok.encode(s)
        runs = {"minisbert": ours,
                "transformers Python": lambda sentences=sentences: [python_ref.encode(s) for s in sentences],
                "transformers Rust (fast), a call per sentence":
                    lambda sentences=sentences: [rust_ref.encode(s) for s in sentences],
                "transformers Rust (fast), one batch call":
                    lambda sentences=sentences: rust_ref(sentences)["input_ids"]}
        times = alternate(runs, args.rounds)
        base = len(sentences) / median(times["transformers Python"])
        for impl, t in times.items():
            speed = len(sentences) / median(t)
            rows.append([name, impl, f"{speed:,.0f}", f"{speed / base:.2f}x"])
    print_table("Tokenizer throughput (sentences/s, median of rounds)",
                ["sentences", "tokenizer", "sentences/s", "vs Python ref"], rows, args.json)


if __name__ == "__main__":
    main()
