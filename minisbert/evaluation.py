"""Evaluating sentence embeddings on semantic textual similarity (STS).

STS pairs carry a gold similarity score (0 to 5 for the STS Benchmark). The
model's score is the cosine similarity of the two embeddings; the standard
figure is Spearman's rank correlation between the two lists, times 100
(Reimers and Gurevych report it so, after Reimers et al. 2016 argued that
Pearson's r suits this task poorly).
"""

from __future__ import annotations

import numpy as np
import torch


def pearson(x, y) -> float:
    """r = cov(x, y) / (std(x) std(y))."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def rank(x) -> np.ndarray:
    """Ranks 1..n; tied values share the average of their ranks."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    sorted_x = x[order]
    start = 0
    for end in range(1, len(x) + 1):
        if end == len(x) or sorted_x[end] != sorted_x[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # mean of ranks start+1 .. end
            start = end
    return ranks


def spearman(x, y) -> float:
    """Spearman's rho: Pearson's r of the ranks."""
    return pearson(rank(x), rank(y))


def evaluate_sts(model, pairs, batch_size: int = 32, show_progress: bool | None = None) -> dict[str, float]:
    """Pearson and Spearman (x 100) of cosine similarity against the gold scores."""
    if not pairs:
        raise ValueError("no pairs to evaluate")
    first = [p.sentence1 for p in pairs]
    second = [p.sentence2 for p in pairs]
    # Encode each distinct sentence once.
    unique = list(dict.fromkeys(first + second))
    emb = model.encode(unique, batch_size=batch_size, convert_to="torch", show_progress=show_progress)
    index = {s: i for i, s in enumerate(unique)}
    a = emb[[index[s] for s in first]]
    b = emb[[index[s] for s in second]]
    cosine = torch.nn.functional.cosine_similarity(a, b).numpy()
    gold = [p.score for p in pairs]
    return {"pearson": 100 * pearson(cosine, gold), "spearman": 100 * spearman(cosine, gold), "n": len(pairs)}
