"""What a solution block may use: an allow-list, read from the block's source before anything runs.

A deny-list cannot be complete: `torch` carries `sys`, `os`, `builtins` and `importlib` as
attributes, and ready-made functions nobody thought to list (a group norm over one group is a
layer norm) do the graded job too. So a block may use only:

- its function's arguments and local names, and the names it assigns itself;
- `self.<attribute>` of its own module (its layers, weights and settings), at any depth, where the function is a
  method: the block may not bind `self` (self = torch would open every attribute of torch), nor use a module
  name (torch, F, nn, math) as a value rather than as `torch.<listed function>`;
- Python's arithmetic, comparisons, control flow, comprehensions and lambdas;
- the built-ins of BUILTINS, and the names of its own file listed for its assignment (FILE_NAMES);
- the functions of TORCH_FUNCTIONS (torch.*, F.*, nn.*, math.*), written by their dotted name;
- on any other value (a tensor, a list, an optimizer), the methods and attributes of METHODS.

The one-call versions of each graded concept (F.scaled_dot_product_attention, F.layer_norm,
F.gelu, ...) are simply not on the lists. Anything else (an attribute of torch that is not a listed
function, a name that is not the block's own, an import, a private name, a class, binding a built-in's or
the file's module-level name) refuses the block, with the line and the name. Every line of a block must
also be indented inside its function: a line at column 0 would run as module-level code and could
redefine what the probe imports.

This is read from the source; the student's code then runs in a separate process that holds no
solution, judge or reference of its assignment (graded_tree.py, probe.py), as the same OS user
(docs/instructors.md says what that does not stop).
"""

from __future__ import annotations

import ast
import builtins
import textwrap

from .assignments import Block

MODULES = {"torch": "torch", "F": "torch.nn.functional", "nn": "torch.nn", "math": "math"}
TORCH_FUNCTIONS = {
    # building tensors, types and constants
    "torch.arange", "torch.zeros", "torch.ones", "torch.zeros_like", "torch.ones_like", "torch.full",
    "torch.full_like", "torch.empty", "torch.eye", "torch.tensor", "torch.as_tensor", "torch.finfo",
    "torch.float32", "torch.float16", "torch.bfloat16", "torch.float64", "torch.long", "torch.int64",
    "torch.bool", "torch.no_grad",
    # element-wise and reductions
    "torch.exp", "torch.log", "torch.sqrt", "torch.rsqrt", "torch.erf", "torch.tanh", "torch.abs",
    "torch.pow", "torch.square", "torch.erfc", "torch.log1p", "torch.where", "torch.clamp", "torch.maximum", "torch.minimum", "torch.max", "torch.min",
    "torch.sum", "torch.mean", "torch.var", "torch.var_mean", "torch.logsumexp", "torch.softmax", "torch.log_softmax",
    "torch.sigmoid", "torch.relu", "torch.norm",
    # shapes and products
    "torch.cat", "torch.stack", "torch.matmul", "torch.mm", "torch.bmm", "torch.einsum", "torch.transpose",
    "torch.diagonal", "torch.diag", "torch.triu", "torch.tril", "torch.masked_fill",
    # torch.nn.functional: what the solutions and reasonable variants use, not the graded concepts
    "F.softmax", "F.log_softmax", "F.dropout", "F.relu", "F.normalize", "F.cosine_similarity",
    "F.cross_entropy", "F.mse_loss", "F.pad", "F.one_hot", "F.linear",
    # the training step's gradient clipping
    "torch.nn.utils.clip_grad_norm_", "nn.utils.clip_grad_norm_",
    # math
    "math.sqrt", "math.log", "math.exp", "math.pi", "math.e", "math.inf", "math.erf",
}
BUILTINS = {"range", "len", "min", "max", "abs", "float", "int", "bool", "sum", "enumerate", "zip", "tuple",
            "list", "dict", "set", "isinstance", "reversed", "sorted", "any", "all", "round", "slice", "print",
            "ValueError", "TypeError", "RuntimeError", "NotImplementedError", "None", "True", "False"}
