"""Probe of 'losses' (runs in the graded process, with the student's four losses). Input builders shared
with judge_losses.py."""

import torch


def pairs(seed):
    """u, v (4, 6) embeddings; gold scores (4,) in [0, 1]; class labels (4,) of 3; a classifier (3, 18) + (3,)."""
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    scores, labels = torch.rand(4, generator=g), torch.randint(0, 3, (4,), generator=g)
    return u, v, scores, labels, torch.randn(3, 18, generator=g) * 0.3, torch.randn(3, generator=g) * 0.1


def cosine_similarity_loss(seed):
    from minisbert.losses import CosineSimilarityLoss
    u, v, scores, *_ = pairs(seed)
    return {"loss": CosineSimilarityLoss()([u, v], scores)}


def softmax_loss_features(seed):
    from minisbert.losses import SoftmaxLoss
    u, v, _, labels, weight, bias = pairs(seed)
    loss = SoftmaxLoss(6, 3)
    with torch.no_grad():
        loss.classifier.weight.copy_(weight)
        loss.classifier.bias.copy_(bias)
        return {"loss": loss([u, v], labels), "with_product": SoftmaxLoss(6, 3, concat_product=True).logits(u, v)}


def multiple_negatives_ranking_loss(seed):
    from minisbert.losses import MultipleNegativesRankingLoss
    u, v, *_ = pairs(seed)
    return {"loss": MultipleNegativesRankingLoss()([u, v]),
            "with_hard_negatives": MultipleNegativesRankingLoss()([u, v, v.flip(0)])}


def cosent_loss(seed):
    from minisbert.losses import CoSENTLoss
    u, v, scores, *_ = pairs(seed)
    return {"loss": CoSENTLoss()([u, v], scores)}
