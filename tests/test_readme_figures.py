"""Every measured figure in the tables of the README and docs/ comes from a committed JSON file.

A figure copied by hand into the README goes stale silently: the code changes, a
benchmark is rerun, and the table still shows the old number, with nothing to say
which run produced it. So each results and performance table carries, on the line
before it, a marker naming the JSON file(s) its figures come from:

    <!-- figures: benchmarks/results/sts.json -->
    | | epoch 1 | epoch 2 |
    |---|---|---|
    | minisbert, STS-B test | 85.43 | 85.60 |

The benchmark scripts write those files (benchmarks/results/, committed) with the
command, the commit, the date and the machine that produced them. These tests check
that every number in a marked table's body (the first column holds labels and is
skipped) occurs in the JSON it cites, within half a unit of the last decimal the README
writes ("85.67" matches 85.6712; "4,287 /s (7.3x)" holds 4287 and 7.3); that each cited
JSON says which command and commit produced it; and that no table of measured numbers in
the results and performance sections lacks a marker. The module imports no torch: it
reads text files only and runs in a fraction of a second.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # the README and the pages it links

MARKER = re.compile(r"^<!-- figures: (.+?) -->$")
# A table whose figures no committed JSON holds yet says so, and why, in place of a marker:
# the README then tells the reader too (the test summary lists these tables).
UNTRACED = re.compile(r"^<!-- figures untraced: (.+) -->$")
# sections whose tables of numbers must each cite a JSON (a heading, a page title included, covers its subsections)
MEASURED_SECTIONS = {"Tokenizer", "Parity with sentence-transformers", "Results on real data", "Performance"}

# A number as the README or a JSON string writes it: "85.67", "4,287", "-0.5", "7.2e-07",
# "7.3x". Not a digit inside a word ("fp16", "L6", "x100"): no letter, digit or point before
# it, none after it except an "x" (a ratio) that ends the word. Groups: integer part,
# decimals, exponent.
NUMBER = re.compile(r"(?<![\w.])-?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d{1,3}))?(?=x?(?!\w))")


def numbers(text: str) -> list[tuple[float, float]]:
    """Each number in text with its precision: half a unit of its last written digit."""
    out = []
    for m in NUMBER.finditer(text):
        decimals, exponent = len(m.group(2) or ""), int(m.group(3) or 0)
        value = float(m.group(0).rstrip("x").replace(",", ""))
        out.append((value, 0.5 * 10.0 ** (exponent - decimals)))
    return out


def json_numbers(value) -> list[float]:
    """Every number in a JSON document: numeric values, and the numbers written inside strings."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in json_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in json_numbers(v)]
    if isinstance(value, str):
        return [n for n, _ in numbers(value)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    return []


def cells(line: str) -> list[str]:
    """The cells of one markdown table row (a pipe escaped as \\| stays inside its cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


@dataclass
class Table:
    page: str  # the file, relative to the repository
    line: int  # the line of the table's header row (1-based)
    sections: list[str]  # the headings above it, outermost first
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells) of each body row
    cites: list[str]  # the JSON paths its marker names, or [] where it has none
    untraced: str | None = None  # why no JSON holds its figures yet, where the README says so

    def figures(self):
        """(line, row label, column name, figure as written, value, tolerance) of each body number."""
        for line, row in self.rows:
            for name, cell in zip(self.header[1:], row[1:]):
                for m, (value, tolerance) in zip(NUMBER.finditer(cell), numbers(cell)):
                    yield line, row[0], name, m.group(0), value, tolerance


def page_tables(page: Path) -> tuple[list[Table], list[str]]:
    """Every table of a page with its marker; and the places of markers that precede no table."""
    name = page.relative_to(ROOT).as_posix()
    lines = page.read_text(encoding="utf-8").split("\n")
    tables, stray, headings = [], [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if heading := re.match(r"^(#{1,6}) (.+)$", line):
            depth = len(heading.group(1))
            headings = [h for h in headings if h[0] < depth] + [(depth, heading.group(2).strip())]
        elif line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            untraced = UNTRACED.match(lines[i - 1]) if i > 0 else None
            tables.append(Table(page=name, line=i + 1, sections=[h for _, h in headings], header=cells(line),
                                rows=[(n + 1, cells(lines[n])) for n in range(i + 2, end)],
                                cites=marker.group(1).split() if marker else [],
                                untraced=untraced.group(1) if untraced else None))
            i = end
            continue
        elif (MARKER.match(line) or UNTRACED.match(line)) and not (i + 1 < len(lines) and lines[i + 1].startswith("|")):
            stray.append(f"{name}:{i + 1}")
        i += 1
    return tables, stray


TABLES = [t for page in PAGES for t in page_tables(page)[0]]
STRAY_MARKERS = [s for page in PAGES for s in page_tables(page)[1]]
MARKED = [t for t in TABLES if t.cites]
CITED = sorted({path for t in MARKED for path in t.cites})


def regenerate(path: str) -> str:
    """How to remake a cited JSON, for the failure messages."""
    p = Path(path)
    if p.parts[:2] == ("benchmarks", "measured"):  # an archived run on a lent machine
        return f"`bash benchmarks/gpu_check.sh` on a GPU machine (see {p.parent / 'README.md'})"
    if (ROOT / "benchmarks" / f"{p.stem}.py").is_file():
        return f"`python benchmarks/{p.stem}.py`"
    return f"`python benchmarks/train_results.py {p.stem}`"  # one of its experiments


def load(path: str) -> dict:
    file = ROOT / path
    if not file.is_file():
        pytest.fail(f"{path} does not exist: run {regenerate(path)} and commit the JSON it writes",
                    pytrace=False)
    return json.loads(file.read_text(encoding="utf-8"))


def test_the_figure_parser():
    assert numbers("4,287 /s (7.3x)") == [(4287.0, 0.5), (7.3, 0.05)]
    assert numbers("**85.67**") == [(85.67, 0.005)]
    assert numbers("60.6 %") == [(60.6, 0.05)]
    assert numbers("min 0.9999999, mean 1.0000000") == [(0.9999999, 5e-8), (1.0, 5e-8)]
    assert [v for v, _ in numbers("7.2e-07")] == [7.2e-07]
    assert numbers("commit 91e9946") == []  # a commit hash is not 91 x 10^9946
    assert numbers('minisbert, `precision="fp16"`, all-MiniLM-L6-v2, Spearman x100') == []
    assert json_numbers({"a": [1, "1,943 and 7.69x"], "b": {"c": 2.5, "d": True}}) == [1.0, 1943.0, 7.69, 2.5]


def test_the_readme_marks_its_results_tables():
    untraced = [t for t in TABLES if t.untraced]
    assert len(MARKED) + len(untraced) >= 10, "the results and performance tables should carry figure markers"
    assert not STRAY_MARKERS, f"{STRAY_MARKERS}: a figures marker must be the line just before a table"


@pytest.mark.parametrize("path", CITED)
def test_each_cited_json_says_what_produced_it(path):
    document = load(path)
    missing = [key for key in ("command", "commit") if key not in document]
    assert not missing, (f"{path} has no {' or '.join(repr(k) for k in missing)}: an older script wrote it. "
                         f"Rerun {regenerate(path)} and commit the JSON it writes")


@pytest.mark.parametrize("table", MARKED, ids=[f"{t.page}:{t.line}" for t in MARKED])
def test_each_figure_equals_the_json_it_cites(table):
    found = [n for path in table.cites for n in json_numbers(load(path))]
    assert found, f"{' '.join(table.cites)} holds no numbers"
    wrong = []
    for line, label, column, written, value, tolerance in table.figures():
        nearest = min(found, key=lambda n: abs(n - value))
        # half a unit of the last written digit, and a hair more for float rounding (85.675 is 85.67 or 85.68)
        if abs(nearest - value) > tolerance + 1e-12 * abs(value):
            wrong.append(f"{table.page}:{line}: {written} (row {label!r}, column {column!r}); "
                         f"the nearest number there is {nearest:.10g}")
    assert not wrong, (f"figures not in {' '.join(table.cites)} (rerun "
                       f"{', '.join(regenerate(p) for p in table.cites)} and update the README, "
                       "or fix the marker):\n" + "\n".join(wrong))


def test_every_table_of_measured_numbers_cites_a_json():
    from conftest import report
    for t in TABLES:
        if t.untraced:
            report(f"{t.page}:{t.line}: figures not yet in a committed JSON ({t.untraced})")
    unmarked = [f"{t.page}:{t.line} ({' > '.join(t.sections)})" for t in TABLES
                if not t.cites and not t.untraced and MEASURED_SECTIONS & set(t.sections)
                and any(numbers(cell) for _, row in t.rows for cell in row[1:])]
    assert not unmarked, ("tables of measured numbers with no `<!-- figures: benchmarks/results/NAME.json -->` "
                          "marker on the line before them: " + "; ".join(unmarked))
