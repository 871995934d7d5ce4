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
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..support.errors import CheckFailed, MissingFileError
from .folders import reference_dir
from .language import translate

DEFAULT_ATOL = 1e-5


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


# Fields that are texts of their own, translated in the lesson's catalogue under this context.
TRANSLATED_FIELDS = {"claim": "claim", "what": "refused"}


def _say(template: str, **fields) -> str:
    """A check.py message in the learner's language (course/language.py), its fields filled in."""
    fields = {k: translate(TRANSLATED_FIELDS[k], v) if k in TRANSLATED_FIELDS else v for k, v in fields.items()}
    return translate("check", template).format(**fields)


def _fail(name: str, template: str, **fields) -> None:
    """Raise CheckFailed in the learner's language; its `english` attribute holds the English message, which
    the course's own tests of wrong answers read whatever the edition."""
    hint = _info(name).get("hint")
    english = f"{name}: {template.format(**fields)}" + (f"\nhint: {hint}" if hint else "")
    error = CheckFailed(f"{name}: {_say(template, **fields)}"
                        + (f"\n{_say('hint')}: {translate(f'hint {name}', hint)}" if hint else ""))
    error.english = english
    raise error


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
        _fail(name, "shape {got}, expected {expected}", got=tuple(got.shape), expected=tuple(expected.shape))
    if not torch.isfinite(got).all():
        bad = torch.nonzero(~torch.isfinite(got))[0].tolist()
        _fail(name, "non-finite value {value} at index {where}", value=got[tuple(bad)].item(), where=tuple(bad))
    diff = (got - expected).abs()
    largest = diff.max().item() if diff.numel() else 0.0
    over = diff > atol + rtol * expected.abs()
    if over.any():
        where = tuple(torch.nonzero(diff == diff.max())[0].tolist())
        _fail(name, "{count} of {total} values differ by more than {atol:g}; the largest difference is "
                    "{largest:.3g} at index {where} (got {got:.6g}, expected {expected:.6g})",
              count=int(over.sum()), total=diff.numel(), atol=atol, largest=largest, where=where,
              got=got[where].item(), expected=expected[where].item())
    print(f"✓ {name}: " + _say("matches the reference (largest difference {largest:.1e}, tolerance {atol:g})",
                               largest=largest, atol=atol))


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
        print(f"✓ {name}: " + _say("equal to the reference"))
        return
    if isinstance(got, list) and isinstance(expected, list):
        if len(got) != len(expected):
            _fail(name, "{got} items, expected {expected}", got=len(got), expected=len(expected))
        i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        _fail(name, "item {i} is {got!r}, expected {expected!r}", i=i, got=got[i], expected=expected[i])
    _fail(name, "got {got!r}, expected {expected!r}", got=got, expected=expected)


def check_that(name: str, condition: bool, claim: str) -> None:
    """A property rather than a value, e.g. claim="training raised the Spearman (61.2 -> 70.4)"."""
    if not condition:
        _fail(name, "expected that {claim}; it is not so", claim=claim)
    print(f"✓ {name}: {translate('claim', claim)}")


def check_by_hand(name: str, function, refused: dict[str, str]) -> None:
    """An exercise that asks for the computation written out: fail when `function` calls what does it in one
    go. refused: {a name as called (F.layer_norm(...) -> "layer_norm"; "@" for the matrix product): what it is}.

    Read from the function's source (a notebook keeps each cell's source). Only calls count, and a name the
    function makes itself (an argument, a variable, a helper it defines) is its own and allowed.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        _fail(name, "the source of {function!r} cannot be read; define it in a notebook cell or a file",
              function=getattr(function, "__name__", function))
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
            _fail(name, "this exercise asks for the computation written out, and your code uses {called} ({what}); "
                        "write it out yourself", called=called, what=refused[called])
