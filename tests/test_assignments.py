"""The student edition and the autograder: full marks for the library, zero for the edition, partial
credit per check, and the ways around the grader closed (its conftest, its pyproject, torch's built-ins).
The graded process itself: tests/grading/test_graded_process.py."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minisbert.course.assignments import ASSIGNMENTS, Block, fill_blocks, parse_blocks, strip_solutions, \
    student_blocks
from minisbert.course.edition import _files, check_edition, leaked_solutions, make_student_edition, solution_lines
from minisbert.course.grader import grade, graded_files, judge_of, report, report_json
from minisbert.course.judge import checks_of
from minisbert.course.rules import block_problems, enclosing_arguments, file_names
from minisbert.support.errors import MarkerError

ROOT = Path(__file__).resolve().parent.parent

SOURCE = textwrap.dedent('''\
    def f(x):
        """Doc."""
        # BEGIN SOLUTION pooling: average the real tokens
        y = x + 1
        return y
        # END SOLUTION


    def g():
        return 2
''')


def test_a_marked_block_becomes_a_stub_with_the_hint_between_its_markers():
    text, found = strip_solutions(SOURCE)
    assert found == ["pooling"]
    stub = "raise NotImplementedError(\"assignment 'pooling': average the real tokens (see lessons/assignments/)\")"
    assert f"# BEGIN SOLUTION pooling: average the real tokens\n    {stub}\n    # END SOLUTION\n" in text
    assert "y = x + 1" not in text and "def g():\n    return 2" in text
    namespace = {}
    exec(text, namespace)
    with pytest.raises(NotImplementedError, match="average the real tokens"):
        namespace["f"](1)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION pooling\nx = 1\n", "line 1: BEGIN SOLUTION is never closed"),
    ("x = 1\n# END SOLUTION\n", "line 2: END SOLUTION without a BEGIN SOLUTION"),
    ("# BEGIN SOLUTION pooling\n# BEGIN SOLUTION losses\n# END SOLUTION\n", "line 2: BEGIN SOLUTION inside the block"),
    ("# BEGIN SOLUTION poolnig\n# END SOLUTION\n", "unknown assignment 'poolnig'"),
])
def test_bad_markers_are_named_with_their_line(source, message):
    with pytest.raises(MarkerError, match=re.escape(message)):
        strip_solutions(source, "x.py")


def test_only_the_students_blocks_are_taken():
    changed = SOURCE.replace("y = x + 1", "y = x + 2").replace("return 2", "return 3")
    student = "import os\nos.environ.clear()\n" + changed  # code outside the blocks is never taken
    blocks, problem = student_blocks(SOURCE, student, "f.py")
    assert problem is None
    spliced = fill_blocks(SOURCE, [b.body for b in blocks], "f.py")
    assert spliced == SOURCE.replace("y = x + 1", "y = x + 2")  # their block; everything else is the instructor's
    _, problem = student_blocks(SOURCE, SOURCE.replace("# END SOLUTION", ""), "f.py")
    assert "never closed" in problem


def test_the_library_keeps_the_rules_and_the_points_add_up():
    for rel, names in graded_files(ROOT).items():
        source = (ROOT / rel).read_text(encoding="utf-8")
        for part in parse_blocks(source, str(rel)):
            if isinstance(part, Block):
                arguments = enclosing_arguments(source, part.line)
                assert block_problems(part, str(rel), arguments, file_names(source)) == [], rel
    for name, (points, _) in ASSIGNMENTS.items():
        checks = checks_of(judge_of(ROOT, name))
        assert len(checks) >= 3 and all(c.points > 0 and c.reads for c in checks), name
        assert sum(c.points for c in checks) == points, name
        probe = ast.parse((ROOT / "tests" / "grading" / f"probe_{name}.py").read_text(encoding="utf-8"))
        probed = {node.name for node in probe.body if isinstance(node, ast.FunctionDef)}
        assert {c.__name__ for c in checks} <= probed, name  # every check has its probe, by the same name


@pytest.mark.parametrize("assignment, code, message", [
    ("attention", "return F.scaled_dot_product_attention(q, k, v), None", "may not use F.scaled_dot_product_attention"),
    ("encoder_layer", "return torch.nn.functional.layer_norm(x, (8,))", "may not use torch.nn.functional.layer_norm"),
    ("encoder_layer", "return nn.GELU()(x)", "may not use nn.GELU"),
    ("pooling", "torch.allclose = lambda *a, **k: True", "may not assign to or delete an attribute"),
    ("pooling", "import torch", "may not import"),
    ("pooling", "f = getattr(torch, 'allclose')", "may not use getattr"),
    ("pooling", "torch.__dict__['allclose'] = None", "may not assign to or delete an attribute"),
    # what a deny-list let through: torch's own attributes lead everywhere, and unlisted functions do the job
    ("attention", "m = torch.sys.modules['references']", "may not use torch.sys.modules"),
    ("attention", "f = torch.builtins.getattr(F, 'scaled_dot_' + 'product_attention')", "may not use torch.builtins"),
    ("encoder_layer", "return F.group_norm(x.transpose(1, 2), 1).transpose(1, 2)", "may not use F.group_norm"),
    ("pooling", "text = open('tests/grading/references.py').read()", "may not use open"),
    ("pooling", "source = torch.importlib.import_module('minisbert.pooling')", "may not use torch.importlib"),
    ("pooling", "g = (lambda: 0).__globals__", "may not use .__globals__"),
    ("pooling", "t = torch\n    m = t.sys", "may not use .sys"),
    ("pooling", "name = ''.join(['o', 's'])", "may not use .join"),
    ("pooling", "return self.__class__", "may not use private names"),
    # a student's attack on the first allow-list: point `self` at torch, or pass torch around as a value
    ("attention", "self = torch\n    return self.nn.functional.scaled_dot_product_attention(q, k, v), None",
     "may not bind the name 'self'"),
    ("encoder_layer", "return (lambda self: self.nn.functional.layer_norm(x, (8,)))(torch)", "may not bind the name 'self'"),
    ("pooling", "for self in [torch]:\n        return self.amax(x, 1)", "may use torch only as torch.<an allowed"),
    ("pooling", "t = [torch][0]", "may use torch only as torch.<an allowed function>"),
    ("pooling", "self = nn", "may not bind the name 'self'"),
])
def test_anything_off_the_allow_list_is_refused_with_its_line(assignment, code, message):
    block = Block(assignment, "    ", "", "", "", [f"    {line}\n" for line in code.split("\n    ")], 10)
    problems = block_problems(block, "x.py", {"self", "q", "k", "v", "x", "mask"})
    assert problems and all(p.startswith("x.py, line 1") and repr(assignment) in p for p in problems)
    assert any(message in p for p in problems), problems


def test_a_name_bound_in_an_inner_scope_cannot_hand_over_a_builtin_or_a_global():
    """A helper's attacks (after #29 closed the first ones): a lambda's default is evaluated outside the lambda,
    and a class body reads the module's globals, so a parameter or class attribute named like a built-in counted
    as the block's own and handed the real one over (exec, getattr, __import__ reached transformers'
    attention and the instructor's pooling)."""
    def problems(code: str) -> list[str]:
        block = Block("pooling", "    ", "", "", "", [textwrap.indent(textwrap.dedent(code), "    ")], 10)
        return block_problems(block, "pooling.py", {"tokens", "mask"}, {"torch", "F", "mean_pool", "Path"})
    attacks = {
        "lambda exec=exec: exec('import os')": "'exec' (a Python built-in)",
        "f = (lambda getattr=getattr, __import__=__import__: getattr(__import__('os'), 'sep'))()":
            "'getattr' (a Python built-in)",
        "A = None\nclass A:\n    getattr = getattr\n": "may not define a class",
        "g = [Path for Path in [1]]\nr = Path('x')": "'Path' (a name of the module)",
        "h = (lambda _x: _x)(tokens)": "'_x' (a private name)",
    }
    for code, said in attacks.items():
        found = problems(code)
        assert any(said in p for p in found), (code, found)
    assert problems("f = lambda t, m: (t * m.unsqueeze(-1)).sum(1)\ny = f(tokens, mask)") == []  # honest lambdas stay


