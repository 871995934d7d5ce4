"""Assignment 'attention': scaled_dot_product_attention in minisbert/attention.py (15 points)."""

import math

import pytest
import torch
import torch.nn.functional as F
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert.attention import extended_attention_mask, scaled_dot_product_attention


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))  # (B, h, L, d)
    keep = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])  # the second sequence ends in 2 padding tokens
    return q, k, v, keep


def mistakes(q, k, v, allowed):
    raw = q @ k.transpose(-2, -1)
    return {
        "the scores are not scaled: divide Q K^T by sqrt(d), d the size of one head":
            raw.masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the scores are divided by d: the scaling is 1 / sqrt(d)":
            (raw / 8).masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the padding mask is not applied: add it to the scores before the softmax":
            (raw / math.sqrt(8)).softmax(-1) @ v,
        "the softmax runs over the queries: it must run over the keys (the last axis)":
            (raw / math.sqrt(8)).masked_fill(~allowed, -1e9).softmax(-2) @ v,
    }


@pytest.mark.points(2)
def test_shapes(others_by_reference):
    others_by_reference("attention")
    q, k, v, _ = inputs()
    out, probs = scaled_dot_product_attention(q, k[:, :, :4], v[:, :, :4])  # 5 queries, 4 keys
    assert tuple(out.shape) == (2, 3, 5, 8), f"the output has shape {tuple(out.shape)}, expected (B, h, L, d)"
    assert tuple(probs.shape) == (2, 3, 5, 4), \
        f"the probabilities have shape {tuple(probs.shape)}, expected (B, h, queries, keys)"


@pytest.mark.points(3)
def test_values_without_mask(others_by_reference):
    others_by_reference("attention")
    q, k, v, _ = inputs()
    out, _ = scaled_dot_product_attention(q, k, v)
    everything = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    diagnose(out, F.scaled_dot_product_attention(q, k, v), mistakes(q, k, v, everything))


@pytest.mark.points(3)
def test_values_with_padding_mask(others_by_reference):
    others_by_reference("attention")
    q, k, v, keep = inputs()
    out, _ = scaled_dot_product_attention(q, k, v, extended_attention_mask(keep, q.dtype))
    allowed = keep.bool()[:, None, None, :]
    diagnose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), mistakes(q, k, v, allowed))


@pytest.mark.points(2)
def test_probabilities_are_returned(others_by_reference):
    others_by_reference("attention")
    q, k, v, keep = inputs()
    _, probs = scaled_dot_product_attention(q, k, v, extended_attention_mask(keep, q.dtype))
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    diagnose(probs, scores.masked_fill(~keep.bool()[:, None, None, :], float("-inf")).softmax(-1),
             {"return the probabilities, not the scores": scores})


@pytest.mark.points(2)
def test_lesson_reference_values(others_by_reference):
    from minisbert.course.check import check_close, reference
    others_by_reference("attention")
    keep = torch.tensor(reference("sdpa.attention_mask"))
    q = reference("sdpa.q")
    out, probs = scaled_dot_product_attention(q, reference("sdpa.k"), reference("sdpa.v"),
                                              extended_attention_mask(keep, q.dtype))
    check_close("sdpa.output", out)
    check_close("sdpa.probs", probs)


@pytest.mark.points(1)
def test_dropout_only_while_training(others_by_reference):
    others_by_reference("attention")
    q, k, v, keep = inputs(1)
    mask = extended_attention_mask(keep, q.dtype)
    a, _ = scaled_dot_product_attention(q, k, v, mask, dropout=0.5, training=False)
    b, _ = scaled_dot_product_attention(q, k, v, mask, dropout=0.0)
    assert torch.allclose(a, b), "with training=False, dropout must do nothing"
    torch.manual_seed(0)
    c, _ = scaled_dot_product_attention(q, k, v, mask, dropout=0.5, training=True)
    assert not torch.allclose(c, b), "with training=True, dropout must drop attention weights"


@pytest.mark.points(2)
def test_dropout_is_on_the_probabilities(others_by_reference):
    """With V = [I | 1], the output's first L columns are the weights that multiplied V and its last
    column their sum: dropout on the probabilities keeps that sum, dropout on the output does not."""
    others_by_reference("attention")
    q, k, _, _ = inputs(2)
    L = q.size(2)
    v = torch.cat([torch.eye(L), torch.ones(L, 1)], 1).expand(2, 3, L, L + 1)
    _, probs = scaled_dot_product_attention(q, k, v)
    torch.manual_seed(0)
    out, _ = scaled_dot_product_attention(q, k, v, dropout=0.5, training=True)
    weights, total = out[..., :L], out[..., L]
    kept = weights != 0
    assert not kept.all(), "with training=True and dropout 0.5, no attention weight was dropped"
    assert torch.allclose(total, weights.sum(-1), atol=1e-5), \
        "dropout is applied after multiplying by V: drop the attention probabilities, then multiply by V"
    assert torch.allclose(weights[kept], (probs / 0.5)[kept], atol=1e-5), \
        "the kept probabilities must be scaled by 1 / (1 - p), as F.dropout does"
