"""Time from a fresh process to the first printed similarity, and peak memory of an encode,
minisbert against sentence-transformers, taking turns.

    python benchmarks/startup_memory.py [--rounds 3] [--json out.json]
"""

import argparse
import resource
import subprocess
import sys
import textwrap
import time

from common import REPO, RESULTS, median, print_table

from minisbert import resolve_model

SENTENCES = ["A man is playing a guitar.", "A man plays the guitar."]
FIRST_SIMILARITY = {
    "minisbert": [sys.executable, "-m", "minisbert", "similarity", *SENTENCES],
    "sentence-transformers": [sys.executable, "-c", textwrap.dedent(f"""
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer({str(resolve_model())!r}, device="cpu")
        e = model.encode({SENTENCES!r})
        print(model.similarity(e, e))""")],
}
ENCODE = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {benchmarks!r})
    from common import mixed_length_sentences
    sentences = mixed_length_sentences(300)
    if sys.argv[1] == "minisbert":
        from minisbert import SentenceBert
        SentenceBert.from_pretrained({model!r}, device="cpu").encode(sentences, batch_size=32, show_progress=False)
    else:
        from sentence_transformers import SentenceTransformer
        SentenceTransformer({model!r}, device="cpu").encode(sentences, batch_size=32)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""").format(benchmarks=str(REPO / "benchmarks"), model=str(resolve_model()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", default=str(RESULTS / "startup_memory.json"),
                    help="write the table and its provenance here (default: %(default)s)")
    args = ap.parse_args()
    startup = {name: [] for name in FIRST_SIMILARITY}
    memory = {name: [] for name in FIRST_SIMILARITY}
    for _ in range(args.rounds):
        for name, cmd in FIRST_SIMILARITY.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
            startup[name].append(time.perf_counter() - start)
            out = subprocess.run([sys.executable, "-c", ENCODE, name], check=True, capture_output=True, text=True)
            memory[name].append(int(out.stdout.split()[-1]) / 1024)
    base_t, base_m = median(startup["sentence-transformers"]), median(memory["sentence-transformers"])
    rows = [[name, f"{median(startup[name]):.2f}", f"{median(startup[name]) / base_t:.2f}",
             f"{median(memory[name]):.0f}", f"{median(memory[name]) / base_m:.2f}"] for name in FIRST_SIMILARITY]
    print_table(f"Fresh process to the first printed similarity, and peak resident memory while encoding 300 "
                f"mixed-length sentences (medians of {args.rounds} rounds; {resource.getpagesize()} B pages)",
                ["library", "startup s", "vs ST", "peak MiB", "vs ST"], rows, json_path=args.json)


if __name__ == "__main__":
    main()
