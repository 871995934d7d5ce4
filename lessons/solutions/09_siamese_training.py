"""Lesson 09, solutions.

`python lessons/run_lessons.py --solutions 09` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass. The "try it" code at
the end is for reading; it trains three models (a few minutes on CPU).
"""

# %% Exercise 1: MultipleNegativesRankingLoss, one anchor at a time
def mnrl_loop(u, v, scale=20.0):
    """u: anchors (B, D), v: their positives (B, D). Returns the mean loss, a 0-d tensor."""
    losses = []
    for i in range(len(u)):
        cos = torch.stack([torch.dot(u[i], v[j]) / (u[i].norm() * v[j].norm()) for j in range(len(v))])  # (B,)
        logits = scale * cos
        losses.append(-(logits[i] - torch.logsumexp(logits, 0)))  # -log softmax(logits)[i]
    return torch.stack(losses).mean()


# %% Wrong 1: no scale: plain cosines as the logits
def mnrl_loop(u, v, scale=20.0):
    losses = []
    for i in range(len(u)):
        cos = torch.stack([torch.dot(u[i], v[j]) / (u[i].norm() * v[j].norm()) for j in range(len(v))])
        losses.append(-(cos[i] - torch.logsumexp(cos, 0)))
    return torch.stack(losses).mean()


# %% Wrong 1: dot products instead of cosines
def mnrl_loop(u, v, scale=20.0):
    losses = []
    for i in range(len(u)):
        logits = scale * torch.stack([torch.dot(u[i], v[j]) for j in range(len(v))])
        losses.append(-(logits[i] - torch.logsumexp(logits, 0)))
    return torch.stack(losses).mean()


# %% Wrong 1: the sum over the anchors instead of the mean
def mnrl_loop(u, v, scale=20.0):
    losses = []
    for i in range(len(u)):
        cos = torch.stack([torch.dot(u[i], v[j]) / (u[i].norm() * v[j].norm()) for j in range(len(v))])
        logits = scale * cos
        losses.append(-(logits[i] - torch.logsumexp(logits, 0)))
    return torch.stack(losses).sum()


# %% Wrong 1: the library's loss [says: written out]
def mnrl_loop(u, v, scale=20.0):
    return MultipleNegativesRankingLoss(scale=scale)([u, v], None)


# %% Exercise 2: CoSENT from its pairs
def cosent_pairs(u, v, scores, scale=20.0):
    """Returns the loss, a 0-d tensor."""
    cos = torch.nn.functional.cosine_similarity(u, v)  # (B,)
    terms = [scale * (cos[j] - cos[i]) for i in range(len(cos)) for j in range(len(cos)) if scores[i] > scores[j]]
    return torch.log(1 + torch.exp(torch.stack(terms)).sum())


# %% Wrong 2: the pairs in the wrong order: cos_i - cos_j where s_i > s_j
def cosent_pairs(u, v, scores, scale=20.0):
    cos = torch.nn.functional.cosine_similarity(u, v)
    terms = [scale * (cos[i] - cos[j]) for i in range(len(cos)) for j in range(len(cos)) if scores[i] > scores[j]]
    return torch.log(1 + torch.exp(torch.stack(terms)).sum())


# %% Wrong 2: the 1 inside the log forgotten
def cosent_pairs(u, v, scores, scale=20.0):
    cos = torch.nn.functional.cosine_similarity(u, v)
    terms = [scale * (cos[j] - cos[i]) for i in range(len(cos)) for j in range(len(cos)) if scores[i] > scores[j]]
    return torch.log(torch.exp(torch.stack(terms)).sum())


# %% Wrong 2: every ordered pair, ties and both orders included
def cosent_pairs(u, v, scores, scale=20.0):
    cos = torch.nn.functional.cosine_similarity(u, v)
    terms = [scale * (cos[j] - cos[i]) for i in range(len(cos)) for j in range(len(cos)) if i != j]
    return torch.log(1 + torch.exp(torch.stack(terms)).sum())


# %% Exercise 3: the triplet loss
n = reference("loss.n")                                  # (4, 6): one negative per anchor


def triplet(a, p, n, margin=5.0):
    """Mean over the batch of max(|a - p| - |a - n| + margin, 0)."""
    to_positive = ((a - p) ** 2).sum(-1).sqrt()   # (B,)
    to_negative = ((a - n) ** 2).sum(-1).sqrt()   # (B,)
    return torch.clamp(to_positive - to_negative + margin, min=0).mean()


# %% Wrong 3: squared distances instead of distances
n = reference("loss.n")
def triplet(a, p, n, margin=5.0):
    return torch.clamp(((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + margin, min=0).mean()


# %% Wrong 3: no max(., 0): satisfied triplets pull the loss below zero
n = reference("loss.n")
def triplet(a, p, n, margin=5.0):
    return (((a - p) ** 2).sum(-1).sqrt() - ((a - n) ** 2).sum(-1).sqrt() + margin).mean()


# %% Wrong 3: torch's triplet_margin_loss [says: written out]
n = reference("loss.n")
def triplet(a, p, n, margin=5.0):
    return torch.nn.functional.triplet_margin_loss(a, p, n, margin=margin)


# %% Try it (for reading; not run by run_lessons.py)
# from minisbert.trainkit.data import Example, read_nli
#
# 4. CoSENT: only the order of the scores matters, so the raw 0-5 scores are fine as labels.
#    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
#    fit(model, pairs_to_examples(train), CoSENTLoss(), epochs=4, batch_size=8, output_dir=checkpoints_dir() / "ex09",
#        resume=False, show_progress=False)
#    print("CoSENT, held-out Spearman:", round(STSEvaluator(held_out)(model)["spearman"], 1))
#
# 5. MNRL on the pairs scored >= 4. Every other positive of the batch is a negative, so a larger batch
#    gives more (and harder) negatives per step.
#    positives = [Example((p.sentence1, p.sentence2)) for p in train if p.score >= 4]
#    fit(model, positives, MultipleNegativesRankingLoss(), epochs=1, batch_size=8, ...)
#
# 6. SoftmaxLoss on the course's NLI examples, and the classifier's accuracy on them.
#    nli = read_nli("data/nli.csv")
#    loss = SoftmaxLoss(model.dimension, 3)
#    fit(model, [Example((p.sentence1, p.sentence2), int(p.score)) for p in nli], loss, epochs=10, batch_size=8,
#        lr=5e-5, ...)
#    u = model.encode([p.sentence1 for p in nli], convert_to="torch").to(model.device)
#    v = model.encode([p.sentence2 for p in nli], convert_to="torch").to(model.device)
#    accuracy = (loss.logits(u, v).argmax(1).cpu() == torch.tensor([int(p.score) for p in nli])).float().mean()
