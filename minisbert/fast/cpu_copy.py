"""The CPU's inference copy of a fast BERT: the same encoder, its products prepacked, read-only.

encode on the CPU runs a copy of the model (FastBertModel.inference_copy keeps
one per precision and set of weights) in which every Linear layer is a prepacked
product (prepacked.py) in float32, bf16 or int8, and everything else (the
embeddings, the LayerNorms, the attention's code) is the fast model's own:

- the query, key and value projections become one product over their stacked
  weights: x is read, and in int8 quantised, once;
- the first feed-forward product takes GELU as its activation (in float32 and
  bf16 inside oneDNN's epilogue; after the product in int8);
- in int8 the second feed-forward product rounds its input, GELU's output, from
  GELU's floor up (prepacked.quantize_from_floor): twice as fine as symmetric codes;
- in bf16 the activations between the layers stay bf16 (FastEncoder.stream_dtype),
  and attention over short grids is cast up to float32
  (FastSelfAttention.attention_dtype);
- on an AMD processor, whose fused attention kernel is slow, float32 attention
  over grids of up to BATCHED_ATTENTION_MAX tokens runs as two batched products
  (fast_layers.batched_attention; FastSelfAttention.batched_max).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from .fast_layers import FastEncoderLayer, FastIntermediate, FastSelfAttention
from .hardware import fused_attention_is_slow
from .prepacked import GELU_FLOOR, PackedInt8Linear, PackedLinear


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}  # the prepacked copies' precisions
# FastSelfAttention.batched_max where the fused kernel is slow: on an AMD EPYC (Zen 4) the batched products were
# several times faster at 16 tokens and about twice as fast up to 48; from 80 tokens on the two came within about
# a tenth of each other, either way round from run to run (benchmarks/fast_kernels.py)
BATCHED_ATTENTION_MAX = 80

# (linear, activation, input_floor) -> its prepacked product. input_floor: the lowest value the product's input can
# take (GELU_FLOOR after GELU), or None; only int8 uses it
Product = Callable[[nn.Linear, str, float | None], nn.Module]


def make_cpu_copy(model: nn.Module, precision: str) -> nn.Module:
    """A read-only copy of a FastBertModel for encode on the CPU in `precision` ("fp32", "bf16", "int8"), in eval
    mode. It shares the embeddings and LayerNorms with `model`: do not train, move or load into it."""
    if precision == "int8":
        product = PackedInt8Linear  # (linear, activation, input_floor)
    else:
        dtype = DTYPES[precision]

        def product(linear, activation, input_floor):  # a floating-point product needs no floor
            return PackedLinear(linear, activation, dtype)
    made = product_copy(model, product)
    if precision == "bf16":  # bf16 between the layers too: no casts at every product, half the bytes
        made.encoder.stream_dtype = torch.bfloat16
    batched_max = BATCHED_ATTENTION_MAX if fused_attention_is_slow() else 0  # reads /proc/cpuinfo: once per copy
    for module in made.modules():  # the copy's own modules (product_copy copies every one)
        if isinstance(module, FastSelfAttention):
            module.attention_dtype = torch.float32 if precision == "bf16" else None
            module.batched_max = batched_max
    return made.eval()


def product_copy(module: nn.Module, product: Product, input_floor: float | None = None) -> nn.Module:
    """A copy of a fast encoder (or any part of it) whose plain nn.Linear layers are made by `product`. The query,
    key and value projections become one product over their stacked weights, the first feed-forward product takes
    GELU as its activation, and the product after it is told that its input never goes below GELU_FLOOR. Every
    other parameter is shared with `module`, not copied. A layer that is not a plain nn.Linear (one a user
    replaced: torch's quantize_dynamic, an adapter) is not made a product; plain nn.Linear layers inside it are.
    input_floor: the lowest value `module`'s input takes, where known."""
    def plain(*layers: nn.Module) -> bool:
        return all(type(layer) is nn.Linear for layer in layers)
    if isinstance(module, FastSelfAttention) and plain(module.query, module.key, module.value):
        twin = copy.copy(module)  # its project() runs the one product `qkv`
        twin._modules = {"qkv": product(stacked([module.query, module.key, module.value]), "none", None)}
        return twin
    if isinstance(module, FastIntermediate) and plain(module.dense):  # GELU(x W1^T + b1)
        return product(module.dense, "gelu", None)
    if plain(module):
        return product(module, "none", input_floor)

    def floor_of(name: str) -> float | None:
        """The floor a child's input is known to have: an encoder layer's output block reads the feed-forward's
        GELU, and inside a block only its `dense` reads the block's input (a Linear after it reads another's)."""
        if isinstance(module, FastEncoderLayer):
            return GELU_FLOOR if name == "output" else None
        return input_floor if name == "dense" else None
    twin = copy.copy(module)  # a new module object over the same parameters
    twin._modules = {name: None if child is None else product_copy(child, product, floor_of(name))
                     for name, child in module._modules.items()}
    return twin


def stacked(linears: list[nn.Linear]) -> nn.Linear:
    """Linear layers of the same input as one: their weights' rows (and biases) one after another."""
    weight = torch.cat([lin.weight.detach() for lin in linears])  # (N1 + N2 + ..., K)
    one = nn.Linear(weight.shape[1], weight.shape[0], device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        one.weight.copy_(weight)
        one.bias.copy_(torch.cat([lin.bias.detach() if lin.bias is not None else lin.weight.new_zeros(lin.out_features)
                                  for lin in linears]))  # a layer without bias adds zeros
    return one
