"""Prepacked products for inference on the CPU: every weight laid out once for oneDNN, in float32, bf16 or int8.

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
  whose statistics torch's kernel still accumulates in float32. Attention over
  short sentences is cast up to float32 (fast_layers.FastSelfAttention.attention_dtype):
  torch's fused attention kernel ran slower in bf16 than in float32 there.

int8 (PackedInt8Linear) is int8.py's Int8Linear, the same integers and scales,
with its weight codes laid out once for oneDNN's int8 product
(`torch.ops.onednn.qlinear_prepack` / `qlinear_pointwise`, also torch's own, from
its int8 path for TorchInductor), which also applies the weights' scales in its
epilogue:

    once:       Wp = reorder(Wq)                                Wq: (N, K) int8 codes, W ≈ s_w · Wq
    per call:   Xq, s_x = quantize_rows(x)                      a scale per token, as Int8Linear
                y  = act(s_x · (Xq Wp^T · s_w) + b)             the part in brackets: one oneDNN call, Xq
                                                                handed over as unsigned bytes (`unsigned`)

The token's scale s_x stays outside the kernel: oneDNN takes one activation scale
for the whole product, and one scale per batch would make a sentence's embedding
depend on the sentences beside it (and be less exact: int8.py says why).

Where torch has no oneDNN (some non-x86 builds) the packed layout is skipped: the
weights are still cast once, and int8 sums its codes in float32, as it does on a
CPU without VNNI or AMX, where oneDNN's int8 kernels can overflow
(onednn_packs_int8).
cpu_copy.py builds the inference copies from these layers;
FastBertModel.inference_copy keeps each, once per set of weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .hardware import read_cpu
from .int8 import Int8Linear, quantize_rows


def onednn_packs() -> bool:
    """Whether this torch can lay weights out for oneDNN's linear kernel (x86 builds can)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def onednn_packs_int8() -> bool:
    """Whether oneDNN's int8 linear kernel can run here, exactly: torch has it (x86 builds do) and the CPU says
    it has VNNI or AMX. Without them oneDNN's int8 kernels multiply with AVX2's instruction for unsigned by
    signed bytes, which adds each pair of products into a 16-bit integer and saturates: 2 · 255 · 127 exceeds
    32767 (limited to AVX2, on STS-B test sentences, embeddings moved down to cosine 0.97 from the exact ones)."""
    cpu = read_cpu()
    exact = cpu.vnni or "amx_int8" in cpu.flags
    return exact and torch.backends.mkldnn.is_available() and hasattr(torch.ops.onednn, "qlinear_pointwise")


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


def unsigned(codes: torch.Tensor) -> torch.Tensor:
    """int8 codes Xq (-127..127) -> uint8 codes Xu = Xq + 128 (1..255), in place: flipping a byte's top bit adds
    128 to it read as signed and as unsigned alike. x86's int8 instructions (VNNI's, AVX2's) multiply unsigned
    by signed bytes; oneDNN gives signed-by-signed products its optimised kernels only on some CPUs and shapes
    (AMX, large ones) and otherwise its reference code, thousands of times slower. With the zero point 128 the
    kernel takes the 128 back off: Σ_k (Xu - 128) Wq = Σ_k Xu Wq - 128 Σ_k Wq, the last sum known once per
    weight."""
    return codes.view(torch.uint8).bitwise_xor_(0x80)


GELU_FLOOR = -0.17  # GELU(x) = x Φ(x) is smallest at x ≈ -0.752, where it is -0.16997: no output goes below this


def quantize_from_floor(x: torch.Tensor, floor: float) -> tuple[torch.Tensor, torch.Tensor]:
    """x: (R, K) float, every value >= floor -> (int8 codes (R, K), scales (R, 1)) with x ≈ floor + scales · u,
    u = codes + 128 (0..255): 255 steps from the floor to the row's largest value, where quantize_rows spends
    127 on each side of 0. For GELU's output, which never goes below -0.17, the steps are about twice as fine.
    The codes are u less 128, so that they fit int8 (torch casts float to int8 several times faster than to
    uint8); `unsigned` turns them into the bytes u."""
    buffer = x - floor  # (R, K), >= 0
    scale = buffer.amax(dim=1, keepdim=True).clamp_min(1e-12) / 255  # (R, 1)
    return buffer.div_(scale).round_().sub_(128).to(torch.int8), scale  # u - 128, exact on whole numbers


