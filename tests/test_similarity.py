"""Similarity utilities against brute-force computations."""

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from minisbert.similarity import community_detection, cos_sim, dot_score, paraphrase_mining, semantic_search


def test_cos_sim_and_dot_by_hand():
    a = np.array([[1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    b = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
    assert_close(cos_sim(a, b), torch.tensor([[0.0, 1.0], [2 ** -0.5, 2 ** -0.5]]))
    assert_close(dot_score(a, b), torch.tensor([[0.0, 3.0], [2.0, 3.0]]))
    assert cos_sim(a[0], a[0]).shape == (1, 1)
    with pytest.raises(ValueError, match="different sizes: 2 and 3"):
        cos_sim(a, np.ones((1, 3)))


def test_semantic_search_in_chunks_equals_brute_force():
    g = torch.Generator().manual_seed(0)
    queries, corpus = torch.randn(7, 16, generator=g), torch.randn(103, 16, generator=g)
    hits = semantic_search(queries, corpus, top_k=5, query_chunk_size=3, corpus_chunk_size=10)
    full = cos_sim(queries, corpus)
    for q, ranked in enumerate(hits):
        best = full[q].topk(5)
        assert [h["corpus_id"] for h in ranked] == best.indices.tolist()
        assert_close(torch.tensor([h["score"] for h in ranked]), best.values)


def test_paraphrase_mining_finds_the_top_pairs():
    g = torch.Generator().manual_seed(1)
    emb = torch.randn(40, 8, generator=g)
    emb[5] = emb[17] + 0.01  # a near-duplicate pair
    pairs = paraphrase_mining(emb, top_k=3, chunk_size=7)
    assert pairs[0][1:] == (5, 17)
    full = cos_sim(emb, emb).fill_diagonal_(-2)
    i, j = divmod(full.argmax().item(), 40)
    assert (min(i, j), max(i, j)) == pairs[0][1:]
    assert all(a[0] >= b[0] for a, b in zip(pairs, pairs[1:]))
    assert all(i < j for _, i, j in pairs)


def test_community_detection_on_planted_clusters():
    g = torch.Generator().manual_seed(2)
    centres = torch.randn(3, 32, generator=g) * 10
    emb = torch.cat([centres[c] + torch.randn(n, 32, generator=g) for c, n in [(0, 12), (1, 8), (2, 3)]])
    communities = community_detection(emb, threshold=0.8, min_community_size=5, chunk_size=4)
    assert [sorted(c) for c in communities] == [list(range(12)), list(range(12, 20))]  # the 3 are too few
