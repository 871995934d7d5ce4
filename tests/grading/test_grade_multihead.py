"""Assignment 'multihead': MultiHeadAttention.split_heads and merge_heads (minisbert/attention.py)."""

import pytest
import torch
import torch.nn.functional as F
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert import BertConfig
from minisbert.attention import MultiHeadAttention, extended_attention_mask


def module(seed=0):
    torch.manual_seed(seed)
    return MultiHeadAttention(BertConfig(hidden_size=12, num_attention_heads=3)).eval()  # 3 heads of 4


@pytest.mark.points(5)
def test_split_heads_shape_and_grouping(others_by_reference):
    others_by_reference("multihead")
    x = torch.arange(2 * 5 * 12, dtype=torch.float).reshape(2, 5, 12)
    heads = module().split_heads(x)
    diagnose(heads, x.view(2, 5, 3, 4).transpose(1, 2), {
        "view(B, h, L, d) without a transpose mixes positions and heads: view(B, L, h, d), then transpose(1, 2)":
            x.reshape(2, 3, 5, 4),
        "the heads are not moved before the positions: the result must be (B, h, L, d)": x.view(2, 5, 3, 4)})


@pytest.mark.points(6)
def test_forward_matches_pytorch(others_by_reference):
    others_by_reference("multihead")
    mha = module(1)
    x = torch.randn(2, 5, 12)
    keep = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out, _ = mha(x, extended_attention_mask(keep, x.dtype))
    q, k, v = (t.view(2, 5, 3, 4).transpose(1, 2) for t in (mha.query(x), mha.key(x), mha.value(x)))
    per_head = F.scaled_dot_product_attention(q, k, v, attn_mask=keep.bool()[:, None, None, :])  # (B, h, L, d)
    diagnose(out.detach(), per_head.transpose(1, 2).reshape(2, 5, 12).detach(), {
        "the heads are merged without moving them back: transpose(1, 2) before the reshape to (B, L, H)":
            per_head.reshape(2, 5, 12).detach()})


@pytest.mark.points(4)
def test_lesson_reference_values(others_by_reference):
    from minisbert import load_bert
    from minisbert.course.check import check_close, reference
    others_by_reference("multihead")
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    ids = torch.tensor(reference("batch.input_ids"))
    keep = torch.tensor(reference("batch.attention_mask"))
    with torch.no_grad():
        x = reference("embeddings.output")  # the input of layer 0
        out, _ = bert.encoder.layer[0].attention.self(x, extended_attention_mask(keep, x.dtype))
    assert ids.shape == out.shape[:2]
    check_close("mha.layer0.context", out)
