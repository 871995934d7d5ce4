"""minisbert: a from-scratch, educational Sentence-BERT in PyTorch."""

from .bert import BertConfig, BertModel
from .device import pick_device
from .errors import CheckpointError, ConfigError, MinisbertError, ModelNotFoundError
from .hub import DEFAULT_MODEL, resolve_model
from .sbert import SentenceBert
from .sentencepiece_tokenizer import SentencePieceTokenizer
from .similarity import community_detection, cos_sim, dot_score, paraphrase_mining, semantic_search
from .tokenizer import WordPieceTokenizer

__version__ = "0.1.0"

__all__ = ["BertConfig", "BertModel", "CheckpointError", "ConfigError", "DEFAULT_MODEL", "MinisbertError",
           "ModelNotFoundError", "SentenceBert", "SentencePieceTokenizer", "WordPieceTokenizer",
           "community_detection", "cos_sim", "dot_score", "paraphrase_mining", "pick_device", "resolve_model",
           "semantic_search"]
