"""Encode throughput: minisbert against sentence-transformers and raw transformers, side by side.

Every contestant embeds the same sentences with the same threads, taking turns for
several rounds (medians reported). Also reported: each one's share of the machine's
matrix-multiply peak in its precision (float32, or bf16 for the bf16 row), measured
in the same run (a 2048 x 2048 matmul, the best of one measurement before the timed
rounds and one after each set's), with the model's FLOPs counted from its shapes and
the real (unpadded) token counts: per layer 8 L H^2 (projections) + 4 L H I
(feed-forward) + 4 L^2 H (attention).

Sentence sets: the STS Benchmark test sentences (../shared/data, where present) and
a generated mixed-length set (5 to 120 words, fixed seed). Where the STS Benchmark is
present, every contestant's Spearman on all of its test pairs is reported too: reduced
precision (bf16, fp16, int8) must be fast without losing what the embeddings are for.

On the CPU, "minisbert int8" is `precision="int8"` (minisbert/fast/int8.py: int8 weights per
output channel, int8 activations per token, integer matrix products); its share of the
matmul peak is against the float32 peak. Beside it, "minisbert, torch quantize_dynamic" is the
same model with torch's dynamic quantisation at its defaults (a scale per weight matrix, 7-bit
activations with one scale per batch).

--device cuda runs every contestant on the GPU, adds fp16 rows (minisbert's autocast,
sentence-transformers' model.half()), synchronises before each clock reading, and
measures the matmul peak on the GPU (8192 x 8192, since 2048 is too small to time there).

Each run records the CPU's name and instruction-set flags, writes one JSON per kind of machine, and
adds a row for `precision="auto"` (the path hardware.py picks on this machine). minisbert's int8 row is
timed on every CPU, VNNI or not (before encode ran oneDNN's prepacked int8 product, a CPU without VNNI
made it take minutes, and it was left out there).

    python benchmarks/encode_speed.py [--rounds 3] [--batch-size 32] [--device cpu] [--json out.json]
"""

import argparse
import time

import numpy as np
import torch
from common import (alternate, median, mixed_length_sentences, per_machine_json, print_table, row_cosines,
                    sts_test_pairs, sts_test_sentences)
from scipy.stats import spearmanr

from minisbert import SentenceBert, resolve_model
from minisbert.fast.hardware import REPORTED_FLAGS, auto_precision, read_cpu


