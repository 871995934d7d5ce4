"""Lesson 12, exercises (exercise 3 needs ../shared/data; about 2 minutes on CPU)."""
# These solutions train several models: they use the fast path (fast=True, the default), which
# computes what your written-out code computes (lesson 06), in less time.
import csv
import tempfile
from pathlib import Path

import torch

from minisbert import SentenceBert
from minisbert.data import Example, pairs_to_examples, read_pairs
from minisbert.evaluation import evaluate_sts
from minisbert.losses import CosineSimilarityLoss, MSELoss
from minisbert.training import fit

rows = list(csv.DictReader(open("data/financial_headlines.csv", encoding="utf-8")))
parallel = list(zip([r["headline"] for r in rows if r["lang"] == "en"],
                    [r["headline"] for r in rows if r["lang"] == "zh"]))
teacher = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
targets = teacher.encode([en for en, _ in parallel])
examples = [Example((zh,), t) for (_, zh), t in zip(parallel, targets)]


def distil(new_token_lr, init=None):
    m = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
    m.extend_vocabulary(texts=[zh for _, zh in parallel])
    rows = m.bert.embeddings.extra_word_embeddings
    if init == "random":
        with torch.no_grad():
            rows.normal_(0, 0.02)
    start = rows.detach().clone()
    fit(m, examples, MSELoss(), epochs=10, batch_size=16, lr=5e-5, new_token_lr=new_token_lr,
        output_dir=tempfile.mkdtemp(), resume=False, show_progress=False)
    moved = (m.bert.embeddings.extra_word_embeddings.detach() - start).norm(dim=1).mean().item()
    mse = float(((m.encode([zh for _, zh in parallel]) - targets) ** 2).mean())
    return m, moved, mse


# 1. One learning rate for all: the new rows hardly move.
for lr in (None, 3e-3):
    _, moved, mse = distil(lr)
    print(f"new_token_lr={lr}: new rows moved {moved:.4f} on average, MSE to the teacher {mse:.5f}")

# 2. Random instead of mean initialisation.
_, moved, mse = distil(3e-3, init="random")
print(f"random init: MSE to the teacher {mse:.5f}")

# 3. With the shared data: distil, then fine-tune on the Chinese STS training pairs.
shared = Path("../../shared/data")
if (shared / "stsb-zh").is_dir():
    zh = read_pairs(shared / "stsb-zh/stsb-zh-train.csv")[:500]  # all 5,749: better, and ~7 minutes
    test = read_pairs(shared / "stsb-zh/stsb-zh-test.csv")
    student, _, _ = distil(3e-3)
    student.extend_vocabulary(texts=[t for p in zh for t in (p.sentence1, p.sentence2)])
    fit(student, pairs_to_examples(zh, 5.0), CosineSimilarityLoss(), epochs=1, new_token_lr=1e-3,
        output_dir=tempfile.mkdtemp(), resume=False, show_progress=False)
    print("stsb-zh test after fine-tuning:", round(evaluate_sts(student, test, show_progress=False)["spearman"], 1))
else:
    print(f"exercise 3 skipped: {shared} is absent")
