"""Each objective against a value computed by hand, and a gradient check."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from minisbert.losses import (ContrastiveLoss, CoSENTLoss, CosineSimilarityLoss, MSELoss,
                              MultipleNegativesRankingLoss, SoftmaxLoss, TripletLoss)

U = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
V = torch.tensor([[1.0, 1.0], [0.0, 2.0]])  # cos(u0, v0) = 1/sqrt(2), cos(u1, v1) = 1
C0 = 1 / math.sqrt(2)


def test_cosine_similarity_loss_by_hand():
    loss = CosineSimilarityLoss()([U, V], torch.tensor([0.5, 0.0]))
    assert_close(loss, torch.tensor(((C0 - 0.5) ** 2 + (1 - 0) ** 2) / 2))


def test_softmax_loss_by_hand():
    loss_fn = SoftmaxLoss(2, 3)
    with torch.no_grad():  # W picks out features: logits = [u0, v1, |u-v|0 + |u-v|1]
        loss_fn.classifier.weight.copy_(torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 1]]))
        loss_fn.classifier.bias.zero_()
    logits = torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]])  # |u-v| = (0, 1) and (0, 1)
    assert_close(loss_fn.logits(U, V), logits)
    expected = -(math.log(math.exp(1) / (3 * math.exp(1))) + math.log(math.exp(1) / (1 + math.exp(2) + math.exp(1)))) / 2
    assert_close(loss_fn([U, V], torch.tensor([2, 2])), torch.tensor(expected))
    assert SoftmaxLoss(2, 3, concat_product=True).classifier.in_features == 8


def test_multiple_negatives_ranking_by_hand():
    loss = MultipleNegativesRankingLoss(scale=1.0)([U, V], None)
    # anchor 0 scores (C0, 0) against (v0, v1), anchor 1 scores (C0, 1); targets 0 and 1
    expected = -(math.log(math.exp(C0) / (math.exp(C0) + 1)) + math.log(math.e / (math.exp(C0) + math.e))) / 2
    assert_close(loss, torch.tensor(expected))
    with_negatives = MultipleNegativesRankingLoss(scale=1.0)([U, V, -V], None)  # hard negatives add columns
    assert with_negatives > loss


def test_cosent_by_hand():
    # gold says pair 0 (cos C0) should rank above pair 1 (cos 1): one violated pair
    loss = CoSENTLoss(scale=2.0)([U, V], torch.tensor([1.0, 0.0]))
    assert_close(loss, torch.tensor(math.log(1 + math.exp(2.0 * (1 - C0)))))
    assert_close(CoSENTLoss()([U, V], torch.tensor([0.3, 0.3])), torch.tensor(0.0))  # ties: nothing to rank


def test_triplet_contrastive_mse_by_hand():
    a, p, n = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0]])
    assert_close(TripletLoss(margin=1.0)([a, p, n]), torch.tensor(5.0 - 1.0 + 1.0))
    assert_close(TripletLoss(margin=1.0)([a, n, p]), torch.tensor(0.0))
    d0, d1 = 1 - C0, 0.0
    expected = 0.5 * (d0 ** 2 + max(0.5 - d1, 0) ** 2) / 2  # pair 0 similar, pair 1 not
    assert_close(ContrastiveLoss(margin=0.5)([U, V], torch.tensor([1, 0])), torch.tensor(expected))
    assert_close(MSELoss()([U], V), torch.tensor((0 + 1 + 0 + 1) / 4))


@pytest.mark.parametrize("loss,columns,labels", [
    (CosineSimilarityLoss(), 2, torch.tensor([0.2, 0.9, 0.5], dtype=torch.float64)),
    (SoftmaxLoss(4, 3).double(), 2, torch.tensor([0, 2, 1])),
    (MultipleNegativesRankingLoss(), 3, None),
    (CoSENTLoss(), 2, torch.tensor([0.1, 0.7, 0.4], dtype=torch.float64)),
    (TripletLoss(margin=5.0), 3, None),
    (ContrastiveLoss(), 2, torch.tensor([1, 0, 1])),
])
def test_gradients(loss, columns, labels):
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True) for _ in range(columns)]
    assert torch.autograd.gradcheck(lambda *x: loss(list(x), labels), inputs)


def test_mnrl_equals_cross_entropy_over_the_batch():
    g = torch.Generator().manual_seed(1)
    a, p = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    scores = F.normalize(a, dim=1) @ F.normalize(p, dim=1).T * 20
    assert_close(MultipleNegativesRankingLoss()([a, p]), F.cross_entropy(scores, torch.arange(5)))
