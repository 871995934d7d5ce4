"""The kernel measurements behind the fast path's choices (minisbert/fast/), on the machine it runs on.

Three questions, each timed on torch's own kernels with all-MiniLM-L6-v2's shapes (H 384, 12 heads of 32,
feed-forward 1536) and batches like those of the STS Benchmark's sentences (32 sentences, 8 to 33 tokens):

1. attention: torch's fused attention (F.scaled_dot_product_attention) at lengths around multiples of 16,
   in float32 and bf16, is why fast_layers.py pads attention's grid to a multiple of ATTENTION_BLOCK, and,
   up to 128, where the bf16 copy computes attention in float32 (up to ATTENTION_UPCAST_MAX); beside it the
   same attention as two whole-batch products (fast_layers.batched_attention), which the inference copies
   use on an AMD processor for float32 grids of up to cpu_copy.BATCHED_ATTENTION_MAX tokens;
2. scatter: putting T packed token rows back on a (B, G) grid with torch's scatter (index_copy) against the
   gather fast_layers.Packing.to_grid does (each grid position reads its token's row; a padding position
   reads token 0's, which attention's mask hides);
3. products: a Linear layer as F.linear in float32, under bf16 autocast (the weight cast at every call),
   and with the weight prepacked once for oneDNN in float32 and in bf16 (prepacked.py), in its layout for many
   rows and in its layout for one row (which prepacked.py picks where it measured faster), at 352 rows; beside
   them the int8 product on int8 codes, torch._int_mm on plain codes (int8.py's) and oneDNN's on prepacked
   ones (prepacked.py's), the rounding and rescaling not counted; and the whole layer as encode's copies run
   it (PackedLinear, PackedInt8Linear), int8's rounding of x and rescaling of the sums counted (for the
   second feed-forward product, whose input is GELU's output, int8 rounds from GELU's floor, as encode does).

Microseconds per call, the median of 5 runs of many calls; one JSON per kind of machine.

A kernel called alone in a loop allocates and frees the same large blocks at every call, and glibc's
allocator may hand them back to the system each time and fault them in again at the next call: on an
AMD EPYC the written-out attention at 48 tokens ran more than twice as slowly, with thousands of page
faults per call, in some processes as in others, depending only on the heap's history. So on Linux with glibc
this script first asks the allocator to keep freed memory (mallopt), and each kernel is timed as it runs
inside encode, where such faults are rare after the first batches.

    python benchmarks/fast_kernels.py [--json out.json]
"""

import argparse
import ctypes
import ctypes.util
import time

import torch
import torch.nn.functional as F
from common import median, per_machine_json, print_table

from minisbert.fast.fast_layers import ATTENTION_BLOCK, Packing, batched_attention
from minisbert.fast.hardware import REPORTED_FLAGS, read_cpu
from minisbert.fast.int8 import quantize_rows
from minisbert.fast.prepacked import GELU_FLOOR, PackedInt8Linear, PackedLinear, unsigned

B, HEADS, D, H, INNER = 32, 12, 32, 384, 1536
LENGTHS = (8, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 80, 96, 128)
ROWS = 352  # 32 sentences of 11 tokens: an STS-B batch
SHAPES = {"Q, K, V together (384 -> 1152)": (H, 3 * H), "attention output (384 -> 384)": (H, H),
          "feed-forward in (384 -> 1536)": (H, INNER), "feed-forward out (1536 -> 384)": (INNER, H)}


def microseconds(run, calls: int = 50) -> float:
    """The median over 5 runs of `calls` calls, after a warm-up, per call."""
    for _ in range(5):
        run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        times.append((time.perf_counter() - start) / calls)
    return 1e6 * median(times)


def attention_rows() -> list[list]:
    rows = []
    for L in LENGTHS:
        row = [f"attention, {B} x {L} tokens"]
        written = [f"attention, {B} x {L} tokens: batched products (fast_layers.batched_attention)"]
        for dtype in (torch.float32, torch.bfloat16):
            q, k, v = (torch.randn(B, HEADS, L, D, dtype=dtype) for _ in range(3))
            mask = torch.zeros(B, 1, 1, L, dtype=dtype)
            mask[::3, ..., L - 2:] = torch.finfo(dtype).min  # a third of the sentences end in 2 padding tokens
            row.append(f"{microseconds(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)):.0f}")
            if L % ATTENTION_BLOCK == 0:  # the copies' grids
                written.append(f"{microseconds(lambda: batched_attention(q, k, v, mask)):.0f}")
        rows += [row + ["", ""]] + ([written + ["", ""]] if L % ATTENTION_BLOCK == 0 else [])
    return rows