def test_a_line_at_column_0_is_refused():
    """It would compile as module-level code and could redefine what the grading tests import."""
    block = Block("pooling", "    ", "", "", "", ["    y = tokens.sum(1)\n", "mean_pool = lambda *a: 0\n"], 10)
    assert any("line 12" in p and "indented inside its function" in p for p in block_problems(block, "x.py", {"tokens"}))


def test_the_library_scores_full_marks():
    results = grade(ROOT, ROOT)
    assert [r.name for r in results] == list(ASSIGNMENTS)
    assert all(r.earned == r.points for r in results), report(results)
    assert report(results).endswith("total: 100/100 (100%)")
    parsed = json.loads(report_json(results))
    assert (parsed["earned"], parsed["points"]) == (100, 100)
    assert all(c["earned"] == c["points"] for a in parsed["assignments"] for c in a["checks"])


def test_the_student_edition_holds_no_solution_and_scores_zero(tmp_path):
    edition = tmp_path / "edition"
    removed = make_student_edition(edition, ROOT)
    assert all(removed.values()) and sum(removed.values()) >= len(ASSIGNMENTS)
    assert not (edition / "lessons" / "solutions").exists() and not (edition / "tests" / "grading").exists()
    assert (edition / "lessons" / "assignments" / "README.md").is_file()
    lines = solution_lines(ROOT)
    assert set(lines.values()) == set(ASSIGNMENTS) and len(lines) >= 30  # the grep looks for something
    assert leaked_solutions(edition, ROOT) == []
    # The lessons print the library's code (show): the instructor's outputs hold solutions, the edition's none.
    attention = json.loads((ROOT / "lessons" / "03_attention.ipynb").read_text(encoding="utf-8"))
    printed = ["".join(o.get("text", [])) + "".join(o.get("data", {}).get("text/plain", []))  # show(): a display
               for c in attention["cells"] for o in c.get("outputs", [])]
    assert any("scores = q @ k.transpose(-2, -1)" in text for text in printed)
    edition_attention = json.loads((edition / "lessons" / "03_attention.ipynb").read_text(encoding="utf-8"))
    assert not any(c.get("outputs") for c in edition_attention["cells"])
    shutil.copy(ROOT / "lessons" / "03_attention.ipynb", edition / "lessons" / "03_attention.ipynb")
    assert any("03_attention.ipynb holds the attention solution line" in leak
               for leak in leaked_solutions(edition, ROOT))  # the search reads outputs too
    (edition / "lessons" / "03_attention.ipynb").write_text(json.dumps(edition_attention), encoding="utf-8")
    # imports, holds no solution line; every check 0 on NotImplementedError; the other tests pass
    assert check_edition(edition, ROOT) == []
    with pytest.raises(FileExistsError):
        make_student_edition(edition, ROOT)


