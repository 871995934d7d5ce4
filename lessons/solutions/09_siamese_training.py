"""Lesson 09, exercises (a few minutes on CPU)."""
# These solutions train several models: they use the fast path (fast=True, the default), which
# computes what your written-out code computes (lesson 06), in less time.
import tempfile

import torch

from minisbert import SentenceBert
from minisbert.data import Example, pairs_to_examples, read_nli, read_pairs
from minisbert.evaluation import STSEvaluator
from minisbert.losses import CoSENTLoss, MultipleNegativesRankingLoss, SoftmaxLoss
from minisbert.training import fit

pairs = read_pairs("data/sts_pairs_en.csv")
train, held_out = pairs[:40], pairs[40:]
out = tempfile.mkdtemp()

# 1. CoSENT: only the order of the scores matters, so the raw 0-5 scores are fine as labels.
model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
fit(model, pairs_to_examples(train), CoSENTLoss(), epochs=4, batch_size=8, output_dir=out, resume=False,
    show_progress=False)
print("CoSENT, held-out Spearman:", round(STSEvaluator(held_out)(model)["spearman"], 1))

# 2. MNRL on the pairs scored >= 4. Every other positive of the batch is a negative, so a larger batch
# gives more (and harder) negatives per step.
model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
positives = [Example((p.sentence1, p.sentence2)) for p in train if p.score >= 4]
fit(model, positives, MultipleNegativesRankingLoss(), epochs=1, batch_size=8, output_dir=out, resume=False,
    show_progress=False)
print(f"MNRL on {len(positives)} positives, held-out Spearman:", round(STSEvaluator(held_out)(model)["spearman"], 1))

# 3. SoftmaxLoss on the course's NLI examples, and the classifier's accuracy on them.
model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
nli = read_nli("data/nli.csv")
loss = SoftmaxLoss(model.dimension, 3)
fit(model, [Example((p.sentence1, p.sentence2), int(p.score)) for p in nli], loss, epochs=10, batch_size=8,
    lr=5e-5, output_dir=out, resume=False, show_progress=False)
with torch.no_grad():
    u = model.encode([p.sentence1 for p in nli], convert_to="torch")
    v = model.encode([p.sentence2 for p in nli], convert_to="torch")
    predicted = loss.logits(u.to(model.device), v.to(model.device)).argmax(1).cpu()
print("NLI training accuracy:", (predicted == torch.tensor([int(p.score) for p in nli])).float().mean().item())