METHODS = {
    # shape and type
    "shape", "size", "dim", "ndim", "numel", "dtype", "device", "view", "view_as", "reshape", "transpose",
    "permute", "movedim", "swapaxes", "contiguous", "unsqueeze", "squeeze", "expand", "expand_as", "repeat", "flatten", "unflatten",
    "to", "float", "double", "half", "long", "bool", "int", "type_as", "T", "mT", "t",
    # arithmetic and reductions
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "values", "indices",
    "clamp", "clamp_min", "clamp_max", "masked_fill", "softmax", "log_softmax", "exp", "log", "sqrt", "rsqrt",
    "pow", "abs", "erf", "erfc", "log1p", "tanh", "sigmoid", "relu", "matmul", "mm", "bmm", "norm", "neg", "add", "sub", "mul",
    "div", "diagonal", "diag", "eq", "ne", "lt", "gt", "le", "ge", "logical_not", "any", "all", "cumsum",
    "gather", "index_select", "select", "narrow", "chunk", "split", "unbind", "where", "logsumexp", "square",
    "item", "tolist", "detach", "clone", "new_zeros", "new_ones", "new_full", "new_tensor", "weight", "bias",
    # a training step's objects: the loss, the optimizer, the scheduler, the scaler
    "backward", "step", "zero_grad", "scale", "unscale_", "update", "param_groups", "parameters",
    # lists and dicts
    "append", "extend", "items", "keys", "get",
}
# Listed functions that would do one assignment's graded step for it, though other assignments need them:
# F.normalize divides by the norm, which, times sqrt(H), is LayerNorm's division by the standard deviation.
NOT_FOR = {"encoder_layer": {"F.normalize"}}
# Names of a graded file a block may call, per assignment (the student's own code elsewhere in the file).
FILE_NAMES = {"encoder_layer": {"gelu"}, "losses": {"_cosine_matrix"}}
# Methods of a module (self....) that change the module or reach outside it rather than compute.
MODULE_CHANGES = {"register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
                  "register_backward_hook", "register_buffer", "register_parameter", "load_state_dict",
                  "apply", "add_module", "register_module", "state_dict", "modules", "named_modules", "children"}
BUILTIN_NAMES = frozenset(dir(builtins))  # a block may call those of BUILTINS, and bind none of them
ALLOWED = ("its function's arguments and its own names, self.<attribute>, Python arithmetic and control flow, "
           "and the listed torch/F/math functions and tensor methods (minisbert/course/rules.py)")


def enclosing_arguments(source: str, line: int) -> set[str]:
    """The parameters and local names of the innermost function of `source` that holds the given line."""
    names: set[str] = set()
    best = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            if best is None or node.lineno > best.lineno:
                best = node
    if best is not None:
        a = best.args
        names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        names |= {n.id for n in ast.walk(best) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def file_names(source: str) -> set[str]:
    """The names a file binds at module level (its imports, functions, classes and constants)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        else:
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def block_problems(block: Block, where: str, arguments: set[str] = frozenset(),
                   module_names: set[str] = frozenset()) -> list[str]:
    """Why this block may not be graded (empty when it may): each problem with its line.
    arguments: the parameters and locals of the function the block sits in (enclosing_arguments);
    module_names: the names its file binds at module level (file_names)."""
    problems = [f"{where}, line {block.line + i}: assignment {block.name!r}: every line of a block must be indented "
                f"inside its function (a line at column 0 would run as module-level code)"
                for i, line in enumerate(block.body, 1) if line.strip() and not line[:1].isspace()]
    code = textwrap.dedent("".join(block.body))
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return problems + [f"{where}, line {block.line + (e.lineno or 0)}: the code does not parse ({e.msg})"]
    bound = {name for node in ast.walk(tree) if (name := _bound_name(node))}
    # `self` is the method's own module, never something the block points it at (self = torch would open every
    # attribute of torch); a module name is never a value of the block's own
    # Nor may it bind a built-in's name, a module-level name of its file or a private name: a name bound in an
    # inner scope (a lambda's parameter, a class body, a comprehension) counts as the block's own, but read where
    # it is not bound, or as a default (evaluated outside the lambda), it is the built-in or global of that name
    # (`lambda exec=exec: ...` would hand over exec).
    for node in ast.walk(tree):
        name = _bound_name(node)
        if name in {"self", *MODULES}:
            problems.append(f"{where}, line {block.line + getattr(node, 'lineno', 1)}: assignment {block.name!r} may "
                            f"not bind the name {name!r} (it is {'the module itself' if name == 'self' else 'a module'}"
                            ", not a name of the block's own)")
        elif name and name != "_" and (name in BUILTIN_NAMES or name in module_names or name.startswith("_")):
            kind = ("a Python built-in" if name in BUILTIN_NAMES else "a private name" if name.startswith("_")
                    else "a name of the module")
            problems.append(f"{where}, line {block.line + getattr(node, 'lineno', 1)}: assignment {block.name!r} may "
                            f"not bind the name {name!r} ({kind}): choose another name")
    own = (set(arguments) | FILE_NAMES.get(block.name, set()) | bound) - set(MODULES)
    for node, why in _refusals(tree, own):
        problems.append(f"{where}, line {block.line + node.lineno}: assignment {block.name!r} {why}")
    for node in ast.walk(tree):
        dotted = _dotted(node) if isinstance(node, ast.Attribute) else None
        if dotted and dotted[0] in MODULES and _short_name(".".join(dotted)) in NOT_FOR.get(block.name, ()):
            problems.append(f"{where}, line {block.line + node.lineno}: assignment {block.name!r} may not use "
                            f"{'.'.join(dotted)}: it would do this assignment's graded step (NOT_FOR in rules.py)")
    return problems


def _bound_name(node: ast.AST) -> str | None:
    """The name a node binds (an assignment target, a loop or comprehension variable, a parameter, ...)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return node.id
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ExceptHandler)):
        return node.name
    return None


