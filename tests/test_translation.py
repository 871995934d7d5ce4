"""The Chinese edition (lessons/zh/): one source of code, a catalogue that cannot drift, checks that speak Chinese.

The first tests hold the committed edition to its catalogues; the rest show, on a small notebook of their own,
that each kind of drift is caught (the mutations the issue asks for) and that the checks switch language.
"""

import re
import shutil
from pathlib import Path

import nbformat
import polib
import pytest
import torch

from minisbert.course import check, language, translation
from minisbert.course.exercises import exercises

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch):
    monkeypatch.chdir(ROOT)
    yield
    language.use_language("en")


def test_every_lesson_has_its_chinese_edition():
    english = translation.english_notebooks()
    missing = [e.name for e in english if not translation.translated_path(e).is_file()]
    assert len(english) == 15 and not missing, f"no Chinese edition of {missing}"


@pytest.mark.parametrize("lesson", [p.name for p in translation.english_notebooks()])
def test_the_chinese_edition_is_current_complete_and_chinese(lesson):
    english = LESSONS / lesson
    if not translation.translated_path(english).is_file():
        pytest.fail(f"no lessons/zh/{lesson} (see lessons/zh/TRANSLATING.md)")
    assert translation.problems(english) == []


@pytest.mark.parametrize("lesson", [p.name for p in translation.english_notebooks()])
def test_each_empty_exercise_fails_in_chinese_in_the_executed_chinese_notebook(lesson):
    path = translation.translated_path(LESSONS / lesson)
    if not path.is_file():
        pytest.fail(f"no lessons/zh/{lesson}")
    nb = nbformat.read(path, as_version=4)
    for e in exercises(nb):
        errors = [o for o in nb.cells[e.check].outputs if o.output_type == "error"]
        assert errors and CJK.search(errors[0].evalue), f"{lesson} exercise {e.number}: {errors and errors[0].evalue}"


# --- the mechanism, on a notebook of the test's own -------------------------------------------------------------

TITLE, TEXT = "# Lesson 99 — A test\n\nAttention mixes the values.", "## Exercises\n\nSee [the solutions](solutions/99.py)."
CODE = 'from minisbert.course.check import check_close, reference\ncheck_close("gelu.output", reference("gelu.input"))'
CHINESE = {TITLE: "# 第 99 课 — 测试\n\n注意力（attention）把值混合起来。", TEXT: "## 练习\n\n见[答案](../solutions/99.py)。"}


@pytest.fixture
def course(tmp_path):
    """A lessons/ folder with one English notebook, its catalogue translated and its Chinese edition built."""
    lessons = tmp_path / "lessons"
    (lessons / "solutions").mkdir(parents=True)
    (lessons / "solutions" / "99.py").write_text("# %% Exercise 1\n")
    shutil.copytree(LESSONS / "reference", lessons / "reference")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(TITLE), nbformat.v4.new_code_cell(CODE),
                                         nbformat.v4.new_markdown_cell(TEXT)])
    english = lessons / "99_test.ipynb"
    nbformat.write(nb, english)
    translation.extract(english)
    po = polib.pofile(str(translation.catalogue_path(english)))
    for entry in po:
        entry.msgstr = CHINESE.get(entry.msgid, "中文的提示")
    po.save()
    translation.build(english)
    return english


def _edit_english(english: Path, old: str, new: str) -> None:
    nb = nbformat.read(english, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace(old, new)
    nbformat.write(nb, english)


def test_a_finished_edition_has_no_problems_and_runs_the_english_code(course):
    assert translation.problems(course) == []
    zh = nbformat.read(translation.translated_path(course), as_version=4)
    assert [c.source for c in zh.cells if c.cell_type == "code"] == [translation.LANGUAGE_CELL, CODE]
    assert zh.cells[0].source == CHINESE[TITLE]


def test_an_english_cell_edited_without_its_chinese_twin_is_caught(course):
    _edit_english(course, "mixes the values", "mixes the values, weighted")
    assert any("not in the catalogue" in p for p in translation.problems(course))
    translation.extract(course)  # the gettext way: the old Chinese comes back, flagged fuzzy, for review
    found = translation.problems(course)
    assert any("fuzzy" in p for p in found), found
    with pytest.raises(KeyError, match="no finished translation"):
        translation.build(course)


def test_a_changed_statement_in_the_chinese_notebook_is_caught(course):
    path = translation.translated_path(course)
    zh = nbformat.read(path, as_version=4)
    zh.cells[2].source = zh.cells[2].source.replace("gelu.input", "gelu.output")
    nbformat.write(zh, path)
    assert any("code differs from the English" in p for p in translation.problems(course))


def test_a_cell_left_in_english_or_a_broken_link_is_caught(course):
    po = polib.pofile(str(translation.catalogue_path(course)))
    po.find(TITLE).msgstr = TITLE  # "translated" by copying the English
    po.find(TEXT).msgstr = "## 练习\n\n见[答案](solutions/99.py)。"  # the path not made relative to lessons/zh/
    po.save()
    translation.build(course)
    found = translation.problems(course)
    assert any("mostly not Chinese" in p for p in found) and any("does not exist" in p for p in found), found


def test_a_hint_whose_english_changed_is_caught(course, monkeypatch):
    hints = {"gelu.output": {"hint": "a different English hint"}}
    monkeypatch.setattr(check, "_info", lambda name: hints.get(name, {}))
    assert any("hint gelu.output" in p and "not in the catalogue" in p for p in translation.problems(course))


def test_checks_speak_chinese_after_use_language_and_keep_the_english_for_the_course_tests():
    language.use_language("zh")
    with pytest.raises(check.CheckFailed) as failed:
        check.check_close("gelu.output", torch.zeros(3))
    assert str(failed.value).startswith("gelu.output: 形状是 (3,)，应为 (81,)")
    assert str(failed.value).splitlines()[1].startswith("提示")  # the hint's label (its text: the lesson's catalogue)
    assert failed.value.english.startswith("gelu.output: shape (3,), expected (81,)")
    language.use_language("en")
    with pytest.raises(check.CheckFailed, match=r"shape \(3,\), expected \(81,\)"):
        check.check_close("gelu.output", torch.zeros(3))


def test_use_language_refuses_an_unknown_language_and_works_from_lessons_when_started_in_zh(monkeypatch):
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        language.use_language("fr")
    monkeypatch.chdir(LESSONS / "zh")
    language.use_language("zh")
    assert Path.cwd() == LESSONS  # data/faq.csv and the like, shared by both editions


@pytest.mark.parametrize("lesson", [p.name for p in translation.english_notebooks()])
def test_the_executed_chinese_notebook_prints_its_checks_in_chinese(lesson):
    """Outputs as fresh as the catalogue: no check in the Chinese edition printed a translated claim in English."""
    english, path = LESSONS / lesson, translation.translated_path(LESSONS / lesson)
    if not path.is_file():
        pytest.fail(f"no lessons/zh/{lesson}")
    claims = {msgid for ctxt, msgid in translation._runtime_messages(nbformat.read(english, as_version=4))
              if ctxt == "claim"}
    printed = "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream")
    english_lines = [line for line in printed.splitlines()
                     if line.startswith("✓") and any(line.endswith(": " + claim) for claim in claims)]
    assert not english_lines, f"re-execute lessons/zh/{lesson}: {english_lines[:3]}"
