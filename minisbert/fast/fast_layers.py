"""The fast layers: the written-out classes' twins, computing the same numbers faster.

The written-out modules (attention.py, layers.py, bert.py) are what the lessons
read. This file holds their fast twins: subclasses that keep every parameter
under the same name (so the same checkpoints load) and every forward that holds
the idea (`EncoderLayer.forward`, `Attention.forward`, `AddNorm.forward`, the
encoder's loop over its layers), and change only how a piece is computed. They
compute the same numbers (tests/test_fast_path.py: hidden states at every layer,
embeddings and every gradient within 1e-5 in float32, and the training step in
bf16). fast_bert.py builds the model from them.

Two speed-ups:

1. Fused kernels: torch's `F.scaled_dot_product_attention`, `F.layer_norm` and
   `F.gelu` do in one pass over memory what the written-out code does in several.
2. Padding-free layers. A batch is a (B, L) grid padded to its longest sentence;
   only attention needs that grid. The projections, the feed-forward network,
   LayerNorm and dropout act on each token alone, so a `Packing` gathers the T
   real tokens, (B, L, H) -> (T, H), and scatters them back onto a grid only
   inside attention. The layers never see the packing: it travels in the mask
   argument (a `PackedMask`), which the written-out layers pass on untouched to
   the attention, and only `FastSelfAttention` opens it. In a random training
   batch of STS Benchmark pairs more than half of the grid is padding.
   Attention's grid is (B, G) with G the length rounded up to a multiple of 16:
   torch's fused attention on the CPU runs whole blocks of 16 keys several times
   faster than a length just short of one (benchmarks/fast_kernels.py), and the
   added columns are padding, masked like the rest.

Three settings serve the CPU's inference copies (cpu_copy.py sets them), never
training: `FastEncoder.stream_dtype` (the bf16 copy keeps bf16 between the
layers), `FastSelfAttention.attention_dtype` (its attention cast up to float32
on short grids) and `FastSelfAttention.batched_max` (attention as two batched
products, `batched_attention`, where torch's fused kernel is slow).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..attention import MultiHeadAttention, extended_attention_mask, scaled_dot_product_attention
from ..bert import Encoder
from ..layers import AddNorm, Attention, EncoderLayer, Intermediate, LayerNorm


# torch's fused attention on the CPU is several times faster when the length is a multiple of 16 (measured by
# benchmarks/fast_kernels.py), so attention's grid is padded up to one
ATTENTION_BLOCK = 16
ATTENTION_UPCAST_MAX = 48  # FastSelfAttention.attention_dtype applies to grids of at most this many tokens


class Packing:
    """Where the real tokens of a padded batch lie: gather them, (B, L, ...) -> (T, ...), and back; and the
    grid attention runs on, (B, G, ...), G = L rounded up to a multiple of ATTENTION_BLOCK."""

    def __init__(self, attention_mask: torch.Tensor):
        self.batch, self.length = attention_mask.shape  # B, L
        self.index = attention_mask.flatten().nonzero().squeeze(1)  # (T,): flat positions b * L + l
        self.grid_length = -(-self.length // ATTENTION_BLOCK) * ATTENTION_BLOCK  # G >= L
        # the same tokens' flat positions b * G + l on attention's grid
        self.grid_index = self.index + (self.index // self.length) * (self.grid_length - self.length)  # (T,)
        self.sources = self._sources(self.length, self.index, len(self.index))  # (B L,): T at padding
        self.grid_sources = self._sources(self.grid_length, self.grid_index, 0)  # (B G,): 0 at padding

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, ...) -> (T, ...): the real tokens only, in reading order."""
        return x.flatten(0, 1).index_select(0, self.index)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(T, ...) -> (B, L, ...): back onto the grid, zeros at the padding."""
        padded = torch.cat([x, x.new_zeros(1, *x.shape[1:])])  # (T + 1, ...): row T is the zeros
        return padded.index_select(0, self.sources).view(self.batch, self.length, *x.shape[1:])

    def to_grid(self, x: torch.Tensor) -> torch.Tensor:
        """(T, ...) -> (B, G, ...): onto attention's grid, token t at its position. A padding position holds a
        copy of token 0's row, not zeros (zeros would cost a copy of x per layer: the row appended, as in unpack),
        and no hidden state depends on it: as a key the mask hides it (its score plus the dtype's minimum gets
        weight 0 in the softmax, whatever the key), and as a query its output row is dropped (from_grid). Only
        the attention probabilities returned for padding queries (output_attentions) show it; those rows mean
        nothing, in any BERT."""
        if len(x) == 0:  # a batch of padding only: no row to copy
            return x.new_zeros(self.batch, self.grid_length, *x.shape[1:])
        return x.index_select(0, self.grid_sources).view(self.batch, self.grid_length, *x.shape[1:])

    def from_grid(self, x: torch.Tensor) -> torch.Tensor:
        """(B, G, ...) -> (T, ...): the rows of the real tokens from attention's grid."""
        return x.flatten(0, 1).index_select(0, self.grid_index)

    def grid_mask(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, L) of 1 and 0 -> (B, G): the G - L columns added are padding."""
        return F.pad(attention_mask, (0, self.grid_length - self.length))

    # unpack and to_grid are scatters written as gathers: each position of the grid reads a row of x. torch's
    # scatter (index_copy) took about twice as long on the CPU (benchmarks/fast_kernels.py).
    def _sources(self, length: int, index: torch.Tensor, padding: int) -> torch.Tensor:
        """(B length,): the row of x each grid position reads, `padding` where no token lies."""
        source = torch.full((self.batch * length,), padding, dtype=torch.long, device=index.device)
        return source.index_copy_(0, index, torch.arange(len(index), device=index.device))


@dataclass
class PackedMask:
    """The mask the fast layers pass on: the additive mask on attention's grid (B, 1, 1, G) and where the T real
    tokens lie."""
    additive: torch.Tensor
    packing: Packing


class FusedLayerNorm(LayerNorm):
    """LayerNorm by torch's kernel: the same parameters and formula in one pass."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