def sync(device: torch.device):
    """Wait for the GPU's queued work, so that the clock measures it (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(n: int = 2048, repeats: int = 10, dtype=torch.float32, device=torch.device("cpu")) -> float:
    """GFLOP/s of one large matrix multiply on this device, now."""
    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def precision_of(contestant: str) -> str:
    return "bf16" if "bf16" in contestant else "fp16" if "fp16" in contestant else "fp32"


def model_gflop(model: SentenceBert, sentences: list[str]) -> float:
    cfg = model.bert.config
    H, layers = cfg.hidden_size, cfg.num_hidden_layers
    lengths = np.array([len(model.tokenizer.encode_truncated(s, model.max_seq_length)[0][0]) for s in sentences])
    L, inner = lengths.astype(float), cfg.intermediate_size
    # Q, K, V and output projections 4 x 2 L H^2; feed-forward 2 x 2 L H I; Q K^T and P V 2 x 2 L^2 H
    per_layer = 8 * L * H * H + 4 * L * H * inner + 4 * L * L * H
    return float(layers * per_layer.sum()) / 1e9


def transformers_encoder(folder, batch_size, device="cpu"):
    """Raw transformers with exact token-length sorting and mean pooling: a strong baseline."""
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).to(device).eval()

    def encode(sentences):
        lengths = [len(ids) for ids in tok(sentences, truncation=True, max_length=256)["input_ids"]]
        order = np.argsort(lengths)[::-1]
        out = [None] * len(sentences)
        with torch.inference_mode():
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                batch = tok([sentences[j] for j in idx], padding=True, truncation=True, max_length=256,
                            return_tensors="pt").to(device)
                hidden = model(**batch).last_hidden_state
                m = batch["attention_mask"][..., None].float()
                emb = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
                for j, e in zip(idx, emb):
                    out[j] = e
        return torch.stack(out).cpu().numpy()
    return encode


def per_batch_int8(model: SentenceBert, batch_size: int):
    """The comparison for minisbert's int8: torch's own dynamic quantisation of the same Linear layers with
    its default settings (one scale per weight matrix, activations on 7 bits with one scale per batch,
    fused kernels; deprecated in torch, kept as the baseline)."""
    import copy
    import warnings
    twin = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation notice
        twin.bert = torch.ao.quantization.quantize_dynamic(twin.bert, {torch.nn.Linear}, dtype=torch.qint8)
    return lambda s: twin.encode(s, batch_size=batch_size, show_progress=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--sts-sentences", type=int, default=1000, help="how many STS-B test sentences (default 1000)")
    ap.add_argument("--mixed-sentences", type=int, default=300, help="how many generated sentences (default 300)")
    ap.add_argument("--device", default="cpu", help="where every contestant runs: cpu (default) or cuda")
    ap.add_argument("--json", default=per_machine_json("encode_speed"),
                    help="write the table, its provenance and the CPU's flags here (default, one file per kind "
                         "of machine: %(default)s)")
    args = ap.parse_args()
    from sentence_transformers import SentenceTransformer
    folder = resolve_model()
    bs = args.batch_size
    st = SentenceTransformer(str(folder), device=args.device)
    ours = SentenceBert.from_pretrained(folder, device=args.device)
    device = ours.device
    raw = transformers_encoder(folder, bs, device)
    contestants = {
        "sentence-transformers": lambda s: st.encode(s, batch_size=bs, normalize_embeddings=True),
        "transformers (token-sorted)": raw,
        "minisbert": lambda s: ours.encode(s, batch_size=bs, show_progress=False),
    }
    from minisbert.fast.precision import bf16_supported
    if bf16_supported(ours.device):
        contestants["minisbert bf16"] = lambda s: ours.encode(s, batch_size=bs, show_progress=False, precision="bf16")
    if device.type == "cpu":
        contestants["minisbert int8"] = lambda s: ours.encode(s, batch_size=bs, show_progress=False, precision="int8")
    if device.type == "cpu":
        contestants["minisbert, torch quantize_dynamic"] = per_batch_int8(ours, bs)
    auto, why = auto_precision(device)
    contestants[f"minisbert auto (-> {auto})"] = \
        lambda s: ours.encode(s, batch_size=bs, show_progress=False, precision="auto")
    if device.type == "cuda":  # half precision, each library its own way
        st16 = SentenceTransformer(str(folder), device=args.device).half()
        contestants["sentence-transformers fp16"] = \
            lambda s: st16.encode(s, batch_size=bs, normalize_embeddings=True).astype(np.float32)
        contestants["minisbert fp16"] = lambda s: ours.encode(s, batch_size=bs, show_progress=False, precision="fp16")
    sets = {"mixed-length": mixed_length_sentences(args.mixed_sentences)}
    sts = sts_test_sentences()
    if sts:
        sets = {"STS-B test": sts[:args.sts_sentences], **sets}
    n = 8192 if device.type == "cuda" else 2048
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    precisions = [p for p in dtypes if any(precision_of(name) == p for name in contestants)]
    # the peak: the best of a measurement before the timed rounds and one after each set's, so that a moment's
    # slowdown of a shared machine during one short measurement cannot lower it
    peak = {p: matmul_peak(n, dtype=dtypes[p], device=device) for p in precisions}
    measured = []  # (set name, sentences, times, agreement)
    for set_name, sentences in sets.items():
        reference = contestants["sentence-transformers"](sentences)
        agreement = {}  # also a warm-up round for every contestant
        for name, fn in contestants.items():
            emb = fn(sentences)
            cos = row_cosines(emb, reference)
            agreement[name] = float(cos.min())
        times = alternate({name: (lambda f=fn: (f(sentences), sync(device))) for name, fn in contestants.items()},
                          rounds=args.rounds)
        measured.append((set_name, sentences, times, agreement))
        peak = {p: max(peak[p], matmul_peak(n, dtype=dtypes[p], device=device)) for p in precisions}
    rows = []
    for set_name, sentences, times, agreement in measured:
        gflop = model_gflop(ours, sentences)
        base = len(sentences) / median(times["sentence-transformers"])
        for name, t in times.items():
            rate = len(sentences) / median(t)
            share = gflop / median(t) / peak[precision_of(name)]  # against its own precision
            rows.append([set_name, name, f"{rate:.0f}", f"{rate / base:.2f}",
                         f"{100 * share:.0f} %", f"{agreement[name]:.7f}"])
    pairs = sts_test_pairs()
    if pairs:  # quality: Spearman x100 of each contestant's cosines on every STS-B test pair
        gold = [score for _, _, score in pairs]
        quality = {}
        for name, fn in contestants.items():
            a, b = fn([p[0] for p in pairs]), fn([p[1] for p in pairs])
            cos = row_cosines(a, b)
            quality[name] = f"{100 * spearmanr(cos, gold).statistic:.2f}"
        rows = [row + [quality[row[1]] if row[0] == "STS-B test" else ""] for row in rows]  # once per contestant
    where = f" on {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    print_table(f"Encode throughput{where} (sentences/s, median of {args.rounds} rounds, batch {bs}); "
                "matmul peak (GFLOP/s) " + ", ".join(f"{k} {v:.0f}" for k, v in peak.items()),
                ["sentences", "library", "sentences/s", "vs ST", "of matmul peak", "min cos vs ST"]
                + (["STS-B test Spearman"] if pairs else []), rows,
                json_path=args.json,
                extra={"cpu": {"name": read_cpu().name, "kind": read_cpu().kind,
                               "flags": sorted(set(REPORTED_FLAGS) & read_cpu().flags)},
                       "auto": {"precision": auto, "why": why}})


if __name__ == "__main__":
    main()
