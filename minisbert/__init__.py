"""minisbert: a from-scratch, educational Sentence-BERT in PyTorch."""

from .errors import CheckpointError, ConfigError, MinisbertError, ModelNotFoundError
from .hub import DEFAULT_MODEL, resolve_model
from .tokenizer import WordPieceTokenizer

__version__ = "0.1.0"
