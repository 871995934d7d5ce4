"""The grader's side of a grading: score the tensors a graded process wrote, in the grader's own process.

Each assignment's judge (tests/grading/judge_<name>.py, in the instructor's checkout) is a list of checks:

    @check(5, "pooled")                  # 5 points; the one tensor this check reads
    def mean_over_real_tokens(seed, got):
        tokens, mask = batch(seed)      # the probe's inputs, rebuilt from the same seed
        diagnose(got("pooled"), expected, {"padding is averaged in: ...": tokens.mean(1)})

A check passes when it returns; `Failure` (raised by `diagnose`, or by `got` for a tensor that is
missing or not of the dtype asked for) fails it with its message. The judge never imports the student's
code: the expected values and the diagnoses of common mistakes come from the instructor's references.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

# A probe's outputs are small; a larger file is not read (it could only be there to exhaust memory).
MAX_OUTPUT_BYTES = 64 * 2**20


class Failure(Exception):
    """A failed check; its message says what was wrong."""


@dataclass
class Check:
    name: str
    points: int
    earned: int = 0
    message: str = ""


def check(points: int, *reads: str):
    """Mark a judge function as a check worth `points`, reading the tensors named `reads` of its probe."""
    def mark(function):
        function.points, function.reads = points, reads
        return function
    return mark


def checks_of(judge) -> list:
    """The check functions of a judge module, in the order they are written."""
    functions = [f for f in vars(judge).values() if callable(f) and hasattr(f, "points") and hasattr(f, "reads")]
    return sorted(functions, key=lambda f: f.__code__.co_firstlineno)


def read_outputs(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a probe's safetensors file; raises Failure when it is not one.

    safetensors holds raw numbers and a JSON header, never pickles: reading it runs nothing.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    if not path.is_file():
        raise Failure("the graded process wrote no outputs")
    if path.stat().st_size > MAX_OUTPUT_BYTES:
        raise Failure(f"the graded process wrote {path.stat().st_size} bytes of outputs, more than any probe asks for")
    try:
        with path.open("rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        metadata = header.get("__metadata__") or {}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise Failure("the outputs' metadata is not text")
        return load_file(str(path)), metadata
    except (SafetensorError, ValueError, struct.error, OSError, AttributeError) as e:
        raise Failure(f"the graded process's outputs are not a safetensors file ({e})") from e


def judge(checks: list, seed: int, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> list[Check]:
    """Score each check on the outputs of its probe; the tensors were checked against what the checks read."""
    results = []
    for function in checks:
        result = Check(function.__name__, function.points)
        error = metadata.get(f"error.{result.name}")
        got = Outputs(result.name, function.reads, tensors, error)
        try:
            function(seed, got)
            result.earned, result.message = result.points, "passed"
        except Failure as e:
            result.message = str(e)[:300]
        except Exception as e:  # noqa: BLE001 (outputs the check could not compare, e.g. of another shape)
            result.message = f"the outputs could not be judged: {type(e).__name__}: {e}"[:300]
        results.append(result)
    return results


def unasked(checks: list, tensors: dict[str, torch.Tensor]) -> list[str]:
    """The tensors of the file that no check reads: a probe writes only what it is asked for."""
    asked = {f"{f.__name__}.{name}" for f in checks for name in f.reads}
    return sorted(set(tensors) - asked)


class Outputs:
    """One check's view of the probe's tensors: only those it declared, of the dtype it asks for."""

    def __init__(self, check: str, reads: tuple[str, ...], tensors: dict[str, torch.Tensor], error: str | None):
        self.check, self.reads, self.tensors, self.error = check, reads, tensors, error

    def __call__(self, name: str, dtype: torch.dtype = torch.float32, shape: tuple | None = None) -> torch.Tensor:
        if name not in self.reads:
            raise ValueError(f"the check {self.check} reads {name!r} without declaring it in @check")
        key = f"{self.check}.{name}"
        if key not in self.tensors:
            raise Failure(self.error or f"the graded process wrote no {name!r} for this check")
        value = self.tensors[key]
        if value.dtype != dtype:
            raise Failure(f"{name} has dtype {value.dtype}, expected {dtype}")
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise Failure(f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)}")
        return value


def require(condition: bool, message: str) -> None:
    """Fail the check with `message` unless `condition` holds."""
    if not condition:
        raise Failure(message)


def diagnose(actual: torch.Tensor, expected: torch.Tensor, mistakes: dict, atol: float = 1e-5) -> None:
    """Fail with the description of the known mistake the output matches, else with the largest difference."""
    actual, expected = torch.as_tensor(actual).float(), torch.as_tensor(expected).float()
    if actual.shape == expected.shape and torch.allclose(actual, expected, atol=atol, rtol=0):
        return
    for what, wrong in mistakes.items():
        wrong = torch.as_tensor(wrong).float()
        if wrong.shape == actual.shape and torch.allclose(actual, wrong, atol=atol, rtol=0):
            raise Failure(what)
    if actual.shape != expected.shape:
        raise Failure(f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    diff = (actual - expected).abs()
    if not torch.isfinite(diff).all():
        raise Failure(f"{int((~torch.isfinite(actual)).sum())} values are not finite (nan or inf)")
    where = tuple(torch.nonzero(diff == diff.max())[0].tolist())
    raise Failure(f"largest difference {diff.max().item():.3g} at index {where} (got {actual[where].item():.6g}, "
                  f"expected {expected[where].item():.6g})")


@lru_cache(maxsize=1)
def pretrained_bert(name: str = "all-MiniLM-L6-v2"):
    """The instructor's library's model (the grader's own minisbert, written-out path), loaded once per grading
    run for the checks on real weights."""
    from minisbert import load_bert
    return load_bert(name, device="cpu", fast=False)
