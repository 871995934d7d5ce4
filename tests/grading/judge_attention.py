"""Judge of 'attention' (15 points), in the grader's process: the same inputs as probe_attention.py,
rebuilt from the seed; the expected values from PyTorch's own attention; the common mistakes named."""

import math

import torch
import torch.nn.functional as F
from probe_attention import identity_values, inputs

from minisbert.course.judge import check, diagnose, require


def allowed_keys(keep):
    return keep.bool()[:, None, None, :]  # (B, 1, 1, L): True where a key may be attended to


def mistakes(q, k, v, allowed):
    d = q.size(-1)
    raw = q @ k.transpose(-2, -1)
    return {
        "the scores are not scaled: divide Q K^T by sqrt(d), d the size of one head":
            raw.masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the scores are divided by d: the scaling is 1 / sqrt(d)":
            (raw / d).masked_fill(~allowed, -1e9).softmax(-1) @ v,
        "the padding mask is not applied: add it to the scores before the softmax":
            (raw / math.sqrt(d)).softmax(-1) @ v,
        "the softmax runs over the queries: it must run over the keys (the last axis)":
            (raw / math.sqrt(d)).masked_fill(~allowed, -1e9).softmax(-2) @ v,
    }


def probabilities(q, k, allowed):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~allowed, float("-inf")).softmax(-1)


@check(2, "out", "probs")
def shapes(seed, got):
    out, probs = got("out"), got("probs")
    require(tuple(out.shape) == (2, 3, 5, 8), f"the output has shape {tuple(out.shape)}, expected (B, h, L, d)")
    require(tuple(probs.shape) == (2, 3, 5, 4),
            f"the probabilities have shape {tuple(probs.shape)}, expected (B, h, queries, keys)")
    # right shapes with wrong numbers earn nothing: the values of this rectangular case count too
    q, k, v, _ = inputs(seed)
    k, v = k[:, :, :4], v[:, :, :4]
    everything = torch.ones(2, 1, 1, 4, dtype=torch.bool)
    diagnose(out, F.scaled_dot_product_attention(q, k, v), mistakes(q, k, v, everything))
    diagnose(probs, probabilities(q, k, everything), {})


@check(3, "out")
def values_without_mask(seed, got):
    q, k, v, _ = inputs(seed)
    everything = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    diagnose(got("out"), F.scaled_dot_product_attention(q, k, v), mistakes(q, k, v, everything))


@check(3, "out")
def values_with_padding_mask(seed, got):
    q, k, v, keep = inputs(seed)
    allowed = allowed_keys(keep)
    diagnose(got("out"), F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), mistakes(q, k, v, allowed))


@check(2, "probs")
def probabilities_are_returned(seed, got):
    q, k, _, keep = inputs(seed)
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    diagnose(got("probs"), probabilities(q, k, allowed_keys(keep)),
             {"return the probabilities, not the scores": scores})


@check(2, "out", "probs")
def model_sized_inputs(seed, got):
    q, k, v, keep = inputs(seed, 1, (2, 12, 9, 32))
    q, k, allowed = 3 * q, 3 * k, allowed_keys(keep)
    diagnose(got("out"), F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), mistakes(q, k, v, allowed))
    diagnose(got("probs"), probabilities(q, k, allowed), {})


@check(1, "evaluating", "without", "training")
def dropout_only_while_training(seed, got):
    q, k, v, keep = inputs(seed, 2)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed_keys(keep))
    diagnose(got("without"), expected, {})
    require(torch.allclose(got("evaluating"), expected, atol=1e-5), "with training=False, dropout must do nothing")
    require(not torch.allclose(got("training"), expected, atol=1e-5),
            "with training=True, dropout must drop attention weights")


@check(2, "out")
def dropout_is_on_the_probabilities(seed, got):
    """Dropout on the probabilities keeps the last column the sum of the others; dropout on the output
    does not (V = [I | 1], see probe_attention.identity_values)."""
    q, k, _, _ = inputs(seed, 3)
    L = q.size(2)
    out = got("out", shape=identity_values(L).shape)
    probs = probabilities(q, k, torch.ones(2, 1, 1, L, dtype=torch.bool))
    weights, total = out[..., :L], out[..., L]
    kept = weights != 0
    require(not kept.all(), "with training=True and dropout 0.5, no attention weight was dropped")
    # about half kept, as dropout 0.5 keeps: all-zero weights (no attention at all) drop nothing to compare
    require(0.3 < kept.float().mean().item() < 0.7,
            f"{100 * kept.float().mean().item():.0f} % of the attention weights are non-zero; dropout 0.5 keeps about half")
    require(torch.allclose(total, weights.sum(-1), atol=1e-5),
            "dropout is applied after multiplying by V: drop the attention probabilities, then multiply by V")
    require(torch.allclose(weights[kept], (probs / 0.5)[kept], atol=1e-5),
            "the kept probabilities must be scaled by 1 / (1 - p), as F.dropout does")
