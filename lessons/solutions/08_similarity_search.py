"""Lesson 08, exercises."""
import csv

import torch

from minisbert import SentenceBert, semantic_search
from minisbert.course.check import check_close, reference

model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", fast=False)

# 1. The similarity matrix as one product of normalised embeddings.
e = torch.nn.functional.normalize(model.encode(reference("similarity.sentences"), convert_to="torch"), dim=-1)
check_close("similarity.matrix", e @ e.T)

# 2. The most similar pair of different (English) FAQ questions.
rows = list(csv.DictReader(open("data/faq.csv", encoding="utf-8")))
faq = [r for r in rows if r["kind"] == "question" and r["lang"] == "en"]
f = model.encode([r["text"] for r in faq], convert_to="torch")
sim = (f @ f.T).fill_diagonal_(-1)
i, j = divmod(int(sim.argmax()), len(faq))
print(f"closest FAQ questions ({sim[i, j]:.2f}): {faq[i]['text']!r} / {faq[j]['text']!r}")

# 3. The right FAQ among the top 3 (English user questions).
users = [r for r in rows if r["kind"] == "user" and r["lang"] == "en"]
hits = semantic_search(model.encode([u["text"] for u in users]), f, top_k=3)
found = sum(any(faq[h["corpus_id"]]["faq_id"] == u["faq_id"] for h in hit) for u, hit in zip(users, hits))
print(f"right FAQ in the top 3 for {found} of {len(users)}")
