"""What every minisbert tokenizer shares: special tokens, pairs, truncation,
padding into tensors, and decoding.

A subclass says how a plain piece of text becomes tokens (`_tokenize_plain`)
and how tokens join back into text (`_join_tokens`); it may change the template
that wraps one or two sequences in special tokens (`build_inputs`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import torch

from ..support.errors import InputError, MissingFileError
from ..support.inputs import check_iterable, check_text


def truncate_pair(n_a: int, n_b: int, budget: int) -> tuple[int, int]:
    """Longest-first truncation of two sequences to `budget` tokens together.

    Only the longer one loses tokens until both are equally long; then each
    keeps half, the extra token going to the one that was longer (to the
    second when they were equal). This is the rule of the reference tokenizer.
    """
    if n_a + n_b <= budget:
        return n_a, n_b
    if n_a > n_b:
        n_b = min(n_b, budget // 2)
        return budget - n_b, n_b
    n_a = min(n_a, budget // 2)
    return n_a, budget - n_a


class Tokenizer:
    """Shared behaviour of the WordPiece and SentencePiece tokenizers."""

    def __init__(self, vocab: dict[str, int], specials: dict[str, str], model_max_length: int = 512):
        self.vocab = vocab
        self.ids_to_tokens = {i: t for t, i in vocab.items()}
        for role, token in specials.items():  # unk_token, unk_token_id, cls_token, ...
            setattr(self, f"{role}_token", token)
            setattr(self, f"{role}_token_id", vocab[token])
        self.special_tokens = set(specials.values())
        self.special_ids = {vocab[t] for t in self.special_tokens}
        # Special tokens typed in the text are matched first, longest first.
        alternatives = "|".join(re.escape(t) for t in sorted(self.special_tokens, key=len, reverse=True))
        self._special_re = re.compile(f"({alternatives})")
        self.model_max_length = model_max_length

    def __len__(self) -> int:
        # The id space: a vocabulary with a duplicate line has a gap in its ids.
        return max(self.ids_to_tokens) + 1

    # -- text -> tokens -> ids -------------------------------------------------
    def _tokenize_plain(self, text: str) -> list[str]:
        raise NotImplementedError

    def tokenize(self, text: str) -> list[str]:
        """Split a text into vocabulary tokens (no [CLS]/[SEP] added)."""
        parts = self._special_re.split(check_text(text))
        tokens: list[str] = []
        for i, part in enumerate(parts):  # odd positions hold the special tokens
            if i % 2:
                tokens.append(part)
            elif part:
                tokens.extend(self._tokenize_plain(part))
        return tokens

    def convert_tokens_to_ids(self, tokens: Sequence[str]) -> list[int]:
        unk = self.unk_token_id
        return [self.vocab.get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        try:
            return [self.ids_to_tokens[int(i)] for i in ids]
        except KeyError as e:
            raise InputError(f"token id {e.args[0]} is outside this vocabulary "
                             f"(0..{len(self) - 1})") from None

    def num_special_tokens(self, pair: bool = False) -> int:
        return len(self.build_inputs([], [] if pair else None)[0])

    def build_inputs(self, ids_a: list[int], ids_b: list[int] | None = None) -> tuple[list[int], list[int]]:
        """BERT's template: [CLS] A [SEP] (B [SEP]); type ids 0 for A's part, 1 for B's."""
        ids = [self.cls_token_id, *ids_a, self.sep_token_id]
        types = [0] * len(ids)
        if ids_b is not None:
            ids += [*ids_b, self.sep_token_id]
            types += [1] * (len(ids_b) + 1)
        return ids, types

    def _encode_with_types(self, text, text_pair=None, max_length=None):
        ids_a = self.convert_tokens_to_ids(self.tokenize(text))
        ids_b = None if text_pair is None else self.convert_tokens_to_ids(self.tokenize(text_pair))
        if max_length is not None:
            budget = max_length - self.num_special_tokens(pair=ids_b is not None)
            if budget < 0:
                raise InputError(f"max_length={max_length} leaves no room for the "
                                 f"{max_length - budget} special tokens; use at least {max_length - budget}")
            if ids_b is None:
                ids_a = ids_a[:budget]
            else:
                n_a, n_b = truncate_pair(len(ids_a), len(ids_b), budget)
                ids_a, ids_b = ids_a[:n_a], ids_b[:n_b]
        return self.build_inputs(ids_a, ids_b)

    def encode(self, text: str, text_pair: str | None = None, max_length: int | None = None) -> list[int]:
        """Token ids with the special tokens, truncated (longest first) to max_length."""
        return self._encode_with_types(text, text_pair, max_length)[0]

    def __call__(self, texts: str | Sequence[str], text_pairs: str | Sequence[str] | None = None,
                 max_length: int | None = None, padding: bool | str = True) -> dict[str, torch.Tensor]:
        """Encode a batch into LongTensors input_ids, attention_mask, token_type_ids of shape (B, L).

        padding=True pads to the longest sequence, "max_length" to max_length;
        padding=False needs sequences of equal length.
        """
        texts = [texts] if isinstance(texts, str) else list(check_iterable(texts, "texts"))
        if text_pairs is not None:
            text_pairs = [text_pairs] if isinstance(text_pairs, str) else list(check_iterable(text_pairs, "text_pairs"))
            if len(text_pairs) != len(texts):
                raise InputError(f"got {len(texts)} texts but {len(text_pairs)} text_pairs; "
                                 "give one pair for every text")
        encoded = []
        for i, text in enumerate(texts):
            check_text(text, f"texts[{i}]")
            pair = None if text_pairs is None else check_text(text_pairs[i], f"text_pairs[{i}]")
            encoded.append(self._encode_with_types(text, pair, max_length))
        lengths = [len(ids) for ids, _ in encoded]
        if padding == "max_length":
            if max_length is None:
                raise InputError('padding="max_length" needs max_length')
            return self.pad(encoded, width=max_length)
        if not padding and len(set(lengths)) > 1:
            raise InputError(f"sequences have different lengths {sorted(set(lengths))} and "
                             "padding=False; pass padding=True to pad them")
        return self.pad(encoded)

    def pad(self, encoded: Sequence[tuple[list[int], list[int]]], width: int | None = None) -> dict[str, torch.Tensor]:
        """(ids, token type ids) rows -> LongTensors (B, width), padded on the right."""
        width = max((len(ids) for ids, _ in encoded), default=0) if width is None else width

        def grid(rows, fill: int) -> torch.Tensor:  # each row a padded list, then one tensor (not one per row)
            padded = [list(row) + [fill] * (width - len(row)) for row in rows]
            return torch.tensor(padded, dtype=torch.long).view(len(encoded), width)
        input_ids = grid((ids for ids, _ in encoded), self.pad_token_id)
        token_type_ids = grid((types for _, types in encoded), 0)
        attention_mask = grid(([1] * len(ids) for ids, _ in encoded), 0)
        return {"input_ids": input_ids, "attention_mask": attention_mask,
                "token_type_ids": token_type_ids}

    def encode_truncated(self, text: str, max_length: int) -> tuple[tuple[list[int], list[int]], bool]:
        """(ids, token type ids) of one text cut to max_length, and whether it had to be cut."""
        ids = self.convert_tokens_to_ids(self.tokenize(text))
        budget = max_length - self.num_special_tokens()
        return self.build_inputs(ids[:budget]), len(ids) > budget

    # -- ids -> text -----------------------------------------------------------
    def _join_tokens(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def decode(self, ids: Sequence[int] | torch.Tensor, skip_special_tokens: bool = True) -> str:
        """Token ids back to text (lower-cased, accents stripped, if the vocabulary is)."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        tokens = self.convert_ids_to_tokens(ids)
        if skip_special_tokens:
            tokens = [t for t in tokens if t not in self.special_tokens]
        return self._join_tokens(tokens)


def folder_of(path) -> Path:
    """A tokenizer reads the folder it is given; finding a model by name is `minisbert.resolve_model`'s job."""
    folder = Path(path)
    if not folder.is_dir():
        raise MissingFileError(f"{folder} is not a folder: give a tokenizer the path of a model folder "
                               "(minisbert.resolve_model(name) finds a model's folder by its name)")
    return folder


# XLM-R's conventions, shared by the SentencePiece library's tokenizer and the hand-written unigram one.
FAIRSEQ_SPECIALS = {"cls": "<s>", "pad": "<pad>", "sep": "</s>", "unk": "<unk>"}


class XLMRobertaTemplate:
    """XLM-R's way of wrapping pieces, shared by both SentencePiece tokenizers."""

    def build_inputs(self, ids_a, ids_b=None):
        ids = [self.cls_token_id, *ids_a, self.sep_token_id]
        if ids_b is not None:
            ids += [self.sep_token_id, *ids_b, self.sep_token_id]
        return ids, [0] * len(ids)

    def _join_tokens(self, tokens: list[str]) -> str:
        # "▁" marks a word start; the first one is the prefix SentencePiece added.
        return "".join(tokens).replace("\u2581", " ").lstrip(" ")
