"""Prepacked products for inference on the CPU: every weight laid out once for oneDNN, in float32 or bf16.

A Linear layer's product y = x W^T + b runs in a matrix kernel that reads W in
its own blocked order (tiles the size of the CPU's registers, or of AMX's tile
registers for bf16). Called with a plain (N, K) weight, the kernel first copies
W into that order, at every call; under autocast it also casts W from float32 to
bf16 first. For all-MiniLM-L6-v2 that is 10.6 M weights re-read and re-written
per batch, as much memory traffic as the product itself moves at the short
sentences of the STS Benchmark. Inference does not change the weights, so this
module does both once:

    once:       Wp = reorder(W.to(dtype))                       (N, K) -> oneDNN's blocked layout
    per call:   y  = act(x.to(dtype) Wp^T + b)                  act: none, or GELU in the epilogue

`torch.ops.mkldnn._reorder_linear_weight` and `torch.ops.mkldnn._linear_pointwise`
are the two halves (torch's own: TorchInductor calls them when it freezes a model
for the CPU). The epilogue is the kernel's last step on each output tile while
it is still in registers: GELU there saves a pass over the (T, 4H) activations.

Two more savings, which need no new kernel:
- one product for the query, key and value projections: W^Q, W^K, W^V stacked
  into one (3H, H) weight, so x is read once and one call replaces three;
- in the bf16 copy the activations between the products stay bf16 too (the
  encoder casts the embeddings once and its output back to float32): no cast
  before each product, half the bytes for the residual sums and LayerNorms,
  whose statistics torch's kernel still accumulates in float32.

Where torch has no oneDNN (some non-x86 builds) the packed layout is skipped and
the weights are still cast once. fast_bert.product_copy builds the inference
copy from these layers; FastBertModel.inference_copy keeps it, once per set of
weights, as it keeps the int8 copy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def onednn_packs() -> bool:
    """Whether this torch can lay weights out for oneDNN's linear kernel (x86 builds can)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


class PackedLinear(nn.Module):
    """nn.Linear's inference twin: the weight prepacked in `dtype`, the activation ("none", "gelu") fused."""

    def __init__(self, linear: nn.Linear, activation: str = "none", dtype: torch.dtype = torch.float32):
        super().__init__()
        weight = linear.weight.detach().to(dtype)  # (N, K)
        bias = linear.bias.detach().to(dtype) if linear.bias is not None else None  # (N,) or None
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.dtype, self.activation, self.onednn = dtype, activation, onednn_packs() and weight.device.type == "cpu"
        # not buffers: a oneDNN tensor cannot be saved or moved, and this copy is never saved or moved
        # oneDNN lays a weight out for the number of rows it expects x to have: many (None) or one. On a Xeon with
        # AMX the one-row layout ran the narrowing bf16 product (1536 -> 384) faster and the others slower
        # (benchmarks/fast_kernels.py); float32 gained from it nowhere
        rows = 1 if dtype == torch.bfloat16 and self.in_features > self.out_features else None
        self.weight = torch.ops.mkldnn._reorder_linear_weight(weight, rows) if self.onednn else weight
        self.bias = bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., K), any float dtype -> (..., N) in this layer's dtype."""
        rows = x.reshape(-1, self.in_features).to(self.dtype)  # (T, K); a no-op when x is in dtype already
        if self.onednn:  # "none" means erf, the exact GELU, as BERT's
            y = torch.ops.mkldnn._linear_pointwise(rows, self.weight, self.bias, self.activation, [],
                                                   "none" if self.activation == "gelu" else "")
        else:
            y = F.linear(rows, self.weight, self.bias)
            y = F.gelu(y) if self.activation == "gelu" else y
        return y.view(*x.shape[:-1], self.out_features)  # (T, N) -> (..., N)

    def extra_repr(self) -> str:
        layout = "oneDNN-packed" if self.onednn else "plain"
        return f"in_features={self.in_features}, out_features={self.out_features}, {self.dtype}, {layout}, " \
               f"activation={self.activation}"
