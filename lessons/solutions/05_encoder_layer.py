"""Lesson 05, exercises."""
import math

import torch

from minisbert import BertModel
from minisbert.attention import extended_attention_mask
from minisbert.layers import gelu
from minisbert.course.check import reference

bert = BertModel.from_pretrained("all-MiniLM-L6-v2", fast=False)
layer = bert.encoder.layer[0]
device = layer.output.dense.weight.device  # MINISBERT_DEVICE, or the first of cuda, mps, cpu
ids = torch.tensor(reference("batch.input_ids"), device=device)
keep = torch.tensor(reference("batch.attention_mask"), device=device)
expected = reference("layer0.output").to(device)
with torch.no_grad():
    x = bert.embeddings(ids, torch.zeros_like(ids))
    mask = extended_attention_mask(keep, x.dtype)

    # 1. Pre-LN with the same weights: LN before each block. The weights were trained post-LN, so the
    # numbers are different: the layer was learned as one function, not as interchangeable parts.
    ln1, ln2 = layer.attention.output.LayerNorm, layer.output.LayerNorm
    a = x + layer.attention.output.dense(layer.attention.self(ln1(x), mask)[0])
    y_pre = a + layer.output.dense(gelu(layer.intermediate.dense(ln2(a))))
    print("pre-LN, largest difference:", (y_pre - expected).abs().max().item())

    # 2. The tanh approximation of GELU inside the layer.
    def gelu_tanh(t):
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t ** 3)))
    ctx, _ = layer.attention.self(x, mask)
    a = layer.attention.output.LayerNorm(x + layer.attention.output.dense(ctx))
    y = layer.output.LayerNorm(a + layer.output.dense(gelu_tanh(layer.intermediate.dense(a))))
    print("tanh GELU, largest difference:", (y - expected).abs().max().item())

# 3. Parameters per block.
for name, module in [("attention", layer.attention), ("feed-forward", torch.nn.ModuleList(
        [layer.intermediate, layer.output]))]:
    print(f"{name:<13} {sum(p.numel() for p in module.parameters()):,}")
