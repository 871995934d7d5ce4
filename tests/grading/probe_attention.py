"""Probe of 'attention' (runs in the graded process, with the student's scaled_dot_product_attention).

Each function is one check of judge_attention.py: it builds the check's inputs from the seed the grader
drew, calls the student's code and returns the outputs to be judged. The input builders are shared with
the judge, which rebuilds the same inputs from the same seed."""

import torch
from draws import draw



def inputs(seed, n=0, shape=(2, 3, 5, 8)):
    """q, k, v of `shape` (B, h, L, d); keep (B, L): 1 for a real token, the second sequence padded."""
    g = draw(seed, n)
    q, k, v = (torch.randn(shape, generator=g) for _ in range(3))
    B, L = shape[0], shape[2]
    length = int(torch.randint(2, L, (), generator=g))  # 2 .. L-1 real tokens: at least one padded
    keep = torch.ones(B, L, dtype=torch.long)
    keep[1, length:] = 0
    return q, k, v, keep


def _attention():
    from minisbert.attention import extended_attention_mask, scaled_dot_product_attention
    return scaled_dot_product_attention, extended_attention_mask


def shapes(seed):
    attend, _ = _attention()
    q, k, v, _ = inputs(seed)
    out, probs = attend(q, k[:, :, :4], v[:, :, :4])  # 5 queries, 4 keys
    return {"out": out, "probs": probs}


def values_without_mask(seed):
    attend, _ = _attention()
    q, k, v, _ = inputs(seed)
    return {"out": attend(q, k, v)[0]}


def values_with_padding_mask(seed):
    attend, extended = _attention()
    q, k, v, keep = inputs(seed)
    return {"out": attend(q, k, v, extended(keep, q.dtype))[0]}


def probabilities_are_returned(seed):
    attend, extended = _attention()
    q, k, v, keep = inputs(seed)
    return {"probs": attend(q, k, v, extended(keep, q.dtype))[1]}


def model_sized_inputs(seed):
    """all-MiniLM-L6-v2's sizes (12 heads of 32) and activations of its scale."""
    attend, extended = _attention()
    q, k, v, keep = inputs(seed, 1, (2, 12, 9, 32))
    out, probs = attend(3 * q, 3 * k, v, extended(keep, q.dtype))
    return {"out": out, "probs": probs}


def dropout_only_while_training(seed):
    attend, extended = _attention()
    q, k, v, keep = inputs(seed, 2)
    mask = extended(keep, q.dtype)
    evaluating, _ = attend(q, k, v, mask, dropout=0.5, training=False)
    without, _ = attend(q, k, v, mask, dropout=0.0)
    torch.manual_seed(seed)
    training, _ = attend(q, k, v, mask, dropout=0.5, training=True)
    return {"evaluating": evaluating, "without": without, "training": training}


def identity_values(L):
    """V = [I | 1] for every (batch, head): the output's first L columns are the weights that multiplied V,
    its last column their sum."""
    return torch.cat([torch.eye(L), torch.ones(L, 1)], 1).expand(2, 3, L, L + 1)


def dropout_is_on_the_probabilities(seed):
    attend, _ = _attention()
    q, k, _, _ = inputs(seed, 3)
    torch.manual_seed(seed)
    out, _ = attend(q, k, identity_values(q.size(2)), dropout=0.5, training=True)
    return {"out": out}