def scatter_rows() -> list[list]:
    L, G, width = 11, 16, 3 * H
    mask = torch.ones(B, L, dtype=torch.long)
    mask[::2, 9:] = 0
    packing = Packing(mask)
    assert packing.grid_length == G
    index, T = packing.grid_index, len(packing.grid_index)  # the tokens' positions on the (B, G) grid
    rows = []
    for name, run in {
        "index_copy (a new grid)": lambda x: x.new_zeros(B * G, width).index_copy(0, index, x),
        "index_copy_ (into a zero grid)": lambda x: x.new_zeros(B * G, width).index_copy_(0, index, x),
        "gather (Packing)": packing.to_grid,
    }.items():
        row = [f"scatter {T} rows of {width} onto {B} x {G}: {name}"]
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(T, width, dtype=dtype)
            row.append(f"{microseconds(lambda: run(x)):.0f}")
        rows.append(row + ["", ""])
    return rows


def product_rows() -> list[list]:
    rows = []
    for name, (n_in, n_out) in SHAPES.items():
        x, w, b = torch.randn(ROWS, n_in), torch.randn(n_out, n_in) * 0.05, torch.randn(n_out)
        after_gelu = n_in == INNER  # feed-forward out: its input is GELU's output, as in the encoder
        x = F.gelu(x) if after_gelu else x
        xb = x.bfloat16()
        packed, packed_one = (torch.ops.mkldnn._reorder_linear_weight(w, rows) for rows in (None, 1))
        packed_bf16, packed_bf16_one = (torch.ops.mkldnn._reorder_linear_weight(w.bfloat16(), rows)
                                        for rows in (None, 1))
        bias_bf16 = b.bfloat16()
        codes, _ = quantize_rows(x)  # (ROWS, n_in) int8
        codes_u8 = unsigned(codes.clone())  # (ROWS, n_in) uint8, zero point 128: as PackedInt8Linear hands them over
        weight_codes, weight_scale = quantize_rows(w)  # (n_out, n_in) int8, (n_out, 1)
        weight_codes_t = weight_codes.t().contiguous()  # (K, N), as int8.py keeps it
        packed_int8 = torch.ops.onednn.qlinear_prepack(weight_codes, None)
        channel_scales, zero_points = weight_scale.flatten(), torch.zeros(n_out, dtype=torch.long)
        linear = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(b)
        layers = (PackedLinear(linear), PackedLinear(linear, dtype=torch.bfloat16),  # int8 from GELU's floor there
                  PackedInt8Linear(linear, input_floor=GELU_FLOOR if after_gelu else None))

        def autocast():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return F.linear(x, w, b)
        runs = {"F.linear": (lambda: F.linear(x, w, b), autocast, lambda: torch._int_mm(codes, weight_codes_t)),
                "prepacked": (lambda: torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], ""),
                              lambda: torch.ops.mkldnn._linear_pointwise(xb, packed_bf16, bias_bf16, "none", [], ""),
                              lambda: torch.ops.onednn.qlinear_pointwise(  # as prepacked.PackedInt8Linear calls it
                                  codes_u8, 1.0, 128, packed_int8, channel_scales, zero_points, None, 1.0, 0,
                                  torch.float32, "none", [], "")),
                "prepacked for one row": (  # oneDNN's layout for an x of one row (prepacked.py uses it in places)
                    lambda: torch.ops.mkldnn._linear_pointwise(x, packed_one, b, "none", [], ""),
                    lambda: torch.ops.mkldnn._linear_pointwise(xb, packed_bf16_one, bias_bf16, "none", [], ""),
                    None),
                # the whole layer as encode's copies run it: int8 with its rounding and rescaling
                "layer (PackedLinear, PackedInt8Linear)": (lambda: layers[0](x), lambda: layers[1](xb),
                                                           lambda: layers[2](x))}
        flop = 2 * ROWS * n_in * n_out
        for how, (fp32, bf16, int8) in runs.items():
            t32, t16 = microseconds(fp32), microseconds(bf16)
            t8 = microseconds(int8) if int8 else None
            rows.append([f"{name}, {ROWS} rows: {how}" + (" (bf16: autocast)" if how == "F.linear" else ""),
                         f"{t32:.0f}", f"{t16:.0f}", f"{t8:.0f}" if t8 else "",
                         " / ".join(f"{flop / t / 1e3:.0f}" for t in (t32, t16, t8) if t)])
    return rows


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks instead of returning them to the system (the module's docstring says why):
    mallopt's M_TRIM_THRESHOLD (-1) and M_MMAP_THRESHOLD (-3) raised to 1 GiB. False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return all(libc.mallopt(option, 1 << 30) == 1 for option in (-1, -3))  # 1: success
    except (OSError, AttributeError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=per_machine_json("fast_kernels"),
                    help="write the table here (default, one file per kind of machine: %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    kept = keep_freed_memory()
    with torch.inference_mode():
        rows = attention_rows() + scatter_rows() + product_rows()
    cpu = read_cpu()
    print_table("Kernel times on the CPU (microseconds per call, median of 5 runs)",
                ["kernel", "float32 (us)", "bf16 (us)", "int8 (us)", "GFLOP/s float32 / bf16 / int8"], rows,
                json_path=args.json,
                extra={"cpu": {"name": cpu.name, "kind": cpu.kind, "flags": sorted(set(REPORTED_FLAGS) & cpu.flags)},
                       "freed_memory_kept": kept})


if __name__ == "__main__":
    main()
