"""Scaled dot-product attention and BERT's multi-head self-attention.

Vaswani et al. (2017), "Attention Is All You Need", section 3.2:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Every token's query is compared with every token's key; the softmax turns the
scores into weights that sum to 1 over the keys, and the output is the weighted
sum of the values. Multi-head attention runs h such attentions side by side on
h slices of size d_k = H / h, each with its own learned projections, and
concatenates the results:

    MultiHead(X) = Concat(head_1, ..., head_h),  head_i = Attention(X W_i^Q, X W_i^K, X W_i^V)

(BERT applies the output projection W^O in the next module, `attention.output`,
so that is where its checkpoints keep it.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig


def extended_attention_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, L) of 1 = real token, 0 = padding  ->  additive mask (B, 1, 1, L).

    0 where a key may be attended to, the most negative number of `dtype` where
    it may not: added to the scores, it sends those keys' softmax weight to 0.
    """
    mask = attention_mask[:, None, None, :].to(dtype)  # (B, 1, 1, L): broadcast over heads and queries
    return (1.0 - mask) * torch.finfo(dtype).min


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, dropout: float = 0.0,
                                 training: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(Q K^T / sqrt(d) + mask) V, written out.

    q, k, v: (B, h, L, d); mask: additive, broadcastable to (B, h, L, L).
    Returns the output (B, h, L, d) and the attention probabilities (B, h, L, L).
    """
    # BEGIN SOLUTION attention: softmax(Q K^T / sqrt(d) + mask) V; dropout on the probabilities; return (output, probs)
    d = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (B, h, L, L): query i against key j
    if mask is not None:
        scores = scores + mask
    probs = scores.softmax(dim=-1)  # each query's weights over the keys sum to 1
    # Dropout on the probabilities, as in BERT: randomly drop whole key positions.
    weights = F.dropout(probs, p=dropout, training=training)
    return weights @ v, probs  # (B, h, L, d)
    # END SOLUTION


class MultiHeadAttention(nn.Module):
    """BERT's self-attention: separate query/key/value projections, h heads.

    The submodule names `query`, `key`, `value` are those of BERT's checkpoints
    (`encoder.layer.N.attention.self.query.weight`, ...). fast/fast_layers.py holds a
    faster twin of this class, proven to compute the same numbers.
    """

    def __init__(self, cfg: BertConfig):
        super().__init__()
        H = cfg.hidden_size  # BertConfig has checked that the heads divide it
        self.num_heads, self.head_dim = cfg.num_attention_heads, H // cfg.num_attention_heads
        self.query = nn.Linear(H, H)  # W^Q for all heads at once
        self.key = nn.Linear(H, H)
        self.value = nn.Linear(H, H)
        self.dropout = cfg.attention_probs_dropout_prob  # on the attention probabilities, while training

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION multihead: (B, L, H) -> (B, h, L, d): view into heads, then move the head axis forward
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.head_dim).transpose(1, 2)  # (B, h, L, d)
        # END SOLUTION

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION multihead: merge the heads back: (B, h, L, d) -> (B, L, h*d)
        B, h, L, d = x.shape
        return x.transpose(1, 2).reshape(B, L, h * d)  # (B, L, h, d) -> (B, L, H): concatenate the heads
        # END SOLUTION

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, L, H); mask: additive (B, 1, 1, L). Returns (B, L, H) and, if asked, (B, h, L, L)."""
        q = self.split_heads(self.query(x))  # (B, L, H) -> (B, h, L, d)
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        p = self.dropout if self.training else 0.0
        out, probs = scaled_dot_product_attention(q, k, v, mask, p, self.training)  # (B, h, L, d)
        return self.merge_heads(out), (probs if output_attentions else None)  # (B, L, H)
