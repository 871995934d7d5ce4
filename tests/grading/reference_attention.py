"""Reference of 'attention' for the other assignments' probes (copied into their graded trees, never
into the tree of 'attention' itself): PyTorch's own operations in place of the student's."""

import math

import torch
import torch.nn.functional as F


def ref_attention(q, k, v, mask=None, dropout=0.0, training=False):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))  # (B, h, L, L)
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(F.dropout(probs, dropout, training), v), probs


def install():
    from minisbert import attention
    attention.scaled_dot_product_attention = ref_attention