class PackedInt8Linear(Int8Linear):
    """Int8Linear with its weight codes prepacked for oneDNN's int8 product; the activation ("none", "gelu")
    after it. Where that kernel cannot run exactly (onednn_packs_int8), the same integer sums in float32;
    compiled, Int8Linear's own product (torch._int_mm).

    `input_floor`, for an input known never to go below it (GELU_FLOOR: the second feed-forward product, whose
    input is GELU's output): its tokens are rounded from the floor up (quantize_from_floor) instead of
    symmetrically, and the floor's share of the product, floor · Σ_k W[n, k], joins the bias:
    x W^T = (floor + s_x · u) W^T = s_x · (u W^T) + floor · Σ_k W[:, k]. Not compiled (Int8Linear's rounding)."""

    def __init__(self, linear: nn.Linear, activation: str = "none", input_floor: float | None = None):
        super().__init__(linear)  # weight_codes_t (K, N) int8, weight_scale (1, N), bias (N,) or None
        self.activation, self.input_floor = activation, input_floor
        if input_floor is not None:  # (N,): b + floor · s_w[n] Σ_k Wq[n, k], with the weights as they are quantised
            self.code_sums = self.weight_codes_t.sum(dim=0, dtype=torch.int32)  # (N,): Σ_k Wq[n, k]
            floor_share = input_floor * self.code_sums.float() * self.weight_scale.flatten()
            self.floor_bias = floor_share + (self.bias if self.bias is not None else 0)
        self.onednn = onednn_packs_int8() and linear.weight.device.type == "cpu"
        if self.onednn:  # not buffers, as PackedLinear's weight
            self.packed_codes = torch.ops.onednn.qlinear_prepack(self.weight_codes_t.t().contiguous(), None)
            self.channel_scales = self.weight_scale.flatten()  # (N,): s_w, applied inside the kernel
            self.zero_points = torch.zeros(self.out_features, dtype=torch.long)  # symmetric codes: all 0
        else:  # float32 holds an integer sum exactly while |Σ| < 2^24: always for K = 384 (127 · 127 · K = 6.2 M at
            # most); for K = 1536 (255 · 127 · K from the floor) only a sum past 2^24 is rounded, by under 1e-7 of it
            self.float_codes_t = self.weight_codes_t.float()  # (K, N)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., K) float -> (..., N) float, x's dtype."""
        # compiled (compile=True: compiled.py), Int8Linear's own passes, which TorchInductor fuses: it cannot take
        # a prepacked weight that is not a constant of its graph
        if torch.compiler.is_compiling():
            y = super().forward(x) if self.input_floor is None else self.compiled_from_floor(x)
            return F.gelu(y) if self.activation == "gelu" else y
        rows = x.reshape(-1, self.in_features).float()  # (T, K)
        if self.input_floor is None:
            codes, scale = quantize_rows(rows)  # (T, K) int8 Xq, (T, 1): a scale per token
            zero_point, bias = 128, self.bias  # oneDNN reads the bytes Xq + 128 and takes the 128 back off
        else:
            codes, scale = quantize_from_floor(rows, self.input_floor)  # (T, K) int8 u - 128, (T, 1)
            zero_point, bias = 0, self.floor_bias  # oneDNN reads the bytes u themselves
        if self.onednn:
            # (T, N) float32: s_w[n] · Σ_k (byte[t, k] - zero point) Wq[n, k]; the arguments: x's codes as
            # unsigned bytes, scale 1 and the zero point, the packed codes, their scales and zero points, no bias,
            # output scale 1 and zero point 0, float32 out, no post-op
            y = torch.ops.onednn.qlinear_pointwise(unsigned(codes), 1.0, zero_point, self.packed_codes,
                                                   self.channel_scales, self.zero_points, None, 1.0, 0,
                                                   torch.float32, "none", [], "")
            y.mul_(scale)  # · s_x[t], in place: no new (T, N) tensor
        else:  # the same integer sums, in float32: Xq, or u = (u - 128) + 128
            y = ((codes.float() + (128 - zero_point)) @ self.float_codes_t).mul_(scale).mul_(self.weight_scale)
        if bias is not None:
            y.add_(bias)
        if self.activation == "gelu":  # erf, BERT's; in place, as the two lines above: F.gelu's new (T, N) tensor
            y = torch.ops.aten.gelu_(y)  # made int8's whole encode 3-5 % slower on an AMD EPYC Zen 4
        return y.view(*x.shape[:-1], self.out_features).to(x.dtype)

    def compiled_from_floor(self, x: torch.Tensor) -> torch.Tensor:
        """The product from the floor in Int8Linear's int8-by-int8 product (torch._int_mm), as compiled code runs
        it: Σ_k u Wq = Σ_k (u - 128) Wq + 128 Σ_k Wq. x: (..., K) -> (..., N), x's dtype."""
        codes, scale = quantize_from_floor(x.reshape(-1, self.in_features).float(), self.input_floor)
        sums = torch._int_mm(codes, self.weight_codes_t) + 128 * self.code_sums  # (T, N) int32: Σ_k u Wq
        y = sums.float().mul_(scale).mul_(self.weight_scale).add_(self.floor_bias)
        return y.view(*x.shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self) -> str:
        layout = "oneDNN-packed" if self.onednn else "summed in float32"
        floor = f", input from {self.input_floor}" if self.input_floor is not None else ""
        return f"{super().extra_repr()}, {layout}, activation={self.activation}{floor}"
