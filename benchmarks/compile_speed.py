"""Compiled encode on a large corpus: what torch.compile costs, what it gains, and from what size it pays.

A compiled encoder (`encode(compile=True)`, minisbert/fast/compiled.py) spends tens of seconds compiling
in the first batches of a process, then runs each batch faster. Whether that pays depends on the
job's size, so this measures it on a large one: by default 100,000 texts of mixed length, each one
to six sentences of the STS Benchmark and SNLI (all splits, ../shared/data; where the data is absent,
generated sentences of 5 to 120 words), so from a short sentence to a paragraph.

The corpus is cut into slices (10 by default) and the contestants take turns slice by slice, so that
drift on a shared machine hits all alike. A compiled contestant's first slice holds its compile, run
in a fresh inductor cache (a new folder, and torch's in-memory caches cleared), so that each compile
is cold, as in a user's first run, even the second one of the process; the median of its other
slices gives its steady speed. Reported per contestant: sentences/s over the whole corpus (compile
included) and steady, both against sentence-transformers; for a compiled one, the compile time (its
first slice's excess over a steady slice); and the corpus size from which it beats, compile included,
its uncompiled twin and sentence-transformers (an uncompiled contestant starts at once):

    n* = compile time / (1 / rate_other - 1 / rate_self)

    python benchmarks/compile_speed.py [--sentences 100000] [--slices 10] [--json out.json]
"""

import argparse
import contextlib
import random
import time

import numpy as np
from common import RESULTS, SHARED_DATA, median, mixed_length_sentences, print_table, row_cosines

from minisbert import SentenceBert, resolve_model


def real_sentences() -> list[str] | None:
    """Every distinct English sentence of STS Benchmark (all splits) and SNLI (dev, test), sorted; or None."""
    sts, snli = SHARED_DATA / "stsbenchmark", SHARED_DATA / "snli"
    if not (sts.is_dir() and snli.is_dir()):
        return None
    found = set()
    for split in ("train", "dev", "test"):
        for line in (sts / f"sts-{split}.csv").read_text(encoding="utf-8").splitlines():
            found.update(line.split("\t")[5:7])
    for split in ("dev", "test"):
        for line in (snli / f"{split}.txt").read_text(encoding="utf-8").splitlines():
            found.update(line.split("\t")[:2])
    return sorted(s.strip() for s in found if s.strip())


def large_corpus(n: int, seed: int = 0) -> tuple[list[str], str]:
    """n texts, each 1 to 6 real sentences (mostly one or two), and a line that says what they are."""
    pool = real_sentences()
    if pool is None:
        print(f"note: {SHARED_DATA} is absent; using generated sentences of 5 to 120 words instead")
        return mixed_length_sentences(n, seed), f"{n:,} generated texts of 5 to 120 words"
    rng = random.Random(seed)
    sizes = rng.choices([1, 2, 3, 4, 6], weights=[50, 20, 15, 10, 5], k=n)
    texts = [" ".join(rng.choice(pool) for _ in range(k)) for k in sizes]
    return texts, f"{n:,} texts of 1 to 6 sentences of STS-B and SNLI"


def break_even(a: dict, b: dict) -> str:
    """The corpus size from which `a`, compile included, is faster than `b` ("never" when it is not faster)."""
    gain = 1 / b["rate"] - 1 / a["rate"]  # seconds a saves per sentence, once started
    extra = a["compile"] - b["compile"]  # seconds more that a spends before its first sentence
    if gain <= 0:
        return "never"
    return "always" if extra <= 0 else f"{extra / gain:,.0f} texts"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=100_000, help="texts in the corpus (default: %(default)s)")
    ap.add_argument("--slices", type=int, default=10, help="turns the corpus is cut into (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", default=str(RESULTS / "compile_speed.json"),
                    help="write the table and its provenance here (default: %(default)s)")
    args = ap.parse_args()
    if args.slices < 3 or args.sentences < args.slices:
        ap.error("use at least 3 slices, and at least one text per slice")
    from sentence_transformers import SentenceTransformer
    texts, what = large_corpus(args.sentences)
    folder, bs = resolve_model(), args.batch_size
    st = SentenceTransformer(str(folder), device="cpu")
    ours = SentenceBert.from_pretrained(folder, device="cpu")
    contestants = {
        "sentence-transformers": lambda s: st.encode(s, batch_size=bs, normalize_embeddings=True),
        "minisbert": lambda s: ours.encode(s, batch_size=bs, show_progress=False),
        "minisbert, compile=True": lambda s: ours.encode(s, batch_size=bs, show_progress=False, compile=True),
        "minisbert int8": lambda s: ours.encode(s, batch_size=bs, show_progress=False, precision="int8"),
        "minisbert int8, compile=True": lambda s: ours.encode(s, batch_size=bs, show_progress=False,
                                                              precision="int8", compile=True),
    }
    bounds = np.linspace(0, len(texts), args.slices + 1).astype(int)
    times = {name: [] for name in contestants}
    out = {name: [] for name in contestants}
    from torch._inductor.utils import fresh_cache  # a new cache folder, and the in-memory caches cleared
    for i in range(args.slices):  # turns, slice by slice
        part = texts[bounds[i]:bounds[i + 1]]
        for name, fn in contestants.items():
            cold = fresh_cache() if i == 0 and "compile" in name else contextlib.nullcontext()
            with cold:
                start = time.perf_counter()
                out[name].append(fn(part))
                times[name].append(time.perf_counter() - start)
        print(f"slice {i + 1}/{args.slices}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()),
              flush=True)
    per_slice = len(texts) / args.slices
    stats = {}
    for name, t in times.items():
        steady = median(t[1:])
        stats[name] = {"rate": per_slice / steady, "total": len(texts) / sum(t),
                       "compile": t[0] - steady if "compile" in name else 0.0}
    reference = np.concatenate(out["sentence-transformers"])
    twin = {"minisbert, compile=True": "minisbert", "minisbert int8, compile=True": "minisbert int8"}
    base = stats["sentence-transformers"]
    rows = []
    for name, s in stats.items():
        emb = np.concatenate(out[name])
        cos = row_cosines(emb, reference)
        rows.append([name, f"{s['total']:.0f}", f"{s['total'] / base['total']:.2f}", f"{s['rate']:.0f}",
                     f"{s['rate'] / base['rate']:.2f}", f"{s['compile']:.1f}" if "compile" in name else "",
                     break_even(s, stats[twin[name]]) if name in twin else "",
                     break_even(s, base) if name != "sentence-transformers" else "", f"{cos.min():.7f}"])
    print_table(f"Encode on a large corpus: {what}, batch {bs}, in {args.slices} slices taken in turns "
                "(sentences/s; steady: median of slices 2 on; compile: the first slice's excess over a steady one)",
                ["library", "sentences/s, all", "vs ST", "sentences/s, steady", "vs ST", "compile (s)",
                 "pays against uncompiled from", "pays against ST from", "min cos vs ST"], rows,
                json_path=args.json)


if __name__ == "__main__":
    main()
