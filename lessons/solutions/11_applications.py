"""Lesson 11, exercises."""
# These solutions train several models: they use the fast path (fast=True, the default), which
# computes what your written-out code computes (lesson 06), in less time.
import csv
import random
import tempfile

import numpy as np
import torch

from minisbert import SentenceBert, semantic_search
from minisbert.data import Example
from minisbert.losses import CosineSimilarityLoss
from minisbert.training import fit


def read(name):
    return list(csv.DictReader(open(f"data/{name}", encoding="utf-8")))


# 1. Question matching trained with CosineSimilarityLoss: the right FAQ (label 1) and a random wrong one (0).
rows = read("faq.csv")
faq = [r for r in rows if r["kind"] == "question"]
seen, test = {}, []
for r in rows:
    if r["kind"] == "user":
        key = (r["faq_id"], r["lang"])
        (test.append(r) if key in seen else seen.setdefault(key, r))
rng = random.Random(0)
examples = []
for r in seen.values():
    same_lang = [f for f in faq if f["lang"] == r["lang"]]
    right = next(f for f in same_lang if f["faq_id"] == r["faq_id"])
    wrong = rng.choice([f for f in same_lang if f["faq_id"] != r["faq_id"]])
    examples += [Example((r["text"], right["text"]), 1.0), Example((r["text"], wrong["text"]), 0.0)]
model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
fit(model, examples, CosineSimilarityLoss(), epochs=8, batch_size=10, lr=5e-5, output_dir=tempfile.mkdtemp(),
    resume=False, show_progress=False)
for lang in ("en", "zh"):
    qs = [q for q in test if q["lang"] == lang]
    hits = semantic_search(model.encode([q["text"] for q in qs]), model.encode([f["text"] for f in faq]), top_k=1)
    print(lang, "held-out top-1:", np.mean([faq[h[0]["corpus_id"]]["faq_id"] == q["faq_id"] for q, h in zip(qs, hits)]))

# 2. Logistic regression on the embeddings, leave-one-out.
base = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
heads = read("financial_headlines.csv")
x = torch.tensor(base.encode([h["headline"] for h in heads]))
names = sorted({h["sentiment"] for h in heads})
y = torch.tensor([names.index(h["sentiment"]) for h in heads])
correct = 0
for i in range(len(heads)):
    rest = torch.arange(len(heads)) != i
    torch.manual_seed(0)
    clf = torch.nn.Linear(x.shape[1], len(names))
    opt = torch.optim.Adam(clf.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(clf(x[rest]), y[rest]).backward()
        opt.step()
    correct += int(clf(x[i]).argmax() == y[i])
print(f"logistic regression, leave-one-out accuracy: {100 * correct / len(heads):.0f} %")

# 3. A reader who liked a Chinese article (row 12: 穷游攻略：一周山区徒步旅行).
articles = read("articles.csv")
a = base.encode([r["title"] for r in articles])
order = [int(i) for i in np.argsort(-(a @ a[12])) if i != 12]
print([articles[i]["title"] for i in order[:3]])
# Mostly other Chinese titles, and not the hiking ones: with most characters [UNK], the English model sees
# "a Chinese title", not its topic (lesson 12).
