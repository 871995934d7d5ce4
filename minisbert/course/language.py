"""The language a lesson speaks to its learner: English, or Chinese in the Chinese edition (lessons/zh/).

The two editions run the same code. A Chinese notebook differs in one cell, right under its title:

    from minisbert.course.language import use_language
    use_language("zh")

After it, the checks (course/check.py) print their verdicts and hints in Chinese, and the errors a learner
meets most (a missing model, a missing file, bad input) are explained in Chinese above the traceback. The
Chinese texts live in gettext catalogues under `lessons/zh/po/`: messages.po holds check.py's message
templates (msgctxt "check") and one line per error class (msgctxt "error"); each lesson's catalogue
(course/translation.py) holds its checks' hints (msgctxt "hint <name>", the msgid the English hint of
reference.json, so a changed English hint leaves its translation behind and the tests say so), what its
"by hand" exercises refuse ("refused") and its constant claims ("claim"). A message without a finished
translation falls back to English.

use_language also moves the working folder from lessons/zh/ to lessons/, where the English notebooks run:
the code reads data/faq.csv and the like from there, in both editions.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .folders import lessons_dir

LANGUAGES = ("en", "zh")
_current = {"language": "en"}


def use_language(language: str) -> None:
    """Speak `language` ("en" or "zh") from now on in this process; in lessons/zh/, work from lessons/."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")
    _current["language"] = language
    here = Path.cwd()
    if here.name == language and (here.parent / "data").is_dir() and (here.parent / "reference").is_dir():
        os.chdir(here.parent)
    if language != "en":
        catalogue(language)  # fail now, with a clear message, rather than at the first check
        _explain_errors_in_ipython()


def current_language() -> str:
    return _current["language"]


def catalogue_folder(language: str) -> Path:
    """lessons/<language>/po/, found beside the lessons' reference values."""
    return lessons_dir() / language / "po"


@lru_cache(maxsize=4)
def catalogue(language: str) -> dict[tuple[str, str], str]:
    """{(msgctxt, msgid): msgstr} of the run-time messages (entries with a msgctxt) of the language's
    catalogues, finished translations only (no fuzzy or empty entries)."""
    try:
        import polib
    except ImportError as e:
        raise ImportError("the Chinese edition reads its messages with polib: pip install polib "
                          "(it is in requirements-dev.txt and the [lessons] extra)") from e
    folder = catalogue_folder(language)
    if not (folder / "messages.po").is_file():
        raise FileNotFoundError(f"no message catalogue at {folder / 'messages.po'}: run the lessons from the "
                                "course's checkout")
    return {(e.msgctxt, e.msgid): e.msgstr for path in sorted(folder.glob("*.po")) for e in polib.pofile(str(path))
            if e.msgctxt and e.msgstr and not e.fuzzy and not e.obsolete}


def hint_label(language: str) -> str:
    """How a failed check introduces its hint in `language` ("hint" in English, the catalogue's word otherwise)."""
    return "hint" if language == "en" else catalogue(language).get(("check", "hint"), "hint")


def translate(context: str, english: str) -> str:
    """The current language's text for `english` (a template or a hint) under `context`, or the English."""
    language = current_language()
    if language == "en":
        return english
    return catalogue(language).get((context, english), english)


def _explain_errors_in_ipython() -> None:
    """In a Jupyter kernel, put a line in the current language above the traceback of minisbert's errors."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from ..support.errors import CheckFailed, MinisbertError

    def explain(shell, kind, value, tb, tb_offset=None):
        if not isinstance(value, CheckFailed):  # a check's message is already in the learner's language
            for cls in kind.__mro__:
                line = translate("error", cls.__name__)
                if line != cls.__name__:
                    print(line)
                    break
        shell.showtraceback((kind, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((MinisbertError,), explain)
