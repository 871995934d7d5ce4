"""Checking what users hand to minisbert: texts and lists of texts.

One validator for every entry point (tokenizers, `encode`, `encode_iter`,
training data), so the same mistake gets the same message everywhere.
"""

from __future__ import annotations

from .errors import InputError, InputTypeError


def check_text(text, where: str = "text") -> str:
    """Refuse what is not a valid Unicode string, naming the problem."""
    if not isinstance(text, str):
        hint = " (decode bytes first, e.g. data.decode('utf-8'))" if isinstance(text, (bytes, bytearray)) else ""
        raise InputTypeError(f"{where} must be a str, not {type(text).__name__}{hint}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InputError(f"{where} holds a lone surrogate {text[e.start]!r} at position {e.start}, "
                             "which is not valid Unicode; read files with errors='replace' "
                             "or clean the text first") from None
    return text


def check_iterable(items, name: str = "sentences"):
    """`items` itself, if it can be iterated as a collection of texts (a str or bytes cannot)."""
    if isinstance(items, (bytes, bytearray)) or not hasattr(items, "__iter__"):
        raise InputTypeError(f"{name} must be a str or a list of str, not {type(items).__name__}")
    return items


def check_texts(items, name: str = "sentences") -> list[str]:
    """A list of valid str, or an error naming the first bad item by its index."""
    texts = list(check_iterable(items, name))
    for i, text in enumerate(texts):
        check_text(text, f"{name}[{i}]")
    return texts
