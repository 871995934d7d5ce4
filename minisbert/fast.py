"""The fast path: the same BERT encoder and training step, computed faster.

The written-out modules (attention.py, layers.py, bert.py, training.py) are what
the lessons read. This file holds their fast twins, chosen once when a model is
built (`BertModel(config, fast=True)`, `from_pretrained(..., fast=True)`). They
have the same parameters under the same names, so the same checkpoints load,
and they compute the same numbers (tests/test_fast_path.py: hidden states at
every layer, pooled embeddings and every gradient within 1e-5 in float32).

Three speed-ups:

1. Fused kernels: torch's `F.scaled_dot_product_attention`, `F.layer_norm` and
   `F.gelu` do in one pass over memory what the written-out code does in several.
2. Padding-free layers. A batch is a (B, L) grid padded to its longest sentence;
   only attention needs that grid. The projections, the feed-forward network,
   LayerNorm and dropout act on each token alone, so a `Packing` gathers the T
   real tokens, (B, L, H) -> (T, H), and scatters them back onto the grid only
   for attention. In a random training batch of STS Benchmark pairs more than
   half of the grid is padding.
3. Mixed precision: `mixed_precision_step` runs the forward pass under autocast
   (bf16, or fp16 with loss scaling on CUDA) beside the plain `training_step`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadAttention, extended_attention_mask, scaled_dot_product_attention
from .device import precision_context
from .layers import AddNorm, LayerNorm


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


class FusedLayerNorm(LayerNorm):
    """LayerNorm by torch's kernel: the same parameters and formula in one pass."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


class FastSelfAttention(MultiHeadAttention):
    """Multi-head attention through torch's fused kernel, on packed tokens."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, packing: Packing | None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (T, H) real tokens with a Packing, else (B, L, H); mask: additive (B, 1, 1, L) or None."""
        q, k, v = self.query(x), self.key(x), self.value(x)  # (T, H) or (B, L, H)
        if packing is not None:
            q, k, v = packing.unpack(q), packing.unpack(k), packing.unpack(v)  # (T, H) -> (B, L, H)
        B, L, H = q.shape
        q, k, v = (t.view(B, L, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))  # (B, h, L, d)
        p = self.dropout if self.training else 0.0
        if output_attentions:  # only the written-out function returns the probabilities
            out, probs = scaled_dot_product_attention(q, k, v, mask, p, self.training)
        else:
            out, probs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        out = out.transpose(1, 2).reshape(B, L, H)  # (B, h, L, d) -> (B, L, H)
        return (packing.pack(out) if packing is not None else out), probs  # (T, H) or (B, L, H)


class FastAddNorm(AddNorm):
    """layers.AddNorm with the fused LayerNorm: the same names, and AddNorm's own forward."""

    def __init__(self, in_size: int, hidden_size: int, eps: float, dropout: float):
        super().__init__(in_size, hidden_size, eps, dropout)
        self.LayerNorm = FusedLayerNorm(hidden_size, eps)


class FastAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = FastSelfAttention(cfg.hidden_size, cfg.num_attention_heads, cfg.attention_probs_dropout_prob)
        self.output = FastAddNorm(cfg.hidden_size, cfg.hidden_size, cfg.layer_norm_eps, cfg.hidden_dropout_prob)


class FastIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # torch's exact (erf) GELU, as BERT's


class FastEncoderLayer(nn.Module):
    """layers.EncoderLayer's twin: the same submodule names, packed tokens in and out.

    Its forward is marked like EncoderLayer's (it is the same answer, with the packing passed
    explicitly), so that the student edition gives neither away.
    """

    def __init__(self, cfg):
        super().__init__()
        self.attention = FastAttention(cfg)
        self.intermediate = FastIntermediate(cfg)
        self.output = FastAddNorm(cfg.intermediate_size, cfg.hidden_size, cfg.layer_norm_eps,
                                  cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, packing: Packing | None,
                output_attentions: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        # BEGIN SOLUTION encoder_layer: the attention block (packing passed on), then the feed-forward block
        context, probs = self.attention.self(x, mask, packing, output_attentions)
        a = self.attention.output(context, residual=x)
        return self.output(self.intermediate(a), residual=a), probs
        # END SOLUTION


class FastEncoder(nn.Module):
    """bert.Encoder's twin: packs the real tokens once, runs every layer on them, unpacks."""

    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(FastEncoderLayer(cfg) for _ in range(cfg.num_hidden_layers))

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = False,
                output_attentions: bool = False):
        """x: (B, L, H), attention_mask: (B, L) -> the hidden states (B, L, H) (all N + 1, or only the
        last), and the N attentions."""
        packing = mask = None
        if not bool(attention_mask.all()):  # without padding there is nothing to pack or mask
            packing = Packing(attention_mask)
            mask = extended_attention_mask(attention_mask, x.dtype)  # (B, 1, 1, L)
            x = packing.pack(x)  # (B, L, H) -> (T, H)
        hidden, attentions = [x], []
        for layer in self.layer:
            x, probs = layer(x, mask, packing, output_attentions)
            hidden.append(x)
            attentions.append(probs)
        if not output_hidden_states:
            hidden = hidden[-1:]  # unpack only what is returned: each unpack is a pass over memory
        if packing is not None:
            hidden = [packing.unpack(h) for h in hidden]  # (T, H) -> (B, L, H), zeros at the padding
        return hidden, attentions


def make_grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """fp16 on CUDA needs loss scaling (its small gradients would underflow); bf16 and fp32 do not."""
    return torch.amp.GradScaler("cuda") if precision == "fp16" and device.type == "cuda" else None


def mixed_precision_step(model, loss_fn: nn.Module, features: list[dict], labels: torch.Tensor, optimizer,
                         scheduler, max_grad_norm: float, precision: str,
                         scaler: torch.amp.GradScaler | None = None) -> torch.Tensor:
    """training.training_step with the forward pass under autocast; the same update otherwise."""
    device = labels.device
    # BEGIN SOLUTION training_step: the same update; forward and loss under precision_context; the scaler if any
    with precision_context(device, precision):
        value = loss_fn([model(f) for f in features], labels)
    if not torch.isfinite(value):
        raise FloatingPointError(f"the loss became {value.item()}")
    (scaler.scale(value) if scaler else value).backward()
    if scaler:
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], max_grad_norm)
    if scaler:
        scaler.step(optimizer)  # skips the step when the scaled gradients overflowed
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    # END SOLUTION
    return value.detach()
