"""The student edition and the autograder: full marks for the library, zero for the edition,
and a single wrong solution costs exactly its own assignment's points."""

import re
import textwrap
from pathlib import Path

import pytest

from minisbert.course.assignments import (ASSIGNMENTS, check_edition, grade, make_student_edition, report,
                                          strip_solutions)
from minisbert.errors import MarkerError

ROOT = Path(__file__).resolve().parent.parent

SOURCE = textwrap.dedent('''\
    def f(x):
        """Doc."""
        # BEGIN SOLUTION pooling: average the real tokens
        y = x + 1
        return y
        # END SOLUTION


    def g():
        return 2
''')


def test_a_marked_block_becomes_a_stub_with_the_hint():
    text, found = strip_solutions(SOURCE)
    assert found == ["pooling"]
    stub = "raise NotImplementedError(\"assignment 'pooling': average the real tokens (see lessons/assignments/)\")"
    assert f"\n    {stub}\n" in text
    assert "y = x + 1" not in text and "def g():\n    return 2" in text
    namespace = {}
    exec(text, namespace)
    with pytest.raises(NotImplementedError, match="average the real tokens"):
        namespace["f"](1)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION pooling\nx = 1\n", "line 1: BEGIN SOLUTION is never closed"),
    ("x = 1\n# END SOLUTION\n", "line 2: END SOLUTION without a BEGIN SOLUTION"),
    ("# BEGIN SOLUTION pooling\n# BEGIN SOLUTION losses\n# END SOLUTION\n", "line 2: BEGIN SOLUTION inside the block"),
    ("# BEGIN SOLUTION poolnig\n# END SOLUTION\n", "unknown assignment 'poolnig'"),
])
def test_bad_markers_are_named_with_their_line(source, message):
    with pytest.raises(MarkerError, match=re.escape(message)):
        strip_solutions(source, "x.py")


def test_the_library_scores_full_marks():
    results = grade(ROOT)
    assert [r.name for r in results] == list(ASSIGNMENTS)
    assert all(r.earned == r.points for r in results), report(results)
    assert report(results).endswith("total: 100/100 (100%)")


def test_the_student_edition_imports_and_scores_zero(tmp_path):
    removed = make_student_edition(tmp_path / "edition", ROOT)
    assert all(removed.values()) and sum(removed.values()) >= len(ASSIGNMENTS)
    assert not (tmp_path / "edition" / "lessons" / "solutions").exists()
    assert (tmp_path / "edition" / "lessons" / "assignments" / "README.md").is_file()
    assert check_edition(tmp_path / "edition") == []  # imports; all 0 on NotImplementedError; other tests pass
    with pytest.raises(FileExistsError):
        make_student_edition(tmp_path / "edition", ROOT)


def test_attention_without_the_scaling_loses_exactly_its_points(tmp_path):
    edition = tmp_path / "wrong"
    make_student_edition(edition, ROOT, keep_solutions=True)
    source = edition / "minisbert" / "attention.py"
    text = source.read_text()
    assert text.count("/ math.sqrt(d)") == 1
    source.write_text(text.replace("/ math.sqrt(d)", ""))
    results = {r.name: r for r in grade(edition)}
    assert results["attention"].earned == 0
    assert "divide Q K^T by sqrt(d)" in results["attention"].message
    assert all(r.earned == r.points for name, r in results.items() if name != "attention"), \
        report(list(results.values()))
    assert sum(r.earned for r in results.values()) == 100 - ASSIGNMENTS["attention"][0]
