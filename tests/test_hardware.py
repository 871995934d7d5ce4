"""precision="auto" (minisbert/fast/hardware.py): the CPU's flags read right, and the choice they imply.

The rule: bf16 with AMX; int8 with VNNI and no AMX (AVX512-BF16 or not: int8 ran faster than bf16 on an AMD
EPYC Zen 4, which has both); bf16 with AVX512-BF16 alone; else float32. The test of this machine reads /proc/cpuinfo itself (a plain parse, independent of
hardware.read_cpu) and checks the choice against the flags it finds.
"""

import platform
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from minisbert import SentenceBert
from minisbert.fast import hardware, precision
from minisbert.fast.hardware import Cpu, auto_precision, fused_attention_is_slow, read_cpu
from minisbert.support.errors import InputError

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse sse2 avx avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 amx_tile

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse sse2 avx avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 amx_tile
"""
CPU = torch.device("cpu")


@pytest.fixture
def x86(monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")


def test_the_name_and_the_flags_are_read_from_cpuinfo(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO)
    cpu = read_cpu(path)
    assert cpu.name == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert {"avx512_vnni", "amx_bf16", "amx_int8"} <= cpu.flags and "avx512_fp16" not in cpu.flags
    assert cpu.vendor == "GenuineIntel" and not fused_attention_is_slow(cpu)
    path.write_text(CPUINFO.replace("GenuineIntel", "AuthenticAMD"))
    assert read_cpu(path).vendor == "AuthenticAMD" and fused_attention_is_slow(read_cpu(path))
    absent = read_cpu(tmp_path / "absent")
    assert absent.flags == frozenset() and absent.vendor == ""  # no /proc: a name, no flags, no vendor


@pytest.mark.parametrize("flags, expected", [
    ("avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8", "bf16"),  # Xeon with AMX
    ("avx2 avx512f avx512_vnni avx512_bf16", "int8"),  # EPYC Zen 4: int8 on VNNI ran faster than bf16 there
    ("avx2 avx512f avx512_bf16", "bf16"),  # bf16 without VNNI (no such CPU met; the rule's last branch)
    ("avx2 avx512f avx512_vnni", "int8"),  # Xeon (Cascade Lake / Ice Lake)
    ("avx2 avx_vnni", "int8"),  # a laptop with AVX-VNNI
    ("avx2 fma", "fp32"),  # EPYC Zen 3, older laptops
    ("avx2 avx512f", "fp32"),  # AVX-512 without VNNI or bf16 (Skylake-SP)
])
def test_auto_picks_by_the_flags(x86, flags, expected):
    choice, why = auto_precision(CPU, Cpu("a CPU", frozenset(flags.split())))
    assert choice == expected
    assert "a CPU" in why  # the reason names the machine


def test_auto_picks_float32_where_the_flags_cannot_be_read(monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    assert auto_precision(CPU, Cpu("Apple M2"))[0] == "fp32"


def test_the_choice_on_this_machine_matches_the_flags_it_reads():
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    line = re.search(r"^flags\s*:(.*)$", text, re.M)
    if not line or platform.machine().lower() not in ("x86_64", "amd64"):
        assert auto_precision(CPU)[0] == "fp32"
        return
    flags = set(line.group(1).split())
    expected = ("bf16" if "amx_bf16" in flags else "int8" if flags & {"avx512_vnni", "avx_vnni"} else
                "bf16" if "avx512_bf16" in flags else "fp32")
    assert auto_precision(CPU)[0] == expected, f"flags read: {sorted(flags & set(hardware.REPORTED_FLAGS))}"


def test_the_kind_names_the_instruction_sets(x86):
    assert Cpu("AMD EPYC", frozenset({"avx2"})).kind == "AMD EPYC, AVX2"
    amx = Cpu("Xeon", frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}))
    assert amx.kind == "Xeon, AVX-512 + VNNI + AVX512-BF16 + AMX"


@pytest.fixture(scope="module")
def model():
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")


def test_encode_auto_runs_the_chosen_path_and_says_which(model, capsys):
    texts = ["A man is playing a guitar.", "Someone plays an instrument.", "The cat sleeps."]
    precision._announced.clear()
    auto = model.encode(texts, precision="auto")
    chosen, _ = auto_precision(CPU)
    said = capsys.readouterr().err
    assert f"precision='auto' runs {chosen} on cpu" in said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # int8 on a CPU without VNNI warns; not this test's concern
        assert np.array_equal(auto, model.encode(texts, precision=chosen))
    model.encode(texts, precision="auto")
    assert capsys.readouterr().err == ""  # said once per process


def test_auto_on_the_written_out_model_is_float32(model):
    slow = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    assert np.allclose(slow.encode("A cat.", precision="auto"), model.encode("A cat."), atol=1e-5)


def test_explicit_int8_without_vnni_warns_and_with_vnni_does_not(model, monkeypatch, x86):
    monkeypatch.setattr(hardware, "read_cpu", lambda: Cpu("old CPU", frozenset({"avx2"})))
    with pytest.warns(UserWarning, match="no VNNI instructions"):
        model.encode("A cat.", precision="int8")
    monkeypatch.setattr(hardware, "read_cpu", lambda: Cpu("new CPU", frozenset({"avx2", "avx512_vnni"})))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.encode("A cat.", precision="int8")


def test_bf16_counts_as_supported_only_where_it_is_native(monkeypatch, x86):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)  # oneDNN's own answer
    monkeypatch.setattr(hardware, "read_cpu", lambda: Cpu("old CPU", frozenset({"avx2", "avx512f"})))
    assert not precision.bf16_supported(CPU)
    monkeypatch.setattr(hardware, "read_cpu", lambda: Cpu("new CPU", frozenset({"avx512f", "avx512_bf16"})))
    assert precision.bf16_supported(CPU)


def test_a_bad_precision_names_auto_among_the_choices(model):
    with pytest.raises(InputError, match="int8, auto"):
        model.encode("x", precision="fastest")
