"""Where the course's files are: the reference values, and beside them the lessons and their editions.

Its own module because both the checks (check.py) and the learner's language (language.py) need it, and
the checks speak through the language module: a shared leaf keeps the imports flowing one way.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..support.errors import MissingFileError


def reference_dir() -> Path:
    """$MINISBERT_REFERENCE, else the course's lessons/reference/ found from the current folder.

    The lessons run in lessons/, the tests at the repository's root: both find it.
    """
    env = os.environ.get("MINISBERT_REFERENCE")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        for candidate in (folder / "reference", folder / "lessons" / "reference"):
            if (candidate / "reference.json").is_file():
                return candidate
    raise MissingFileError(f"no lessons/reference/reference.json in {here} or the folders above it: run the "
                           "lessons from the course's checkout, or set MINISBERT_REFERENCE to the folder "
                           "that holds reference.json")


def lessons_dir() -> Path:
    """The lessons/ folder: the one that holds reference/."""
    return reference_dir().parent
