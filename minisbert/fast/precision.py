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
import sys
import warnings

import torch

from ..support.errors import InputError
from .hardware import auto_precision, bf16_is_emulated

PRECISIONS = ("fp32", "bf16", "fp16")  # training and inference
# inference only: int8 (int8.py, on the CPU), and "auto", which picks one of the others (hardware.py)
ENCODE_PRECISIONS = PRECISIONS + ("int8", "auto")
_announced: set[tuple[str, str]] = set()  # (device, choice) pairs already told to the user


def check_precision(precision: str, allowed: tuple[str, ...] = ENCODE_PRECISIONS) -> str:
    """The one check of a precision name, for training (PRECISIONS) and encode (ENCODE_PRECISIONS)."""
    if precision not in allowed:
        raise InputError(f"precision={precision!r}: use one of {', '.join(allowed)}")
    return precision


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 products are worth it here: native on this GPU or CPU, not emulated."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.ops.mkldnn._is_mkldnn_bf16_supported() and not bf16_is_emulated()
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision encode runs: `precision` itself, or for "auto" the one hardware.py picks here.

    The first time a choice is made on a device, it is said on stderr with the reason (once per process),
    so that a learner sees which path ran without knowing the instruction sets' names.
    """
    check_precision(precision)
    if precision != "auto":
        return precision
    choice, why = auto_precision(device)
    if (str(device), choice) not in _announced:
        _announced.add((str(device), choice))
        print(f"minisbert: precision='auto' runs {choice} on {device.type} ({why})", file=sys.stderr)
    return choice


def runnable_precision(device: torch.device, precision: str) -> str:
    """The precision that runs on `device`: fp16 is refused off CUDA with what to use instead; bf16 where the
    processor lacks it falls back to float32 with a warning; anything else runs as asked."""
    if precision == "fp16" and device.type != "cuda":
        raise InputError(f"precision='fp16' needs CUDA (this is {device.type}); on a CPU use 'bf16'")
    if precision == "bf16" and not bf16_supported(device):
        warnings.warn(f"this {device.type} has no native bf16 support; computing in float32 instead", stacklevel=4)
        return "fp32"
    return precision


def precision_context(device: torch.device, precision: str = "fp32"):
    """An autocast context for `precision`: matrix products in bf16 or fp16, the rest in float32.

    bf16 where the processor lacks it falls back to float32 with a warning; fp16 needs CUDA.
    """
    check_precision(precision, PRECISIONS)
    precision = runnable_precision(device, precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "fp16":
        return torch.autocast("cuda", dtype=torch.float16)
    return torch.autocast(device.type, dtype=torch.bfloat16)


def make_grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """The loss scaler of a training run: torch's for fp16 on CUDA, where small gradients would underflow;
    None for fp32 and bf16, which training_step reads as no scaling."""
    return torch.amp.GradScaler("cuda") if precision == "fp16" and device.type == "cuda" else None
