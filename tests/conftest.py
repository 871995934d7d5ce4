"""Shared test helpers: reference libraries and data that may be absent, and a report of
the figures (case counts, largest differences) printed at the end of the run.

Strict mode (CI set, as in CI, or MINISBERT_STRICT=1): a test that would skip because a
reference library or ../shared/data is missing fails instead, naming what is missing, so
that a broken install cannot pass quietly. Only tests that need hardware (CUDA, bf16)
may still skip.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

STRICT = bool(os.environ.get("CI") or os.environ.get("MINISBERT_STRICT"))

_REPORT: list[str] = []


def missing(what: str) -> None:
    """Skip, or in strict mode fail, a test that needs something absent."""
    if STRICT:
        pytest.fail(f"{what} (strict mode: CI or MINISBERT_STRICT is set, so this fails instead of skipping; "
                    "install requirements-dev.txt)", pytrace=False)
    pytest.skip(what)


def need(module: str, why: str = ""):
    """A reference library, imported; or a skip (a failure in strict mode) naming it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed" + (f": {why}" if why else ""))


def need_data(path: Path) -> Path:
    if not path.exists():
        missing(f"{path} is absent (../shared/data beside the repository)")
    return path


def report(line: str) -> None:
    """Record a figure to print in the summary, e.g. how many cases were compared."""
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("minisbert reference figures")
        for line in _REPORT:
            terminalreporter.write_line(line)


def load_fixture(name: str):
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"fixture {path} is missing: run python tests/fixtures/make_fixtures.py")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def model_dir():
    from minisbert import resolve_model
    return resolve_model()


@pytest.fixture(scope="session")
def transformers():
    return need("transformers", "the committed fixtures cover the same cases")
