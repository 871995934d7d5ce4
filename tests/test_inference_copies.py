"""The CPU's inference copies (minisbert/fast/prepacked.py, cpu_copy.py) compute what the model does.

encode on the CPU runs a read-only copy of the encoder: its products prepacked in float32, bf16 or int8.
The references are independent of that code: nn.Linear and F.gelu for one product, the fast model's own
forward (itself held to the written-out model by test_fast_path.py) for the whole encoder, sums done in
float64 from the bf16-rounded factors for a bf16 product, and int8.py's Int8Linear (itself held to integer
arithmetic in numpy by test_int8.py) for an int8 product.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from minisbert import BertConfig, SentenceBert
from minisbert.evaluation import evaluate_sts
from minisbert.fast import cpu_copy, fast_layers
from minisbert.fast.fast_bert import FastBertModel
from minisbert.fast.hardware import Cpu
from minisbert.fast.int8 import Int8Linear, quantize_rows
from minisbert.fast import prepacked
from minisbert.fast.prepacked import GELU_FLOOR, PackedInt8Linear, PackedLinear, onednn_packs, onednn_packs_int8
from minisbert.trainkit.data import read_pairs

from conftest import FIXTURES

TINY = dict(vocab_size=50, hidden_size=24, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
            max_position_embeddings=40, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def linear(n_in=64, n_out=48, seed=1) -> nn.Linear:
    torch.manual_seed(seed)
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.bias.normal_()  # nn.Linear's default bias is tiny: make a missing or doubled bias show
    return layer


def test_torch_here_has_the_packed_kernels():
    """x86 builds of torch carry oneDNN; where it is missing the copies fall back to plain products, and this
    says so instead of letting every test below pass on the fallback."""
    assert onednn_packs() and onednn_packs_int8()


def test_a_packed_float32_product_equals_nn_linear_at_any_leading_shape():
    layer = linear()
    packed = PackedLinear(layer)
    x = torch.randn(2, 7, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert_close(packed(x), layer(x), atol=1e-5, rtol=1e-5)
        assert packed(torch.zeros(0, 64)).shape == (0, 48)
    assert packed.onednn and packed.weight.layout == torch._mkldnn  # laid out once, not at every call


def test_the_gelu_epilogue_is_bert_s_exact_gelu():
    """GELU with erf, as BERT's; the tanh approximation differs by up to 3e-4 here and fails."""
    layer = linear()
    x = torch.randn(50, 64, generator=torch.Generator().manual_seed(0)) * 2
    with torch.inference_mode():
        got = PackedLinear(layer, activation="gelu")(x)
        assert_close(got, F.gelu(layer(x)), atol=1e-5, rtol=1e-5)
        assert (got - F.gelu(layer(x), approximate="tanh")).abs().max() > 1e-4


