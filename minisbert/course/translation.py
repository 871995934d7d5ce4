"""The Chinese edition of the lessons, kept in step with the English by gettext catalogues.

Each English notebook lessons/NN_name.ipynb has a catalogue lessons/zh/po/NN_name.po (edited with any PO
editor, or with polib) and a Chinese notebook lessons/zh/NN_name.ipynb built from the two:

- every English markdown cell is one entry (its msgid the cell's exact text, msgstr the Chinese cell);
- the lesson's check hints, the descriptions of what a "by hand" exercise refuses and the constant claims of
  its check_that calls are entries too (msgctxt "hint <check>", "refused", "claim"), read at run time by
  course/language.py;
- code cells are copied from the English notebook unchanged: the two editions run one source of code. The
  Chinese notebook adds one cell under its title, LANGUAGE_CELL, which switches the checks to Chinese.

When an English cell changes, `extract` keeps its old translation as a *fuzzy* entry (the gettext way of
saying "the source moved; review me"), and `problems` reports it until a translator updates it and clears
the flag. So the two editions cannot drift apart silently:

    python -m minisbert.course.translation extract 03   # new or changed English text -> the catalogue
    python -m minisbert.course.translation build 03     # catalogue + English code -> lessons/zh/03_*.ipynb
    python -m minisbert.course.translation check        # every lesson: untranslated, fuzzy, drifted, not Chinese
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

from .folders import lessons_dir

LANGUAGE = "zh"
LANGUAGE_CELL = ('from minisbert.course.language import use_language\n'
                 'use_language("zh")  # 检查结果和提示用中文显示；代码与英文版相同，数据在 lessons/ 下共用')
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
CHECK_CALL = re.compile(r"""check_(?:close|equal|that|by_hand)\(\s*["']([\w.@\-]+)["']""")  # eval.faq.mrr@10


def english_notebooks(prefixes: list[str] | None = None) -> list[Path]:
    here = lessons_dir()
    found = sorted(here.glob("[0-9][0-9]_*.ipynb")) + sorted(here.glob("B[0-9]_*.ipynb"))
    return [n for n in found if not prefixes or any(n.name.startswith(p) for p in prefixes)]


def catalogue_path(english: Path) -> Path:
    return english.parent / LANGUAGE / "po" / (english.stem + ".po")


def translated_path(english: Path) -> Path:
    return english.parent / LANGUAGE / english.name


def _read(path: Path):
    import nbformat
    return nbformat.read(path, as_version=4)


def _runtime_messages(nb) -> list[tuple[str, str]]:
    """(msgctxt, msgid) of what the lesson's code prints through the checks: hints, refusals, constant claims."""
    from .check import _info
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name in CHECK_CALL.findall(cell.source):
            if hint := _info(name).get("hint"):
                found.append((f"hint {name}", hint))
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
            if call.func.id == "check_by_hand" and len(call.args) > 2 and isinstance(call.args[2], ast.Dict):
                found += [("refused", v.value) for v in call.args[2].values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            if call.func.id == "check_that" and len(call.args) > 2 and isinstance(call.args[2], ast.Constant):
                found.append(("claim", call.args[2].value))
    return list(dict.fromkeys(found))


def extract(english: Path) -> dict[str, int]:
    """Bring the lesson's catalogue up to date with its English notebook; returns counts of what changed."""
    import polib
    nb, path = _read(english), catalogue_path(english)
    po = polib.pofile(str(path)) if path.is_file() else polib.POFile()
    po.metadata = {"Project-Id-Version": f"minisbert lessons {english.stem}", "Language": LANGUAGE,
                   "Content-Type": "text/plain; charset=UTF-8"}
    old = {(e.msgctxt or "", e.msgid): e for e in po if not e.obsolete}
    at_cell = {occ[1]: e for e in old.values() for occ in e.occurrences if occ[0] == "cell" and e.msgstr}
    wanted = [("", c.source, str(i)) for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.strip()]
    wanted += [(ctxt, msgid, None) for ctxt, msgid in _runtime_messages(nb)]
    counts = {"new": 0, "fuzzy": 0, "obsolete": 0}
    entries: dict[tuple[str, str], object] = {}
    for ctxt, msgid, cell in wanted:
        if (ctxt, msgid) in entries:  # the same text twice (e.g. two identical headings): one entry, both cells
            entries[ctxt, msgid].occurrences.append(("cell", cell))
            continue
        entry = old.get((ctxt, msgid))
        if entry is None:
            entry = polib.POEntry(msgctxt=ctxt or None, msgid=msgid, msgstr="")
            before = at_cell.get(cell) if cell else None
            if before is not None and not before.msgctxt:  # the English cell changed: keep its Chinese, for review
                entry.msgstr, entry.previous_msgid = before.msgstr, before.msgid
                entry.flags.append("fuzzy")
                counts["fuzzy"] += 1
            else:
                counts["new"] += 1
        entry.occurrences = [("cell", cell)] if cell else []
        entries[ctxt, msgid] = entry
    kept = list(entries.values())
    for key, entry in old.items():
        if key not in entries and entry.msgstr:  # kept as #~ lines, so a translation is never thrown away
            entry.obsolete = True
            kept.append(entry)
            counts["obsolete"] += 1
    po[:] = kept
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return counts


def _translations(english: Path) -> dict[str, str]:
    import polib
    path = catalogue_path(english)
    if not path.is_file():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path))
            if not e.msgctxt and e.msgstr and not e.fuzzy and not e.obsolete}