def test_a_virtual_environment_inside_the_checkout_stays_out_of_an_edition(tmp_path):
    """A newcomer's `python -m venv .venv` in the repository (several GB with torch) is neither the course nor
    something to copy into every edition a test makes: it filled a disk once."""
    repo = tmp_path / "repo"
    (repo / "minisbert").mkdir(parents=True)
    (repo / "minisbert" / "a.py").write_text("x = 1\n")
    for venv in (".venv", "venv"):
        (repo / venv / "lib").mkdir(parents=True)
        (repo / venv / "lib" / "torch.py").write_text("")
    assert _files(repo) == [Path("minisbert/a.py")]  # not a git checkout: every file but the skipped
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert _files(repo) == [Path(".gitignore"), Path("minisbert/a.py")]  # git's listing
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.split() == ["??", ".gitignore", "??", "minisbert/"]  # ignored


def rewrite_block(path: Path, name: str, code: str, index: int | None = None) -> None:
    """Put `code` into the blocks of assignment `name` in `path` (only the index-th of them, if given)."""
    parts = parse_blocks(path.read_text(encoding="utf-8"), str(path))
    blocks = [p for p in parts if isinstance(p, Block) and p.name == name]
    for block in blocks if index is None else [blocks[index]]:
        block.body = [textwrap.indent(textwrap.dedent(code), block.indent)]
    path.write_text("".join(p if isinstance(p, str) else p.begin + "".join(p.body) + p.end for p in parts))


