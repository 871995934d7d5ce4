"""Attention against a hand computation and against PyTorch's own modules."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from minisbert import BertConfig
from minisbert.attention import MultiHeadAttention, extended_attention_mask, scaled_dot_product_attention


def random_mask(B, L, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, L + 1, (B,), generator=g)
    lengths[0] = L  # at least one row without padding
    return (torch.arange(L)[None, :] < lengths[:, None]).long()  # (B, L)


def test_by_hand_one_query_two_keys():
    q = torch.tensor([[[[1.0, 0.0]]]])  # (1, 1, 1, 2)
    k = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])  # (1, 1, 2, 2)
    v = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    out, probs = scaled_dot_product_attention(q, k, v)
    s = 1 / math.sqrt(2)  # scores q.k / sqrt(d) = [1/sqrt(2), 0]
    w0 = math.exp(s) / (math.exp(s) + 1)
    assert_close(probs[0, 0, 0], torch.tensor([w0, 1 - w0]))
    assert_close(out[0, 0, 0], torch.tensor([w0 * 1 + (1 - w0) * 3, w0 * 2 + (1 - w0) * 4]))


def test_masked_key_gets_no_weight():
    q = k = v = torch.randn(1, 1, 3, 4)
    mask = extended_attention_mask(torch.tensor([[1, 1, 0]]), torch.float32)
    _, probs = scaled_dot_product_attention(q, k, v, mask)
    assert probs[..., 2].abs().max() == 0
    assert_close(probs.sum(-1), torch.ones(1, 1, 3))


@pytest.mark.parametrize("B,h,L,d,seed", [(1, 1, 1, 8, 0), (2, 4, 7, 16, 1), (3, 12, 33, 32, 2), (5, 2, 64, 64, 3)])
def test_against_torch_sdpa(B, h, L, d, seed):
    torch.manual_seed(seed)
    q, k, v = (torch.randn(B, h, L, d) for _ in range(3))
    mask = extended_attention_mask(random_mask(B, L, seed), torch.float32)
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=1e-5)


def copy_into_torch_mha(ours: MultiHeadAttention, out_proj: torch.nn.Linear) -> torch.nn.MultiheadAttention:
    H = ours.query.in_features
    ref = torch.nn.MultiheadAttention(H, ours.num_heads, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.query.weight, ours.key.weight, ours.value.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.query.bias, ours.key.bias, ours.value.bias]))
        ref.out_proj.weight.copy_(out_proj.weight)
        ref.out_proj.bias.copy_(out_proj.bias)
    return ref.eval()


@pytest.mark.parametrize("H,heads,L,seed", [(8, 1, 5, 0), (32, 4, 9, 1), (384, 12, 20, 2), (64, 16, 3, 3)])
def test_multi_head_against_torch_multihead_attention(H, heads, L, seed):
    torch.manual_seed(seed)
    ours = MultiHeadAttention(BertConfig(hidden_size=H, num_attention_heads=heads)).eval()
    out_proj = torch.nn.Linear(H, H)  # W^O, which BERT keeps in the next module
    ref = copy_into_torch_mha(ours, out_proj)
    x = torch.randn(3, L, H)
    keep = random_mask(3, L, seed)
    with torch.no_grad():
        context, probs = ours(x, extended_attention_mask(keep, x.dtype), output_attentions=True)
        expected, expected_probs = ref(x, x, x, key_padding_mask=keep == 0, average_attn_weights=False)
    assert_close(out_proj(context), expected, atol=1e-5, rtol=1e-5)
    assert_close(probs, expected_probs, atol=1e-6, rtol=1e-5)


def test_heads_must_divide_hidden_size():
    with pytest.raises(ValueError, match="divisible by num_attention_heads=3"):
        MultiHeadAttention(BertConfig(hidden_size=10, num_attention_heads=3))