def _short_name(name: str) -> str:
    """The name TORCH_FUNCTIONS lists a function by: torch.nn.functional.x and nn.functional.x are F.x,
    torch.nn.x is nn.x (the same function, spelled in full)."""
    for full, short in (("torch.nn.functional.", "F."), ("nn.functional.", "F."), ("torch.nn.", "nn.")):
        if name.startswith(full):
            return short + name[len(full):]
    return name


def _dotted(node: ast.AST) -> list[str] | None:
    """['torch', 'nn', 'functional', 'gelu'] for torch.nn.functional.gelu; None when not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _refusals(tree: ast.AST, own: set[str]):
    """(node, why) for everything in the tree that is not on the allow-list."""
    inner = set()  # attribute nodes already judged as part of a longer dotted name
    roots = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}  # names used as `name.attr`
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, "may not import: use the names the module already imports"
        elif isinstance(node, ast.ClassDef):
            yield node, "may not define a class: compute with functions, tensors and the module's own layers"
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            yield node, "may not declare global or nonlocal names"
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if any(isinstance(part, ast.Attribute) for t in targets for part in ast.walk(t)):
                yield node, ("may not assign to or delete an attribute: compute values, do not change modules "
                             "or objects")
        elif isinstance(node, ast.Attribute) and node not in inner:
            why = _attribute_refusal(node, own, inner)
            if why:
                yield node, why
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in MODULES and id(node) not in roots:
                yield node, f"may use {node.id} only as {node.id}.<an allowed function>, not as a value"
            elif node.id not in own and node.id not in BUILTINS and node.id not in MODULES:
                yield node, f"may not use {node.id}: a block may use {ALLOWED}"


def _attribute_refusal(node: ast.Attribute, own: set[str], inner: set) -> str | None:
    value = node.value
    while isinstance(value, ast.Attribute):  # the whole chain is judged here, once
        inner.add(value)
        value = value.value
    dotted = _dotted(node)
    if dotted is not None and dotted[0] in MODULES and dotted[0] not in own:
        name = ".".join(dotted)
        if _short_name(name) in TORCH_FUNCTIONS:
            return None
        return f"may not use {name}: it is not one of the allowed functions; a block may use {ALLOWED}"
    if dotted is not None and dotted[0] == "self" and "self" in own:
        private = [p for p in dotted[1:] if p.startswith("_")]
        if private:
            return f"may not use private names ({'.'.join(dotted)})"
        if dotted[-1] in MODULE_CHANGES:
            return f"may not use {'.'.join(dotted)}: it changes the module instead of computing with it"
        return None
    # a method or attribute of a value: a tensor, an optimizer, a list; chains on it are checked part by part
    chain = node
    while isinstance(chain, ast.Attribute):
        if chain.attr not in METHODS:
            shown = ast.unparse(chain)
            return f"may not use .{chain.attr} ({shown[:60]}): it is not an allowed method; a block may use {ALLOWED}"
        chain = chain.value
    return None
