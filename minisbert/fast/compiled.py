"""Compiled encode: the encoder's layers run through `torch.compile`, for large jobs.

torch.compile traces a module's Python forward into a graph once, and its
backend (TorchInductor) writes and compiles code for that graph: on a CPU, C++
loops that fuse, where it can, what eager PyTorch does in several passes over
memory (the bias and GELU after the first feed-forward product, the residual sum
and LayerNorm; under int8, the per-token rounding before each integer product
and the rescaling after it). The matrix products stay calls into the same BLAS
(or int8) kernels, so the gain is the memory traffic between them: largest
where those passes are a large share of the time (long sentences, int8), small
where the products dominate.

What is compiled: each encoder layer, not the whole model. The encoder's own
forward decides from the data whether and how to pack the tokens
(`bool(mask.all())`, `nonzero`: values a graph cannot know in advance), and
that stays eager Python; the layer receives tensors of known rank, packing and
unpacking included. It is compiled a few times over, not once per batch: for
packed tokens (T, H), for a batch without padding (B, L, H), and for a batch of
one (torch treats sizes 0 and 1 apart); the six layers share that code, since
they differ only in their weights, which the compiled code takes as inputs.
`dynamic=True` makes the sizes symbols in it, so a new sentence length does not
mean a new compile.

The price is the compile itself, paid once per process at the first batches
(tens of seconds on two cores; the README gives the measured time and the
corpus size from which it pays). In float32 the numbers are those of the eager
layers up to float rounding (tests/test_compiled.py).
"""

from __future__ import annotations

import copy
import os
import shutil
import sys

import torch
from torch import nn

from ..support.errors import InputError


def check_compiler(device: torch.device) -> None:
    """On a CPU, TorchInductor compiles C++: without a compiler it would fail deep inside torch."""
    if device.type != "cpu":
        return
    default = "cl" if sys.platform == "win32" else "clang++" if sys.platform == "darwin" else "g++"
    compiler = os.environ.get("CXX", default)
    if shutil.which(compiler) is None:
        raise InputError(f"compile=True on the CPU needs a C++ compiler, and {compiler!r} (the CXX environment "
                         f"variable, else {default}) is not on the PATH: install one (Debian/Ubuntu: apt install "
                         "g++) or encode without compile")


def compiled_copy(bert: nn.Module) -> nn.Module:
    """A view of `bert` whose encoder layers run compiled; every module, parameter and buffer is shared.

    Cheap to make (encode makes one per call): the layers' code is compiled at its first call in the
    process, not here, and kept by torch for every later view of the same kind of layer.
    """
    encoder = copy.copy(bert.encoder)  # a new module object over the same submodules
    encoder._modules = dict(bert.encoder._modules)
    encoder.layer = nn.ModuleList(torch.compile(layer, dynamic=True) for layer in bert.encoder.layer)
    twin = copy.copy(bert)
    twin._modules = dict(bert._modules)
    twin.encoder = encoder
    return twin
