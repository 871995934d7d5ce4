"""The lessons' exercises: an empty stub fails its check with a hint, the solution passes it.

The notebooks' code cells run here in one namespace, as a kernel would run them
(lessons/run_lessons.py runs every lesson both ways; this file checks the mechanism on a
few lessons without a kernel).
"""

import itertools
import linecache
import re

import nbformat
import pytest

from conftest import FIXTURES
from minisbert.course.check import CheckFailed, check_by_hand
from minisbert.course.exercises import exercises, fill, solution_blocks, unfinished_checks_failed, wrong_blocks

LESSONS = FIXTURES.parent.parent / "lessons"


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


CELLS = itertools.count()


def run_cell(source: str, namespace: dict) -> None:
    """Execute a cell's code as a kernel does, keeping its source where inspect finds it (check_by_hand)."""
    filename = f"<cell {next(CELLS)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def _run_up_to_exercises(name: str, namespace: dict) -> tuple:
    """Execute the lesson's code cells before its first exercise; return the notebook and its exercises."""
    nb = nbformat.read(LESSONS / f"{name}.ipynb", as_version=4)
    found = exercises(nb)
    for cell in nb.cells[:found[0].stub]:
        if cell.cell_type == "code":
            run_cell(_source(cell), namespace)
    return nb, found


@pytest.mark.parametrize("name", ["02_embeddings", "03_attention", "10_evaluation"])
def test_an_empty_stub_fails_with_its_hint_and_the_solution_passes(name, monkeypatch, capsys):
    monkeypatch.chdir(LESSONS)  # the notebooks read data/ and find reference/ from lessons/
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {}
    nb, found = _run_up_to_exercises(name, namespace)
    solutions = solution_blocks(LESSONS / "solutions" / f"{name}.py")
    assert found and sorted(solutions) == [e.number for e in found]
    wrong = wrong_blocks(LESSONS / "solutions" / f"{name}.py")
    for e in found:
        run_cell(_source(nb.cells[e.stub]), namespace)
        with pytest.raises(CheckFailed, match="(?s)got None.*hint: "):
            run_cell(_source(nb.cells[e.check]), namespace)
        for w in wrong[e.number]:  # each wrong answer, then the check: it must say no
            run_cell(w.code, namespace)
            with pytest.raises(CheckFailed, match=re.escape(w.says or "")):
                run_cell(_source(nb.cells[e.check]), namespace)
        run_cell(solutions[e.number], namespace)
        capsys.readouterr()
        run_cell(_source(nb.cells[e.check]), namespace)
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
    assert filled.cells[1].source.startswith("# Exercise 1 as committed (the stub left empty)")  # the empty run first
    assert filled.cells[2].source == blocks[1] and filled.cells[4].metadata["tags"] == []
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


def test_every_exercise_has_at_least_two_wrong_answers_that_its_check_must_reject():
    """The wrong answers are run by lessons/run_lessons.py --solutions (CI), each before the solution."""
    counted = 0
    for path in sorted(LESSONS.glob("*.ipynb")):
        found = exercises(nbformat.read(path, as_version=4))
        wrong = wrong_blocks(LESSONS / "solutions" / f"{path.stem}.py") if found else {}
        for e in found:
            assert len(wrong.get(e.number, [])) >= 2, f"{path.name}: exercise {e.number} has fewer than 2 wrong answers"
            counted += len(wrong[e.number])
    assert counted >= 50


