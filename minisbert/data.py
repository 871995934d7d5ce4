"""Reading sentence-pair files: what STS evaluation and training consume.

A pairs file holds two sentences and a score (or label) per row. Accepted forms:

- CSV or TSV with a header naming `sentence1`, `sentence2` and `score` (or `label`);
- JSON Lines with those keys;
- the STS Benchmark's own tab-separated files (genre, file, year, id, score,
  sentence1, sentence2, sometimes 2 more fields; quotes are literal);
- stsb-multi-mt's CSV (no header: sentence1, sentence2, score).

A malformed row is reported with its file and line number.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Pair:
    sentence1: str
    sentence2: str
    score: float


class DataError(ValueError):
    """A data file that cannot be read as asked: names the file and line."""


def _score(value, path, line) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}, line {line}: score {value!r} is not a number") from None


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _from_header(rows, header, path, first_line) -> list[Pair]:
    names = [h.strip().lower() for h in header]
    score_col = "score" if "score" in names else "label" if "label" in names else None
    if score_col is None or "sentence1" not in names or "sentence2" not in names:
        raise DataError(f"{path}: the header {header} must name sentence1, sentence2 and score (or label)")
    i1, i2, i3 = names.index("sentence1"), names.index("sentence2"), names.index(score_col)
    pairs = []
    for line, row in enumerate(rows, start=first_line):
        if not row:
            continue
        if len(row) <= max(i1, i2, i3):
            raise DataError(f"{path}, line {line}: expected {len(names)} fields, found {len(row)}")
        pairs.append(Pair(row[i1], row[i2], _score(row[i3], path, line)))
    return pairs


def read_pairs(path: str | Path) -> list[Pair]:
    """Sentence pairs with scores from any of the forms above."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pairs file {path} does not exist")
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines:
        raise DataError(f"{path} is empty")
    if path.suffix == ".jsonl" or lines[0].lstrip().startswith("{"):
        pairs = []
        for line, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                pairs.append(Pair(obj["sentence1"], obj["sentence2"],
                                  _score(obj.get("score", obj.get("label")), path, line)))
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise DataError(f"{path}, line {line}: not a JSON object with sentence1, sentence2 "
                                f"and score ({type(e).__name__}: {e})") from None
        return pairs
    if "\t" in lines[0]:
        first = lines[0].split("\t")
        if "sentence1" in [f.strip().lower() for f in first]:
            return _from_header((raw.split("\t") for raw in lines[1:]), first, path, 2)
        pairs = []  # the STS Benchmark's own format
        for line, raw in enumerate(lines, start=1):
            fields = raw.split("\t")
            if len(fields) < 7:
                raise DataError(f"{path}, line {line}: an STS Benchmark row has at least 7 tab-separated "
                                f"fields (genre, file, year, id, score, sentence1, sentence2), found {len(fields)}")
            pairs.append(Pair(fields[5], fields[6], _score(fields[4], path, line)))
        return pairs
    rows = list(csv.reader(lines))
    if "sentence1" in [f.strip().lower() for f in rows[0]]:
        return _from_header(rows[1:], rows[0], path, 2)
    if len(rows[0]) == 3 and not _is_number(rows[0][2]):
        raise DataError(f"{path}: the first row {rows[0]} is neither a header naming sentence1, sentence2 "
                        "and score (or label) nor a data row ending in a numeric score")
    pairs = []  # stsb-multi-mt: sentence1, sentence2, score
    for line, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != 3:
            raise DataError(f"{path}, line {line}: expected 3 comma-separated fields (sentence1, sentence2, "
                            f"score) or a header row, found {len(row)}")
        pairs.append(Pair(row[0], row[1], _score(row[2], path, line)))
    return pairs