def test_a_packed_bf16_product_is_the_bf16_factors_summed_exactly_then_rounded_once():
    layer = linear(384, 96)
    x = torch.randn(33, 384, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        got = PackedLinear(layer, dtype=torch.bfloat16)(x)
    w, b = layer.weight.detach().bfloat16().double(), layer.bias.detach().bfloat16().double()
    exact = x.bfloat16().double() @ w.T + b  # the rounded factors, summed in float64
    assert got.dtype == torch.bfloat16
    assert ((got.double() - exact).abs() <= exact.abs() * 2 ** -8 + 1e-3).all()  # one rounding to 8 bits
    assert (got.double() - (x.double() @ layer.weight.detach().double().T + layer.bias.detach().double())
            ).abs().max() > 1e-3  # and not float32: the factors were rounded


@pytest.mark.parametrize("bias", [True, False])
def test_a_packed_int8_product_is_int8_linear_s_integers_and_scales(bias):
    """The same codes, the same integer sums, the same scales as Int8Linear: only the order of the float32
    multiplications by the two scales differs (a few units of float32 rounding)."""
    layer = linear(384, 96)
    if not bias:
        layer.bias = None
    x = torch.randn(3, 11, 384, generator=torch.Generator().manual_seed(0)) * 3
    x[0, 0] = 0  # an all-zero token
    x[1, 2, 5] = 40  # an outlier, which sets its token's scale
    packed = PackedInt8Linear(layer)
    with torch.inference_mode():
        assert_close(packed(x), Int8Linear(layer)(x), atol=1e-5, rtol=1e-5)
        assert packed(torch.zeros(0, 384)).shape == (0, 96)
    assert packed.onednn and packed.packed_codes.is_mkldnn  # laid out once


def overflowing_case() -> tuple[nn.Linear, torch.Tensor]:
    """A layer and tokens whose largest values meet its largest weights in two neighbouring inputs: without VNNI,
    oneDNN's int8 kernels add those two products (255 · 127 each, shifted) into 16 bits, and saturate."""
    layer = linear(64, 8)
    with torch.no_grad():
        layer.weight.mul_(0.02)
        layer.weight[:, 10:12] = 1.0  # codes 127
    x = torch.randn(6, 64, generator=torch.Generator().manual_seed(0)) * 0.1
    x[:, 10:12] = 5.0  # each token's largest: codes 127
    return layer, x


def integer_arithmetic(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Int8Linear's formula in numpy: int64 sums of int8.quantize_rows' codes, scaled."""
    xq, xs = quantize_rows(x)
    wq, ws = quantize_rows(layer.weight.detach())
    sums = xq.numpy().astype(np.int64) @ wq.numpy().astype(np.int64).T
    return torch.from_numpy((sums * xs.numpy() * ws.numpy().T + layer.bias.detach().numpy()).astype(np.float32))


@pytest.mark.parametrize("vnni", [True, False], ids=["this CPU", "a CPU without VNNI"])
def test_the_int8_sums_do_not_overflow(vnni, monkeypatch):
    if not vnni:  # such a CPU is told apart by its flags: the copy then sums in float32
        monkeypatch.setattr(prepacked, "read_cpu", lambda: Cpu("an AVX2 CPU", frozenset({"avx2", "fma"})))
        assert not onednn_packs_int8()
    layer, x = overflowing_case()
    packed = PackedInt8Linear(layer)
    assert packed.onednn == vnni
    with torch.inference_mode():
        assert_close(packed(x), integer_arithmetic(layer, x), atol=1e-4, rtol=1e-5)


def test_a_packed_int8_product_with_gelu_and_without_onednn(monkeypatch):
    layer = linear(64, 48)
    x = torch.randn(20, 64, generator=torch.Generator().manual_seed(0)) * 2
    with torch.inference_mode():
        want = F.gelu(Int8Linear(layer)(x))
        assert_close(PackedInt8Linear(layer, activation="gelu")(x), want, atol=1e-5, rtol=1e-5)
        monkeypatch.setattr(prepacked, "onednn_packs_int8", lambda: False)  # a torch without oneDNN
        plain = PackedInt8Linear(layer, activation="gelu")
        assert not plain.onednn and torch.equal(plain(x), want)  # Int8Linear's own product


def floor_arithmetic(layer: nn.Linear, x: torch.Tensor, floor: float) -> torch.Tensor:
    """PackedInt8Linear's formula with an input floor, in numpy: codes u = round((x - floor) / s) with s the
    row's largest (x - floor) over 255 (float32, as the layer rounds), int64 sums against quantize_rows' weight
    codes, then s_x · s_w · sum + floor · s_w Σ_k Wq + b in float64."""
    shifted = x.numpy().astype(np.float32) - np.float32(floor)
    s = shifted.max(axis=1, keepdims=True) / np.float32(255)
    u = np.round(shifted / s).astype(np.int64)  # (T, K), 0..255
    wq, ws = quantize_rows(layer.weight.detach())
    wq, ws = wq.numpy().astype(np.int64), ws.numpy().astype(np.float64)[:, 0]  # (N, K), (N,)
    y = s * (u @ wq.T) * ws + floor * wq.sum(axis=1) * ws + layer.bias.detach().numpy()
    return torch.from_numpy(y.astype(np.float32))


def gelu_outputs(rows: int, width: int) -> torch.Tensor:
    x = F.gelu(torch.randn(rows, width, generator=torch.Generator().manual_seed(2)) * 3)
    x[0, :] = F.gelu(torch.tensor(-0.7518))  # a token of GELU's smallest value only
    x[1, 7] = 30.0  # an outlier, which sets its token's scale
    return x


def test_gelu_never_goes_below_the_floor_and_the_codes_span_it_to_each_token_s_largest():
    assert F.gelu(torch.linspace(-20, 20, 400_001, dtype=torch.float64)).min() > GELU_FLOOR
    x = gelu_outputs(8, 96)
    codes, scale = prepacked.quantize_from_floor(x, GELU_FLOOR)  # int8: u - 128
    u = codes.int() + 128  # 0..255
    assert codes.dtype == torch.int8 and torch.equal(u.amax(dim=1), torch.full((8,), 255, dtype=torch.int32))
    assert torch.equal(prepacked.unsigned(codes.clone()).int(), u)  # the bytes oneDNN reads
    assert ((GELU_FLOOR + scale * u.float() - x).abs() <= scale / 2 * (1 + 1e-5)).all()  # half a step


@pytest.mark.parametrize("onednn", [True, False], ids=["oneDNN", "float32 sums"])
def test_a_packed_int8_product_from_a_floor_is_its_integer_arithmetic(onednn, monkeypatch):
    if not onednn:
        monkeypatch.setattr(prepacked, "onednn_packs_int8", lambda: False)
    layer = linear(192, 40)
    x = gelu_outputs(12, 192)
    packed = PackedInt8Linear(layer, input_floor=GELU_FLOOR)
    assert packed.onednn == onednn
    with torch.inference_mode():
        got = packed(x)
    assert_close(got, floor_arithmetic(layer, x, GELU_FLOOR), atol=1e-4, rtol=1e-5)
    assert (got - layer(x)).abs().max() < 0.05 * layer(x).abs().max()  # and near the float product
    with torch.inference_mode():  # the form compiled code runs (torch._int_mm and the 128 put back)
        assert_close(packed.compiled_from_floor(x), got, atol=1e-4, rtol=1e-5)


def tiny_model() -> FastBertModel:
    torch.manual_seed(0)
    model = FastBertModel(BertConfig(**TINY), add_pooling_layer=False).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # biases and LayerNorms away from 0 and 1
    return model


def hidden_states(model, lengths, seed=0):
    """The real tokens of the last layer (T, H) for sentences of these lengths."""
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    mask = (torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]).long()
    ids = torch.randint(1, TINY["vocab_size"], (len(lengths), L), generator=g) * mask
    with torch.inference_mode():
        return model(ids, mask).last_hidden_state[mask.bool()].float()


LENGTHS = {"ragged": [7, 2, 33, 1], "no padding": [5, 5], "one whole block": [16, 16]}


@pytest.mark.parametrize("lengths", LENGTHS.values(), ids=LENGTHS.keys())
def test_the_float32_copy_equals_the_model(lengths):
    model = tiny_model()
    copy = model.inference_copy("fp32")
    assert_close(hidden_states(copy, lengths), hidden_states(model, lengths), atol=1e-5, rtol=1e-5)


def test_the_copy_holds_one_product_for_q_k_v_and_gelu_in_the_first_feed_forward_product():
    model = tiny_model()
    copy = model.inference_copy("fp32")
    layer, original = copy.encoder.layer[0], model.encoder.layer[0]
    qkv = layer.attention.self.qkv
    assert isinstance(qkv, PackedLinear) and qkv.out_features == 3 * TINY["hidden_size"]
    assert not hasattr(layer.attention.self, "query")  # the three products are gone from the copy
    assert isinstance(layer.intermediate, PackedLinear) and layer.intermediate.activation == "gelu"
    assert layer.output.LayerNorm.weight is original.output.LayerNorm.weight  # shared, not copied
    assert copy.embeddings.word_embeddings.weight is model.embeddings.word_embeddings.weight
    assert isinstance(original.attention.self.query, nn.Linear)  # the model itself is untouched


def test_the_bf16_copy_runs_its_layers_in_bf16_attention_in_float32_and_returns_float32(monkeypatch):
    monkeypatch.setattr(cpu_copy, "fused_attention_is_slow", lambda: False)  # torch's kernel on every CPU
    model = tiny_model()
    copy = model.inference_copy("bf16")
    inputs, kernel = [], []
    hook = copy.encoder.layer[1].register_forward_pre_hook(lambda module, args: inputs.append(args[0].dtype))
    real = F.scaled_dot_product_attention

    def attention(q, k, v, attn_mask=None, **kwargs):
        kernel.append((q.dtype, k.dtype, v.dtype, attn_mask.dtype))
        return real(q, k, v, attn_mask=attn_mask, **kwargs)
    monkeypatch.setattr(F, "scaled_dot_product_attention", attention)
    lengths = LENGTHS["ragged"]
    got = hidden_states(copy, lengths)
    hook.remove()  # (a shallow copy shares its modules' hooks with the model's)
    assert inputs == [torch.bfloat16] and got.dtype == torch.float32  # bf16 between the layers, float32 out
    assert kernel == [(torch.float32,) * 4] * TINY["num_hidden_layers"]  # attention's kernel in float32
    assert model.encoder.layer[0].attention.self.attention_dtype is None  # the model's own attention untouched
    monkeypatch.setattr(fast_layers, "ATTENTION_UPCAST_MAX", 32)  # these sentences' grid, 48 tokens, is longer
    kernel.clear()
    assert_close(hidden_states(copy, lengths), got, atol=0.05, rtol=0.05)  # the same within bf16's error
    assert kernel == [(torch.bfloat16,) * 4] * TINY["num_hidden_layers"]  # but in bf16
    want = hidden_states(model, lengths)
    assert F.cosine_similarity(got, want).min() > 0.99 and not torch.allclose(got, want, atol=1e-3)
    assert model.encoder.stream_dtype is None  # the model itself stays float32


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_batched_attention_equals_torch_s_fused_kernel(dtype, tolerance):
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(3, 4, 16, 8, generator=g, dtype=dtype) * 2 for _ in range(3))  # (B, h, G, d)
    additive = torch.zeros(3, 1, 1, 16, dtype=dtype)
    additive[0, ..., 5:] = additive[2, ..., 15:] = torch.finfo(dtype).min  # padded keys, as a packed grid has
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=additive)
    assert_close(fast_layers.batched_attention(q, k, v, additive), want, atol=tolerance, rtol=tolerance)
    assert_close(fast_layers.batched_attention(q, k, v, None), F.scaled_dot_product_attention(q, k, v),
                 atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_where_the_fused_kernel_is_slow_the_copies_batch_float32_attention_on_short_grids(precision, monkeypatch):
    calls = []
    real = F.scaled_dot_product_attention
    monkeypatch.setattr(F, "scaled_dot_product_attention", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    lengths = LENGTHS["ragged"]  # a grid of 48 tokens
    monkeypatch.setattr(cpu_copy, "fused_attention_is_slow", lambda: False)  # an Intel processor
    reference = hidden_states(tiny_model().inference_copy(precision), lengths)  # torch's fused kernel
    assert len(calls) == TINY["num_hidden_layers"]
    monkeypatch.setattr(cpu_copy, "fused_attention_is_slow", lambda: True)  # an AMD processor
    model = tiny_model()
    copy = model.inference_copy(precision)
    assert all(m.batched_max == cpu_copy.BATCHED_ATTENTION_MAX for m in copy.modules()
               if isinstance(m, fast_layers.FastSelfAttention))
    calls.clear()
    got = hidden_states(copy, lengths)
    assert calls == [] and cpu_copy.BATCHED_ATTENTION_MAX >= 48  # every layer's attention batched
    tolerance = {"fp32": 1e-5, "bf16": 0.02, "int8": 0.02}[precision]  # int8: a code may round the other way
    assert_close(got, reference, atol=tolerance, rtol=tolerance)
    assert model.encoder.layer[0].attention.self.batched_max == 0  # the model itself: torch's kernel
    monkeypatch.setattr(cpu_copy, "BATCHED_ATTENTION_MAX", 32)  # a grid longer than it: torch's kernel again
    copy = tiny_model().inference_copy(precision)
    hidden_states(copy, lengths)
    assert len(calls) == TINY["num_hidden_layers"]


def test_attention_outside_the_bf16_copy_keeps_autocast_s_dtypes():
    """No attention_dtype (the model itself, training, the GPU): nothing is cast, autocast decides."""
    model = tiny_model()
    attention = model.encoder.layer[0].attention.self
    x = torch.randn(2, 5, TINY["hidden_size"])
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = attention(x, None)
    assert out.dtype == torch.bfloat16  # autocast's products' dtype, not cast back to x's float32


def test_a_wrong_stacking_order_is_caught(monkeypatch):
    """The equality above can fail: stack W^K before W^Q and the copy's attention differs."""
    model = tiny_model()
    real = cpu_copy.stacked
    monkeypatch.setattr(cpu_copy, "stacked", lambda linears: real([linears[1], linears[0], linears[2]]))
    copy = model.inference_copy("fp32")
    with pytest.raises(AssertionError):
        assert_close(hidden_states(copy, LENGTHS["ragged"]), hidden_states(model, LENGTHS["ragged"]),
                     atol=1e-5, rtol=1e-5)


def test_a_layer_the_user_replaced_is_kept_as_it_is():
    """torch's quantize_dynamic (or an adapter) replaces nn.Linear by its own module: the copy runs that one."""
    model = tiny_model()
    quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    copy = quantized.inference_copy("fp32")
    kept = type(quantized.encoder.layer[0].attention.self.query)
    assert kept is not nn.Linear and type(copy.encoder.layer[0].attention.self.query) is kept
    assert type(copy.encoder.layer[0].intermediate.dense) is kept
    assert_close(hidden_states(copy, LENGTHS["ragged"]), hidden_states(quantized, LENGTHS["ragged"]))


def test_layers_without_bias_are_packed_too():
    model = tiny_model()
    attention, layer = model.encoder.layer[0].attention.self, model.encoder.layer[1]
    attention.key = nn.Linear(attention.key.in_features, attention.key.out_features, bias=False)
    layer.output.dense = nn.Linear(layer.output.dense.in_features, layer.output.dense.out_features, bias=False)
    copy = model.inference_copy("fp32")
    assert copy.encoder.layer[1].output.dense.bias is None
    assert_close(hidden_states(copy, LENGTHS["ragged"]), hidden_states(model, LENGTHS["ragged"]), atol=1e-5, rtol=1e-5)


def test_the_int8_copy_quantises_q_k_v_once_and_stays_close():
    model = tiny_model()
    copy = model.inference_copy("int8")
    assert isinstance(copy.encoder.layer[0].attention.self.qkv, PackedInt8Linear)
    assert copy.encoder.layer[0].intermediate.activation == "gelu"
    for layer in copy.encoder.layer:  # only the product after GELU rounds its input from GELU's floor
        assert layer.output.dense.input_floor == GELU_FLOOR and layer.intermediate.input_floor is None
        assert layer.attention.self.qkv.input_floor is None and layer.attention.output.dense.input_floor is None
    got, want = hidden_states(copy, LENGTHS["ragged"]), hidden_states(model, LENGTHS["ragged"])
    assert F.cosine_similarity(got, want).min() > 0.99 and not torch.allclose(got, want, atol=1e-4)


def test_gelu_s_floor_reaches_no_product_a_user_put_after_the_one_that_reads_gelu():
    """A replaced output block (two Linears, the second reading the first's output, which can go far below
    GELU's floor): neither is told the floor, and the copy stays as close as the plain one."""
    model = tiny_model()
    I, H = TINY["intermediate_size"], TINY["hidden_size"]
    model.encoder.layer[0].output.dense = nn.Sequential(nn.Linear(I, I), nn.Linear(I, H))
    with torch.no_grad():
        model.encoder.layer[0].output.dense[0].bias.fill_(-3.0)  # the second product's input: around -3
    copy = model.inference_copy("int8")
    assert [m.input_floor for m in copy.encoder.layer[0].output.dense] == [None, None]
    assert copy.encoder.layer[1].output.dense.input_floor == GELU_FLOOR  # the plain layers keep it
    got, want = hidden_states(copy, LENGTHS["ragged"]), hidden_states(model, LENGTHS["ragged"])
    assert F.cosine_similarity(got, want).min() > 0.99


@pytest.fixture(scope="module")
def minilm():
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")


def test_encode_in_bf16_stays_close_to_float32(minilm):
    """Embeddings within cosine 0.999 of float32, and the Spearman on the lessons' pairs within 0.25 (measured
    0.11 on these few pairs; the bar of 0.1 is held on the 1,379 STS-B test pairs by benchmarks/encode_speed.py)."""
    pairs = read_pairs(FIXTURES.parent.parent / "lessons" / "data" / "sts_pairs_en.csv")
    texts = [t for p in pairs for t in (p.sentence1, p.sentence2)]
    fp32, bf16 = minilm.encode(texts), minilm.encode(texts, precision="bf16")
    assert (fp32 * bf16).sum(1).min() > 0.999
    assert not np.allclose(fp32, bf16, atol=1e-5)  # it did run in bf16
    gap = evaluate_sts(minilm, pairs)["spearman"] - evaluate_sts(minilm, pairs, precision="bf16")["spearman"]
    assert abs(gap) < 0.25


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_each_copy_is_made_once_and_remade_when_the_weights_change(minilm, precision):
    minilm.encode("warm", precision=precision)
    first = minilm.bert.inference_copy(precision)
    assert minilm.bert.inference_copy(precision) is first  # kept between calls
    assert "_inference_copies" not in first.__dict__  # the copy holds no copies of its own
    assert not any("qkv" in key or "weight_codes" in key for key in minilm.state_dict())  # never saved
    before = minilm.encode("A man plays the guitar.", precision=precision)
    layer = minilm.bert.encoder.layer[0].intermediate.dense
    with torch.no_grad():
        layer.weight.mul_(2)  # what an optimiser step does: in place
    try:
        assert minilm.bert.inference_copy(precision) is not first
        assert not np.allclose(minilm.encode("A man plays the guitar.", precision=precision), before)
    finally:
        with torch.no_grad():
            layer.weight.div_(2)


def test_a_fused_optimiser_step_remakes_the_copy(minilm):
    """torch's fused AdamW (which fit uses) writes the weights without bumping their version counters: the copy
    must be remade all the same, or encode would go on with the weights of before the step."""
    layer = minilm.bert.encoder.layer[0].intermediate.dense
    saved = layer.weight.detach().clone()
    before = minilm.encode("A man plays the guitar.")
    optimizer = torch.optim.AdamW([layer.weight], lr=0.05, fused=True)
    layer.weight.grad = torch.ones_like(layer.weight)
    version = layer.weight._version
    optimizer.step()
    try:
        assert layer.weight._version == version  # unseen by the version counter...
        assert not np.allclose(minilm.encode("A man plays the guitar."), before, atol=1e-4)  # ...but seen
    finally:
        with torch.no_grad():
            layer.weight.copy_(saved)
        layer.weight.grad = None


def test_fp16_on_the_cpu_is_refused_with_what_to_use(minilm):
    with pytest.raises(ValueError, match="precision='fp16' needs CUDA .* use 'bf16'"):
        minilm.encode("A man plays the guitar.", precision="fp16")


# a subprocess's preamble: the oneDNN path whatever this CPU's flags say, as on a CPU with VNNI
FORCE_ONEDNN = """import sys
import torch
import minisbert.fast.prepacked as prepacked
from minisbert.fast.hardware import Cpu
from minisbert.fast.prepacked import PackedInt8Linear
prepacked.read_cpu = lambda: Cpu("a CPU with VNNI", frozenset({"avx512_vnni"}))
"""

ISA_CAPS = {"this CPU": None, "AVX-512 with VNNI, no AMX": "AVX512_CORE_VNNI", "AVX2 with VNNI": "AVX2_VNNI"}


@pytest.mark.parametrize("cap", ISA_CAPS.values(), ids=ISA_CAPS.keys())
def test_the_int8_product_runs_an_optimised_kernel_on_every_x86_level(cap):
    """oneDNN runs signed-by-signed int8 products in its reference code on CPUs without AMX (and on this one at
    small shapes), thousands of times slower; the unsigned codes (prepacked.unsigned) avoid it. oneDNN's verbose
    log names the implementation it ran, and ONEDNN_MAX_CPU_ISA makes it behave as on a lesser CPU."""
    script = FORCE_ONEDNN + "PackedInt8Linear(torch.nn.Linear(64, 32))(torch.randn(5, 64))"
    env = {**os.environ, "ONEDNN_VERBOSE": "1", **({"ONEDNN_MAX_CPU_ISA": cap} if cap else {})}
    log = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    matmuls = [line for line in log.splitlines() if ",exec,cpu,matmul," in line]
    assert matmuls and not any(",ref" in line for line in matmuls), matmuls


def test_without_vnni_onednn_s_int8_kernels_would_overflow():
    """Why onednn_packs_int8 asks for VNNI or AMX: limited to AVX2, oneDNN's kernel gets the case above wrong by
    far. If a later oneDNN sums exactly there, this fails, and the float32 fallback can go."""
    script = FORCE_ONEDNN + """sys.path.insert(0, "tests")
from test_inference_copies import overflowing_case, integer_arithmetic
layer, x = overflowing_case()
print(float((PackedInt8Linear(layer)(x) - integer_arithmetic(layer, x)).abs().max()))"""
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    assert float(out.split()[-1]) > 1  # the exact outputs are about 10
