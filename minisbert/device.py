"""Choosing where tensors live: CUDA, then Apple's MPS, then the CPU.

An explicit `device` argument wins, then the environment variable
MINISBERT_DEVICE, then the first available of cuda, mps, cpu (under torchrun,
the GPU of the process's LOCAL_RANK).
"""

from __future__ import annotations

import contextlib
import os
import platform
import warnings
from pathlib import Path

import torch
from .errors import InputError


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return kind == "cpu"


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """The device to use; a device asked for but not present is a clear error."""
    source = "device argument"
    if device is None and os.environ.get("MINISBERT_DEVICE"):
        device, source = os.environ["MINISBERT_DEVICE"], "MINISBERT_DEVICE"
    if device is None:
        kind = next(k for k in ("cuda", "mps", "cpu") if _available(k))
        if kind == "cuda" and "LOCAL_RANK" in os.environ:  # under torchrun: one GPU per process
            return torch.device("cuda", int(os.environ["LOCAL_RANK"]) % torch.cuda.device_count())
        return torch.device(kind)
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"{source}={device!r} is not a device; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None
    if not _available(device.type):
        raise InputError(f"{source} asks for {device.type!r}, which this machine does not have; "
                         "use 'cpu' or leave the device unset to pick automatically")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"{source} asks for {device}, but only {torch.cuda.device_count()} CUDA devices exist")
    return device


PRECISIONS = ("fp32", "bf16", "fp16")  # training and inference
ENCODE_PRECISIONS = PRECISIONS + ("int8",)  # inference only: int8.py, on the CPU


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
    if precision not in PRECISIONS:
        raise InputError(f"precision={precision!r}: use one of {', '.join(PRECISIONS)}")
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
