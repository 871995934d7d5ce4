"""The house keeps its shape: the readable files name nothing of the fast path, no solution is written
twice, fit fits on a screen, the command line takes its defaults from TrainConfig, and no module imports
one that imports it back. Mostly read from the source (ast); the last test imports each module alone."""

import ast
import re
from pathlib import Path

import pytest

from minisbert.course.assignments import Block, parse_blocks
from minisbert.course.edition import DISTINCTIVE, _normal

PACKAGE = Path(__file__).resolve().parent.parent / "minisbert"
# The files that define what the course teaches: attention, the encoder layer, BERT, pooling, the losses,
# the training step and loop, the sentence model (and the configuration they are built from).
READABLE = ["config.py", "attention.py", "layers.py", "bert.py", "pooling.py", "losses.py", "training.py", "sbert.py",
            "similarity.py", "evaluation.py"]
# What the fast path is made of: its classes and functions, its modules, torch's means to it.
FAST_NAME = re.compile(r"^(Fast\w*|Fused\w*|Packing|Packed\w*|prepacked|\w*_copy|Autocast|\w*[iI]nt8\w*|compiled\w*|autocast|GradScaler|"
                       r"mixed_precision\w*|precision_context|make_grad_scaler|fast_bert|fast_layers)$")


def code_names(tree: ast.AST) -> set[str]:
    """Every name the code uses: variables, attributes, imported modules and names (not strings or comments)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            names.update("fast_bert" if part == "fast" else part for part in (node.module or "").split("."))
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(part for a in node.names for part in a.name.split("."))
    return names


@pytest.mark.parametrize("name", READABLE)
def test_the_readable_files_name_nothing_of_the_fast_path(name):
    names = code_names(ast.parse((PACKAGE / name).read_text(encoding="utf-8")))
    named = sorted(n for n in names if FAST_NAME.match(n))
    assert not named, f"minisbert/{name} names the fast path: {named}; the loader picks the class (loading/)"


def test_the_fast_path_check_would_see_a_fast_name():
    """The check above can fail: the old bert.py, which built the fast encoder itself."""
    old = "from .fast import FastEncoder\nencoder = FastEncoder(config) if fast else Encoder(config)\n"
    assert {"FastEncoder", "fast"} <= code_names(ast.parse(old))
    assert sorted(n for n in code_names(ast.parse(old)) if FAST_NAME.match(n)) == ["FastEncoder", "fast_bert"]


def solution_blocks() -> tuple[list[Block], dict[str, list[str]]]:
    """Every solution block of the package, and every file's code outside its blocks (lines normalised)."""
    blocks, outside = [], {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = parse_blocks(path.read_text(encoding="utf-8"), str(path))
        blocks += [p for p in parts if isinstance(p, Block)]
        outside[path.relative_to(PACKAGE).as_posix()] = [_normal(p) for p in parts if isinstance(p, str)]
    return blocks, outside


def test_no_solution_line_is_written_twice():
    """The old fast twins were marked blocks holding the same answer: the student wrote it twice."""
    blocks, outside = solution_blocks()
    assert len(blocks) >= 15 and sum(map(len, outside.values())) > 1000  # the search finds the blocks
    seen, twice = {}, []
    for i, block in enumerate(blocks):
        for line in {_normal(line) for line in block.body if len(_normal(line)) >= DISTINCTIVE}:
            if line in seen:
                twice.append(f"{line!r} in blocks {blocks[seen[line]].name} (line {blocks[seen[line]].line}) "
                              f"and {block.name} (line {block.line})")
            seen[line] = i
    assert not twice, "solution lines written twice (the student would have to write them twice):\n" + "\n".join(twice)


def code_lines(path: Path) -> list[str]:
    """The statements' lines of a file, normalised, without docstrings, comments, imports and def lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.update(range(body[0].lineno, body[0].end_lineno + 1))  # the docstring
            if not isinstance(node, ast.Module):
                skip.update(range(node.lineno, body[0].lineno))  # decorators and the signature
    lines = path.read_text(encoding="utf-8").split("\n")
    return [" ".join(line.split("#")[0].split()) for n, line in enumerate(lines, 1)
            if n not in skip and line.split("#")[0].strip()]


def test_the_fast_twins_reuse_the_readable_code_instead_of_copying_it():
    readable = [code_lines(PACKAGE / name) for name in READABLE]
    pairs = {(a, b) for lines in readable for a, b in zip(lines, lines[1:])}
    copied = []
    for path in sorted((PACKAGE / "fast").glob("*.py")):
        lines = code_lines(path)
        copied += [f"fast/{path.name}: {a!r} / {b!r}" for a, b in zip(lines, lines[1:]) if (a, b) in pairs]
    assert not copied, "two consecutive lines of the fast path repeat the readable code:\n" + "\n".join(copied)


def function_lines(path: Path, name: str) -> int:
    node = next(n for n in ast.parse(path.read_text(encoding="utf-8")).body
                if isinstance(n, ast.FunctionDef) and n.name == name)
    return node.end_lineno - node.lineno + 1


def test_fit_fits_on_a_screen():
    assert function_lines(PACKAGE / "training.py", "fit") <= 45


def test_the_command_line_takes_the_training_defaults_from_train_config():
    from minisbert.app.cli import build_parser
    from minisbert.training import TrainConfig
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    defaults = TrainConfig()
    shared = {a.dest: a.default for a in train._actions if hasattr(defaults, a.dest)}
    assert len(shared) >= 8
    assert shared == {name: getattr(defaults, name) for name in shared}
    # and no literal: each of these options reads its default from TrainConfig in the source
    source = (PACKAGE / "app" / "cli.py").read_text(encoding="utf-8")
    source = source[source.index('command("train"'):]  # the train command's options
    for name in shared:
        option = "--" + name.replace("_", "-")
        call = source[source.index(f'p.add_argument("{option}"'):]
        call = call[:call.index("\n    p.")] if "\n    p." in call else call
        assert f"default=DEFAULTS.{name}" in call, f"{option} in cli.py does not take its default from TrainConfig"


def module_imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports, at the top or inside a function."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else name.rpartition(".")[0]
        modules[name] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("minisbert")):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                modules[name].append((target, [a.name for a in node.names]))  # from target import names
            elif isinstance(node, ast.Import):
                modules[name] += [(a.name, []) for a in node.names if a.name.startswith("minisbert")]
    graph = {}
    for name, imports in modules.items():
        # `from package import module` imports that module; `from module import name`, the module
        graph[name] = {f"{target}.{n}" if f"{target}.{n}" in modules else target
                       for target, names in imports for n in (names or [""])} - {name}
        graph[name] = {t.rstrip(".") for t in graph[name] if t.rstrip(".") in modules}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of the graph (each as the modules around it), by depth-first search."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = module_imports()
    assert len(graph) >= 40 and graph["minisbert.sbert"] >= {"minisbert.loading.pretrained", "minisbert.bert"}
    assert not cycles(graph), "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles(graph))


def test_the_cycle_search_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_each_module_imports_alone_in_a_fresh_interpreter():
    """Each module first, with nothing of the package imported before it (the static search above shows that
    no order of imports can meet a cycle; this shows that no module leans on another having been imported)."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor
    modules = sorted(m for m in module_imports() if m != "minisbert.__main__")  # that one runs the command line
    assert len(modules) >= 40

    def alone(module):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
        return module, done.returncode, done.stderr.strip().splitlines()[-1:] or [""]

    with ThreadPoolExecutor(2) as pool:
        failed = [f"{m}: {err[0]}" for m, code, err in pool.map(alone, modules) if code]
    assert not failed, "modules that fail when imported first:\n" + "\n".join(failed)
