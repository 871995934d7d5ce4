"""Text -> token ids: BERT's WordPiece tokenizer, written out.

BERT (Devlin et al., 2019) tokenizes in two stages:

1. *Basic tokenization*: clean the text (drop control characters, turn every
   kind of whitespace into a space), put spaces around CJK ideographs so each
   becomes a word of its own, lower-case and strip accents when the vocabulary
   is uncased, then split on whitespace and isolate every punctuation mark.
2. *WordPiece*: cut each word into the longest pieces found in the vocabulary,
   left to right; pieces after the first carry the prefix "##". A word with no
   such cut, or longer than 100 characters, becomes the single token [UNK].

The result must equal, id for id, what Hugging Face's fast BertTokenizer gives,
because that is what every pretrained checkpoint was trained with. Where the
fast tokenizer departs from the original description we follow it, and say so:

- Unicode tables: it classifies characters with older Unicode data than
  Python's, so punctuation added later (e.g. U+061D ARABIC END OF TEXT MARK)
  stays inside words; it keeps unassigned code points instead of dropping them
  as "other" characters; it treats U+2028/U+2029 (line/paragraph separator) as
  whitespace. Those tables live in `unicode_tables.py`.
- Lower-casing is done one character at a time, so a final capital sigma
  becomes "σ", never the word-final "ς" that Python's str.lower() produces.
- It accent-strips before lower-casing (the original did the reverse).
- The CJK Extension E range starts at U+2B920 instead of U+2B820 there, so
  U+2B820..U+2B91F are not split into single characters.
- Special tokens typed in the text ("[CLS]", "[SEP]", ...) are matched before
  any clean-up and become those tokens.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from pathlib import Path

from . import unicode_tables as ut
from .base import Tokenizer, folder_of
from ..support.jsonfile import read_json
from ..support.errors import ConfigError, MissingFileError

# CJK Unified Ideographs blocks, as the fast tokenizer writes them (see module
# docstring for the Extension E start at U+2B920).
CJK_RANGES = sorted([
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
])

MAX_INPUT_CHARS_PER_WORD = 100


def _in_ranges(cp: int, ranges: list[tuple[int, int]]) -> bool:
    i = bisect.bisect_right(ranges, (cp, 0x10FFFF))  # ranges are sorted (start, end)
    return i > 0 and ranges[i - 1][0] <= cp <= ranges[i - 1][1]


def _char_class(ranges: list[tuple[int, int]]) -> str:
    """A regex character class matching every code point of `ranges`."""
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


class _NormalizeTable(dict):
    """str.translate() table: code point -> its normalized text, built lazily.

    BERT's normalisation works character by character, so a text is normalized
    with one C-level `translate` call, and each distinct character is worked out
    once (in `__missing__`) and remembered.
    """

    def __init__(self, lowercase: bool, strip_accents: bool, chinese_chars: bool):
        super().__init__()
        self.lowercase, self.strip_accents, self.chinese_chars = lowercase, strip_accents, chinese_chars

    def __missing__(self, cp: int) -> str:
        c = chr(cp)
        if _in_ranges(cp, ut.CONTROL):  # includes U+0000 and U+FFFD
            out = ""
        elif c == " " or _in_ranges(cp, ut.WHITESPACE):
            out = " "
        else:
            out = c
            if self.chinese_chars and _in_ranges(cp, CJK_RANGES):
                out = f" {c} "
            if self.strip_accents:
                out = "".join(_strip_accents(x) for x in out)
            if self.lowercase:
                out = "".join(ut.LOWER_OVERRIDES.get(ord(x), x.lower()) for x in out)
        self[cp] = out
        return out


def _strip_accents(c: str) -> str:
    """NFD-decompose one character and drop its non-spacing marks (é -> e)."""
    if ord(c) in ut.STRIP_OVERRIDES:
        return ut.STRIP_OVERRIDES[ord(c)]
    return "".join(x for x in unicodedata.normalize("NFD", c)
                   if not _in_ranges(ord(x), ut.NONSPACING_MARKS))


# After normalisation the only whitespace left is " ". A word is a run of
# characters that are neither spaces nor punctuation; a punctuation mark is a
# word of its own.
_PUNCT = _char_class(ut.PUNCTUATION)
WORD_RE = re.compile(f"[{_PUNCT}]|[^ {_PUNCT}]+")


class WordPieceTokenizer(Tokenizer):
    """BERT's tokenizer: basic tokenization, then greedy longest-match WordPiece."""

    def __init__(self, vocab: dict[str, int] | list[str], do_lower_case: bool = True,
                 strip_accents: bool | None = None, tokenize_chinese_chars: bool = True,
                 unk_token: str = "[UNK]", sep_token: str = "[SEP]", pad_token: str = "[PAD]",
                 cls_token: str = "[CLS]", mask_token: str = "[MASK]",
                 model_max_length: int = 512):
        if isinstance(vocab, list):
            vocab = {tok: i for i, tok in enumerate(vocab)}
        specials = {"unk": unk_token, "sep": sep_token, "pad": pad_token,
                    "cls": cls_token, "mask": mask_token}
        missing = [t for t in specials.values() if t not in vocab]
        if missing:
            raise ConfigError(f"the vocabulary lacks the special tokens {missing}; "
                             "a BERT vocabulary must contain [PAD], [UNK], [CLS], [SEP] and [MASK]")
        super().__init__(vocab, specials, model_max_length)
        self.do_lower_case = do_lower_case
        # As in BERT: accents are stripped exactly when lower-casing, unless told.
        self.strip_accents = do_lower_case if strip_accents is None else strip_accents
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self._table = _NormalizeTable(do_lower_case, self.strip_accents, tokenize_chinese_chars)
        self._word_cache: dict[str, list[str]] = {}

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "WordPieceTokenizer":
        """Load a model folder's vocab.txt and tokenizer_config.json, or else its tokenizer.json.

        `folder` is a path; `minisbert.resolve_model(name)` finds a model's folder by its name."""
        folder = folder_of(folder)
        config = read_json(folder / "tokenizer_config.json", {})
        keep = {k: config[k] for k in ("do_lower_case", "strip_accents", "tokenize_chinese_chars", "unk_token",
                                       "sep_token", "pad_token", "cls_token", "mask_token")
                if isinstance(config.get(k), (bool, str))}
        max_len = config.get("model_max_length")
        if isinstance(max_len, int) and max_len <= 10**6:  # transformers writes 1e30 for "no limit"
            keep["model_max_length"] = max_len
        if (folder / "vocab.txt").is_file():
            tokens = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")
            if tokens and tokens[-1] == "":
                tokens.pop()  # the file's final newline
            return cls({tok: i for i, tok in enumerate(tokens)}, **keep)
        fast = read_json(folder / "tokenizer.json", {})
        if fast.get("model", {}).get("type") != "WordPiece":
            raise MissingFileError(f"{folder} has neither vocab.txt nor a WordPiece tokenizer.json: "
                                    "this is not a WordPiece (BERT) tokenizer")
        # sentence-transformers >= 5 saves only tokenizer.json: its normalizer has the settings.
        norm = fast.get("normalizer") or {}
        if norm.get("type") == "BertNormalizer":
            keep["do_lower_case"] = norm.get("lowercase", True)
            keep["strip_accents"] = norm.get("strip_accents")
            keep["tokenize_chinese_chars"] = norm.get("handle_chinese_chars", True)
        return cls(fast["model"]["vocab"], **keep)

    def save(self, folder: Path, model_max_length: int | None = None) -> None:
        """vocab.txt (one token per line, in id order) and tokenizer_config.json."""
        # One line per id; an id without a token (a duplicate in the source) keeps its place.
        tokens = [self.ids_to_tokens.get(i, f"[unused-id-{i}]") for i in range(len(self))]
        (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        specials = {f"{role}_token": getattr(self, f"{role}_token") for role in ("unk", "sep", "pad", "cls", "mask")}
        config = {"tokenizer_class": "BertTokenizer", "do_lower_case": self.do_lower_case,
                  "strip_accents": self.strip_accents if self.strip_accents != self.do_lower_case else None,
                  "tokenize_chinese_chars": self.tokenize_chinese_chars,
                  "model_max_length": model_max_length or self.model_max_length, **specials}
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        (folder / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")

    def add_tokens(self, tokens: list[str]) -> list[str]:
        """Append tokens not yet in the vocabulary (ids len(vocab), ...); returns those added."""
        added = [t for t in dict.fromkeys(tokens) if t not in self.vocab]
        for t in added:
            self.vocab[t] = len(self)
            self.ids_to_tokens[self.vocab[t]] = t
        self._word_cache.clear()
        return added

    def missing_pieces(self, texts: list[str]) -> list[str]:
        """Single characters to add so no word of `texts` becomes [UNK]: for a word that has
        no WordPiece cut, each of its characters as a word start ("c") or a continuation ("##c")."""
        missing: dict[str, None] = {}
        for text in texts:
            for word in self.basic_tokenize(text):
                if self._wordpiece(word) == [self.unk_token] and len(word) <= MAX_INPUT_CHARS_PER_WORD:
                    for i, ch in enumerate(word):
                        piece = ch if i == 0 else "##" + ch
                        if piece not in self.vocab:
                            missing[piece] = None
        return list(missing)

    def basic_tokenize(self, text: str) -> list[str]:
        """Clean, normalize and split a text into words and punctuation marks."""
        return WORD_RE.findall(text.translate(self._table))

    def _wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first: 'unaffable' -> ['una', '##ffa', '##ble']."""
        pieces = self._word_cache.get(word)
        if pieces is not None:
            return pieces
        if len(word) > MAX_INPUT_CHARS_PER_WORD:
            pieces = [self.unk_token]
        else:
            pieces, start = [], 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        break
                    end -= 1
                if end == start:  # no piece fits: the whole word is unknown
                    pieces = [self.unk_token]
                    break
                pieces.append(piece)
                start = end
        if len(self._word_cache) < 100_000:
            self._word_cache[word] = pieces
        return pieces

    def _tokenize_plain(self, text: str) -> list[str]:
        return [p for word in self.basic_tokenize(text) for p in self._wordpiece(word)]

    def _join_tokens(self, tokens: list[str]) -> str:
        # Pieces with "##" glue to the previous token; the fast decoder's
        # clean-up also glues . ? ! and , to the word before them.
        out = []
        for i, tok in enumerate(tokens):
            if i and tok.startswith("##"):
                out.append(tok[2:])
            elif i and tok[:1] in ".?!,":
                out.append(tok)
            else:
                out.append(" " + tok if i else tok)
        return "".join(out)

