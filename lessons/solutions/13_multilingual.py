"""Lesson 13, exercises: block size of 4-bit quantisation, Viterbi by hand, query/passage prompts."""
import csv

import numpy as np
import torch

from minisbert import SentenceBert
from minisbert.data import read_pairs
from minisbert.evaluation import evaluate_sts

# 1. Q4_0 with other block sizes: one scale per `block` weights.


def quantize(w: torch.Tensor, block: int) -> torch.Tensor:
    """Round each block of `block` weights to 16 levels of one scale (the largest weight on level -8), and back."""
    blocks = w.reshape(-1, block)  # (n_blocks, block)
    extreme = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))  # (n_blocks, 1), signed
    scale = (extreme / -8).half().float()  # stored as float16
    codes = torch.where(scale != 0, blocks / scale, torch.zeros_like(blocks)).round().clamp(-8, 7)
    return (codes * scale).reshape(w.shape)


pairs = read_pairs("data/sts_pairs_en.csv")
print("block  mean relative weight error  Spearman")
for block in (32, 64, 128):
    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")
    errors = []
    with torch.no_grad():
        for p in model.bert.parameters():
            if p.dim() == 2 and p.shape[1] % block == 0:
                w = p.detach().clone()
                p.copy_(quantize(w, block))
                errors.append(((p - w).norm() / w.norm()).item())
    print(f"{block:5d}  {np.mean(errors):27.3f}  {evaluate_sts(model, pairs)['spearman']:8.1f}")
# A block's scale is set by its largest weight: the bigger the block, the more likely it holds one
# outlier, and the coarser the levels of all the other weights in it. Small blocks cost more scales
# (16 bits per block) but keep the levels fine.

# 2. Viterbi against greedy longest match on a toy vocabulary.
scores = {"▁ab": -5.0, "▁a": -1.0, "bc": -1.0, "c": -3.0, "b": -4.0}


def viterbi(text):
    best, back = [0.0] + [float("-inf")] * len(text), [0] * (len(text) + 1)
    for e in range(1, len(text) + 1):
        for i in range(e):
            piece = text[i:e]
            if piece in scores and best[i] + scores[piece] > best[e]:
                best[e], back[e] = best[i] + scores[piece], i
    pieces, e = [], len(text)
    while e > 0:
        pieces.append(text[back[e]:e])
        e = back[e]
    return pieces[::-1], best[-1]


def greedy(text):
    pieces = []
    while text:
        piece = max((text[:n] for n in range(1, len(text) + 1) if text[:n] in scores), key=len)
        pieces.append(piece)
        text = text[len(piece):]
    return pieces


print("Viterbi:", viterbi("▁abc"), " greedy:", greedy("▁abc"), sum(scores[p] for p in greedy("▁abc")))

# 3. Queries with "query: ", the canonical questions with "passage: ".
e5 = SentenceBert.from_pretrained("multilingual-e5-small")
faq = [r for r in csv.DictReader(open("data/faq.csv", encoding="utf-8")) if r["lang"] == "zh"]
questions = [r for r in faq if r["kind"] == "question"]
users = [r for r in faq if r["kind"] == "user"]
for doc_prompt in ("query", "passage"):
    q = e5.encode([r["text"] for r in questions], prompt_name=doc_prompt)
    hits = (e5.encode([r["text"] for r in users], prompt_name="query") @ q.T).argmax(1)
    accuracy = np.mean([questions[h]["faq_id"] == r["faq_id"] for h, r in zip(hits, users)])
    print(f"canonical questions as {doc_prompt!r}: top-1 accuracy {accuracy:.2f}")
