"""Comparing sentence embeddings: cosine similarity, search, mining, clustering.

    cos(u, v) = u . v / (|u| |v|)     in [-1, 1]; for unit vectors just u . v

Everything here takes embeddings (numpy arrays or torch tensors, one row per
sentence) and works in chunks, so a corpus of a million sentences never needs a
million-by-million matrix at once.
"""

from __future__ import annotations

import heapq

import numpy as np
import torch
import torch.nn.functional as F
from .support.errors import InputError


def _as_2d(x) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        x = torch.tensor(x)
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise InputError(f"expected embeddings of shape (n, dim) or (dim,), got {tuple(x.shape)}")
    return x.float()


def cos_sim(a, b) -> torch.Tensor:
    """(n, d) and (m, d) -> (n, m) matrix of cosine similarities."""
    a, b = _as_2d(a), _as_2d(b)
    if a.size(1) != b.size(1):
        raise InputError(f"embeddings of different sizes: {a.size(1)} and {b.size(1)}; "
                         "were they made by the same model?")
    return F.normalize(a, dim=1) @ F.normalize(b.to(a.device), dim=1).T


def dot_score(a, b) -> torch.Tensor:
    """(n, d) and (m, d) -> (n, m) matrix of dot products (cosine, for normalised vectors)."""
    a, b = _as_2d(a), _as_2d(b)
    return a @ b.to(a.device).T


def semantic_search(query_embeddings, corpus_embeddings, top_k: int = 10, query_chunk_size: int = 100,
                    corpus_chunk_size: int = 50_000, score_function=cos_sim) -> list[list[dict]]:
    """For each query, the top_k most similar corpus entries, best first.

    Returns one list per query of {"corpus_id": int, "score": float}. Queries and
    corpus are compared block by block, keeping only each block's best top_k.
    """
    queries, corpus = _as_2d(query_embeddings), _as_2d(corpus_embeddings)
    top_k = min(top_k, len(corpus))
    results: list[list[tuple[float, int]]] = [[] for _ in range(len(queries))]
    for q0 in range(0, len(queries), query_chunk_size):
        for c0 in range(0, len(corpus), corpus_chunk_size):
            scores = score_function(queries[q0:q0 + query_chunk_size], corpus[c0:c0 + corpus_chunk_size])
            k = min(top_k, scores.size(1))
            best, idx = scores.topk(k, dim=1)  # (q, k), sorted
            for qi, (row_s, row_i) in enumerate(zip(best.tolist(), idx.tolist())):
                results[q0 + qi].extend((s, c0 + i) for s, i in zip(row_s, row_i))
    return [[{"corpus_id": i, "score": s} for s, i in heapq.nlargest(top_k, hits, key=lambda h: (h[0], -h[1]))]
            for hits in results]


def paraphrase_mining(embeddings, top_k: int = 100, max_pairs: int = 500_000,
                      chunk_size: int = 1000) -> list[tuple[float, int, int]]:
    """Pairs of sentences (score, i, j) with i < j, most similar first.

    Each sentence contributes its top_k nearest neighbours, so the result is
    exact for the highest-scoring pairs without ever storing all n^2 scores.
    """
    emb = _as_2d(embeddings)
    pairs: dict[tuple[int, int], float] = {}
    k = min(top_k + 1, len(emb))  # +1: a sentence is its own nearest neighbour
    for start in range(0, len(emb), chunk_size):
        scores = cos_sim(emb[start:start + chunk_size], emb)
        best, idx = scores.topk(k, dim=1)
        for row, (row_s, row_i) in enumerate(zip(best.tolist(), idx.tolist())):
            i = start + row
            for s, j in zip(row_s, row_i):
                if i != j:
                    pairs[(min(i, j), max(i, j))] = s
    ranked = sorted(((s, i, j) for (i, j), s in pairs.items()), key=lambda p: (-p[0], p[1], p[2]))
    return ranked[:max_pairs]


def community_detection(embeddings, threshold: float = 0.75, min_community_size: int = 10,
                        chunk_size: int = 1000) -> list[list[int]]:
    """Groups of sentences that are all close to one central sentence (fast clustering).

    A sentence with at least min_community_size neighbours at cosine >= threshold
    (itself included) is a centre; its community is those neighbours, most
    similar first. Larger communities are kept first, and a sentence belongs to
    at most one. Returns lists of indices, largest community first.
    """
    emb = _as_2d(embeddings)
    candidates = []
    for start in range(0, len(emb), chunk_size):
        scores = cos_sim(emb[start:start + chunk_size], emb)  # (chunk, n)
        for row in scores:
            members = (row >= threshold).nonzero().flatten()
            if len(members) >= min_community_size:
                order = row[members].argsort(descending=True)
                candidates.append(members[order].tolist())
    candidates.sort(key=len, reverse=True)
    taken: set[int] = set()
    communities = []
    for community in candidates:
        free = [i for i in community if i not in taken]
        if len(free) >= min_community_size:
            communities.append(free)
            taken.update(free)
    return communities
