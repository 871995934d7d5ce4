"""Pooling: from one vector per token (B, L, H) to one vector per sentence (B, H).

Sentence-BERT (Reimers and Gurevych, 2019, section 3) tried three strategies
and chose the **mean** of the token vectors: it beat the [CLS] vector and the
element-wise maximum on their evaluations. The mean is a plain average over the
real tokens ([CLS] and [SEP] included, padding excluded), with equal weights: it
is *not* a softmax- or attention-weighted sum, as some descriptions say.

Padding must not count, so every strategy takes the attention mask (1 for a
real token, 0 for padding). Strategies may be combined; their vectors are then
concatenated in the fixed order of MODES (that of sentence-transformers).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .support.errors import ConfigError

MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
# The boolean keys of older 1_Pooling/config.json files, in the same order.
LEGACY_KEYS = dict(zip(("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_tokens",
                        "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                        "pooling_mode_lasttoken"), MODES))


def mean_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """u = sum_i m_i h_i / sum_i m_i: the average of the real tokens' vectors."""
    # BEGIN SOLUTION pooling: the mean of the real tokens' vectors (mask out the padding)
    m = mask.unsqueeze(-1).to(tokens.dtype)  # (B, L, 1)
    return (tokens * m).sum(1) / m.sum(1).clamp(min=1e-9)  # (B, H)
    # END SOLUTION


def mean_sqrt_len_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sum_i m_i h_i / sqrt(n): like the mean, but longer sentences get longer vectors."""
    n = mask.sum(1, keepdim=True).to(tokens.dtype).clamp(min=1e-9)  # (B, 1): real tokens per sentence
    return mean_pool(tokens, mask) * n.sqrt()  # the mean times n / sqrt(n)


def max_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The largest value of each dimension over the real tokens."""
    # BEGIN SOLUTION pooling: the maximum over the real tokens (padding must never win)
    return tokens.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values
    # END SOLUTION


def cls_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The vector of the first token, [CLS] (inputs are padded on the right)."""
    # BEGIN SOLUTION pooling: the first token's vector
    return tokens[:, 0]
    # END SOLUTION


def weighted_mean_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """A mean weighted by position: token i counts i times (1, 2, 3, ...)."""
    w = torch.arange(1, tokens.size(1) + 1, device=tokens.device, dtype=tokens.dtype)  # (L,)
    wm = mask.to(tokens.dtype) * w  # (B, L)
    return (tokens * wm.unsqueeze(-1)).sum(1) / wm.sum(1, keepdim=True).clamp(min=1e-9)


def last_token_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The vector of the last real token (for decoder-style models)."""
    last = mask.sum(1).clamp(min=1) - 1  # (B,): index of the last real token
    return tokens[torch.arange(tokens.size(0), device=tokens.device), last]


POOL = {"cls": cls_pool, "max": max_pool, "mean": mean_pool, "mean_sqrt_len_tokens": mean_sqrt_len_pool,
        "weightedmean": weighted_mean_pool, "lasttoken": last_token_pool}


class Pooling(nn.Module):
    """One or more pooling strategies, concatenated (no parameters)."""

    def __init__(self, dimension: int, modes: str | list[str] = "mean"):
        super().__init__()
        modes = [modes] if isinstance(modes, str) else list(modes)
        unknown = [m for m in modes if m not in MODES]
        if unknown or not modes:
            raise ConfigError(f"pooling modes {unknown or modes!r} are not known; use some of {', '.join(MODES)}")
        self.dimension = dimension  # H, the token vector size
        self.modes = sorted(modes, key=MODES.index)

    @property
    def output_dimension(self) -> int:
        return self.dimension * len(self.modes)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """tokens (B, L, H), mask (B, L) -> (B, H * number of modes)."""
        return torch.cat([POOL[m](tokens, mask) for m in self.modes], dim=-1)

    @classmethod
    def from_config(cls, path: Path, dimension: int) -> "Pooling":
        """Read 1_Pooling/config.json, in the old (boolean flags) or new ("pooling_mode") form."""
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"{path} cannot be read as JSON ({e})") from None
        if "pooling_mode" in cfg:
            modes = cfg["pooling_mode"]
        else:
            modes = [mode for key, mode in LEGACY_KEYS.items() if cfg.get(key)]
        declared = cfg.get("word_embedding_dimension", cfg.get("embedding_dimension", dimension))
        if declared != dimension:
            raise ConfigError(f"{path} pools vectors of size {declared}, but the encoder gives {dimension}")
        return cls(dimension, modes)

    def config(self) -> dict:
        """The old-style config that every sentence-transformers version reads."""
        cfg = {"word_embedding_dimension": self.dimension}
        cfg.update({key: mode in self.modes for key, mode in LEGACY_KEYS.items()})
        return cfg


def l2_normalize(embeddings: torch.Tensor) -> torch.Tensor:
    """Scale each vector to length 1, so that the dot product is the cosine similarity."""
    return F.normalize(embeddings, p=2, dim=-1)
