"""Text -> token ids with a SentencePiece model, in the XLM-RoBERTa convention.

Multilingual sentence models (paraphrase-multilingual-*, the students of
multilingual knowledge distillation) replace WordPiece by a SentencePiece
unigram model (Kudo and Richardson, 2018): the text is NFKC-normalised, spaces
become "▁", and the most probable segmentation into vocabulary pieces is chosen.
We call the `sentencepiece` library for that segmentation; what this file adds is
the vocabulary convention XLM-R inherited from fairseq:

    id 0 <s>   1 <pad>   2 </s>   3 <unk>   then piece i of the model -> i + 1
    (its own <unk>, <s>, </s> at 0..2 are replaced by the four above),
    and <mask> last, at len(model) + 1.

A sentence is wrapped as  <s> A </s>  and a pair as  <s> A </s> </s> B </s>,
with every token type id 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import sentencepiece as spm

from .base import FAIRSEQ_SPECIALS, Tokenizer, XLMRobertaTemplate, folder_of
from ..support.errors import CheckpointError, MissingFileError

OFFSET = 1  # fairseq's four specials take ids 0..3; the model's three meta pieces are dropped


class SentencePieceTokenizer(XLMRobertaTemplate, Tokenizer):
    """A SentencePiece model with XLM-R's ids and special-token template."""

    def __init__(self, model_file: str | Path, model_max_length: int = 512):
        model_file = Path(model_file)
        try:
            self.sp = spm.SentencePieceProcessor(model_file=str(model_file))
        except (OSError, RuntimeError) as e:
            raise CheckpointError(f"{model_file} is not a readable SentencePiece model ({e})") from None
        n = self.sp.get_piece_size()
        vocab = {tok: i for i, tok in enumerate(FAIRSEQ_SPECIALS.values())}
        for piece_id in range(3, n):  # 0..2 are the model's own <unk>, <s>, </s>
            vocab.setdefault(self.sp.id_to_piece(piece_id), piece_id + OFFSET)
        vocab["<mask>"] = n + OFFSET
        super().__init__(vocab, {**FAIRSEQ_SPECIALS, "mask": "<mask>"}, model_max_length)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "SentencePieceTokenizer":
        """Load a model folder's SentencePiece file (XLM-R calls it sentencepiece.bpe.model).

        `folder` is a path; `minisbert.resolve_model(name)` finds a model's folder by its name."""
        folder = folder_of(folder)
        found = sorted(folder.glob("*.model"))
        if not found:
            raise MissingFileError(f"{folder} has no SentencePiece *.model file "
                                    "(a WordPiece model has vocab.txt instead: use WordPieceTokenizer)")
        preferred = folder / "sentencepiece.bpe.model"
        return cls(preferred if preferred in found else found[0])

    def save(self, folder: Path, model_max_length: int | None = None) -> None:
        """sentencepiece.bpe.model and a tokenizer_config.json naming XLM-R's tokenizer."""
        (folder / "sentencepiece.bpe.model").write_bytes(self.sp.serialized_model_proto())
        config = {"tokenizer_class": "XLMRobertaTokenizer",
                  "model_max_length": model_max_length or self.model_max_length,
                  "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
                  "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    def _tokenize_plain(self, text: str) -> list[str]:
        return self.sp.encode(text, out_type=str)
