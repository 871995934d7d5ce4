"""BertConfig: every size and setting of a BERT model, read from its config.json.

Every module of the encoder is built from it (`EncoderLayer(cfg)`, `MultiHeadAttention(cfg)`, ...),
so one object says what the model is; the names of its fields are those of the checkpoints' config.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from .support.errors import ConfigError


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
