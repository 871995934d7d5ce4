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
from .similarity import semantic_search
from .support.errors import InputError


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


def bootstrap_interval(metric, *columns, rounds: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap interval for metric(*columns) (Efron, 1979).

    The rows (the i-th entry of every column together: a pair's cosine and its gold
    score) are drawn with replacement `rounds` times; the interval holds the middle
    `level` of the metric's values. On 60 pairs a Spearman of 85 can be anything from
    about 78 to 91: this says how much a small set can tell.
    """
    columns = [np.asarray(c) for c in columns]
    n = len(columns[0])
    if n < 2 or any(len(c) != n for c in columns):
        raise InputError(f"bootstrap_interval needs columns of one length >= 2, got {[len(c) for c in columns]}")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        rows = rng.integers(0, n, n)  # n rows drawn with replacement
        values.append(metric(*(c[rows] for c in columns)))
    low, high = np.nanpercentile(values, [50 * (1 - level), 50 * (1 + level)])  # nan: a draw of one tied value
    return float(low), float(high)


def evaluate_sts(model, pairs, batch_size: int = 32, show_progress: bool | None = None,
                 precision: str = "fp32", prompt_name: str | None = None) -> dict[str, float]:
    """Pearson and Spearman (x 100) of cosine similarity against the gold scores.

    prompt_name: one of the model's prompts, put before both sentences (None: the model's default).
    """
    if not pairs:
        raise InputError("no pairs to evaluate")
    cosine = _pair_cosines(model, [p.sentence1 for p in pairs], [p.sentence2 for p in pairs], batch_size,
                           show_progress, precision, prompt_name)
    gold = [p.score for p in pairs]
    return {"pearson": 100 * pearson(cosine, gold), "spearman": 100 * spearman(cosine, gold), "n": len(pairs)}


def _pair_cosines(model, a: list[str], b: list[str], batch_size: int,
                  show_progress: bool | None = False, precision: str = "fp32",
                  prompt_name: str | None = None) -> np.ndarray:
    """cos(a_i, b_i) for each i, encoding each distinct sentence once."""
    unique = list(dict.fromkeys(a + b))
    emb = model.encode(unique, batch_size=batch_size, convert_to="torch", show_progress=show_progress,
                       precision=precision, prompt_name=prompt_name)
    index = {s: i for i, s in enumerate(unique)}
    return torch.nn.functional.cosine_similarity(emb[[index[s] for s in a]], emb[[index[s] for s in b]]).numpy()


def best_threshold(scores, labels) -> dict[str, float]:
    """Accuracy and F1 of "similar if cosine >= t", each at its best threshold t."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)  # predicting the first k as similar, for k = 1..n
    fp = np.cumsum(1 - y)
    positives, n = y.sum(), len(y)
    last_of_tie = np.r_[s[1:] != s[:-1], True]  # a threshold cannot split equal scores
    k = np.arange(1, n + 1)[last_of_tie]
    tp, fp = tp[last_of_tie], fp[last_of_tie]
    accuracy = (tp + (n - positives - fp)) / n
    f1 = 2 * tp / np.maximum(k + positives, 1)
    a, f = accuracy.argmax(), f1.argmax()
    # predicting nothing as similar is also a threshold
    all_negative = (n - positives) / n
    acc_best, acc_t = (accuracy[a], s[k[a] - 1]) if accuracy[a] >= all_negative else (all_negative, np.inf)
    return {"accuracy": 100 * float(acc_best), "accuracy_threshold": float(acc_t),
            "f1": 100 * float(f1[f]), "f1_threshold": float(s[k[f] - 1])}


def retrieval_metrics(ranked: list[list[int]], relevant: list[set[int]], ks=(1, 5, 10)) -> dict[str, float]:
    """MRR@10, Recall@k and nDCG@10 (x100) of ranked result ids against the relevant ids."""
    mrr, ndcg, recall = [], [], {k: [] for k in ks}
    for ids, rel in zip(ranked, relevant):
        hits = [i in rel for i in ids[:10]]
        mrr.append(next((1 / (r + 1) for r, h in enumerate(hits) if h), 0.0))
        dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
        ideal = sum(1 / np.log2(r + 2) for r in range(min(len(rel), 10)))
        ndcg.append(dcg / ideal if ideal else 0.0)
        for k in ks:
            recall[k].append(len(rel & set(ids[:k])) / len(rel) if rel else 0.0)
    out = {"mrr@10": 100 * float(np.mean(mrr)), "ndcg@10": 100 * float(np.mean(ndcg))}
    out.update({f"recall@{k}": 100 * float(np.mean(v)) for k, v in recall.items()})
    return out


class Evaluator:
    """Scores a model on held-out data: `evaluator(model)` -> {metric: value}. `primary` names the metric
    that training uses to keep the best model."""
    primary: str

    def __init__(self, items, batch_size: int = 32):
        self.items, self.batch_size = items, batch_size  # pairs, triplets, ...

    def __call__(self, model) -> dict[str, float]:
        raise NotImplementedError


class STSEvaluator(Evaluator):
    """Spearman (the primary metric) and Pearson of cosine similarity on scored pairs."""
    primary = "spearman"

    def __call__(self, model) -> dict[str, float]:
        result = evaluate_sts(model, self.items, self.batch_size, show_progress=False)
        return {"spearman": result["spearman"], "pearson": result["pearson"]}


class BinaryClassificationEvaluator(Evaluator):
    """Duplicate or not (labels 1/0): accuracy and F1 at the best cosine thresholds."""
    primary = "accuracy"

    def __call__(self, model) -> dict[str, float]:
        cos = _pair_cosines(model, [p.sentence1 for p in self.items], [p.sentence2 for p in self.items],
                            self.batch_size)
        return best_threshold(cos, [int(p.score) for p in self.items])


class TripletEvaluator(Evaluator):
    """Share of (anchor, positive, negative) triplets with cos(a, p) > cos(a, n), x100."""
    primary = "accuracy"

    def __call__(self, model) -> dict[str, float]:
        a = [t.texts[0] for t in self.items]
        pos = _pair_cosines(model, a, [t.texts[1] for t in self.items], self.batch_size)
        neg = _pair_cosines(model, a, [t.texts[2] for t in self.items], self.batch_size)
        return {"accuracy": 100 * float((pos > neg).mean())}


class RetrievalEvaluator(Evaluator):
    """Queries against a corpus: MRR@10, Recall@1/5/10, nDCG@10 (primary)."""
    primary = "ndcg@10"

    def __init__(self, queries: list[str], corpus: list[str], relevant: list[set[int]], batch_size: int = 32,
                 query_prompt_name: str | None = None, corpus_prompt_name: str | None = None):
        super().__init__(queries, batch_size)
        self.queries, self.corpus, self.relevant = queries, corpus, relevant
        # A model with prompts may want different ones on each side (multilingual-e5: "query", "passage");
        # None uses the model's default prompt.
        self.query_prompt_name, self.corpus_prompt_name = query_prompt_name, corpus_prompt_name

    def __call__(self, model) -> dict[str, float]:
        q = model.encode(self.queries, batch_size=self.batch_size, show_progress=False,
                         prompt_name=self.query_prompt_name)
        c = model.encode(self.corpus, batch_size=self.batch_size, show_progress=False,
                         prompt_name=self.corpus_prompt_name)
        hits = semantic_search(q, c, top_k=10)
        return retrieval_metrics([[h["corpus_id"] for h in row] for row in hits], self.relevant)
