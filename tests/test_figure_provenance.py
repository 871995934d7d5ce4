"""A figure is current only if the code that made it has not changed since: provenance, checked with git.

Each result JSON records the commit it was measured at (benchmarks/common.py: provenance). For every JSON
a README or docs table cites, this test asks git whether that commit is an ancestor of the checkout and
not `-dirty`, and whether any file its figures depend on (common.SOURCES: the script, the library files it
runs) changed after it; a Python file whose code is unchanged, as the parser reads it without its docstrings
and comments, has not changed (a corrected docstring cannot move a figure). A stale table must say so where the
reader sees it: a line right under the table that starts with "*Measured on older code" and gives the reason; then the test passes and lists it. A table
marked stale whose JSON is current fails too (the mark would hide a rerun). Needs the git history of the
checkout (a clone has it); reads no torch.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
from pathlib import Path

import pytest

from test_readme_figures import MARKED, ROOT, load

STALE_NOTE = "*Measured on older code"


def _common():
    spec = importlib.util.spec_from_file_location("benchmark_common", ROOT / "benchmarks" / "common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def script_of(document: dict, path: str) -> str:
    if Path(path).parts[:2] == ("benchmarks", "measured"):
        return "benchmarks/gpu_check.sh"
    return document["command"].split()[1]  # "python benchmarks/x.py ..." -> benchmarks/x.py


def staleness(path: str) -> str | None:
    """Why the figures of a cited JSON are not those of the current code (None when they are)."""
    document = load(path)
    commit = document["commit"]
    if commit.endswith("-dirty"):
        return f"{path} was measured on uncommitted changes ({commit})"
    if git("merge-base", "--is-ancestor", commit, "HEAD").returncode != 0:
        return f"{path}: commit {commit} is not an ancestor of this checkout"
    sources = document.get("sources") or _common().sources_of(script_of(document, path))
    changed = [path for path in git("diff", "--name-only", commit, "HEAD", "--", *sources).stdout.split()
               if not only_words_changed(commit, path)]
    if changed:
        return f"{path}: {len(changed)} of its source files changed after {commit} (e.g. {', '.join(changed[:3])})"
    return None


def code_of(source: str) -> str:
    """A module as the parser reads it, without docstrings (comments are gone already): what can move a figure."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def only_words_changed(commit: str, path: str) -> bool:
    """Whether a Python file changed between `commit` and HEAD in its docstrings and comments only."""
    if not path.endswith(".py"):
        return False
    old, new = git("show", f"{commit}:{path}"), git("show", f"HEAD:{path}")
    if old.returncode or new.returncode:  # added or removed
        return False
    try:
        return code_of(old.stdout) == code_of(new.stdout)
    except SyntaxError:
        return False


def note_under(table) -> str | None:
    """The visible stale note right under a table (on the next line or after one blank line), if any."""
    lines = (ROOT / table.page).read_text(encoding="utf-8").split("\n")
    after = table.rows[-1][0] if table.rows else table.line
    for line in lines[after:after + 2]:
        if line.startswith(STALE_NOTE):
            return line
    return None


def test_git_history_is_there():
    """Without it the figures cannot be checked: a fail, not a skip (a tarball is not a checkout)."""
    assert git("rev-parse", "HEAD").returncode == 0, "run the tests in a git clone of the repository"


@pytest.mark.parametrize("table", MARKED, ids=[f"{t.page}:{t.line}" for t in MARKED])
def test_each_table_is_current_or_says_it_is_not(table):
    from conftest import report
    reasons = [r for r in map(staleness, table.cites) if r]
    note = note_under(table)
    if reasons:
        assert note, (f"{table.page}:{table.line}: stale figures shown as current: {'; '.join(reasons)}. Rerun "
                      f"the benchmark, or put a line starting '{STALE_NOTE}' under the table saying why")
        report(f"{table.page}:{table.line}: marked as measured on older code ({'; '.join(reasons)})")
    else:
        assert not note, f"{table.page}:{table.line}: marked stale, but its figures are current: remove the note"


