"""The pieces of one Transformer encoder layer as BERT builds it.

    a = LayerNorm(x + Dropout(MultiHead(x) W^O))        "attention" block
    y = LayerNorm(a + Dropout(GELU(a W_1) W_2))          "feed-forward" block

This is the *post-LN* layer of the original Transformer and of BERT: the
LayerNorm comes after each residual sum (pre-LN models, such as GPT-2, put it
before the sub-layer instead). Module names follow BERT's checkpoints:
`attention.self`, `attention.output.{dense,LayerNorm}`, `intermediate.dense`,
`output.{dense,LayerNorm}`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .attention import MultiHeadAttention
from .config import BertConfig


class LayerNorm(nn.Module):
    """Normalise each token vector to mean 0 and variance 1, then scale and shift.

        y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias

    over the last dimension, with the *biased* variance (divide by H, not H - 1)
    and eps *inside* the square root, exactly as BERT and torch.nn.LayerNorm do.
    BERT's eps is 1e-12. (Older checkpoints call weight/bias gamma/beta.)
    """

    def __init__(self, hidden_size: int, eps: float = 1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.bias = nn.Parameter(torch.zeros(hidden_size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION encoder_layer: LayerNorm over the last axis: biased variance, eps inside the square root
        mean = x.mean(dim=-1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=-1, keepdim=True)  # biased variance
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        # END SOLUTION


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GELU(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) (Hendrycks and Gimpel, 2016), the exact
    form that transformers' BERT computes (hidden_act="gelu") and its checkpoints are checked against;
    Google's original BERT code used the tanh approximation."""
    # BEGIN SOLUTION encoder_layer: the exact GELU, 0.5 x (1 + erf(x / sqrt 2))
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    # END SOLUTION


class AddNorm(nn.Module):
    """Project, drop out, add the residual, normalise: LayerNorm(residual + Dropout(x W + b))."""
    norm_class = LayerNorm  # the written-out LayerNorm (the fast twin uses torch's fused kernel)

    def __init__(self, in_size: int, cfg: BertConfig):
        super().__init__()
        self.dense = nn.Linear(in_size, cfg.hidden_size)  # in_size -> H
        self.LayerNorm = self.norm_class(cfg.hidden_size, cfg.layer_norm_eps)  # named as in the checkpoints
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION encoder_layer: LayerNorm(residual + Dropout(dense(x)))
        return self.LayerNorm(residual + self.dropout(self.dense(x)))
        # END SOLUTION


class Attention(nn.Module):
    """Multi-head self-attention, then W^O with residual and LayerNorm."""
    attention_class, add_norm_class = MultiHeadAttention, AddNorm  # the fast twin swaps in faster kernels

    def __init__(self, cfg: BertConfig):
        super().__init__()
        # `self` is BERT's own name for this submodule (attention.self.query.weight ...)
        self.self = self.attention_class(cfg)
        self.output = self.add_norm_class(cfg.hidden_size, cfg)

    def forward(self, x: torch.Tensor, mask=None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        context, probs = self.self(x, mask, output_attentions)  # (B, L, H); the mask passed on as it came
        return self.output(context, residual=x), probs


class Intermediate(nn.Module):
    """The feed-forward network's first half: widen H -> 4H (usually) and apply GELU."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu(self.dense(x))  # (B, L, H) -> (B, L, I)


class EncoderLayer(nn.Module):
    """One post-LN Transformer encoder layer: attention block, then feed-forward block."""
    # The parts, as classes: the fast twin (fast/fast_layers.py) swaps in faster ones and keeps this forward.
    attention_class, intermediate_class, add_norm_class = Attention, Intermediate, AddNorm

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.attention = self.attention_class(cfg)
        self.intermediate = self.intermediate_class(cfg)
        self.output = self.add_norm_class(cfg.intermediate_size, cfg)  # narrows 4H -> H

    def forward(self, x: torch.Tensor, mask=None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, L, H), mask: additive (B, 1, 1, L) -> (B, L, H) and the attention probabilities.

        The mask is only passed on, to the attention: whatever form it takes is the attention's business."""
        # BEGIN SOLUTION encoder_layer: attention block, then the feed-forward block and its residual; (y, probs)
        a, probs = self.attention(x, mask, output_attentions)
        return self.output(self.intermediate(a), residual=a), probs
        # END SOLUTION

