"""FastBertModel: the same BERT, computed faster, and the ways of running it for encode.

Its layers are fast_layers.py's twins of the written-out classes: fused kernels
and padding-free layers, the same parameters under the same names, the same
numbers (tests/test_fast_path.py). `load_bert(name, fast=True)` (the default)
builds this class.

`for_inference` gives the module encode runs. On the CPU it is a read-only copy
(cpu_copy.py): its Linear layers prepacked in float32, bf16 or int8
(prepacked.py; int8.py's arithmetic), made once per set of weights and kept. On
a GPU, the model under autocast (precision.py); anywhere, with compile=True, its
layers compiled (compiled.py).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from ..bert import BertModel
from ..support.errors import InputError
from .compiled import check_compiler, compiled_copy
from .fast_layers import FastEncoder
from .hardware import int8_is_emulated
from .cpu_copy import make_cpu_copy
from .precision import precision_context, resolve_precision, runnable_precision


_optimizer_steps = 0  # the steps of every torch optimiser in this process (FastBertModel.inference_copy)


def _count_step(optimizer, args, kwargs) -> None:
    global _optimizer_steps
    _optimizer_steps += 1


register_optimizer_step_post_hook(_count_step)


class Autocast(nn.Module):
    """Runs a module's forward under a precision context (bf16 or fp16 products); the module is shared."""

    def __init__(self, module: nn.Module, device: torch.device, precision: str):
        super().__init__()
        self.module, self.device, self.precision = module, device, precision

    def forward(self, *args, **kwargs):
        with precision_context(self.device, self.precision):
            return self.module(*args, **kwargs)


class FastBertModel(BertModel):
    """BertModel with the fast encoder, and the ways of running it for encode."""
    encoder_class = FastEncoder

    def for_inference(self, precision: str = "fp32", compile: bool = False) -> nn.Module:
        """The module that runs this encoder for encode. On the CPU: a copy with prepacked float32, bf16 or
        int8 products (prepacked.py); with compile=True, a view whose layers are compiled,
        under autocast for bf16; on a GPU, this model, under autocast for bf16 and fp16. Embeddings and
        LayerNorms are shared with this model in every case."""
        device = self.device
        precision = resolve_precision(precision, device)  # "auto": what this machine runs natively
        if precision == "int8" and device.type != "cpu":
            raise InputError(f"precision='int8' runs on the CPU (this model is on {device.type}); "
                             "on a GPU use 'fp16' or 'bf16'")
        if precision == "int8" and int8_is_emulated():
            warnings.warn("this CPU has no VNNI instructions (int8 dot products): precision='int8' runs, but its "
                          "integer sums are done in float32 here (int8 kernels without VNNI can overflow), so it is "
                          "slower than float32; "
                          "use precision='auto' (float32 on this CPU)", stacklevel=3)
        precision = runnable_precision(device, precision)  # fp16 refused off CUDA; bf16 without hardware: fp32
        if compile:
            check_compiler(device)
            model = self.inference_copy("int8") if precision == "int8" else self
            # a new view each call, so that it holds the model's modules of now; torch keeps the compiled code
            # with the layers' code, so only the first call of a process (or a new layer kind) compiles
            model = compiled_copy(model)
        elif device.type == "cpu":
            return self.inference_copy(precision)
        else:
            model = self
        return Autocast(model, device, precision) if precision in ("bf16", "fp16") else model

    def inference_copy(self, precision: str) -> nn.Module:
        """The encoder's read-only copy for `precision` on the CPU (made by cpu_copy.py, its products prepacked
        in float32, bf16 or int8 by prepacked.py): made once, remade when the weights change.

        A change is a new tensor in the model, an in-place change to one (load_state_dict, .to(), adding
        rows, an edit under torch.no_grad()), which bumps the tensor's version counter, or a step of any torch
        optimiser: fused ones (AdamW(fused=True), which fit uses) write the weights without bumping it.
        Writes through `.data` bypass both and go unseen: change weights in place under torch.no_grad().
        """
        tensors = [*self.parameters(), *self.buffers()]
        versions = [_optimizer_steps, *(t._version for t in tensors)]
        copies = self.__dict__.setdefault("_inference_copies", {})  # a plain attribute: not a submodule, never saved
        cached = copies.get(precision)
        if (cached is None or cached[1] != versions or len(cached[0]) != len(tensors)
                or any(a is not b for a, b in zip(cached[0], tensors))):
            copies.pop(precision, None)
            made = make_cpu_copy(self, precision)
            made.__dict__.pop("_inference_copies", None)  # the copy is shallow: it must not hold this model's copies
            copies[precision] = cached = (tensors, versions, made)
        return cached[2]
