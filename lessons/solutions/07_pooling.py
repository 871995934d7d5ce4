"""Lesson 07, exercises."""
import numpy as np
import torch

from minisbert import SentenceBert
from minisbert.data import read_pairs
from minisbert.evaluation import evaluate_sts
from minisbert.pooling import Pooling, mean_pool
from minisbert.course.check import check_close, reference

model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", fast=False)
sentences = reference("pooling.sentences")

# 1. Batch independence: a sentence alone and inside a padded batch.
alone, batch = model.encode(sentences[2]), model.encode(sentences)[2]
print("largest difference alone vs in batch:", np.abs(alone - batch).max())

# 2. The masked mean with torch.where.
features = {k: v.to(model.device) for k, v in model.tokenize(sentences).items()}
with torch.no_grad():
    tokens = model.bert(features["input_ids"], features["attention_mask"]).last_hidden_state
real = features["attention_mask"].bool()[..., None]  # (B, L, 1)
mean = torch.where(real, tokens, 0.0).sum(1) / real.sum(1)
check_close("pooling.mean", mean)
torch.testing.assert_close(mean, mean_pool(tokens, features["attention_mask"]))

# 3. Mean and max together: 2 x 384 dimensions.
model.pooling = Pooling(384, ["mean", "max"])
spearman = evaluate_sts(model, read_pairs("data/sts_pairs_en.csv"))["spearman"]
print("dimension:", model.dimension, "| Spearman:", spearman)
