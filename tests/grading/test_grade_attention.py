"""Assignment 'attention': scaled_dot_product_attention in minisbert/attention.py."""

import math

import torch
import torch.nn.functional as F
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert.attention import extended_attention_mask, scaled_dot_product_attention


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))  # (B, h, L, d)
    keep = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])  # the second sequence ends in 2 padding tokens
    return q, k, v, keep


def test_output_and_probabilities_match_pytorch(others_by_reference):
    others_by_reference("attention")
    q, k, v, keep = inputs()
    out, probs = scaled_dot_product_attention(q, k, v, extended_attention_mask(keep, q.dtype))
    allowed = keep.bool()[:, None, None, :]
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    raw = q @ k.transpose(-2, -1)
    mistakes = {
        "the scores are not scaled: divide Q K^T by sqrt(d), d the size of one head":
            raw.masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the scores are divided by d: the scaling is 1 / sqrt(d)":
            (raw / 8).masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the padding mask is not applied: add it to the scores before the softmax":
            (raw / math.sqrt(8)).softmax(-1) @ v,
        "the softmax runs over the queries: it must run over the keys (the last axis)":
            (raw / math.sqrt(8)).masked_fill(~allowed, -1e9).softmax(-2) @ v,
    }
    diagnose(out, expected, mistakes)
    diagnose(probs, (raw / math.sqrt(8)).masked_fill(~allowed, float("-inf")).softmax(-1),
             {"return the probabilities, not the scores": (raw / math.sqrt(8))})


def test_lesson_reference_values(others_by_reference):
    from minisbert.course.check import check_close, reference
    others_by_reference("attention")
    keep = torch.tensor(reference("sdpa.attention_mask"))
    q = reference("sdpa.q")
    out, probs = scaled_dot_product_attention(q, reference("sdpa.k"), reference("sdpa.v"),
                                              extended_attention_mask(keep, q.dtype))
    check_close("sdpa.output", out)
    check_close("sdpa.probs", probs)


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
