"""FastBertModel: the same BERT, computed faster, built from the written-out classes.

The written-out modules (attention.py, layers.py, bert.py) are what the lessons
read. This file holds their fast twins: subclasses that keep every parameter
under the same name (so the same checkpoints load) and every forward that holds
the idea (`EncoderLayer.forward`, `Attention.forward`, `AddNorm.forward`, the
encoder's loop over its layers), and change only how a piece is computed. They
compute the same numbers (tests/test_fast_path.py: hidden states at every layer,
embeddings and every gradient within 1e-5 in float32, and the training step in
bf16). `load_bert(name, fast=True)` (the default) builds this class.

Two speed-ups:

1. Fused kernels: torch's `F.scaled_dot_product_attention`, `F.layer_norm` and
   `F.gelu` do in one pass over memory what the written-out code does in several.
2. Padding-free layers. A batch is a (B, L) grid padded to its longest sentence;
   only attention needs that grid. The projections, the feed-forward network,
   LayerNorm and dropout act on each token alone, so a `Packing` gathers the T
   real tokens, (B, L, H) -> (T, H), and scatters them back onto the grid only
   inside attention. The layers never see the packing: it travels in the mask
   argument (a `PackedMask`), which the written-out layers pass on untouched to
   the attention, and only `FastSelfAttention` opens it. In a random training
   batch of STS Benchmark pairs more than half of the grid is padding.

`for_inference` adds the ways of running the model for encode: reduced precision
(precision.py), int8 (int8.py) and compiled layers (compiled.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import MultiHeadAttention, extended_attention_mask, scaled_dot_product_attention
from ..bert import BertModel, Encoder
from ..layers import AddNorm, Attention, EncoderLayer, Intermediate, LayerNorm
from ..support.errors import InputError
from .compiled import check_compiler, compiled_copy
from .hardware import int8_is_emulated
from .int8 import int8_copy
from .precision import precision_context, resolve_precision


class Packing:
    """Where the real tokens of a padded batch lie: gather them, (B, L, ...) -> (T, ...), and back."""

    def __init__(self, attention_mask: torch.Tensor):
        self.batch, self.length = attention_mask.shape  # B, L
        self.index = attention_mask.flatten().nonzero().squeeze(1)  # (T,): flat positions b * L + l

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, ...) -> (T, ...): the real tokens only, in reading order."""
        return x.flatten(0, 1).index_select(0, self.index)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(T, ...) -> (B, L, ...): back onto the grid, zeros at the padding."""
        grid = x.new_zeros(self.batch * self.length, *x.shape[1:])  # (B L, ...)
        return grid.index_copy(0, self.index, x).view(self.batch, self.length, *x.shape[1:])


@dataclass
class PackedMask:
    """The mask the fast layers pass on: the additive mask (B, 1, 1, L) and where the T real tokens lie."""
    additive: torch.Tensor
    packing: Packing


class FusedLayerNorm(LayerNorm):
    """LayerNorm by torch's kernel: the same parameters and formula in one pass."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


class FastSelfAttention(MultiHeadAttention):
    """Multi-head attention through torch's fused kernel, on packed tokens when the mask says so."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | PackedMask | None = None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (T, H) real tokens with a PackedMask, else (B, L, H) with an additive (B, 1, 1, L) mask or None."""
        packing = mask.packing if isinstance(mask, PackedMask) else None
        additive = mask.additive if packing is not None else mask
        q, k, v = self.query(x), self.key(x), self.value(x)  # (T, H) or (B, L, H)
        if packing is not None:
            q, k, v = packing.unpack(q), packing.unpack(k), packing.unpack(v)  # (T, H) -> (B, L, H)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)  # (B, h, L, d)
        p = self.dropout if self.training else 0.0
        if output_attentions:  # only the written-out function returns the probabilities
            out, probs = scaled_dot_product_attention(q, k, v, additive, p, self.training)
        else:
            out, probs = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=p), None
        out = self.merge_heads(out)  # (B, L, H)
        return (packing.pack(out) if packing is not None else out), probs  # (T, H) or (B, L, H)


