"""Reading training and evaluation files: sentence pairs, triplets, NLI.

Accepted forms:

- CSV or TSV with a header row, or JSON Lines, naming the columns:
  pairs `sentence1, sentence2, score` (or `label`); triplets `anchor, positive,
  negative`; NLI `premise, hypothesis, label` (or sentence1/sentence2), with the
  label as a name (entailment, neutral, contradiction) or a number (0, 1, 2);
- the STS Benchmark's own tab-separated files (genre, file, year, id, score,
  sentence1, sentence2, sometimes 2 more fields; quotes are literal);
- stsb-multi-mt's CSV (no header: sentence1, sentence2, score);
- SNLI as tab-separated text without a header (premise, hypothesis, label).

A malformed row is reported with its file and line number before any work starts.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from ..support.errors import DataError, MissingFileError

NLI_LABELS = {"entailment": 0, "neutral": 1, "contradiction": 2}


@dataclass
class Pair:
    sentence1: str
    sentence2: str
    score: float


@dataclass
class Example:
    """One training row: the texts, each embedded by the same model, and a label."""
    texts: tuple[str, ...]
    label: object = 0.0  # a score, a class id, or a target vector


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _number(value, path, line, what="score") -> float:
    if not _is_number(value):
        raise DataError(f"{path}, line {line}: {what} {value!r} is not a number")
    return float(value)


def _rows(path: Path) -> tuple[list[str] | None, list[tuple[int, list | dict]]]:
    """(header or None, [(line number, fields)]); JSON Lines rows are dicts."""
    if not path.is_file():
        raise MissingFileError(f"data file {path} does not exist")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if not any(line.strip() for line in lines):
        raise DataError(f"{path} is empty")
    if path.suffix == ".jsonl" or lines[0].lstrip().startswith("{"):
        rows = []
        for n, raw in enumerate(lines, start=1):
            if raw.strip():
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as e:
                    raise DataError(f"{path}, line {n}: not valid JSON ({e})") from None
                if not isinstance(obj, dict):
                    raise DataError(f"{path}, line {n}: expected a JSON object")
                rows.append((n, obj))
        return None, rows
    if "\t" in lines[0]:  # quotes are literal in these files
        rows = [(n, raw.split("\t")) for n, raw in enumerate(lines, start=1) if raw.strip()]
    else:
        rows = [(n, fields) for n, fields in enumerate(csv.reader(lines), start=1) if fields]
    known = {"sentence1", "sentence2", "anchor", "positive", "negative", "premise", "hypothesis"}
    first = [f.strip().lower() for f in rows[0][1]]
    if known & set(first):
        return first, rows[1:]
    return None, rows


def _columns(path, header, rows, wanted: list[list[str]]) -> list[tuple[int, list]]:
    """Pick columns by name (each entry of `wanted` lists accepted names)."""
    if header is None and rows and isinstance(rows[0][1], list):
        raise DataError(f"{path}: no header row naming the columns {[w[0] for w in wanted]}")
    out = []
    for n, row in rows:
        values = []
        for names in wanted:
            if isinstance(row, dict):
                key = next((k for k in names if k in row), None)
                if key is None:
                    raise DataError(f"{path}, line {n}: the object lacks {' or '.join(names)}")
                values.append(row[key])
            else:
                col = next((header.index(k) for k in names if k in header), None)
                if col is None:
                    raise DataError(f"{path}: the header {header} must name {' or '.join(names)}")
                if col >= len(row):
                    raise DataError(f"{path}, line {n}: expected {len(header)} fields, found {len(row)}")
                values.append(row[col])
        out.append((n, values))
    return out


def read_pairs(path: str | Path) -> list[Pair]:
    """Sentence pairs with scores, from any form above."""
    path = Path(path)
    header, rows = _rows(path)
    if header is None and isinstance(rows[0][1], list):
        fields = rows[0][1]
        if len(fields) >= 7:  # the STS Benchmark's own format
            for n, row in rows:
                if len(row) < 7:
                    raise DataError(f"{path}, line {n}: an STS Benchmark row has at least 7 tab-separated fields "
                                    f"(genre, file, year, id, score, sentence1, sentence2), found {len(row)}")
            return [Pair(r[5], r[6], _number(r[4], path, n)) for n, r in rows]
        if len(fields) != 3:
            raise DataError(f"{path}, line 1: {len(fields)} fields without a header; expected a header row, "
                            "3 fields (sentence1, sentence2, score) or the STS Benchmark's 7")
        if not _is_number(fields[2]):
            raise DataError(f"{path}: the first row {fields} is neither a header naming sentence1, sentence2 "
                            "and score (or label) nor a data row ending in a numeric score")
        for n, row in rows:  # stsb-multi-mt or SNLI: sentence1, sentence2, score
            if len(row) != 3:
                raise DataError(f"{path}, line {n}: expected 3 fields (sentence1, sentence2, score) "
                                f"or a header row, found {len(row)}")
        return [Pair(r[0], r[1], _number(r[2], path, n)) for n, r in rows]
    picked = _columns(path, header, rows, [["sentence1"], ["sentence2"], ["score", "label"]])
    return [Pair(a, b, _number(s, path, n)) for n, (a, b, s) in picked]


def read_triplets(path: str | Path) -> list[Example]:
    """(anchor, positive, negative) rows."""
    path = Path(path)
    header, rows = _rows(path)
    picked = _columns(path, header, rows, [["anchor"], ["positive"], ["negative"]])
    return [Example(tuple(values)) for _, values in picked]


def read_nli(path: str | Path) -> list[Pair]:
    """(premise, hypothesis, label id): 0 entailment, 1 neutral, 2 contradiction."""
    path = Path(path)
    header, rows = _rows(path)
    if header is None and isinstance(rows[0][1], list):  # SNLI's headerless TSV
        picked = [(n, r) for n, r in rows]
        for n, r in picked:
            if len(r) != 3:
                raise DataError(f"{path}, line {n}: expected 3 tab-separated fields "
                                f"(premise, hypothesis, label), found {len(r)}")
    else:
        picked = _columns(path, header, rows, [["premise", "sentence1"], ["hypothesis", "sentence2"], ["label"]])
    pairs = []
    for n, (premise, hypothesis, label) in picked:
        label = str(label).strip().lower()
        if label in NLI_LABELS:
            pairs.append(Pair(premise, hypothesis, NLI_LABELS[label]))
        elif label in ("0", "1", "2"):
            pairs.append(Pair(premise, hypothesis, int(label)))
        else:
            raise DataError(f"{path}, line {n}: label {label!r} is not one of entailment, neutral, "
                            "contradiction (or 0, 1, 2)")
    return pairs


def pairs_to_examples(pairs: list[Pair], max_score: float | None = None) -> list[Example]:
    """Pairs as training examples; max_score rescales scores to [0, 1] (5 for the STS Benchmark)."""
    scale = 1.0 if max_score is None else 1.0 / max_score
    return [Example((p.sentence1, p.sentence2), p.score * scale) for p in pairs]
