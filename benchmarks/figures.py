"""Every measured figure of the README, docs/*.md and lessons/README.md, drawn from the JSON key it comes from.

    python benchmarks/figures.py           # report each table and prose figure that differs from its JSON
    python benchmarks/figures.py --write   # rewrite the tables, and the prose figures at their precision

A key names a JSON file and a path inside it, as a JSON pointer after '#':

    sts.json#result/minisbert/epochs/3/test      (a file alone is in benchmarks/results/; one with a '/'
    benchmarks/measured/h200-2026-11-28/train_speed.json#result/minisbert/vs_st    is from the repository root)

The path walks dict keys and list indexes; a step `=a & b` picks, in a list of rows, the one row that holds
the cells a and b (rows/=STS-B test & minisbert/2: that row's third cell); a step into a string picks the
n-th number written in it (title/-1: the last number of the title). Later keys of an expression may leave
out the file: they read the first key's. A derived figure is an expression of keys and numbers joined by
' / ', ' * ' or ' - ' (spaces around; evaluated left to right): `a / b` for a ratio, `a - b` for a difference.

Tables: each is described once, in benchmarks/figure_tables.py (the page's table with every figure written as
{KEY:FORMAT}); the page holds it right under a line `<!-- table: NAME -->`, and the table ends at the first
line that does not start with '|'. Prose: a figure carries its key in an invisible marker right after it,
`85.67<!-- sts.json#result/minisbert/epochs/3/test -->`, and must equal the key's value rounded to the
decimals it is written with. The test (tests/test_readme_figures.py) runs problems() on every page.
Imports no torch: it reads text and JSON only.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
         "lessons/README.md"]

# A number as a page or a JSON string writes it: "85.67", "4,287", "-0.5", "7.2e-07", "7.3x". Not a digit
# inside a word ("fp16", "L6", "x100"). Groups: integer part, decimals, exponent.
NUMBER = re.compile(r"(?<![\w.])-?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d{1,3}))?(?=x?(?!\w))")
TABLE_MARKER = re.compile(r"^<!-- table: ([\w-]+) -->$")
PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}:]*))?\}")  # {EXPRESSION} or {EXPRESSION:FORMAT} in a template
# a prose figure and its marker: the number, an optional "x" or " %" after it, then <!-- EXPRESSION -->; the
# expression may hold ">" ("auto (-> bf16)"), not the marker's end "-->"
KEY_CHAR = r"(?:(?!-->)[^<])"
PROSE = re.compile(r"(?<![\w.])(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d{1,3})?)(x| %)?"
                   rf"<!-- ({KEY_CHAR}+?\.json#{KEY_CHAR}+?) -->")
ANY_KEY_MARKER = re.compile(rf"<!-- {KEY_CHAR}*\.json#{KEY_CHAR}*-->")
OPERATOR = re.compile(r" ([-*/]) ")


class FigureError(Exception):
    """A key that names no file or no value: the message says which and what is there."""


def numbers_in(text: str) -> list[float]:
    return [float(m.group(0).replace(",", "")) for m in NUMBER.finditer(text)]


def json_path(name: str) -> Path:
    return ROOT / name if "/" in name else ROOT / "benchmarks" / "results" / name


@functools.cache
def document(name: str) -> dict:
    path = json_path(name)
    if not path.is_file():
        raise FigureError(f"{path.relative_to(ROOT)} does not exist")
    return json.loads(path.read_text(encoding="utf-8"))


def lookup(key: str, default_file: str | None = None):
    """The value a key names: 'sts.json#result/minisbert/steps' (or 'result/minisbert/steps' in default_file)."""
    name, _, pointer = key.rpartition("#")
    name = name or default_file
    if not name:
        raise FigureError(f"key {key!r} names no JSON file (write FILE.json#path)")
    value = document(name)
    for step in pointer.split("/"):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.startswith("="):  # the row holding these cells: =a & b
            labels = step[1:].split(" & ")
            found = [row for row in value if isinstance(row, list) and all(label in row for label in labels)]
            if len(found) != 1:
                raise FigureError(f"{name}#{pointer}: {len(found)} rows hold the cells {labels}, not one")
            value = found[0]
        elif isinstance(value, (list, str)) and re.fullmatch(r"-?\d+", step):
            items = value if isinstance(value, list) else numbers_in(value)
            if not -len(items) <= int(step) < len(items):
                raise FigureError(f"{name}#{pointer}: no item {step} in {value!r}")
            value = items[int(step)]
        else:
            there = list(value) if isinstance(value, dict) else type(value).__name__
            raise FigureError(f"{name}#{pointer}: no {step!r} (there: {there})")
    return value


def files_of(expression: str) -> list[str]:
    """The JSON files an expression reads."""
    return [key.rpartition("#")[0] for key in OPERATOR.split(expression)[::2] if "#" in key]


def evaluate(expression: str, default_file: str | None = None):
    """An expression's value: a key alone gives the JSON value as it is (a string stays a string); with
    operators, numbers (a string counts as its first number), evaluated left to right."""
    parts = OPERATOR.split(expression.strip())
    default_file = default_file or next((f for f in files_of(expression)), None)

    def operand(text):
        if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
            return float(text)
        return lookup(text, default_file)

    if len(parts) == 1:
        return operand(parts[0])
    value = as_number(operand(parts[0]))
    for op, text in zip(parts[1::2], parts[2::2]):
        other = as_number(operand(text))
        value = value / other if op == "/" else value * other if op == "*" else value - other
    return value


def as_number(value) -> float:
    if isinstance(value, str):
        found = numbers_in(value)
        if not found:
            raise FigureError(f"{value!r} holds no number")
        return found[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FigureError(f"{value!r} is not a number")
    return float(value)


@dataclass
class Table:
    """A table as its page shows it, every figure written {KEY:FORMAT}; KEY may leave out the file `source`."""
    source: str  # the JSON file its keys read by default
    template: str  # the markdown table, one row a line
    missing: str = ""  # why it may stay untraced while `source` does not exist yet (empty: it must exist)

    def files(self) -> list[str]:
        found = [f for m in PLACEHOLDER.finditer(self.template) for f in files_of(m.group(1))]
        return sorted({self.source, *found})

    def lines(self) -> list[tuple[str, str]]:
        """(prefix, markdown) of each template line: `rows/=minisbert :: | minisbert | {2} |` reads its keys
        under rows/=minisbert ({2} is rows/=minisbert/2); a line with no ' :: ' has the prefix ''."""
        return [tuple(line.split(" :: ", 1)) if " :: " in line else ("", line)
                for line in self.template.strip().split("\n")]

    def shapes(self) -> list[re.Pattern]:
        """Each line of the table as a pattern in which every figure may be anything: its words only."""
        return [re.compile(".+?".join(re.escape(part) for part in PLACEHOLDER.sub("\0", line).split("\0")))
                for _, line in self.lines()]

    def render(self) -> list[tuple[str, list[tuple[int, int, str, object]]]]:
        """Each line of the table: its text, and (start, end, key, value) of each figure in it."""
        out = []
        for prefix, line in self.lines():
            text, spans, last = "", [], 0
            for m in PLACEHOLDER.finditer(line):
                key = f"{prefix}/{m.group(1)}" if prefix else m.group(1)
                value = evaluate(key, self.source)
                written = format(as_number(value), m.group(2)) if m.group(2) else str(value)
                text += line[last:m.start()]
                spans.append((len(text), len(text) + len(written), key, value))
                text += written
                last = m.end()
            out.append((text + line[last:], spans))
        return out


@functools.cache
def tables() -> dict[str, Table]:
    """benchmarks/figure_tables.py's tables (read by path: no module name to collide with)."""
    spec = importlib.util.spec_from_file_location("figure_tables", Path(__file__).with_name("figure_tables.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: Table(**fields) for name, fields in module.TABLES.items()}


@dataclass
class Problem:
    page: str
    line: int  # 1-based
    message: str

    def __str__(self):
        return f"{self.page}:{self.line}: {self.message}"


def table_blocks(text: str) -> list[tuple[str, int, int]]:
    """(name, first line index, end index) of each marked table of a page (0-based, end exclusive)."""
    lines = text.split("\n")
    found = []
    for i, line in enumerate(lines):
        if m := TABLE_MARKER.match(line):
            end = i + 1
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            found.append((m.group(1), i + 1, end))
    return found


def unrecorded(name: str) -> bool:
    """Whether a JSON is one that a table may wait for (its `missing` says why) and does not exist yet."""
    return not json_path(name).is_file() and any(t.missing and t.source == name for t in tables().values())


def untraced_tables(text: str) -> list[tuple[str, str]]:
    """(name, why) of each marked table whose JSON does not exist yet."""
    specs = tables()
    return [(name, specs[name].missing) for name, _, _ in table_blocks(text)
            if name in specs and unrecorded(specs[name].source)]


def table_problems(page: str, text: str) -> list[Problem]:
    lines, specs, problems = text.split("\n"), tables(), []
    for name, start, end in table_blocks(text):
        if name not in specs:
            problems.append(Problem(page, start, f"no table {name!r} in benchmarks/figure_tables.py"))
            continue
        spec = specs[name]
        if unrecorded(spec.source):
            # untraced until its JSON is recorded (the test lists it); its words must still be the template's,
            # or --write would overwrite an edit made on the page alone
            shapes = spec.shapes()
            if end - start != len(shapes):
                problems.append(Problem(page, start + 1, f"table {name!r} has {end - start} lines, "
                                        f"benchmarks/figure_tables.py {len(shapes)}: make them agree"))
            for n, (written, shape) in enumerate(zip(lines[start:end], shapes), start + 1):
                if not shape.fullmatch(written):
                    problems.append(Problem(page, n, f"table {name!r}: this line's words differ from "
                                            "benchmarks/figure_tables.py: make them agree"))
            continue
        try:
            rendered = spec.render()
        except FigureError as e:
            problems.append(Problem(page, start, f"table {name!r}: {e}"))
            continue
        if end - start != len(rendered):
            problems.append(Problem(page, start + 1, f"table {name!r} has {end - start} lines, its JSON gives "
                                    f"{len(rendered)}: run `python benchmarks/figures.py --write`"))
            continue
        header = cells(rendered[0][0])
        for n, (written, (expected, spans)) in enumerate(zip(lines[start:end], rendered), start + 1):
            found = differences(written, expected, spans, header, spec.source) if written != expected else []
            problems += [Problem(page, n, f"table {name!r}, {what}: rerun the benchmark, or run `python "
                                 "benchmarks/figures.py --write`, or change the table in benchmarks/figure_tables.py")
                         for what in found]
    return problems


CELL_EDGE = re.compile(r"(?<!\\)\|")  # a pipe that ends a cell (an escaped one, \|, stays inside)


def cells(line: str) -> list[str]:
    return [c.strip() for c in CELL_EDGE.split(line.strip()[1:-1])]


def differences(written: str, expected: str, spans, header: list[str], source: str) -> list[str]:
    """What differs between a table line as written and as its JSON gives it: each cell, with its keys."""
    got, edges = cells(written), [m.start() for m in CELL_EDGE.finditer(expected)]
    if len(got) != len(edges) - 1:
        return [f"the line reads\n    {written}\n  its JSON gives\n    {expected}"]
    out = []
    for column, (start, end) in enumerate(zip(edges, edges[1:])):
        want = expected[start + 1:end].strip()
        if got[column] != want:
            keys = [f"{key if '#' in key else source + '#' + key} = {value!r}"
                    for s, _, key, value in spans if start < s < end]
            out.append(f"column {header[column]!r} reads {got[column]!r}, its JSON gives {want!r}"
                       + (f" ({'; '.join(keys)})" if keys else " (words, no figure)"))
    return out


def precision(figure: str) -> float:
    """Half a unit of a figure's last written digit."""
    m = NUMBER.match(figure)
    decimals, exponent = len(m.group(2) or ""), int(m.group(3) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)


def prose_problems(page: str, text: str) -> list[Problem]:
    problems = []
    figures = {m.start(3) - 5 for m in PROSE.finditer(text)}
    for m in ANY_KEY_MARKER.finditer(text):
        if m.start() not in figures:
            problems.append(Problem(page, text.count("\n", 0, m.start()) + 1,
                                    f"{m.group(0)} follows no figure (write it right after the number)"))
    for m in PROSE.finditer(text):
        line, figure, expression = text.count("\n", 0, m.start()) + 1, m.group(1), m.group(3)
        try:
            value = as_number(evaluate(expression))
        except FigureError as e:
            if any(map(unrecorded, files_of(expression))):
                continue  # not yet recorded: the test lists its table as untraced
            problems.append(Problem(page, line, f"{figure} ({expression}): {e}"))
            continue
        written = float(figure.replace(",", ""))
        if abs(written - value) > precision(figure) + 1e-9 * abs(value):
            problems.append(Problem(page, line, f"{figure} is not {expression} = {value:.10g} at the precision "
                                    "written: rerun the benchmark or fix the figure "
                                    "(`python benchmarks/figures.py --write` rewrites it)"))
    return problems


def problems(page: str, text: str) -> list[Problem]:
    return table_problems(page, text) + prose_problems(page, text)


def rewritten(page: str, text: str) -> str:
    """The page with its tables rendered from their JSONs and its prose figures at their written precision."""
    lines, specs = text.split("\n"), tables()
    for name, start, end in reversed(table_blocks(text)):
        spec = specs.get(name)
        if spec and not unrecorded(spec.source):
            lines[start:end] = [line for line, _ in spec.render()]
    text = "\n".join(lines)

    def figure(m):
        try:
            value = as_number(evaluate(m.group(3)))
        except FigureError:
            return m.group(0)
        if "e" in m.group(1).lower():
            return m.group(0)  # a figure with an exponent: left to the reader
        places = len(m.group(1).partition(".")[2])
        new = f"{value:,.{places}f}" if "," in m.group(1) else f"{value:.{places}f}"
        return new + (m.group(2) or "") + f"<!-- {m.group(3)} -->"

    return PROSE.sub(figure, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite the pages' tables and prose figures in place")
    args = ap.parse_args()
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        if args.write:
            new = rewritten(page, text)
            if new != text:
                (ROOT / page).write_text(new, encoding="utf-8")
                print(f"rewrote {page}")
            text = new
        found += problems(page, text)
        for name, why in untraced_tables(text):
            print(f"{page}: table {name!r} untraced ({why})")
    for problem in found:
        print(problem)
    print(f"{len(found)} figure(s) differ from their JSON" if found else "every tied figure equals its JSON")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
