"""Training objectives for a siamese (shared-weight) sentence encoder.

Every loss receives the embeddings of each text column of a batch, computed by
the *same* model (u for the first sentences, v for the second, ...), and the
batch's labels. Sentence-BERT (Reimers and Gurevych, 2019, section 3) used the
first two; the others came with later sentence-embedding work.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .trainkit.distributed import gather


def _cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T  # (n, m)


class SoftmaxLoss(nn.Module):
    """SBERT's classification objective (NLI): o = softmax(W [u; v; |u - v|]), cross-entropy.

    The classifier W (3n x k) is trained with the encoder and thrown away after.
    `concat_product=True` appends u * v to the features.
    """

    def __init__(self, dimension: int, num_labels: int, concat_product: bool = False):
        super().__init__()
        self.concat_product = concat_product
        self.classifier = nn.Linear((4 if concat_product else 3) * dimension, num_labels)

    def logits(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION losses: the classifier on (u, v, |u - v|) (and u * v when concat_product)
        features = [u, v, (u - v).abs()] + ([u * v] if self.concat_product else [])
        return self.classifier(torch.cat(features, dim=-1))  # (B, k)
        # END SOLUTION

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        u, v = embeddings
        return F.cross_entropy(self.logits(u, v), labels.long())


class CosineSimilarityLoss(nn.Module):
    """SBERT's regression objective (STS): MSE between cos(u, v) and the gold score in [0, 1]."""

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION losses: MSE between cos(u, v) and the labels
        u, v = embeddings
        return F.mse_loss(F.cosine_similarity(u, v), labels.float())
        # END SOLUTION


class MultipleNegativesRankingLoss(nn.Module):
    """In-batch negatives (Henderson et al., 2017): for anchor a_i, its positive p_i must
    score higher than every other p_j of the batch (and any hard negatives n_j):

        loss = CE(scale * cos(a_i, [p_1 .. p_B, n_1 .. n_B]), target i)

    Only positive pairs are needed; the batch supplies the negatives, so larger
    batches make a harder, better task. Labels are ignored.
    """

    def __init__(self, scale: float = 20.0, gather: bool = True):
        super().__init__()
        self.scale = scale  # 1 / temperature: cosines live in [-1, 1], too flat for softmax
        self.gather = gather  # under torch.distributed: rank against every process's candidates

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        anchors, candidates = embeddings[0], torch.cat(embeddings[1:])  # (B, D), (B * (columns - 1), D)
        # (N * B * (columns - 1), D) with N processes; this process's candidates start at row `start`
        candidates, start = gather(candidates) if self.gather else (candidates, 0)
        # BEGIN SOLUTION losses: cross-entropy of scale * cos(anchor i, every candidate); the right one is start + i
        scores = _cosine_matrix(anchors, candidates) * self.scale  # (B, number of candidates)
        target = start + torch.arange(len(anchors), device=anchors.device)  # p_i sits in column start + i
        return F.cross_entropy(scores, target)
        # END SOLUTION


class CoSENTLoss(nn.Module):
    """CoSENT (Su, 2022): rank the pairs' cosines in the order of their gold scores.

        loss = log(1 + sum over (i, j) with y_i > y_j of exp(scale * (cos_j - cos_i)))

    Only the order of the scores matters, which is what Spearman measures.
    """

    def __init__(self, scale: float = 20.0, gather: bool = True):
        super().__init__()
        self.scale = scale
        self.gather = gather  # under torch.distributed: rank the pairs of every process together

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        u, v = embeddings
        cos = F.cosine_similarity(u, v)  # (B,), (N * B,) once gathered from N processes
        if self.gather:
            cos, labels = gather(cos)[0], gather(labels)[0]
        # BEGIN SOLUTION losses: log(1 + sum over y_i > y_j of exp(scale (cos_j - cos_i)))
        cos = cos * self.scale
        diff = cos[None, :] - cos[:, None]  # (B, B): entry (i, j) = cos_j - cos_i
        should_rank_higher = labels[:, None] > labels[None, :]  # y_i > y_j
        diff = diff[should_rank_higher]
        zero = torch.zeros(1, device=cos.device, dtype=cos.dtype)  # the "1 +" inside the log
        return torch.logsumexp(torch.cat([zero, diff]), dim=0)
        # END SOLUTION


class TripletLoss(nn.Module):
    """max(|a - p| - |a - n| + margin, 0): the anchor nearer its positive than its negative,
    by at least the margin (Euclidean distance, as in the SBERT paper's triplet objective)."""

    def __init__(self, margin: float = 5.0):
        super().__init__()
        self.margin = margin

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        a, p, n = embeddings
        return F.relu((a - p).norm(dim=-1) - (a - n).norm(dim=-1) + self.margin).mean()


class ContrastiveLoss(nn.Module):
    """Hadsell et al. (2006) on cosine distance d = 1 - cos(u, v):
    similar pairs (label 1) pay d^2 / 2, dissimilar ones (label 0) pay max(margin - d, 0)^2 / 2."""

    def __init__(self, margin: float = 0.5):
        super().__init__()
        self.margin = margin

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        u, v = embeddings
        d = 1 - F.cosine_similarity(u, v)
        y = labels.float()
        return 0.5 * (y * d.pow(2) + (1 - y) * F.relu(self.margin - d).pow(2)).mean()


class MSELoss(nn.Module):
    """Knowledge distillation (Reimers and Gurevych, 2020): the student's embedding of a text
    should equal a target vector, e.g. the teacher's embedding of its English original."""

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(embeddings[0], labels.to(embeddings[0].dtype))


LOSSES = {"cosine": CosineSimilarityLoss, "softmax": SoftmaxLoss, "mnrl": MultipleNegativesRankingLoss,
          "cosent": CoSENTLoss, "triplet": TripletLoss, "contrastive": ContrastiveLoss, "mse": MSELoss}
