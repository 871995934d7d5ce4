"""Choosing where tensors live: CUDA, then Apple's MPS, then the CPU.

An explicit `device` argument wins, then the environment variable
MINISBERT_DEVICE, then the first available of cuda, mps, cpu (under torchrun,
the GPU of the process's LOCAL_RANK).
"""

from __future__ import annotations

import os

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