class FastAddNorm(AddNorm):
    norm_class = FusedLayerNorm


class FastAttention(Attention):
    attention_class, add_norm_class = FastSelfAttention, FastAddNorm


class FastIntermediate(Intermediate):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # torch's exact (erf) GELU, as BERT's


class FastEncoderLayer(EncoderLayer):
    """EncoderLayer with the fused parts; its forward is EncoderLayer's own."""
    attention_class, intermediate_class, add_norm_class = FastAttention, FastIntermediate, FastAddNorm


class FastEncoder(Encoder):
    """Encoder with fast layers: packs the real tokens once, runs Encoder's loop on them, unpacks."""
    layer_class = FastEncoderLayer

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = False,
                output_attentions: bool = False):
        """x: (B, L, H), attention_mask: (B, L) -> the hidden states (B, L, H) (all N + 1, or only the
        last), and the N attentions."""
        if bool(attention_mask.all()):  # without padding there is nothing to pack or mask
            return self.run_layers(x, None, output_hidden_states, output_attentions)
        packing = Packing(attention_mask)
        mask = PackedMask(extended_attention_mask(attention_mask, x.dtype), packing)  # (B, 1, 1, L) + where
        hidden, attentions = self.run_layers(packing.pack(x), mask, output_hidden_states, output_attentions)
        return [packing.unpack(h) for h in hidden], attentions  # (T, H) -> (B, L, H), zeros at the padding


class Autocast(nn.Module):
    """Runs a module's forward under a precision context (bf16 or fp16 products); the module is shared."""

    def __init__(self, module: nn.Module, device: torch.device, precision: str):
        super().__init__()
        self.module, self.device, self.precision = module, device, precision

    def forward(self, *args, **kwargs):
        with precision_context(self.device, self.precision):
            return self.module(*args, **kwargs)


class FastBertModel(BertModel):
    """BertModel with the fast encoder, and the ways of running it for encode."""
    encoder_class = FastEncoder

    def for_inference(self, precision: str = "fp32", compile: bool = False) -> nn.Module:
        """The module that runs this encoder for encode: itself, its int8 copy, a view whose layers are
        compiled, or it under autocast (bf16, fp16); every parameter is shared with this model."""
        device = self.device
        precision = resolve_precision(precision, device)  # "auto": what this machine runs natively
        if precision == "int8" and device.type != "cpu":
            raise InputError(f"precision='int8' runs on the CPU (this model is on {device.type}); "
                             "on a GPU use 'fp16' or 'bf16'")
        if precision == "int8" and int8_is_emulated():
            warnings.warn("this CPU has no VNNI instructions (int8 dot products): precision='int8' runs, but "
                          "torch's int8 product has no fast kernel here and is many times slower than float32; "
                          "use precision='auto' (float32 on this CPU)", stacklevel=3)
        if compile:
            check_compiler(device)
        model = self._int8_copy() if precision == "int8" else self
        # a new view each call, so that it holds the model's modules of now; torch keeps the compiled code
        # with the layers' code, so only the first call of a process (or a new layer kind) compiles
        model = compiled_copy(model) if compile else model
        return Autocast(model, device, precision) if precision in ("bf16", "fp16") else model

    def _int8_copy(self) -> nn.Module:
        """The encoder with int8 Linear layers (int8.py): made once, remade when the weights change.

        A change is a new tensor in the model or an in-place change to one (an optimiser step,
        load_state_dict, .to(), adding rows), which bumps the tensor's version counter. Writes through
        `.data` bypass that counter and go unseen: change weights in place under torch.no_grad() instead.
        """
        tensors = [*self.parameters(), *self.buffers()]
        versions = [t._version for t in tensors]
        cached = self.__dict__.get("_int8")  # a plain attribute: not a submodule, never saved
        if (cached is None or cached[1] != versions or len(cached[0]) != len(tensors)
                or any(a is not b for a, b in zip(cached[0], tensors))):
            self.__dict__.pop("_int8", None)  # so that the new copy (a shallow one) does not hold the old
            self.__dict__["_int8"] = cached = (tensors, versions, int8_copy(self).eval())
        return cached[2]