def test_a_changed_source_makes_a_figure_stale(tmp_path, monkeypatch):
    """The mutation: a result whose recorded commit predates a change to one of its sources is stale; one
    recorded at HEAD is not; a -dirty one always is."""
    import test_figure_provenance as me
    head = git("rev-parse", "--short", "HEAD").stdout.strip()
    first = git("rev-list", "--max-parents=0", "HEAD").stdout.split()[0]
    documents = {
        "now.json": {"command": "python benchmarks/tokenizer_speed.py", "commit": head},
        "old.json": {"command": "python benchmarks/tokenizer_speed.py", "commit": first[:7]},
        "dirty.json": {"command": "python benchmarks/tokenizer_speed.py", "commit": head + "-dirty"},
    }
    monkeypatch.setattr(me, "load", lambda path: documents[path])
    assert staleness("now.json") is None
    assert "changed after" in staleness("old.json")
    assert "uncommitted" in staleness("dirty.json")


def test_a_docstring_or_comment_is_not_a_change_of_code():
    """The mutation of the rule above: words alone leave the code equal; any change of a value or a call does not."""
    before = 'def f(x):\n    """Doubles x."""\n    return 2 * x  # twice\n'
    assert code_of(before) == code_of('def f(x):\n    """Twice x, corrected."""\n    return 2 * x\n')
    assert code_of(before) == code_of("def f(x):\n    return 2 * x\n")
    assert code_of(before) != code_of('def f(x):\n    """Doubles x."""\n    return 3 * x\n')
    assert code_of(before) != code_of('def f(x):\n    """Doubles x."""\n    return x + x\n')


def prose_citations() -> list[tuple[str, int, str, str]]:
    """(page, line, paragraph, JSON) for each JSON a prose figure's key marker names."""
    from test_readme_figures import figures
    found = []
    for page in figures.PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for m in figures.PROSE.finditer(text):
            start, end = text.rfind("\n\n", 0, m.start()) + 1, text.find("\n\n", m.end())
            for name in figures.files_of(m.group(3)):
                if figures.unrecorded(name):
                    continue  # not yet recorded: test_readme_figures lists it as untraced
                found.append((page, text.count("\n", 0, m.start()) + 1, text[start:end], name))
    return found


def test_each_prose_figure_is_current_or_its_paragraph_says_it_is_not():
    """A figure in a sentence goes stale as a table's does: its paragraph must then say so; and a paragraph
    whose figures are all current may not say so (the mark would hide a rerun)."""
    from conftest import report
    said = STALE_NOTE.strip("*").lower()
    stale_in: dict[tuple[str, str], list[str]] = {}  # (page, paragraph) -> why each of its figures is stale
    lines: dict[tuple[str, str], int] = {}
    for page, line, paragraph, name in prose_citations():
        path = Path(name).as_posix() if "/" in name else f"benchmarks/results/{name}"
        key = (page, " ".join(paragraph.split()))  # a line break inside the phrase is a space in Markdown
        lines.setdefault(key, line)
        reasons = stale_in.setdefault(key, [])
        if reason := staleness(path):
            reasons.append(reason)
    unmarked = [f"{page}:{lines[page, text]}: {reasons[0]}" for (page, text), reasons in stale_in.items()
                if reasons and said not in text.lower()]
    overmarked = [f"{page}:{lines[page, text]}" for (page, text), reasons in stale_in.items()
                  if not reasons and said in text.lower()]
    for (page, text), reasons in stale_in.items():
        if reasons and said in text.lower():
            report(f"{page}:{lines[page, text]}: prose marked as measured on older code")
    assert not unmarked, ("prose figures from stale results, shown as current (rerun the benchmark, or say "
                          "'measured on older code' in the paragraph with the reason):\n" + "\n".join(unmarked))
    assert not overmarked, ("paragraphs say 'measured on older code' but every figure in them is current "
                            "(remove the phrase): " + "; ".join(overmarked))
