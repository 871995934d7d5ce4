"""int8 inference (minisbert/fast/int8.py): the quantisation rule, the layer, and encode(precision="int8").

The reference for the layer is the same arithmetic done independently in numpy with 64-bit
integers: int8 codes per token and per output channel, an exact integer dot product, then the
two scales and the bias.
"""


import numpy as np
import pytest
import torch
from torch import nn

from minisbert import SentenceBert
from minisbert.bert import BertModel
from minisbert.trainkit.data import read_pairs
from minisbert.support.errors import InputError
from minisbert.evaluation import evaluate_sts
from minisbert.fast.int8 import Int8Linear, quantize_rows

from conftest import FIXTURES


def numpy_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row, written independently: scale = max |row| / 127, codes = round(row / scale)."""
    scale = np.abs(x).max(axis=1, keepdims=True) / 127
    return np.rint(x / scale).astype(np.int64), scale


def test_rows_use_the_full_range_and_round_to_the_nearest_level():
    x = torch.randn(50, 96, generator=torch.Generator().manual_seed(0)) * torch.logspace(-3, 2, 50)[:, None]
    codes, scale = quantize_rows(x)
    assert codes.dtype == torch.int8 and scale.shape == (50, 1)
    assert (codes.abs().amax(1) == 127).all()  # every row's largest value lands on the last level
    assert ((codes.float() * scale - x).abs() <= scale / 2 + 1e-6 * x.abs()).all()  # half a step at most
    expected, _ = numpy_codes(x.double().numpy())
    assert (codes.numpy() != expected).sum() <= 2  # float32 and float64 may round apart near halves only


def test_an_all_zero_row_stays_zero():
    codes, scale = quantize_rows(torch.zeros(3, 8))
    assert (codes == 0).all() and torch.isfinite(scale).all()


def test_int8_linear_equals_the_integer_arithmetic_in_numpy():
    g = torch.Generator().manual_seed(1)
    linear = nn.Linear(64, 48)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(48, 64, generator=g) * 0.05)
    x = torch.randn(2, 7, 64, generator=g)  # any leading shape
    ours = Int8Linear(linear)(x)
    xq, sx = numpy_codes(x.reshape(-1, 64).numpy().astype(np.float64))
    wq, sw = numpy_codes(linear.weight.detach().numpy().astype(np.float64))
    reference = (xq @ wq.T) * sx * sw.T + linear.bias.detach().numpy()  # exact integers, then the scales
    assert ours.shape == (2, 7, 48)
    np.testing.assert_allclose(ours.reshape(-1, 48).numpy(), reference, rtol=1e-5, atol=1e-5)
    error = (ours - linear(x)).norm() / linear(x).norm()
    assert 1e-4 < error < 0.02  # quantised: close to float32, not equal to it


def test_a_layer_without_bias_and_a_batch_without_tokens():
    linear = nn.Linear(32, 16, bias=False)
    layer = Int8Linear(linear)
    x = torch.randn(5, 32, generator=torch.Generator().manual_seed(2))
    assert ((layer(x) - linear(x)).norm() / linear(x).norm()) < 0.02
    assert layer(torch.zeros(0, 32)).shape == (0, 16)


@pytest.fixture(scope="module")
def model():
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")


def test_encode_in_int8_stays_close_to_float32(model):
    pairs = read_pairs(FIXTURES.parent.parent / "lessons" / "data" / "sts_pairs_en.csv")
    texts = [t for p in pairs for t in (p.sentence1, p.sentence2)]
    fp32, int8 = model.encode(texts), model.encode(texts, precision="int8")
    cosine = (fp32 * int8).sum(1)
    assert cosine.min() > 0.99 and cosine.mean() > 0.995
    assert not np.allclose(fp32, int8, atol=1e-6)  # it did run in int8
    gap = evaluate_sts(model, pairs)["spearman"] - evaluate_sts(model, pairs, precision="int8")["spearman"]
    assert abs(gap) < 1.0


def test_the_written_out_path_runs_in_float32_only_and_says_which_model_runs_int8():
    slow = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    with pytest.raises(InputError, match="written-out encoder, which runs in float32 only; load the model with "
                                         "fast=True"):
        slow.encode("A man is playing a guitar.", precision="int8")


def test_int8_refuses_a_gpu_and_says_what_to_use(model, monkeypatch):
    monkeypatch.setattr(BertModel, "device", property(lambda self: torch.device("cuda")))
    with pytest.raises(InputError, match="runs on the CPU.*'fp16' or 'bf16'"):
        model.encode("x", precision="int8")


def test_a_bad_precision_names_the_choices(model):
    with pytest.raises(InputError, match="fp32, bf16, fp16, int8"):
        model.encode("x", precision="int4")
