"""minisbert: a from-scratch, educational Sentence-BERT in PyTorch.

The files at this level are the course, in the order the lessons build them (README.md
beside this file has the map); fast/, loading/, trainkit/, app/, support/ and course/ hold the rest.
"""

from .support.version import __version__
from .bert import BertModel
from .config import BertConfig
from .loading.find import DEFAULT_MODEL, resolve_model
from .loading.pretrained import load_bert
from .sbert import SentenceBert
from .similarity import community_detection, cos_sim, dot_score, paraphrase_mining, semantic_search
from .support.device import pick_device
from .support.errors import CheckpointError, ConfigError, InputError, MinisbertError, ModelNotFoundError
from .tokenizers import SentencePieceTokenizer, WordPieceTokenizer

__all__ = ["BertConfig", "BertModel", "CheckpointError", "ConfigError", "DEFAULT_MODEL", "InputError",
           "MinisbertError", "ModelNotFoundError", "SentenceBert", "SentencePieceTokenizer", "WordPieceTokenizer",
           "__version__", "community_detection", "cos_sim", "dot_score", "load_bert", "paraphrase_mining",
           "pick_device", "resolve_model", "semantic_search"]