def render(english: Path, nb=None):
    """The Chinese notebook's cells as they must be (outputs empty); KeyError lists the cells not translated."""
    import copy
    import nbformat
    nb = nb or _read(english)
    done = _translations(english)
    missing = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.strip() and c.source not in done]
    if missing:
        raise KeyError(f"{english.name}: markdown cells {missing} have no finished translation in "
                       f"{catalogue_path(english).name} (untranslated or fuzzy)")
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            cell.source = done[cell.source]
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    first_code = next((i for i, c in enumerate(out.cells) if c.cell_type == "code"), len(out.cells))
    language_cell = nbformat.v4.new_code_cell(LANGUAGE_CELL)
    language_cell.id = "language-zh"  # the other cells keep the English cells' ids
    out.cells.insert(min(1, first_code), language_cell)
    return out


def build(english: Path) -> Path:
    """Write lessons/zh/<name>.ipynb, keeping the outputs of cells whose source did not change."""
    import nbformat
    out, path = render(english), translated_path(english)
    if path.is_file():
        before = _read(path).cells
        for i, cell in enumerate(out.cells):
            if i < len(before) and before[i].cell_type == cell.cell_type == "code" and before[i].source == cell.source:
                cell.outputs, cell.execution_count = before[i].outputs, before[i].execution_count
    nbformat.write(out, path)
    return path


def chinese_share(markdown: str) -> tuple[int, int]:
    """(CJK characters, Latin words) of a markdown cell, leaving out code, formulas, links' targets and HTML."""
    text = re.sub(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>]+>|https?://\S+", " ", markdown, flags=re.S)
    return len(CJK.findall(text)), len(LATIN_WORD.findall(text))


def broken_links(markdown: str, folder: Path) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", markdown) + re.findall(r'src="([^"]+)"', markdown)
    return [t for t in targets if not re.match(r"[a-z]+:|#", t) and not (folder / t.split("#")[0]).exists()]


def problems(english: Path) -> list[str]:
    """What keeps the lesson's Chinese edition from being a faithful, finished translation ([] when none)."""
    import polib
    name, found = english.name, []
    path = catalogue_path(english)
    if not path.is_file():
        return [f"{name}: no catalogue {path}; run `python -m minisbert.course.translation extract {english.stem[:2]}`"]
    po, nb = polib.pofile(str(path)), _read(english)
    have = {(e.msgctxt or "", e.msgid): e for e in po if not e.obsolete}
    wanted = [("", c.source) for c in nb.cells if c.cell_type == "markdown" and c.source.strip()] + _runtime_messages(nb)
    for key in wanted:
        entry = have.get(key)
        label = f"cell {key[1][:50]!r}" if not key[0] else f"{key[0]} {key[1][:40]!r}"
        if entry is None:
            found.append(f"{name}: {label} is not in the catalogue (the English changed: run extract)")
        elif entry.fuzzy or not entry.msgstr:
            found.append(f"{name}: {label} is {'fuzzy (its English changed)' if entry.fuzzy else 'untranslated'}")
    if found:
        return found
    zh_path = translated_path(english)
    if not zh_path.is_file():
        return [f"{name}: no {zh_path}; run `python -m minisbert.course.translation build {english.stem[:2]}`"]
    expected, actual = render(english, nb).cells, _read(zh_path).cells
    if len(expected) != len(actual):
        return [f"{name}: the Chinese notebook has {len(actual)} cells, the English one makes {len(expected)}: rebuild it"]
    for i, (want, got) in enumerate(zip(expected, actual)):
        if want.cell_type != got.cell_type or want.source != got.source:
            kind = "code differs from the English" if want.cell_type == "code" else "markdown differs from its catalogue"
            found.append(f"{name}: Chinese cell {i}: {kind}: rebuild it (build), never edit it by hand")
        elif got.cell_type == "markdown":
            cjk, latin = chinese_share(got.source)
            if cjk + latin >= 3 and cjk < latin:
                found.append(f"{name}: Chinese cell {i} is mostly not Chinese ({cjk} CJK characters, {latin} Latin words)")
            found += [f"{name}: Chinese cell {i} links to {t}, which does not exist (paths are relative to lessons/zh/)"
                      for t in broken_links(got.source, zh_path.parent)]
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["extract", "build", "check"])
    ap.add_argument("lessons", nargs="*", help="name prefixes, e.g. 03 (default: all)")
    args = ap.parse_args(argv)
    failed = False
    for english in english_notebooks(args.lessons):
        if args.action == "extract":
            print(f"{english.name}: {extract(english)}")
        elif args.action == "build":
            try:
                print(f"wrote {build(english)}")
            except KeyError as e:
                print(e.args[0], file=sys.stderr)
                failed = True
        else:
            for line in problems(english):
                print(line)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
