"""Reference checks for the lessons: compare a learner's output with a stored value.

The stored values were computed by independent implementations (PyTorch's own
modules, transformers' BertModel, sentence-transformers) by
`lessons/reference/make_reference.py` and committed to `lessons/reference/`:
tensors in `reference.safetensors`, everything else (token lists, ids, scores,
tolerances and hints) in `reference.json`.

    check_close("layer0.output", hidden)   # a tensor, within the stored tolerance
    check_equal("ids.en", ids)             # exact: token lists, ids, rankings

Success prints the largest difference; failure raises CheckFailed saying where
the values differ, by how much, and what usually causes it.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..support.errors import CheckFailed, MissingFileError

DEFAULT_ATOL = 1e-5


def reference_dir() -> Path:
    """$MINISBERT_REFERENCE, else the course's lessons/reference/ found from the current folder.

    The lessons run in lessons/, the tests at the repository's root: both find it.
    """
    env = os.environ.get("MINISBERT_REFERENCE")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        for candidate in (folder / "reference", folder / "lessons" / "reference"):
            if (candidate / "reference.json").is_file():
                return candidate
    raise MissingFileError(f"no lessons/reference/reference.json in {here} or the folders above it: run the "
                           "lessons from the course's checkout, or set MINISBERT_REFERENCE to the folder "
                           "that holds reference.json")


@lru_cache(maxsize=4)
def _store(folder: Path) -> tuple[dict, dict]:
    meta_file, tensor_file = folder / "reference.json", folder / "reference.safetensors"
    if not meta_file.is_file():
        raise MissingFileError(f"no reference values at {meta_file}; run lessons/reference/make_reference.py "
                                "or set MINISBERT_REFERENCE to the folder that holds them")
    tensors = {}
    if tensor_file.is_file():
        from safetensors.torch import load_file
        tensors = load_file(str(tensor_file))
    return json.loads(meta_file.read_text(encoding="utf-8")), tensors


def reference(name: str):
    """The stored value called `name` (a tensor, or the JSON value)."""
    meta, tensors = _store(reference_dir())
    if name in tensors:
        return tensors[name].clone()
    if name in meta.get("values", {}):
        return meta["values"][name]
    known = sorted(set(tensors) | set(meta.get("values", {})))
    raise KeyError(f"no reference value called {name!r}; known: {', '.join(known)}")


def _info(name: str) -> dict:
    return _store(reference_dir())[0].get("checks", {}).get(name, {})


def _fail(name: str, what: str) -> None:
    hint = _info(name).get("hint")
    raise CheckFailed(f"{name}: {what}" + (f"\nhint: {hint}" if hint else ""))


def _written(name: str, actual) -> None:
    """An exercise's stub returns None until the learner writes it: say so, with the hint."""
    if actual is None:
        _fail(name, "got None: the code that computes this is not written yet (the exercise cell above "
                    "returns nothing)")


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double()
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def check_close(name: str, actual, atol: float | None = None, rtol: float = 0.0) -> None:
    """|actual - reference| <= atol + rtol * |reference| everywhere."""
    _written(name, actual)
    expected = _as_tensor(reference(name))
    got = _as_tensor(actual)
    atol = _info(name).get("atol", DEFAULT_ATOL) if atol is None else atol
    if got.shape != expected.shape:
        _fail(name, f"shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if not torch.isfinite(got).all():
        bad = torch.nonzero(~torch.isfinite(got))[0].tolist()
        _fail(name, f"non-finite value {got[tuple(bad)].item()} at index {tuple(bad)}")
    diff = (got - expected).abs()
    largest = diff.max().item() if diff.numel() else 0.0
    over = diff > atol + rtol * expected.abs()
    if over.any():
        where = tuple(torch.nonzero(diff == diff.max())[0].tolist())
        _fail(name, f"{int(over.sum())} of {diff.numel()} values differ by more than {atol:g}; the largest "
                    f"difference is {largest:.3g} at index {where} (got {got[where].item():.6g}, expected "
                    f"{expected[where].item():.6g})")
    print(f"✓ {name}: matches the reference (largest difference {largest:.1e}, tolerance {atol:g})")


def _plain(value):
    """json.dumps' fallback: numpy and torch values (also inside lists) as plain Python numbers and lists."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a value a check can compare: return lists, numbers or strings")


def check_equal(name: str, actual) -> None:
    """Exact equality for token lists, ids, rankings and other non-float values."""
    _written(name, actual)
    expected = reference(name)
    got = json.loads(json.dumps(actual, default=_plain))  # tuples -> lists, numpy and torch values -> Python, as stored
    if got == expected:
        print(f"✓ {name}: equal to the reference")
        return
    if isinstance(got, list) and isinstance(expected, list):
        if len(got) != len(expected):
            _fail(name, f"{len(got)} items, expected {len(expected)}")
        i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        _fail(name, f"item {i} is {got[i]!r}, expected {expected[i]!r}")
    _fail(name, f"got {got!r}, expected {expected!r}")


def check_that(name: str, condition: bool, claim: str) -> None:
    """A property rather than a value, e.g. claim="training raised the Spearman (61.2 -> 70.4)"."""
    if not condition:
        _fail(name, f"expected that {claim}; it is not so")
    print(f"✓ {name}: {claim}")


def check_by_hand(name: str, function, refused: dict[str, str]) -> None:
    """An exercise that asks for the computation written out: fail when `function` calls what does it in one
    go. refused: {a name as called (F.layer_norm(...) -> "layer_norm"; "@" for the matrix product): what it is}.

    Read from the function's source (a notebook keeps each cell's source). Only calls count, and a name the
    function makes itself (an argument, a variable, a helper it defines) is its own and allowed.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        _fail(name, f"the source of {getattr(function, '__name__', function)!r} cannot be read; define it in a "
                    "notebook cell or a file")
    own = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)} - {function.__name__}
    own |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    own |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            called = "@"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            called = node.func.attr
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in own:
            called = node.func.id
        else:
            continue
        if called in refused:
            raise CheckFailed(f"{name}: this exercise asks for the computation written out, and your code uses "
                              f"{called} ({refused[called]}); write it out yourself")