def batched_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      additive: torch.Tensor | None) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d) + mask) V for inference, as attention.py writes it (no dropout, no probabilities
    returned), in whole-batch kernels and in place. q, k, v: (B, h, G, d); additive: (B, 1, 1, G) or None."""
    scores = torch.matmul(q, k.transpose(-2, -1)).mul_(q.size(-1) ** -0.5)  # (B, h, G, G): one batched product
    if additive is not None:
        scores.add_(additive)  # padding keys get the dtype's minimum: weight 0 after the softmax
    return torch.matmul(scores.softmax(dim=-1), v)  # (B, h, G, d): the second batched product


class FastSelfAttention(MultiHeadAttention):
    """Multi-head attention through torch's fused kernel, on packed tokens when the mask says so."""
    # the bf16 inference copy's: float32 on short grids. With heads of 32 values, torch's fused attention on the
    # CPU ran slower in bf16 than in float32 up to 48 keys and faster from 64 on (benchmarks/fast_kernels.py, the
    # Xeon with AMX), so on grids of up to ATTENTION_UPCAST_MAX tokens the copy casts Q, K and V up, once
    attention_dtype: torch.dtype | None = None  # None: x's dtype
    # the inference copies', on CPUs whose fused kernel is slow (hardware.fused_attention_is_slow): float32 attention
    # on grids of up to this many tokens as batched_attention's whole-batch products; 0: never
    # (cpu_copy.BATCHED_ATTENTION_MAX says how far, and why)
    batched_max: int = 0

    def forward(self, x: torch.Tensor, mask: torch.Tensor | PackedMask | None = None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (T, H) real tokens with a PackedMask, else (B, L, H) with an additive (B, 1, 1, L) mask or None."""
        packing = mask.packing if isinstance(mask, PackedMask) else None
        additive = mask.additive if packing is not None else mask
        length = packing.grid_length if packing is not None else x.size(1)  # attention's L (or G)
        upcast = self.attention_dtype if self.attention_dtype and length <= ATTENTION_UPCAST_MAX else None
        q, k, v = self.project(x, packing, upcast)  # each (B, G, H) on attention's grid, or (B, L, H)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)  # (B, h, L, d)
        if upcast and additive is not None:
            additive = additive.to(upcast)  # the kernel takes one dtype
        p = self.dropout if self.training else 0.0
        if output_attentions:  # only the written-out function returns the probabilities
            out, probs = scaled_dot_product_attention(q, k, v, additive, p, self.training)
        elif q.dtype == torch.float32 and length <= self.batched_max and not self.training:
            out, probs = batched_attention(q, k, v, additive), None
        else:
            out, probs = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=p), None
        out = self.merge_heads(out)  # (B, G, H) or (B, L, H)
        if packing is not None:
            L = packing.length  # the probabilities of the queries and keys of the input's grid
            out, probs = packing.from_grid(out), (probs[..., :L, :L] if probs is not None else None)  # (T, H)
        return (out.to(x.dtype) if upcast else out), probs

    def project(self, x: torch.Tensor, packing: Packing | None,
                dtype: torch.dtype | None = None) -> tuple[torch.Tensor, ...]:
        """Q, K, V, each (B, G, H) on attention's grid if packed, else (B, L, H), cast to `dtype` if given: three
        products, or one over the stacked weights where the inference copy (cpu_copy.product_copy) has put them together
        as `qkv`."""
        if "qkv" in self._modules:
            qkv = self.qkv(x)  # (T, 3H) or (B, L, 3H)
            qkv = qkv.to(dtype) if dtype else qkv  # one cast
            return (packing.to_grid(qkv) if packing is not None else qkv).chunk(3, dim=-1)  # one scatter
        q, k, v = (t.to(dtype) if dtype else t for t in (self.query(x), self.key(x), self.value(x)))
        return tuple(packing.to_grid(t) for t in (q, k, v)) if packing is not None else (q, k, v)


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
    stream_dtype: torch.dtype | None = None  # the bf16 inference copy's: the layers' inputs and outputs in bf16

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = False,
                output_attentions: bool = False):
        """x: (B, L, H), attention_mask: (B, L) -> the hidden states (B, L, H) (all N + 1, or only the
        last), in x's dtype, and the N attentions."""
        dtype = x.dtype
        x = x.to(self.stream_dtype or dtype)  # a no-op unless this is the bf16 copy
        if bool(attention_mask.all()) and x.size(1) % ATTENTION_BLOCK == 0:  # nothing to pack, mask or pad
            hidden, attentions = self.run_layers(x, None, output_hidden_states, output_attentions)
        else:
            packing = Packing(attention_mask)
            additive = extended_attention_mask(packing.grid_mask(attention_mask), x.dtype)  # (B, 1, 1, G)
            hidden, attentions = self.run_layers(packing.pack(x), PackedMask(additive, packing),
                                                 output_hidden_states, output_attentions)
            hidden = [packing.unpack(h) for h in hidden]  # (T, H) -> (B, L, H), zeros at the padding
        return [h.to(dtype) for h in hidden], attentions
