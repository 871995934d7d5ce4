"""Assignment 'losses': CosineSimilarityLoss, SoftmaxLoss.logits, MultipleNegativesRankingLoss, CoSENTLoss."""

import pytest
import torch
import torch.nn.functional as F
from references import diagnose

from minisbert.course.check import check_close, reference
from minisbert.losses import CoSENTLoss, CosineSimilarityLoss, MultipleNegativesRankingLoss, SoftmaxLoss

U, V = reference("loss.u"), reference("loss.v")
SCORES, LABELS = reference("loss.scores"), reference("loss.labels").long()


@pytest.mark.points(4)
def test_cosine_similarity_loss():
    cos = F.cosine_similarity(U, V)
    diagnose(CosineSimilarityLoss()([U, V], SCORES), reference("loss.cosine"), {
        "this is the mean absolute error: the objective is the mean *squared* error": (cos - SCORES).abs().mean(),
        "the dot product is used: the objective compares the cosine": ((U * V).sum(1) - SCORES).pow(2).mean()})


@pytest.mark.points(4)
def test_softmax_loss_features():
    loss = SoftmaxLoss(6, 3)
    with torch.no_grad():
        loss.classifier.weight.copy_(reference("loss.classifier.weight"))
        loss.classifier.bias.copy_(reference("loss.classifier.bias"))
        w = loss.classifier.weight
        wrong = F.cross_entropy(torch.cat([U, V, U - V], 1) @ w.T, LABELS)
        diagnose(loss([U, V], LABELS), reference("loss.softmax"),
                 {"the third feature is u - v: SBERT uses the absolute difference |u - v|": wrong})
        assert SoftmaxLoss(6, 3, concat_product=True).logits(U, V).shape == (4, 3)


@pytest.mark.points(4)
def test_multiple_negatives_ranking_loss():
    sim = F.normalize(U, dim=1) @ F.normalize(V, dim=1).T
    diagnose(MultipleNegativesRankingLoss()([U, V]), reference("loss.mnrl"), {
        "the scale (20) is missing: cross-entropy of scale * cos": F.cross_entropy(sim, torch.arange(4)),
        "dot products are used: the scores are cosines": F.cross_entropy(20 * U @ V.T, torch.arange(4))})
    with_hard = MultipleNegativesRankingLoss()([U, V, V.flip(0)])
    expected = F.cross_entropy(20 * F.normalize(U, dim=1) @ F.normalize(torch.cat([V, V.flip(0)]), dim=1).T,
                               torch.arange(4))
    diagnose(with_hard, expected, {})


@pytest.mark.points(3)
def test_cosent_loss():
    check_close("loss.cosent", CoSENTLoss()([U, V], SCORES))
