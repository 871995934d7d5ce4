"""Tokenizers, a file per class: text -> token ids, as the pretrained models expect.

    base.py            Tokenizer: special tokens, pairs, truncation, padding, decoding
    wordpiece.py       WordPieceTokenizer: BERT's normaliser and greedy longest-match WordPiece
    sentencepiece.py   SentencePieceTokenizer: XLM-R-style SentencePiece models, through the library
    unigram.py         UnigramTokenizer: the SentencePiece unigram model written out (Viterbi)
"""

from .base import Tokenizer
from .sentencepiece import SentencePieceTokenizer
from .unigram import UnigramTokenizer
from .wordpiece import WordPieceTokenizer

__all__ = ["SentencePieceTokenizer", "Tokenizer", "UnigramTokenizer", "WordPieceTokenizer"]
