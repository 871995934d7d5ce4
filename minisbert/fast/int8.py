"""int8 inference on the CPU: the encoder's Linear layers as 8-bit integer products.

A Linear layer computes y = x W^T + b, x: (T, K) tokens, W: (N, K). Most of an
encoder's time goes there. In int8 both factors are stored as whole numbers in
[-127, 127] with a float scale each:

    weights, once:          W[n, :] ≈ s_w[n] · Wq[n, :]    s_w[n] = max_k |W[n, k]| / 127   (per output channel)
    activations, per call:  x[t, :] ≈ s_x[t] · Xq[t, :]    s_x[t] = max_k |x[t, k]| / 127   (per token)
    product:                y[t, n] ≈ s_x[t] · s_w[n] · Σ_k Xq[t, k] Wq[n, k] + b[n]

The sum runs on integers (int8 × int8 -> int32: `torch._int_mm`, which uses the
CPU's int8 dot-product instructions, VNNI on this project's machines), and only
the result is scaled back to float. Everything else (embeddings, attention's
softmax, LayerNorm, GELU, pooling) stays in float32. (On a CPU without VNNI the
kernels behind torch._int_mm add pairs of products in 16-bit integers first,
which can overflow; encode's int8 copy sums in float32 there: prepacked.py.)

Why a scale per token and not one for the whole batch: a few tokens carry a few
channels that are far larger than the rest. With one scale for the batch, that
token's largest value sets the step for every token, and the ordinary tokens
are rounded to a handful of levels; with a scale per token each token uses all
255 levels. The same reasoning, per output channel, applies to the weights.
"""

from __future__ import annotations

import torch
from torch import nn

LEVELS = 127  # symmetric: -127..127 (-128 unused, so that q and -q both exist)


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: (R, K) float -> (int8 codes (R, K), float scales (R, 1)) with x ≈ scales · codes, one scale per row."""
    buffer = x.abs()  # (R, K): |x| first, then x / scale (one large allocation instead of three)
    scale = buffer.amax(dim=1, keepdim=True).clamp_min(1e-12) / LEVELS  # (R, 1); an all-zero row keeps codes 0
    codes = torch.div(x, scale, out=buffer).round_().to(torch.int8)  # (R, K); |x / scale| <= 127 by the scale
    return codes, scale


class Int8Linear(nn.Module):
    """nn.Linear's inference twin: int8 weights (per output channel), int8 activations (per token)."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        codes, scale = quantize_rows(linear.weight.detach().float())  # (N, K) int8, (N, 1)
        self.register_buffer("weight_codes_t", codes.t().contiguous())  # (K, N): _int_mm's layout
        self.register_buffer("weight_scale", scale.t().contiguous())  # (1, N)
        bias = linear.bias.detach().float() if linear.bias is not None else None
        self.register_buffer("bias", bias)  # (N,) or None
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., K) float -> (..., N) float."""
        rows = x.reshape(-1, self.in_features).float()  # (T, K): every token, whatever the leading shape
        codes, scale = quantize_rows(rows)  # (T, K) int8, (T, 1)
        acc = torch._int_mm(codes, self.weight_codes_t)  # (T, N) int32: Σ_k Xq[t, k] Wq[n, k]
        y = acc.float().mul_(scale).mul_(self.weight_scale)  # s_x[t] · s_w[n] · acc[t, n], in place
        if self.bias is not None:
            y.add_(self.bias)
        return y.view(*x.shape[:-1], self.out_features).to(x.dtype)  # (T, N) -> (..., N), x's dtype

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"
