"""Lesson 10, exercises."""
import csv
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from minisbert import SentenceBert, semantic_search
from minisbert.data import read_pairs
from minisbert.evaluation import spearman
from minisbert.plots import plot_embedding_map

model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", fast=False)
pairs = read_pairs("data/sts_pairs_en.csv")
cos = (model.encode([p.sentence1 for p in pairs]) * model.encode([p.sentence2 for p in pairs])).sum(1)
gold = np.array([p.score for p in pairs])


# 1. Spearman with average ranks for ties.
def average_ranks(x):
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):  # tied values share the mean of their ranks
        ranks[x == value] = ranks[x == value].mean()
    return ranks


def my_spearman(a, b):
    return np.corrcoef(average_ranks(a), average_ranks(b))[0, 1]


print("mine:", my_spearman(cos, gold), "| minisbert:", spearman(cos, gold))

# 2. MRR@10 by hand for the first three English queries.
rows = list(csv.DictReader(open("data/faq.csv", encoding="utf-8")))
corpus = [r for r in rows if r["kind"] == "question" and r["lang"] == "en"]
queries = [r for r in rows if r["kind"] == "user" and r["lang"] == "en"][:3]
hits = semantic_search(model.encode([q["text"] for q in queries]), model.encode([c["text"] for c in corpus]), top_k=10)
for q, hit in zip(queries, hits):
    rank = next(r + 1 for r, h in enumerate(hit) if corpus[h["corpus_id"]]["faq_id"] == q["faq_id"])
    print(f"{q['text']!r}: relevant at rank {rank}, reciprocal rank {1 / rank:.2f}")

# 3. English headlines only.
heads = [h for h in csv.DictReader(open("data/financial_headlines.csv", encoding="utf-8")) if h["lang"] == "en"]
plot_embedding_map(model.encode([h["headline"] for h in heads]), [h["headline"] for h in heads],
                   [h["sentiment"] for h in heads], title="English headlines")
path = Path(tempfile.gettempdir()) / "english_headlines.png"
plt.savefig(path)
print("map written to", path)
