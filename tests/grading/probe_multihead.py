"""Probe of 'multihead' (runs in the graded process, with the student's split_heads and merge_heads; the
attention by its reference). Input builders shared with judge_multihead.py."""

import torch
from draws import hidden




def module(seed):
    """3 heads of 4, its weights drawn from the seed."""
    from minisbert import BertConfig
    from minisbert.attention import MultiHeadAttention
    torch.manual_seed(seed)
    return MultiHeadAttention(BertConfig(hidden_size=12, num_attention_heads=3)).eval()


def split_heads_shape_and_grouping(seed):
    x, _ = hidden(seed, 0, (2, 5, 12))
    return {"heads": module(seed).split_heads(x)}


def forward_matches_pytorch(seed):
    from minisbert.attention import extended_attention_mask
    x, keep = hidden(seed, 1, (2, 5, 12))
    with torch.no_grad():
        return {"out": module(seed)(x, extended_attention_mask(keep, x.dtype))[0]}


def pretrained_model(seed):
    """Layer 0's self-attention of all-MiniLM-L6-v2 (12 heads of 32) on hidden states drawn from the seed."""
    from minisbert import load_bert
    from minisbert.attention import extended_attention_mask
    x, keep = hidden(seed, 2, (2, 9, 384))
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    with torch.no_grad():
        return {"out": bert.encoder.layer[0].attention.self(x, extended_attention_mask(keep, x.dtype))[0]}
