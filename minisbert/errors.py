"""The errors minisbert raises on purpose.

Every message names what was wrong and what to do about it. They all derive
from `MinisbertError`, so `except MinisbertError` catches exactly the failures
the library diagnosed itself (as opposed to bugs).
"""


class MinisbertError(Exception):
    """Base class of every error minisbert raises deliberately."""


class ModelNotFoundError(MinisbertError, FileNotFoundError):
    """A model name or path resolved to nothing on this machine."""


class ConfigError(MinisbertError, ValueError):
    """A configuration file asks for something this code cannot honour."""


class CheckpointError(MinisbertError, ValueError):
    """A weight file is missing, damaged or does not fit the model."""
