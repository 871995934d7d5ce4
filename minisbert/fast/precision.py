"""Mixed precision: the matrix products in bf16 or fp16, the rest in float32.

Under torch's autocast the products (Linear layers, attention) run in a
16-bit type with twice the throughput where the hardware has it; LayerNorm,
softmax and the losses stay in float32. Training in fp16 also needs loss scaling:
fp16's smallest numbers are about 6e-8, and small gradients would round to 0,
so the loss is multiplied by a large factor before backward and the gradients
divided by it before the update (torch.amp.GradScaler, which also skips a step
whose gradients overflowed). bf16 has float32's range and needs no scaling.

`training.training_step` takes the context and the scaler made here (fit asks
for them through trainkit/run.py); `FastBertModel.for_inference` runs encode in them.
"""

from __future__ import annotations

import contextlib
import platform
import warnings
from pathlib import Path

import torch

from ..support.errors import InputError

PRECISIONS = ("fp32", "bf16", "fp16")  # training and inference
ENCODE_PRECISIONS = PRECISIONS + ("int8",)  # inference only: int8.py, on the CPU


def check_precision(precision: str, allowed: tuple[str, ...] = ENCODE_PRECISIONS) -> str:
    """The one check of a precision name, for training (PRECISIONS) and encode (ENCODE_PRECISIONS)."""
    if precision not in allowed:
        raise InputError(f"precision={precision!r}: use one of {', '.join(allowed)}")
    return precision


def _x86_without_bf16_instructions() -> bool:
    """An x86 CPU multiplies bf16 natively only with AVX512-BF16 or AMX; without them oneDNN emulates
    bf16, more slowly than float32 (measured: 49 against 132 GFLOP/s on a Xeon with AVX-512 but no
    AVX512-BF16). Linux lists the instructions in /proc/cpuinfo; elsewhere oneDNN's answer stands."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" not in flags and "amx_bf16" not in flags


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 products are worth it here: native on this GPU or CPU, not emulated."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.ops.mkldnn._is_mkldnn_bf16_supported() and not _x86_without_bf16_instructions()
    return False


def precision_context(device: torch.device, precision: str = "fp32"):
    """An autocast context for `precision`: matrix products in bf16 or fp16, the rest in float32.

    bf16 where the processor lacks it falls back to float32 with a warning; fp16 needs CUDA.
    """
    check_precision(precision, PRECISIONS)
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "fp16":
        if device.type != "cuda":
            raise InputError(f"precision='fp16' needs CUDA (this is {device.type}); on a CPU use 'bf16'")
        return torch.autocast("cuda", dtype=torch.float16)
    if not bf16_supported(device):
        warnings.warn(f"this {device.type} has no native bf16 support; computing in float32 instead", stacklevel=3)
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def make_grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """The loss scaler of a training run: torch's for fp16 on CUDA, where small gradients would underflow;
    None for fp32 and bf16, which training_step reads as no scaling."""
    return torch.amp.GradScaler("cuda") if precision == "fp16" and device.type == "cuda" else None
