"""What this processor multiplies natively, and the precision `precision="auto"` picks from it.

Reduced precision is only faster where the hardware has instructions for it. On an x86 CPU:

    bf16 products   AVX512-BF16 (avx512_bf16) or AMX tiles (amx_bf16); without them oneDNN emulates
                    bf16, more slowly than float32 (49 against 132 GFLOP/s, measured on a Xeon with
                    AVX-512 but no AVX512-BF16)
    int8 products   VNNI (avx512_vnni, or avx_vnni on AVX2 chips), which multiplies int8 pairs and adds
                    them into int32 in one instruction; without it the kernels take AVX2's instruction,
                    which adds pairs of products into 16-bit integers and can overflow. There encode's
                    int8 copy sums its codes in float32 (prepacked.py): exact, and slower than float32
                    itself; torch._int_mm (int8.py's product) ran many times slower than float32 on an
                    AMD EPYC with AVX2 only (docs/performance.md)

Linux lists these instruction sets as flags in /proc/cpuinfo; elsewhere (macOS, Windows, ARM) we
cannot read them this way, and the choice falls back to what torch reports or to float32.

`auto_precision` picks by the instructions a CPU has: bf16 on AMX, int8 where VNNI is there without AMX,
bf16 on AVX512-BF16 alone, else float32: the faster path on the two machines measured with both native
(below); other CPUs follow the instruction rates. With AMX, bf16 is the faster of the two
as well as the far more exact (on a Xeon with AMX, docs/performance.md: its products ran faster than
torch's int8 ones at the shapes of a batch of sentences, and int8 adds a rounding pass before each product
and a rescaling after it). Without AMX, AVX512-BF16 multiplies bf16 pairs at twice float32's rate and VNNI
int8 pairs at four times; on an AMD EPYC Zen 4, which has both, int8 ran faster than bf16 in the
benchmarks of docs/performance.md (benchmarks/precision_pairs.py compares the two in pairs of runs on the
same sentences, where a shared machine's drift cancels), at a small cost in accuracy
(STS-B test Spearman 81.79 against bf16's 82.05; `precision="bf16"` keeps the exactness). On a GPU: bf16
where the card has it, else fp16.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch

BF16_FLAGS = ("amx_bf16", "avx512_bf16")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")
# the flags a benchmark row records: enough to tell the machine kinds this project meets apart
REPORTED_FLAGS = ("avx2", "avx512f", "avx_vnni", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


@dataclass(frozen=True)
class Cpu:
    """The processor's name, its instruction-set flags and its maker's id (empty where the system does not list
    them)."""

    name: str
    flags: frozenset[str] = field(default_factory=frozenset)
    vendor: str = ""  # /proc/cpuinfo's vendor_id: "GenuineIntel", "AuthenticAMD"

    @property
    def x86(self) -> bool:
        return platform.machine().lower() in ("x86_64", "amd64")

    @property
    def native_bf16(self) -> bool:
        return any(f in self.flags for f in BF16_FLAGS)

    @property
    def vnni(self) -> bool:
        return any(f in self.flags for f in VNNI_FLAGS)

    @property
    def kind(self) -> str:
        """A short name for this kind of machine, e.g. 'AMD EPYC, AVX2' or 'Intel Xeon, AVX-512 + VNNI + AMX'."""
        isa = "AVX-512" if "avx512f" in self.flags else "AVX2" if "avx2" in self.flags else platform.machine()
        extras = [name for name, flags in (("VNNI", VNNI_FLAGS), ("AVX512-BF16", ("avx512_bf16",)),
                                           ("AMX", ("amx_bf16", "amx_int8")))
                  if any(f in self.flags for f in flags)]
        return f"{self.name}, {' + '.join([isa, *extras])}"


def read_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> Cpu:
    """This machine's processor, from the kernel's list (Linux); elsewhere its name alone."""
    name, flags, vendor = platform.processor() or platform.machine(), frozenset(), ""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return Cpu(name, flags)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            name = value.strip()
        elif key.strip() == "vendor_id":
            vendor = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = frozenset(value.split())
    return Cpu(name, flags, vendor)


def auto_precision(device: torch.device, cpu: Cpu | None = None) -> tuple[str, str]:
    """(precision, why) for `precision="auto"` on this device: a reduced precision its hardware runs natively."""
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16", f"{torch.cuda.get_device_name(device)} multiplies bf16 natively"
        return "fp16", f"{torch.cuda.get_device_name(device)} has no bf16; fp16 is native on every CUDA card"
    if device.type != "cpu":
        return "fp32", f"no reduced-precision path is measured on {device.type}"
    cpu = cpu or read_cpu()
    if "amx_bf16" in cpu.flags:
        return "bf16", f"{cpu.name} has amx_bf16"
    if cpu.vnni:
        vnni = " and ".join(f for f in VNNI_FLAGS if f in cpu.flags)
        if cpu.native_bf16:  # AVX512-BF16 without AMX: int8 on VNNI ran faster (the module's docstring)
            return "int8", f"{cpu.name} has {vnni} and avx512_bf16 without AMX: int8 is the faster there"
        return "int8", f"{cpu.name} has {vnni} but no native bf16"
    if cpu.native_bf16:
        return "bf16", f"{cpu.name} has avx512_bf16"
    if not cpu.x86 or not cpu.flags:
        return "fp32", f"{cpu.name}: its instruction sets cannot be read here, so float32 (always exact)"
    return "fp32", (f"{cpu.name} has neither native bf16 (AVX512-BF16, AMX) nor int8 dot products (VNNI): "
                    "float32 is the fastest path it runs")


def fused_attention_is_slow(cpu: Cpu | None = None) -> bool:
    """True on an AMD processor, where torch's fused attention kernel (F.scaled_dot_product_attention) ran
    slower in float32 than attention written out as two batched products (benchmarks/fast_kernels.py's
    attention rows, measured on an AMD EPYC Zen 4; on the Xeon with AMX the fused kernel was the fast one).
    The kernel calls MKL's matrix product once per block of queries and head, twice: 768 small calls for 32
    sentences on a grid of 16 tokens; the batched products are two calls, whatever the batch."""
    return (cpu or read_cpu()).vendor == "AuthenticAMD"


def int8_is_emulated(cpu: Cpu | None = None) -> bool:
    """True on an x86 CPU whose flags we can read and which has no VNNI: int8 there is slower than float32."""
    cpu = cpu or read_cpu()
    return cpu.x86 and bool(cpu.flags) and not cpu.vnni


def bf16_is_emulated(cpu: Cpu | None = None) -> bool:
    """True on an x86 CPU whose flags we can read and which has neither AVX512-BF16 nor AMX."""
    cpu = cpu or read_cpu()
    return cpu.x86 and bool(cpu.flags) and not cpu.native_bf16
