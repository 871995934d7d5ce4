"""What the course promises about its own content: diagrams drawn by the repository's script (and each one also
with Chinese labels), a Chinese example in every core lesson, the Chinese NLI data used where NLI training is
taught, and prose that explains (the five thinnest lessons at least doubled from their size in issue #27)."""

import re
from pathlib import Path

import nbformat
import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Markdown words outside formulas when issue #27 was filed.
THIN = {"02_embeddings": 316, "03_attention": 429, "04_multihead": 380, "05_encoder_layer": 321, "10_evaluation": 405}


def notebook(stem: str):
    return nbformat.read(LESSONS / f"{stem}.ipynb", as_version=4)


def markdown_words(nb) -> int:
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return len(re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S).split())


def test_at_least_twelve_diagrams_each_drawn_in_english_and_chinese():
    used = set()
    for path in sorted(LESSONS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                used |= set(re.findall(r"\(figures/([\w-]+\.png)\)", cell.source))
    assert len(used) >= 12, sorted(used)
    missing = [f for f in used if not (LESSONS / "figures" / f).is_file() or not (LESSONS / "figures" / "zh" / f).is_file()]
    assert not missing, missing
    script = (LESSONS / "figures" / "make_figures.py").read_text(encoding="utf-8")
    assert "draw" in script  # the figures come from the script, not from a drawing program


@pytest.mark.parametrize("stem", ["02_embeddings", "03_attention", "04_multihead", "05_encoder_layer", "06_bert",
                                  "07_pooling", "09_siamese_training"])
def test_each_core_lesson_shows_a_chinese_example(stem):
    """Chinese text that the lesson's code runs on (written in a cell, or read from the course's data and
    printed), not only in its prose."""
    cells = [c for c in notebook(stem).cells if c.cell_type == "code"]
    code = " ".join(c.source for c in cells)
    printed = " ".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in cells for o in c.outputs)
    assert len(CJK.findall(code)) >= 4 or len(CJK.findall(printed)) >= 20, f"{stem} runs no Chinese example"


def test_ocnli_is_used_where_nli_training_is_taught():
    code = " ".join(c.source for c in notebook("09_siamese_training").cells if c.cell_type == "code")
    assert "ocnli" in code.lower()


@pytest.mark.parametrize("stem, before", THIN.items())
def test_the_thin_lessons_explain_at_least_twice_as_much(stem, before):
    assert markdown_words(notebook(stem)) >= 2 * before
