"""Device choice: argument, then MINISBERT_DEVICE, then cuda > mps > cpu."""

import pytest
import torch

from minisbert.support.device import pick_device


def test_explicit_cpu_and_environment(monkeypatch):
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("MINISBERT_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


def test_automatic_choice_prefers_cuda(monkeypatch):
    monkeypatch.delenv("MINISBERT_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected


def test_unavailable_or_unknown_devices_are_explained(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device argument asks for 'cuda', which this machine does not have"):
        pick_device("cuda")
    monkeypatch.setenv("MINISBERT_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="MINISBERT_DEVICE='gpu0' is not a device"):
        pick_device()


def test_precision_contexts(monkeypatch):
    import warnings

    import pytest
    import torch

    from minisbert.fast import precision as dev
    cpu = torch.device("cpu")
    assert isinstance(dev.precision_context(cpu, "fp32"), type(contextlib_null()))
    with pytest.raises(ValueError, match="precision='fp16' needs CUDA"):
        dev.precision_context(cpu, "fp16")
    with pytest.raises(ValueError, match="precision='half': use one of fp32, bf16, fp16"):
        dev.precision_context(cpu, "half")
    monkeypatch.setattr(dev, "bf16_supported", lambda d: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx = dev.precision_context(cpu, "bf16")
    assert isinstance(ctx, type(contextlib_null()))
    assert "no native bf16 support; computing in float32" in str(caught[0].message)


def contextlib_null():
    import contextlib
    return contextlib.nullcontext()
