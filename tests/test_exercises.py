"""The lessons' exercises: an empty stub fails its check with a hint, the solution passes it.

The notebooks' code cells run here in one namespace, as a kernel would run them
(lessons/run_lessons.py runs every lesson both ways; this file checks the mechanism on a
few lessons without a kernel).
"""

import nbformat
import pytest

from conftest import FIXTURES
from minisbert.course.check import CheckFailed
from minisbert.course.exercises import exercises, fill, solution_blocks, unfinished_checks_failed

LESSONS = FIXTURES.parent.parent / "lessons"


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _run_up_to_exercises(name: str, namespace: dict) -> tuple:
    """Execute the lesson's code cells before its first exercise; return the notebook and its exercises."""
    nb = nbformat.read(LESSONS / f"{name}.ipynb", as_version=4)
    found = exercises(nb)
    for cell in nb.cells[:found[0].stub]:
        if cell.cell_type == "code":
            exec(compile(_source(cell), f"{name} cell", "exec"), namespace)
    return nb, found


@pytest.mark.parametrize("name", ["02_embeddings", "03_attention", "10_evaluation"])
def test_an_empty_stub_fails_with_its_hint_and_the_solution_passes(name, monkeypatch, capsys):
    monkeypatch.chdir(LESSONS)  # the notebooks read data/ and find reference/ from lessons/
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {}
    nb, found = _run_up_to_exercises(name, namespace)
    solutions = solution_blocks(LESSONS / "solutions" / f"{name}.py")
    assert found and sorted(solutions) == [e.number for e in found]
    for e in found:
        exec(_source(nb.cells[e.stub]), namespace)
        with pytest.raises(CheckFailed, match="(?s)got None.*hint: "):
            exec(_source(nb.cells[e.check]), namespace)
        exec(solutions[e.number], namespace)
        capsys.readouterr()
        exec(_source(nb.cells[e.check]), namespace)
        assert "✓" in capsys.readouterr().out, f"{name}: exercise {e.number}'s solution did not pass its check"


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, text, tags in cells:
        cell = nbformat.v4.new_code_cell(text) if kind == "code" else nbformat.v4.new_markdown_cell(text)
        cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


def test_fill_puts_each_solution_in_place_and_makes_the_checks_strict(tmp_path):
    nb = _notebook(("code", "x = 1", ()), ("code", "# Exercise 1: double\ndef f(x):\n    pass", ("exercise",)),
                   ("markdown", "text", ()), ("code", "check(f(2))", ("raises-exception",)))
    (tmp_path / "solutions.py").write_text('"""doc"""\n\n# %% Exercise 1: double\ndef f(x):\n    return 2 * x\n\n'
                                           '# %% Questions\n# 2. an answer in words\n')
    blocks = solution_blocks(tmp_path / "solutions.py")
    assert blocks == {1: "# Exercise 1: double\ndef f(x):\n    return 2 * x\n"}  # the answers are not code
    filled = fill(nb, blocks)
    assert filled.cells[1].source == blocks[1] and filled.cells[3].metadata["tags"] == []
    assert nb.cells[1].source.endswith("pass")  # the original is left as it was
    with pytest.raises(ValueError, match=r"no solution for \[1\]"):
        fill(nb, {})
    with pytest.raises(ValueError, match=r"no exercise cell for \[2\]"):
        fill(nb, {**blocks, 2: "y = 2"})


def test_a_check_that_passes_with_the_stub_empty_is_reported():
    nb = _notebook(("code", "# Exercise 1: anything\n", ("exercise",)), ("code", "print('fine')", ("raises-exception",)),
                   ("code", "# Exercise 2: more\n", ("exercise",)), ("code", "check()", ("raises-exception",)),
                   ("code", "# Exercise 3: untagged check\n", ("exercise",)), ("code", "check()", ()))
    nb.cells[3].outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="x: got None\nhint: do y",
                                                  traceback=[])]
    assert unfinished_checks_failed(nb) == [
        "exercise 1: the check passed with the stub left empty",
        "exercise 3: its check cell lacks the 'raises-exception' tag"]
    with pytest.raises(ValueError, match="does not start with '# Exercise N'"):
        exercises(_notebook(("code", "def f(): pass", ("exercise",))))


def test_every_lesson_with_stubs_has_a_solution_for_each():
    for path in sorted(LESSONS.glob("*.ipynb")):
        found = exercises(nbformat.read(path, as_version=4))
        if found:
            solutions = solution_blocks(LESSONS / "solutions" / f"{path.stem}.py")
            assert sorted(solutions) == [e.number for e in found], path.name
