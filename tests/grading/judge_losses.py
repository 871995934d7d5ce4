"""Judge of 'losses' (15 points), in the grader's process: the probe's inputs rebuilt from the seed, each
loss computed from its definition (the references of lessons/reference/ were made the same way)."""

import torch
import torch.nn.functional as F
from probe_losses import pairs

from minisbert.course.judge import check, diagnose, require


def cosine_mse(u, v, scores):
    return ((F.cosine_similarity(u, v) - scores) ** 2).mean()


def softmax_classification(u, v, labels, weight, bias):
    return F.cross_entropy(torch.cat([u, v, (u - v).abs()], 1) @ weight.T + bias, labels)


def ranking(anchors, candidates, scale=20.0):
    """Cross-entropy of scale * cos(anchor i, every candidate), the right candidate of anchor i being i."""
    cos = F.normalize(anchors, dim=1) @ F.normalize(candidates, dim=1).T
    return F.cross_entropy(scale * cos, torch.arange(len(anchors)))


def cosent(u, v, scores, scale=20.0):
    cos = scale * F.cosine_similarity(u, v)
    pairs_in_order = scores[:, None] > scores[None, :]  # (i, j) with y_i > y_j
    return torch.logsumexp(torch.cat([torch.zeros(1), (cos[None, :] - cos[:, None])[pairs_in_order]]), 0)


@check(4, "loss")
def cosine_similarity_loss(seed, got):
    u, v, scores, *_ = pairs(seed)
    cos = F.cosine_similarity(u, v)
    diagnose(got("loss"), cosine_mse(u, v, scores), {
        "this is the mean absolute error: the objective is the mean *squared* error": (cos - scores).abs().mean(),
        "the dot product is used: the objective compares the cosine": ((u * v).sum(1) - scores).pow(2).mean()})


@check(4, "loss", "with_product")
def softmax_loss_features(seed, got):
    u, v, _, labels, weight, bias = pairs(seed)
    wrong = F.cross_entropy(torch.cat([u, v, u - v], 1) @ weight.T + bias, labels)
    diagnose(got("loss"), softmax_classification(u, v, labels, weight, bias),
             {"the third feature is u - v: SBERT uses the absolute difference |u - v|": wrong})
    shape = tuple(got("with_product").shape)
    require(shape == (4, 3), f"with concat_product=True the logits have shape {shape}, expected (4, 3)")


@check(4, "loss", "with_hard_negatives")
def multiple_negatives_ranking_loss(seed, got):
    u, v, *_ = pairs(seed)
    diagnose(got("loss"), ranking(u, v), {
        "the scale (20) is missing: cross-entropy of scale * cos": ranking(u, v, scale=1.0),
        "dot products are used: the scores are cosines": F.cross_entropy(20 * u @ v.T, torch.arange(4))})
    diagnose(got("with_hard_negatives"), ranking(u, torch.cat([v, v.flip(0)])), {})


@check(3, "loss")
def cosent_loss(seed, got):
    u, v, scores, *_ = pairs(seed)
    diagnose(got("loss"), cosent(u, v, scores), {})
