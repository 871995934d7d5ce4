"""Helpers of the grading tests, one file per assignment (test_grade_<name>.py, run by
minisbert/course/grader.py from the instructor's checkout; never part of the student edition).

The fixture `others_by_reference` replaces every assignment except the graded one by a reference
implementation built on PyTorch's own functions, so that a mistake in one assignment
costs only that assignment's points."""

import math

import pytest
import torch
import torch.nn.functional as F


def ref_attention(q, k, v, mask=None, dropout=0.0, training=False):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(F.dropout(probs, dropout, training), v), probs


def ref_multihead_forward(self, x, mask=None, output_attentions=False):
    B, L, H = x.shape
    heads = [t.reshape(B, L, self.num_heads, self.head_dim).permute(0, 2, 1, 3)
             for t in (self.query(x), self.key(x), self.value(x))]
    out, probs = ref_attention(*heads, mask)
    out = out.permute(0, 2, 1, 3).reshape(B, L, H)
    return out, (probs if output_attentions else None)


def ref_layer_norm_forward(self, x):
    return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


def ref_add_norm_forward(self, x, residual):
    return self.LayerNorm(residual + self.dropout(self.dense(x)))


def ref_encoder_layer_forward(self, x, mask=None, output_attentions=False):
    a, probs = self.attention(x, mask, output_attentions)
    return self.output(self.intermediate(a), residual=a), probs


def ref_embeddings_forward(self, input_ids, token_type_ids):
    positions = torch.arange(input_ids.size(1), device=input_ids.device)
    x = F.embedding(input_ids, self.token_weight()) + self.position_embeddings(positions) \
        + self.token_type_embeddings(token_type_ids)
    return self.dropout(self.LayerNorm(x))


def ref_mean(tokens, mask):
    m = mask[..., None].to(tokens.dtype)
    return (tokens * m).sum(1) / m.sum(1)


def ref_max(tokens, mask):
    return torch.where(mask[..., None].bool(), tokens, torch.finfo(tokens.dtype).min).amax(1)


def ref_cls(tokens, mask):
    return tokens[:, 0]


@pytest.fixture(name="others_by_reference")
def _others_by_reference(monkeypatch):
    from minisbert import attention, bert, layers, pooling

    def patch(graded: str):
        if graded != "attention":
            monkeypatch.setattr(attention, "scaled_dot_product_attention", ref_attention)
        if graded != "multihead":
            monkeypatch.setattr(attention.MultiHeadAttention, "forward", ref_multihead_forward)
        if graded != "encoder_layer":
            monkeypatch.setattr(layers.LayerNorm, "forward", ref_layer_norm_forward)
            monkeypatch.setattr(layers, "gelu", lambda x: F.gelu(x))
            monkeypatch.setattr(layers.AddNorm, "forward", ref_add_norm_forward)
            monkeypatch.setattr(layers.EncoderLayer, "forward", ref_encoder_layer_forward)
        if graded != "embeddings":
            monkeypatch.setattr(bert.BertEmbeddings, "forward", ref_embeddings_forward)
        if graded != "pooling":
            for name, fn in (("mean", ref_mean), ("max", ref_max), ("cls", ref_cls)):
                monkeypatch.setitem(pooling.POOL, name, fn)
    return patch


def diagnose(actual, expected, mistakes: dict, atol=1e-5) -> None:
    """Fail with the description of the known mistake the output matches, else with the largest difference."""
    actual, expected = torch.as_tensor(actual).float(), torch.as_tensor(expected).float()
    if actual.shape == expected.shape and torch.allclose(actual, expected, atol=atol, rtol=0):
        return
    for what, wrong in mistakes.items():
        wrong = torch.as_tensor(wrong).float()
        if wrong.shape == actual.shape and torch.allclose(actual, wrong, atol=atol, rtol=0):
            pytest.fail(what, pytrace=False)
    if actual.shape != expected.shape:
        pytest.fail(f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}", pytrace=False)
    diff = (actual - expected).abs()
    where = tuple(torch.nonzero(diff == diff.max())[0].tolist())
    pytest.fail(f"largest difference {diff.max().item():.3g} at index {where} (got {actual[where].item():.6g}, "
                f"expected {expected[where].item():.6g})", pytrace=False)
