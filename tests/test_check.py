"""The learners' reference checks: what passes, what fails, and what a failure says."""

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from minisbert.course import check
from minisbert.course.check import CheckFailed, check_close, check_equal, check_that, reference

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A small reference store of our own, in place of the lessons' one."""
    save_file({"m": torch.tensor([[1.0, 2.0], [3.0, 4.0]])}, str(tmp_path / "reference.safetensors"))
    meta = {"checks": {"m": {"hint": "multiply, do not add"}, "score": {"atol": 0.01}},
            "values": {"ids": [[101, 7, 102], [101, 8, 102]], "score": 81.5}}
    (tmp_path / "reference.json").write_text(json.dumps(meta))
    monkeypatch.setenv("MINISBERT_REFERENCE", str(tmp_path))
    check._store.cache_clear()
    yield tmp_path
    check._store.cache_clear()


def test_close_passes_and_prints_the_largest_difference(store, capsys):
    check_close("m", torch.tensor([[1.0, 2.0], [3.0, 4.000001]]))
    out = capsys.readouterr().out
    assert out.startswith("✓ m:") and "largest difference 9.5e-07" in out


def test_close_failure_names_the_index_the_values_and_the_hint(store):
    with pytest.raises(CheckFailed) as e:
        check_close("m", torch.tensor([[1.0, 2.0], [3.5, 4.0]]))
    msg = str(e.value)
    assert "1 of 4 values differ" in msg and "index (1, 0)" in msg
    assert "got 3.5, expected 3" in msg and "hint: multiply, do not add" in msg


def test_close_failure_on_shape_and_non_finite_values(store):
    with pytest.raises(CheckFailed, match=r"shape \(2,\), expected \(2, 2\)"):
        check_close("m", torch.tensor([1.0, 2.0]))
    with pytest.raises(CheckFailed, match=r"non-finite value nan at index \(0, 1\)"):
        check_close("m", torch.tensor([[1.0, float("nan")], [3.0, 4.0]]))


def test_close_uses_the_stored_tolerance_for_numbers(store):
    check_close("score", 81.505)
    with pytest.raises(CheckFailed, match="more than 0.01"):
        check_close("score", 81.6)


def test_equal_names_the_first_differing_item(store, capsys):
    check_equal("ids", torch.tensor([[101, 7, 102], [101, 8, 102]]))
    assert "✓ ids: equal" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=r"item 1 is \[101, 9, 102\], expected \[101, 8, 102\]"):
        check_equal("ids", [(101, 7, 102), (101, 9, 102)])
    with pytest.raises(CheckFailed, match="1 items, expected 2"):
        check_equal("ids", [[101, 7, 102]])


def test_equal_takes_numpy_values_inside_lists(store, capsys):
    """A learner's answer built with numpy (np.int64 items, arrays in a list) is compared, not rejected."""
    check_equal("ids", [np.array([101, 7, 102]), [np.int64(101), np.int64(8), 102]])
    assert "✓ ids: equal" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=r"item 1 is \[101, 9, 102\]"):
        check_equal("ids", [np.array([101, 7, 102]), np.array([101, 9, 102])])


def test_that_states_the_claim(store, capsys):
    check_that("trained", True, "the loss fell")
    assert "✓ trained: the loss fell" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="expected that the loss fell; it is not so"):
        check_that("trained", False, "the loss fell")


def test_unknown_names_and_a_missing_store(store, tmp_path, monkeypatch):
    with pytest.raises(KeyError, match="known: ids, m, score"):
        reference("nope")
    monkeypatch.setenv("MINISBERT_REFERENCE", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="make_reference.py"):
        reference("m")


def test_reference_returns_a_copy(store):
    reference("m").zero_()
    assert reference("m")[1, 1] == 4.0


def _names_used(source: str) -> set[str]:
    return set(re.findall(r"""(?:check_close|check_equal|reference)\(\s*f?["']([^"'{]+)["']""", source))


def test_every_name_the_lessons_use_is_stored():
    """A lesson that asks for a value the store lacks would fail only when run; catch it here."""
    check._store.cache_clear()
    meta = json.loads((LESSONS / "reference" / "reference.json").read_text(encoding="utf-8"))
    from safetensors import safe_open
    with safe_open(str(LESSONS / "reference" / "reference.safetensors"), "pt") as f:
        stored = set(f.keys()) | set(meta["values"])
    used = set()
    for nb in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")):
        used |= _names_used("\n".join(c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"))
    for py in sorted((LESSONS / "solutions").glob("*.py")):
        used |= _names_used(py.read_text(encoding="utf-8"))
    assert len(used) > 40
    assert used <= stored, f"not in the reference store: {sorted(used - stored)}"


def test_the_lessons_reference_matches_minisbert_on_a_sample():
    """Two stored values recomputed here, so a stale store fails the unit tests, not only the lessons."""
    check._store.cache_clear()
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained()
    check_close("sbert.embeddings", model.encode(reference("pooling.sentences")))
    check_equal("ids.zh", [model.tokenizer.encode(t) for t in reference("sentences.zh")])


def test_show_prints_a_functions_source_with_its_file_and_line(capsys):
    from minisbert.course.show import show
    from minisbert.pooling import l2_normalize
    show(l2_normalize)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# minisbert/pooling.py, line ") and out[1].startswith("def l2_normalize(")


def test_show_leaves_out_the_assignment_markers(capsys):
    from minisbert.attention import scaled_dot_product_attention
    from minisbert.course.show import show
    show(scaled_dot_product_attention)
    out = capsys.readouterr().out
    assert "SOLUTION" not in out and "scores = q @ k.transpose(-2, -1)" in out and "return weights @ v" in out


def test_show_renders_highlighted_html_in_jupyter_and_the_same_text_elsewhere():
    from minisbert.course.show import source_of
    from minisbert.pooling import l2_normalize
    source = source_of(l2_normalize)
    html = source._repr_html_()
    assert repr(source).splitlines()[1].startswith("def l2_normalize(")
    assert '<span style="color' in html and "l2_normalize" in html  # coloured spans, not one plain <pre>
