"""BERT (Devlin et al., 2019): embeddings, a stack of encoder layers, and loading.

    input ids (B, L) --embeddings--> (B, L, H) --N encoder layers--> (B, L, H)

The attribute names (`embeddings.word_embeddings`, `encoder.layer.3.attention.
self.query`, ...) are those of BERT's checkpoints, so pretrained weights load by
name; `weights.py` does the reading and the shape checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import nn

from .attention import extended_attention_mask
from .device import pick_device
from .errors import ConfigError, InputError
from .fast import FastEncoder
from .layers import EncoderLayer, LayerNorm
from .model_finder import resolve_model
from .weights import check_bert_weights, read_bert_weights


@dataclass
class BertConfig:
    vocab_size: int = 30522  # WordPiece vocabulary (21128 for Chinese BERT)
    hidden_size: int = 768  # H, the width of every token vector
    num_hidden_layers: int = 12  # N encoder layers
    num_attention_heads: int = 12  # h heads of size H / h
    intermediate_size: int = 3072  # feed-forward width, usually 4H
    hidden_act: str = "gelu"  # exact erf GELU; nothing else is implemented
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512  # longest input, [CLS] and [SEP] included
    type_vocab_size: int = 2  # segment A / segment B
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    initializer_range: float = 0.02  # std of the normal initialisation
    position_embedding_type: str = "absolute"  # learned absolute positions only

    def __post_init__(self):
        def refuse(field, why):
            raise ConfigError(f"config field {field}={getattr(self, field)!r}: {why}")
        if self.hidden_act not in ("gelu",):
            refuse("hidden_act", "only BERT's exact 'gelu' is implemented")
        if self.position_embedding_type != "absolute":
            refuse("position_embedding_type", "only learned absolute positions are implemented")
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "type_vocab_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                refuse(name, "must be a positive integer")
        if self.hidden_size % self.num_attention_heads:
            refuse("hidden_size", f"must be divisible by num_attention_heads={self.num_attention_heads}")

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        """Keep the fields BERT uses; refuse settings for another architecture."""
        model_type = d.get("model_type", "bert")
        if model_type != "bert":
            raise ConfigError(f"config field model_type={model_type!r}: this is not a BERT model; "
                              "minisbert implements BERT ('bert') only")
        for field in ("is_decoder", "add_cross_attention"):
            if d.get(field):
                raise ConfigError(f"config field {field}=True: only BERT's encoder is implemented")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json(cls, path: str | Path) -> "BertConfig":
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"{path} is missing: a model folder needs config.json") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path} is not valid JSON ({e})") from None
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None


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

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(
            EncoderLayer(cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size,
                         cfg.layer_norm_eps, cfg.hidden_dropout_prob, cfg.attention_probs_dropout_prob)
            for _ in range(cfg.num_hidden_layers))

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = False,
                output_attentions: bool = False):
        """x: (B, L, H), attention_mask: (B, L) -> the N + 1 hidden states (B, L, H) (or only the last),
        and the N attentions (B, h, L, L)."""
        mask = extended_attention_mask(attention_mask, x.dtype)  # (B, 1, 1, L)
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
    def __init__(self, config: BertConfig, add_pooling_layer: bool = True, fast: bool = False):
        super().__init__()
        self.config = config
        self.fast = fast  # chosen here, once: the written-out encoder or its fast twin (fast.py)
        self.embeddings = BertEmbeddings(config)
        self.encoder = FastEncoder(config) if fast else Encoder(config)
        self.pooler = Pooler(config) if add_pooling_layer else None
        self.apply(self._init_weights)

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

    @classmethod
    def from_pretrained(cls, name_or_path: str = "all-MiniLM-L6-v2", device: str | torch.device | None = None,
                        fast: bool = True) -> "BertModel":
        """Build the model from config.json and load model.safetensors (or pytorch_model.bin).

        Every tensor is matched by name and shape; if anything is missing,
        unexpected or misshapen, a CheckpointError lists it and no model is returned.
        fast=True (the default) builds the fast encoder of fast.py; fast=False the
        written-out one of the lessons. Both compute the same numbers.
        """
        folder = resolve_model(name_or_path)
        config = BertConfig.from_json(folder / "config.json")
        state, path = read_bert_weights(folder)
        has_pooler = any(k.startswith("pooler.") for k in state)
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            expected = {k: v.shape for k, v in cls(config, has_pooler).state_dict().items()}
        state = check_bert_weights(state, expected, path, folder / "config.json")
        model = cls(config, add_pooling_layer=has_pooler, fast=fast)
        model.load_state_dict(state, strict=True)
        return model.to(pick_device(device)).eval()
