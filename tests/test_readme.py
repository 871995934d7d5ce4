"""The robustness page (docs/robustness.md) names real tests, and every robustness test is in it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_the_robustness_table_and_the_tests_agree():
    section = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", section)
    assert len(named) >= 25
    missing = [f"{f}::{t}" for f, t in named if t not in _tests_in(ROOT / f)]
    assert not missing, f"docs/robustness.md names tests that do not exist: {missing}"
    listed = {t for f, t in named if f == "tests/test_robustness.py"}
    unlisted = _tests_in(ROOT / "tests" / "test_robustness.py") - listed
    assert not unlisted, f"robustness tests missing from docs/robustness.md: {sorted(unlisted)}"
