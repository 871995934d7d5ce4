"""Shared test helpers: reference libraries that may be absent, and a report of
the figures (case counts, largest differences) printed at the end of the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

_REPORT: list[str] = []


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
    return pytest.importorskip("transformers", reason="transformers is not installed: "
                               "the committed fixtures cover the same cases")