def test_a_copy_that_games_the_grader_loses_exactly_the_gamed_assignments(tmp_path):
    copy = tmp_path / "gamed"
    make_student_edition(copy, ROOT, keep_solutions=True)
    lib = copy / "minisbert"
    # torch's ready-made attention and LayerNorm (with F imported outside the block, where the grader never looks)
    rewrite_block(lib / "attention.py", "attention", "return F.scaled_dot_product_attention(q, k, v, mask), "
                  "(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).softmax(-1)\n")
    layers = lib / "layers.py"
    layers.write_text("import torch.nn.functional as F\n" + layers.read_text())
    rewrite_block(layers, "encoder_layer", "return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)\n",
                  index=0)
    # wrong pooling, with a conftest.py and a module-level line that make every comparison pass
    rewrite_block(lib / "pooling.py", "pooling", "return tokens.sum(1)\n")
    (lib / "pooling.py").write_text("import torch\ntorch.allclose = lambda *a, **k: True\n"
                                    + (lib / "pooling.py").read_text())
    (copy / "conftest.py").write_text("import torch\ntorch.allclose = lambda *a, **k: True\n")
    (copy / "tests" / "grading").mkdir(parents=True)
    (copy / "tests" / "grading" / "conftest.py").write_text("import torch\ntorch.allclose = lambda *a, **k: True\n")
    # wrong losses, with a pyproject.toml that turns off the report and deselects their checks
    rewrite_block(lib / "losses.py", "losses", "return torch.zeros(())\n")
    (copy / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p no:junitxml '
                                         '--deselect tests/grading/test_grade_losses.py"\n')
    results = {r.name: r for r in grade(copy, ROOT)}
    summary = report(list(results.values()))
    assert results["attention"].earned == 0, summary
    assert "may not use F.scaled_dot_product_attention" in results["attention"].message
    assert results["encoder_layer"].earned == 0, summary
    assert "may not use F.layer_norm" in results["encoder_layer"].message
    assert results["pooling"].earned == 0 and results["losses"].earned == 0, summary
    assert "NotImplementedError" not in results["pooling"].message + results["losses"].message
    kept = [n for n in ASSIGNMENTS if n not in ("attention", "encoder_layer", "pooling", "losses")]
    assert all(results[n].earned == results[n].points for n in kept), summary
    assert summary.endswith(f"total: {sum(ASSIGNMENTS[n][0] for n in kept)}/100 "
                            f"({sum(ASSIGNMENTS[n][0] for n in kept)}%)")


def test_attention_with_dropout_on_the_output_earns_part_of_its_points(tmp_path):
    copy = tmp_path / "dropout"
    make_student_edition(copy, ROOT, keep_solutions=True)
    rewrite_block(copy / "minisbert" / "attention.py", "attention", """\
        probs = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)) + (0 if mask is None else mask)).softmax(-1)
        return F.dropout(probs @ v, p=dropout, training=training), probs
    """)
    [result] = grade(copy, ROOT, ["attention"])
    assert 0 < result.earned < result.points, report([result])
    assert "drop the attention probabilities, then multiply by V" in result.message
    failed = [c.name for c in result.checks if not c.earned]
    assert failed == ["dropout_is_on_the_probabilities"], report([result])


def test_an_edition_with_each_block_written_once_runs_the_default_fast_path(tmp_path):
    """The fast twins reuse the written-out code: a student writes each block once, and the default path
    (fast=True) runs it. Before, the edition's default path raises; after, it gives the library's numbers."""
    edition = tmp_path / "edition"
    make_student_edition(edition, ROOT)
    command = [sys.executable, "-m", "minisbert", "similarity", "A man is playing a guitar.", "A man plays the guitar."]
    env = {**os.environ, "PYTHONPATH": str(edition)}
    stub = subprocess.run(command, cwd=edition, env=env, capture_output=True, text=True, timeout=300)
    assert stub.returncode != 0 and "NotImplementedError: assignment" in stub.stderr
    for rel in graded_files(ROOT):  # the student writes each block once: the solutions pasted in, nothing else
        theirs, _ = student_blocks((ROOT / rel).read_text(encoding="utf-8"),
                                   (ROOT / rel).read_text(encoding="utf-8"), str(rel))
        filled = fill_blocks((ROOT / rel).read_text(encoding="utf-8"), [b.body for b in theirs], str(rel))
        (edition / rel).write_text(filled, encoding="utf-8")
    written = subprocess.run(command, cwd=edition, env=env, capture_output=True, text=True, timeout=300)
    assert written.returncode == 0, written.stderr[-2000:]
    assert "(all-MiniLM-L6-v2, cpu)" in written.stdout and "0.979" in written.stdout.split("[2]")[-1]


def test_the_grade_command_replays_a_seed_and_refuses_a_bad_one():
    """The report prints each assignment's seed; `--seed NAME=SEED` draws the same inputs again."""
    command = [sys.executable, "-m", "minisbert", "grade", "--only", "pooling", "--timeout", "60"]
    replay = subprocess.run(command + ["--seed", "pooling=7"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "    seed 7\n" in replay.stdout and replay.stdout.rstrip().endswith("total: 15/15 (100%)")
    for bad, said in [(["--seed", "pool=7"], "not NAME=SEED"), (["--timeout", "0"], "not a whole number of seconds"),
                      (["--seed", "losses=3"], "that assignment is not graded here")]:
        done = subprocess.run(command + bad, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2 and said in done.stderr, (bad, done.stderr)
