"""Judge of 'pooling' (15 points), in the grader's process: the probe's inputs rebuilt from the seed, the
expected vectors pooled sequence by sequence over the real tokens only."""

import torch
from probe_pooling import batch, pretrained_batch

from minisbert.course.judge import check, diagnose, pretrained_bert


def real(tokens, mask):
    """Each sequence's real token vectors: a list of (n_i, H)."""
    return [t[m.bool()] for t, m in zip(tokens, mask)]


def mean(tokens, mask):
    return torch.stack([t.mean(0) for t in real(tokens, mask)]), {
        "padding is averaged in: multiply by the mask and divide by the number of real tokens": tokens.mean(1),
        "the masked sum is divided by the padded length, not the number of real tokens":
            (tokens * mask[..., None]).sum(1) / tokens.size(1)}


def maximum(tokens, mask):
    return torch.stack([t.max(0).values for t in real(tokens, mask)]), {
        "padding wins the max: set padding positions to -inf first": tokens.max(1).values,
        "padding set to 0 can still win the max (vectors may be all negative): use -inf":
            (tokens * mask[..., None]).max(1).values}


def cls(tokens, mask):
    return tokens[:, 0], {"this is the last token, not [CLS] (the first)": tokens[:, -1]}


@check(5, "pooled")
def mean_over_real_tokens(seed, got):
    diagnose(got("pooled"), *mean(*batch(seed)))


@check(4, "pooled")
def max_over_real_tokens(seed, got):
    diagnose(got("pooled"), *maximum(*batch(seed)))


@check(2, "pooled")
def cls_is_the_first_token(seed, got):
    diagnose(got("pooled"), *cls(*batch(seed)))


@check(4, "mean", "max", "cls")
def pretrained_model(seed, got):
    ids, mask = pretrained_batch(seed)
    with torch.no_grad():
        tokens = pretrained_bert()(ids, mask).last_hidden_state
    for name, pool in (("mean", mean), ("max", maximum), ("cls", cls)):
        diagnose(got(name), *pool(tokens, mask), atol=1e-4)
