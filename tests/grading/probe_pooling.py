"""Probe of 'pooling' (runs in the graded process, with the student's mean_pool, max_pool and cls_pool; the
encoder by its references). Input builders shared with judge_pooling.py."""

import torch
from draws import draw



def batch(seed):
    """tokens (2, 4, 6) and mask (2, 4): the second sequence has 2 real tokens, then padding vectors of 5.0
    that must not leak into the pooled vectors; in its first dimension both real tokens are negative, so that
    padding set to 0 wins the max."""
    tokens = torch.randn(2, 4, 6, generator=draw(seed, 0))
    tokens[1, 2:] = 5.0
    tokens[1, :2, 0] = -tokens[1, :2, 0].abs() - 0.1
    return tokens, torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])


def pretrained_batch(seed):
    """(2, 9) ids of all-MiniLM-L6-v2's vocabulary after [CLS] (101), and a mask padding the second sequence."""
    g = draw(seed, 1)
    ids = torch.randint(1000, 30522, (2, 9), generator=g)
    ids[:, 0] = 101
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, int(torch.randint(2, 9, (), generator=g)):] = 0
    return ids, mask


def _pool(name):
    from minisbert import pooling
    return getattr(pooling, f"{name}_pool")


def mean_over_real_tokens(seed):
    return {"pooled": _pool("mean")(*batch(seed))}


def max_over_real_tokens(seed):
    return {"pooled": _pool("max")(*batch(seed))}


def cls_is_the_first_token(seed):
    return {"pooled": _pool("cls")(*batch(seed))}


def pretrained_model(seed):
    """The three poolings of all-MiniLM-L6-v2's token vectors for ids drawn from the seed."""
    from minisbert import load_bert
    ids, mask = pretrained_batch(seed)
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    with torch.no_grad():
        tokens = bert(ids, mask).last_hidden_state
    return {name: _pool(name)(tokens, mask) for name in ("mean", "max", "cls")}
