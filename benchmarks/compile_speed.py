"""Compiled encode on a large corpus: what torch.compile costs, what it gains, and from what size it pays.

A compiled encoder (`encode(compile=True)`, minisbert/compiled.py) spends tens of seconds compiling
in the first batches of a process, then runs each batch faster. Whether that pays depends on the
job's size, so this measures it on a large one: by default 100,000 texts of mixed length, each one
to six sentences of the STS Benchmark and SNLI (all splits, ../shared/data; where the data is absent,
generated sentences of 5 to 120 words), so from a short sentence to a paragraph.

The corpus is cut into slices (10 by default) and the contestants take turns slice by slice, so that
drift on a shared machine hits all alike. Each contestant's first slice holds its start-up cost (for
a compiled one, the compile; inductor's cache is a fresh folder, so it is a cold compile, as in a
user's first run); the median of its other slices gives its steady speed. Reported per contestant:
sentences/s over the whole corpus (start-up included) and steady, both against sentence-transformers;
the first slice's excess over a steady slice; and the corpus size from which it beats, start-up
included, its uncompiled twin and sentence-transformers:

    n* = (excess_self - excess_other) / (1 / rate_other - 1 / rate_self)

    python benchmarks/compile_speed.py [--sentences 100000] [--slices 10] [--json out.json]
"""

import argparse
import os
import random
import tempfile
import time

os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")  # a cold compile, before torch loads

import numpy as np
import torch
from common import RESULTS, SHARED_DATA, median, mixed_length_sentences, print_table

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
    """The corpus size from which `a` (start-up included) is faster than `b`; "always"/"never" when one wins both ways."""
    gain = 1 / b["rate"] - 1 / a["rate"]  # seconds a saves per sentence, once started
    extra = a["excess"] - b["excess"]  # seconds more that a spends starting
    if gain <= 0:
        return "never" if extra >= 0 else "small jobs only"
    return "always" if extra <= 0 else f"{extra / gain:,.0f}"


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
    for i in range(args.slices):  # turns, slice by slice
        part = texts[bounds[i]:bounds[i + 1]]
        for name, fn in contestants.items():
            start = time.perf_counter()
            out[name].append(fn(part))
            times[name].append(time.perf_counter() - start)
        print(f"slice {i + 1}/{args.slices}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()),
              flush=True)
    per_slice = len(texts) / args.slices
    stats = {}
    for name, t in times.items():
        steady = median(t[1:])
        stats[name] = {"rate": per_slice / steady, "total": len(texts) / sum(t), "excess": t[0] - steady}
    reference = np.concatenate(out["sentence-transformers"])
    twin = {"minisbert, compile=True": "minisbert", "minisbert int8, compile=True": "minisbert int8"}
    base = stats["sentence-transformers"]
    rows = []
    for name, s in stats.items():
        emb = np.concatenate(out[name])
        cos = (emb * reference).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(reference, axis=1)
        rows.append([name, f"{s['total']:.0f}", f"{s['total'] / base['total']:.2f}", f"{s['rate']:.0f}",
                     f"{s['rate'] / base['rate']:.2f}", f"{s['excess']:.1f}",
                     break_even(s, stats[twin[name]]) if name in twin else "",
                     break_even(s, base) if name != "sentence-transformers" else "", f"{cos.min():.7f}"])
    print_table(f"Encode on a large corpus: {what}, batch {bs}, in {args.slices} slices taken in turns "
                "(sentences/s; steady: median of slices 2 on; first-slice excess: start-up, the compile included)",
                ["library", "sentences/s, all", "vs ST", "sentences/s, steady", "vs ST", "first-slice excess (s)",
                 "pays against uncompiled from", "pays against ST from", "min cos vs ST"], rows,
                json_path=args.json)


if __name__ == "__main__":
    main()
