"""BERT (Devlin et al., 2019): embeddings and a stack of encoder layers.

    input ids (B, L) --embeddings--> (B, L, H) --N encoder layers--> (B, L, H)

The attribute names (`embeddings.word_embeddings`, `encoder.layer.3.attention.
self.query`, ...) are those of BERT's checkpoints, so pretrained weights load by
name: `minisbert.load_bert(name)` (loading/pretrained.py) reads a model folder,
checks every tensor's name and shape (loading/weights.py) and fills this class,
or its faster twin with the same parameters (fast/, `load_bert(..., fast=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .attention import extended_attention_mask
from .config import BertConfig
from .layers import EncoderLayer, LayerNorm
from .support.errors import InputError


class BertEmbeddings(nn.Module):
    """token + position + segment embeddings, then LayerNorm and dropout.

        E = LayerNorm(W_tok[ids] + W_pos[0..L-1] + W_seg[token_type_ids])
    """

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = LayerNorm(cfg.hidden_size, cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)
        # Rows added by vocabulary extension live in a parameter of their own, so
        # that training can give them a learning rate of their own; saving merges
        # them into word_embeddings.
        self.register_parameter("extra_word_embeddings", None)

    def add_rows(self, n: int) -> None:
        """Grow the vocabulary by n tokens, each starting at the mean of the existing rows."""
        weight = self.token_weight().detach()
        new = weight.mean(dim=0, keepdim=True).expand(n, -1)  # (n, H)
        old = self.extra_word_embeddings
        rows = new if old is None else torch.cat([old.detach(), new])
        self.extra_word_embeddings = nn.Parameter(rows.clone())

    def token_weight(self) -> torch.Tensor:
        """The whole token embedding matrix (V, H), extension included."""
        if self.extra_word_embeddings is None:
            return self.word_embeddings.weight
        return torch.cat([self.word_embeddings.weight, self.extra_word_embeddings])

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        tokens = self.word_embeddings(input_ids) if self.extra_word_embeddings is None \
            else nn.functional.embedding(input_ids, self.token_weight())  # (B, L, H)
        # BEGIN SOLUTION embeddings: tokens + position embeddings (0..L-1) + segment embeddings, LayerNorm, dropout
        L = input_ids.size(1)
        positions = torch.arange(L, device=input_ids.device)  # (L,), broadcast over the batch
        x = tokens + self.position_embeddings(positions) + self.token_type_embeddings(token_type_ids)  # (B, L, H)
        return self.dropout(self.LayerNorm(x))
        # END SOLUTION


class Encoder(nn.Module):
    """N encoder layers, each reading the output of the one before."""
    layer_class = EncoderLayer  # the kind of layer to stack (a subclass may choose a faster one)

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(self.layer_class(cfg) for _ in range(cfg.num_hidden_layers))

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = False,
                output_attentions: bool = False):
        """x: (B, L, H), attention_mask: (B, L) -> the N + 1 hidden states (B, L, H) (or only the last),
        and the N attentions (B, h, L, L)."""
        mask = extended_attention_mask(attention_mask, x.dtype)  # (B, 1, 1, L)
        return self.run_layers(x, mask, output_hidden_states, output_attentions)

    def run_layers(self, x: torch.Tensor, mask, output_hidden_states: bool, output_attentions: bool):
        """The stack itself: x through every layer, each given the same mask."""
        hidden, attentions = [x], []
        for layer in self.layer:
            x, probs = layer(x, mask, output_attentions)
            hidden.append(x)
            attentions.append(probs)
        return (hidden if output_hidden_states else hidden[-1:]), attentions


class Pooler(nn.Module):
    """BERT's next-sentence head input: tanh(W h_[CLS] + b). Sentence-BERT does not use it,
    but pretrained checkpoints carry it, so it loads (and saves) with them."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))  # (B, H) from the [CLS] vector


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor  # (B, L, H)
    hidden_states: tuple[torch.Tensor, ...] | None = None  # N + 1 of (B, L, H): embeddings, then each layer
    attentions: tuple[torch.Tensor, ...] | None = None  # N of (B, h, L, L)


class BertModel(nn.Module):
    encoder_class = Encoder  # the written-out stack; fast/fast_bert.py's twin swaps in its own

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = self.encoder_class(config)
        self.pooler = Pooler(config) if add_pooling_layer else None
        self.apply(self._init_weights)

    @property
    def device(self) -> torch.device:
        return self.embeddings.word_embeddings.weight.device

    def _init_weights(self, module: nn.Module):
        # BERT's initialisation: N(0, 0.02) weights, zero biases, LayerNorm as identity.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, output_hidden_states: bool = False,
                output_attentions: bool = False) -> EncoderOutput:
        """input_ids, attention_mask, token_type_ids: (B, L) -> EncoderOutput, last_hidden_state (B, L, H)."""
        B, L = input_ids.shape
        if L > self.config.max_position_embeddings:
            raise InputError(f"input of {L} tokens is longer than max_position_embeddings="
                             f"{self.config.max_position_embeddings}; truncate it (max_length=...)")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)  # (B, L, H)
        hidden, attentions = self.encoder(x, attention_mask, output_hidden_states, output_attentions)
        return EncoderOutput(hidden[-1], tuple(hidden) if output_hidden_states else None,
                             tuple(attentions) if output_attentions else None)

    def for_inference(self, precision: str = "fp32", compile: bool = False) -> nn.Module:
        """The module that runs this encoder for `SentenceBert.encode`: the model itself, in float32.

        Reduced precision (16-bit floats, 8-bit integers) and torch.compile are ways of running the fast
        twin (`load_bert(..., fast=True)`, the default), which overrides this method.
        """
        if precision not in ("fp32", "auto") or compile:  # "auto": the one path this encoder has
            raise InputError(f"precision={precision!r}, compile={compile}: this is the written-out encoder, "
                             "which runs in float32 only; load the model with fast=True (the default) for "
                             "reduced precision or torch.compile")
        return self
