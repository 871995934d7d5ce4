"""The graded process's side of a grading: run one assignment's probe, write what it returns as tensors.

The grader (grader.py) starts it in the graded tree (graded_tree.py), which holds the student edition's
library with the student's blocks, the probe of the assignment graded (grading/probe_<name>.py) and the
references of the other assignments (grading/reference_<other>.py), and nothing else of the course:

    python -I -B -c BOOT TREE NAME SEED OUT CHECK [CHECK ...]

For each CHECK, `probe_<NAME>.CHECK(seed)` builds that check's inputs from SEED (drawn by the grader at
this grading), calls the student's code and returns a dict of tensors; they are written to the
safetensors file OUT as `CHECK.<key>`, and an exception as the string `error.CHECK` in its metadata.
Nothing here is trusted: the grader's judge (judge.py) reads only the tensors it asked for, in its own
process, and scores them against its own references; it never imports this process's code.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# What the grader runs with `python -I -B -c`: the tree and its grading folder alone in front of the
# import path (-I: no PYTHONPATH, no user site, not the current folder), then main().
BOOT = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/grading']; "
        "from minisbert.course.probe import main; main(sys.argv[1:])")
# Libraries that hold the graded concepts ready-made (the references the tests compare with): never importable
# in the graded process, nor (_TreeOnly) an editable install's __editable__ finder, which names the checkout.
OTHER_IMPLEMENTATIONS = ("transformers", "sentence_transformers")
MAX_ERROR = 300  # characters of an exception's message kept for the report


def main(argv: list[str]) -> None:
    tree, name, seed, out, *checks = argv
    _forget_other_libraries(Path(tree))
    probe = importlib.import_module(f"probe_{name}")  # from the tree's grading folder
    for reference in sorted((Path(tree) / "grading").glob("reference_*.py")):
        importlib.import_module(reference.stem).install()  # another assignment, by its reference
    tensors, errors = {}, {}
    for check in checks:
        try:
            outputs = getattr(probe, check)(int(seed))
            tensors.update({f"{check}.{key}": _plain(value) for key, value in outputs.items()})
        except Exception as e:  # noqa: BLE001 (any error of the student's code is this check's message)
            lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
            errors[f"error.{check}"] = f"{type(e).__name__}: {lines[0]}"[:MAX_ERROR]
    from safetensors.torch import save_file
    save_file(tensors, out, metadata=errors)


def _plain(value):
    """A tensor of its own (safetensors refuses shared or strided memory), detached, on the CPU."""
    import torch
    return torch.as_tensor(value).detach().cpu().contiguous().clone()


class _TreeOnly:
    """A finder in front of all others: `minisbert` is found in the graded tree or nowhere, and the other
    implementations not at all. An installed copy (editable or not) holds the solutions; its folder
    (site-packages) also holds torch, so it stays on the path."""

    def __init__(self, tree: Path):
        self.tree = str(tree)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top in OTHER_IMPLEMENTATIONS or top.startswith("__editable__"):
            raise ModuleNotFoundError(f"{top} may not be imported in the graded process", name=fullname)
        if fullname != "minisbert":  # its submodules are found through the package's own __path__: the tree's
            return None
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(fullname, [self.tree])
        if spec is None:
            raise ModuleNotFoundError("minisbert is importable from the graded tree only", name=fullname)
        return spec


def _forget_other_libraries(tree: Path) -> None:
    """Leave the tree's minisbert the only one importable: an editable install of the instructor's checkout
    adds a finder (setuptools' __editable__ hook) or a path entry (dropped), a regular install a folder in
    site-packages (which stays: torch is there too); _TreeOnly finds minisbert in the tree before any of them."""
    def editable(hook) -> bool:
        return "__editable__" in f"{getattr(hook, '__module__', '')} {hook!r}"
    sys.meta_path[:] = [_TreeOnly(tree)] + [finder for finder in sys.meta_path if not editable(finder)]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if not editable(hook)]
    own = {str(tree), str(tree / "grading")}

    def checkout(entry: str) -> bool:  # a folder with minisbert/ in it that is not an installation's folder
        folder = Path(entry or ".")
        return (folder / "minisbert").exists() and folder.name not in ("site-packages", "dist-packages")
    sys.path[:] = [p for p in sys.path if p in own or not checkout(p)]
    sys.path_importer_cache.clear()
