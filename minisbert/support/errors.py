"""Every error minisbert raises on purpose, in one place.

Each message names what was wrong and what to do about it. All of them derive
from `MinisbertError`, so `except MinisbertError` catches exactly the failures
the library diagnosed itself; anything else is a bug and keeps its traceback
(the command line prints `error: ...` for these only).

Each class also derives from the built-in error a caller would expect
(ValueError, TypeError, FileNotFoundError, ...), so `except ValueError` still works.
"""


class MinisbertError(Exception):
    """Base class of every error minisbert raises deliberately."""


class InputError(MinisbertError, ValueError):
    """An argument or a piece of data has a bad value (an empty file, a negative batch size)."""


class InputTypeError(MinisbertError, TypeError):
    """An argument has the wrong type (bytes where text was expected, a number for a list)."""


class MissingFileError(MinisbertError, FileNotFoundError):
    """A file the caller named (data, a tokenizer's vocabulary, reference values) is not there."""


class DataError(MinisbertError, ValueError):
    """A data file cannot be read as the pairs, triplets or labels it should hold."""


class ModelNotFoundError(MinisbertError, FileNotFoundError):
    """A model name or path resolved to nothing on this machine."""


class OutputExistsError(MinisbertError, FileExistsError):
    """Writing would overwrite something that is not ours to replace."""


class ConfigError(MinisbertError, ValueError):
    """A configuration file asks for something this code cannot honour."""


class CheckpointError(MinisbertError, ValueError):
    """A weight file is missing, damaged or does not fit the model."""


class TrainingError(MinisbertError, RuntimeError):
    """Training cannot go on or cannot resume (a NaN loss, bad data, a changed run)."""


class CheckFailed(MinisbertError, AssertionError):
    """A lesson's output differs from the stored reference value."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of the stack: the learner's cell, not check.py's internals,
        # is where the mistake is, and the message already names it.
        return [f"CheckFailed: {self}"]


class MarkerError(MinisbertError, ValueError):
    """Unbalanced or unknown solution markers in the course's source files."""