def test_a_wrong_answer_runs_before_the_solution_and_its_check_must_reject_it(tmp_path):
    nb = _notebook(("code", "# Exercise 1: double\ndef f(x):\n    pass", ("exercise",)),
                   ("code", "if f(2) != 4:\n    raise CheckFailed('ex.double: got ' + str(f(2)) + '\\nhint: double it')",
                    ("raises-exception",)))
    nb.cells.insert(0, nbformat.v4.new_code_cell("from minisbert.course.check import CheckFailed"))
    (tmp_path / "solutions.py").write_text("# %% Exercise 1: double\ndef f(x):\n    return 2 * x\n\n"
                                           "# %% Wrong 1: adds instead [says: ex.double]\ndef f(x):\n    return x + 2\n\n"
                                           "# %% Wrong 1: squares [says: ex.double]\ndef f(x):\n    return x * x\n")
    wrong = wrong_blocks(tmp_path / "solutions.py")
    assert [w.mistake for w in wrong[1]] == ["adds instead", "squares"] and wrong[1][0].says == "ex.double"
    filled = fill(nb, solution_blocks(tmp_path / "solutions.py"), wrong)
    assert [c.source.splitlines()[0] for c in filled.cells[1:4]] == [
        "# Exercise 1 as committed (the stub left empty): its check must fail with a hint",
        "# Exercise 1, a wrong answer (adds instead): the check must reject it",
        "# Exercise 1, a wrong answer (squares): the check must reject it"]

    def run(notebook):
        namespace = {}
        for cell in notebook.cells:
            run_cell(_source(cell), namespace)

    with pytest.raises(AssertionError, match="the check accepted a wrong answer: adds instead"):
        run(filled)  # 2 + 2 == 2 * 2: this check cannot tell them apart, and the run says so
    nb.cells[2].source = nb.cells[2].source.replace("f(2) != 4", "f(3) != 6").replace("f(2)", "f(3)")  # a better check
    run(fill(nb, solution_blocks(tmp_path / "solutions.py"), wrong_blocks(tmp_path / "solutions.py")))
    # a rejection that does not say what the wrong answer expects to hear fails too
    (tmp_path / "solutions.py").write_text((tmp_path / "solutions.py").read_text().replace("[says: ex.double]", "[says: adds]", 1))
    with pytest.raises(AssertionError, match="without saying 'adds'"):
        run(fill(nb, solution_blocks(tmp_path / "solutions.py"), wrong_blocks(tmp_path / "solutions.py")))


def test_by_hand_refuses_the_one_call_answer_and_allows_the_learners_own_helpers():
    namespace = {}
    run_cell("import torch\ndef layer_norm(x):\n    return torch.nn.functional.layer_norm(x, x.shape[-1:])\n"
             "def matmul(a, b):\n    return a @ b\n"
             "def spearman(x, y):\n    def rank(v):\n        return v.argsort().argsort()\n    return rank(x)\n", namespace)
    with pytest.raises(CheckFailed, match="ex.norm: this exercise asks for the computation written out, and your "
                                          "code uses layer_norm"):
        check_by_hand("ex.norm", namespace["layer_norm"], {"layer_norm": "torch's LayerNorm"})  # named as the call
    with pytest.raises(CheckFailed, match="uses @"):
        check_by_hand("ex.matmul", namespace["matmul"], {"@": "the matrix product"})
    check_by_hand("ex.spearman", namespace["spearman"], {"rank": "the library's ranks"})  # its own helper
    run_cell("def best_cut(text, scores):\n    segment = text[:1]\n    return [segment]\n", namespace)
    check_by_hand("ex.cut", namespace["best_cut"], {"segment": "the library's Viterbi"})  # a variable, not a call


def test_the_solved_run_also_runs_each_empty_stub_through_its_check():
    """One run of the notebook, solved, covers the empty case: the stub as committed must make its check fail
    with a hint (in English here; in the Chinese edition, 提示)."""
    from minisbert.course.exercises import empty_stub_cell
    from minisbert.support.errors import CheckFailed

    def hinted(value):
        if value is None:
            raise CheckFailed("x: got None\nhint: write f")

    code = empty_stub_cell(1, "# Exercise 1: double\ndef f(x):\n    pass", "check(f(2))")
    exec(code, {"check": hinted})  # rejected with a hint: the cell passes
    with pytest.raises(AssertionError, match="the check passed with the stub left empty"):
        exec(code, {"check": lambda value: None})
    with pytest.raises(AssertionError, match="failed without a hint"):
        exec(code, {"check": lambda value: (_ for _ in ()).throw(CheckFailed("x: got None"))})


def test_an_empty_stub_must_fail_with_a_hint_in_the_editions_language():
    nb = _notebook(("code", "# Exercise 1: anything\n", ("exercise",)), ("code", "check()", ("raises-exception",)))
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="x: got None\nhint: do y",
                                                  traceback=[])]
    assert unfinished_checks_failed(nb) == []
    assert "expected CheckFailed with a hint, in zh" in unfinished_checks_failed(nb, "zh")[0]  # English in zh
    nb.cells[1].outputs[0]["evalue"] = "x: 得到的是 None\n提示: 写出 y"
    assert unfinished_checks_failed(nb, "zh") == [] and unfinished_checks_failed(nb) != []
