"""Device choice: argument, then MINISBERT_DEVICE, then cuda > mps > cpu."""

import pytest
import torch

from minisbert.device import pick_device


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
