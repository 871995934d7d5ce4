"""minisbert: a from-scratch, educational Sentence-BERT in PyTorch."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("minisbert")
except PackageNotFoundError:  # a checkout on sys.path that pip never installed
    __version__ = "0+unknown"

# (the version comes first: model_folder.py writes it into saved models)

from .bert import BertConfig, BertModel
from .device import pick_device
from .errors import CheckpointError, ConfigError, InputError, MinisbertError, ModelNotFoundError
from .model_finder import DEFAULT_MODEL, resolve_model
from .sbert import SentenceBert
from .similarity import community_detection, cos_sim, dot_score, paraphrase_mining, semantic_search
from .tokenizers import SentencePieceTokenizer, WordPieceTokenizer

__all__ = ["BertConfig", "BertModel", "CheckpointError", "ConfigError", "DEFAULT_MODEL", "InputError",
           "MinisbertError", "ModelNotFoundError", "SentenceBert", "SentencePieceTokenizer", "WordPieceTokenizer",
           "community_detection", "cos_sim", "dot_score", "paraphrase_mining", "pick_device", "resolve_model",
           "semantic_search"]
