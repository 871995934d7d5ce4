"""What a solution block may not contain: torch's ready-made version of what it grades, and the
means to change the grader instead of passing it.

The grader reads each block of a student's copy with `ast` before running anything
(`block_problems`). Only the blocks are checked, because only the blocks are run: the
grader puts them into the instructor's own files (assignments.fill_blocks), so the
imports and module-level code around them are the instructor's.

Allowed everywhere: tensor arithmetic, matmul (@), softmax, exp, log, erf, sqrt, mean,
sum, max, masked_fill, dropout, nn.Linear and the other modules the class already
holds (self.something). Refused (an assignment scores 0 with the message):

- per assignment, a call that does the whole graded concept in one line (FORBIDDEN);
- in every block, a way around the rules: imports, global/nonlocal, assigning to or
  deleting an attribute (torch.allclose = ...), private or dunder names
  (torch._C, x.__class__), and the built-ins that reach names by string or run
  code (getattr, eval, exec, ...).

This is a deterrent read from the source, not a sandbox: the student's code still runs
as Python, in a subprocess with a scrubbed environment (grader.py).
"""

from __future__ import annotations

import ast
import textwrap

from .assignments import Block

ATTENTION = {
    "scaled_dot_product_attention": "write softmax(Q K^T / sqrt(d) + mask) V yourself",
    "MultiheadAttention": "write the attention yourself",
    "multi_head_attention_forward": "write the attention yourself",
}
LAYER_NORM = {
    "layer_norm": "write (x - mean) / sqrt(var + eps) * weight + bias yourself",
    "native_layer_norm": "write (x - mean) / sqrt(var + eps) * weight + bias yourself",
    "LayerNorm": "use the class's own LayerNorm (self.LayerNorm), which you write in layers.py",
}
# assignment: {the last part of a torch name it may not use (F.gelu -> "gelu"): what to do instead}.
# Reached through anything but `self.` (nn.LayerNorm is torch's; self.LayerNorm is the student's own).
FORBIDDEN = {
    "attention": ATTENTION,
    "multihead": ATTENTION,
    "encoder_layer": {**ATTENTION, **LAYER_NORM,
                      "gelu": "write 0.5 x (1 + erf(x / sqrt(2))) yourself",
                      "GELU": "write 0.5 x (1 + erf(x / sqrt(2))) yourself",
                      "TransformerEncoderLayer": "write the layer from its parts yourself"},
    "embeddings": LAYER_NORM,
    # Torch has no one-call version of masked pooling, of these objectives or of a training step:
    # their building blocks (F.cosine_similarity, F.mse_loss, F.cross_entropy, clip_grad_norm_)
    # are allowed, and the graded part is what goes into them.
    "pooling": {},
    "losses": {},
    "training_step": {},
}
# The library's own finished versions, reachable by their bare names from the graded modules.
FORBIDDEN_NAMES = {
    "pooling": {"mean_sqrt_len_pool": "compute the mean yourself", "weighted_mean_pool": "compute the mean yourself"},
}
ESCAPES = {"getattr", "setattr", "delattr", "eval", "exec", "compile", "globals", "locals", "vars", "open",
           "breakpoint", "input", "exit", "quit"}


def block_problems(block: Block, where: str) -> list[str]:
    """Why this block may not be graded (empty when it may): each problem with its line."""
    code = textwrap.dedent("".join(block.body))
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"{where}, line {block.line + (e.lineno or 0)}: the code does not parse ({e.msg})"]
    problems = []
    for node in ast.walk(tree):
        why = _refusal(block.name, node)
        if why:
            problems.append(f"{where}, line {block.line + node.lineno}: assignment {block.name!r} {why}")
    return problems


def _refusal(name: str, node: ast.AST) -> str | None:
    forbidden, names = FORBIDDEN[name], FORBIDDEN_NAMES.get(name, {})
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"may not use private names ({ast.unparse(node)})"
        own = isinstance(node.value, ast.Name) and node.value.id == "self"
        if node.attr in forbidden and not own:
            return f"may not call {ast.unparse(node)}: {forbidden[node.attr]}"
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            return f"may not use {node.id}"
        if node.id in ESCAPES:
            return f"may not call {node.id}(): it reaches names by string or runs code the grader cannot read"
        if node.id in names:
            return f"may not call the library's {node.id}: {names[node.id]}"
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        return "may not import: use the names the module already imports"
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        return "may not declare global or nonlocal names"
    elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute):
                    return f"may not assign to or delete an attribute ({ast.unparse(part)}): compute values, " \
                           "do not change modules or objects"
    return None
