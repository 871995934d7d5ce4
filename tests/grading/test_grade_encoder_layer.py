"""Assignment 'encoder_layer': LayerNorm, gelu, AddNorm and EncoderLayer (minisbert/layers.py)."""

import math

import pytest
import torch
import torch.nn.functional as F
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert import BertConfig
from minisbert.layers import EncoderLayer, LayerNorm, gelu


@pytest.mark.points(4)
def test_layer_norm(others_by_reference):
    others_by_reference("encoder_layer")
    torch.manual_seed(0)
    ln = LayerNorm(8, eps=1e-12)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(2, 3, 8) * 3 + 1
    mean = x.mean(-1, keepdim=True)
    diagnose(ln(x).detach(), F.layer_norm(x, (8,), ln.weight, ln.bias, 1e-12).detach(), {
        "the variance is the unbiased one (divide by H - 1): LayerNorm divides by H":
            ((x - mean) / torch.sqrt(x.var(-1, keepdim=True) + 1e-12) * ln.weight + ln.bias).detach(),
        "eps is added outside the square root: it belongs inside, sqrt(var + eps)":
            ((x - mean) / (x.std(-1, unbiased=False, keepdim=True) + 1e-12) * ln.weight + ln.bias).detach(),
        "the scale and shift (weight, bias) are missing":
            ((x - mean) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-12)).detach()})


@pytest.mark.points(3)
def test_gelu_is_exact(others_by_reference):
    others_by_reference("encoder_layer")
    x = torch.linspace(-5, 5, 201)
    tanh = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    diagnose(gelu(x), F.gelu(x), {"this is the tanh approximation: BERT uses the exact erf form": tanh,
                                  "this is ReLU: GELU is x times the normal CDF of x": torch.relu(x)}, atol=1e-6)


@pytest.mark.points(4)
def test_encoder_layer_is_post_ln(others_by_reference):
    others_by_reference("encoder_layer")
    torch.manual_seed(2)
    layer = EncoderLayer(BertConfig(hidden_size=16, num_attention_heads=4, intermediate_size=64)).eval()
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        y, _ = layer(x)
        att = layer.attention
        ctx = att.self(x)[0]
        ln = att.output.LayerNorm
        a = F.layer_norm(x + att.output.dense(ctx), (16,), ln.weight, ln.bias, 1e-12)
        h = F.gelu(layer.intermediate.dense(a))
        out = layer.output
        expected = F.layer_norm(a + out.dense(h), (16,), out.LayerNorm.weight, out.LayerNorm.bias, 1e-12)
        pre_a = x + att.output.dense(att.self(F.layer_norm(x, (16,)))[0])
        no_residual = F.layer_norm(out.dense(h), (16,), out.LayerNorm.weight, out.LayerNorm.bias, 1e-12)
    diagnose(y, expected, {"the feed-forward block has no residual: LayerNorm(a + FFN(a))": no_residual,
                           "this looks pre-LN: BERT adds first and normalises after (post-LN)": pre_a})


@pytest.mark.points(2)
def test_dropout_on_each_sublayer_while_training(others_by_reference):
    others_by_reference("encoder_layer")
    torch.manual_seed(2)
    layer = EncoderLayer(BertConfig(hidden_size=16, num_attention_heads=4, intermediate_size=64, hidden_dropout_prob=0.5,
                                    attention_probs_dropout_prob=0.0)).train()
    x = torch.randn(2, 5, 16)
    att, out = layer.attention, layer.output
    ln1, ln2 = att.output.LayerNorm, out.LayerNorm

    def norm(t, ln):
        return F.layer_norm(t, (16,), ln.weight, ln.bias, 1e-12)

    def forward(drop):  # the layer with dropout `drop` applied where AddNorm applies it
        a = norm(x + drop(att.output.dense(att.self(x)[0])), ln1)
        return norm(a + drop(out.dense(F.gelu(layer.intermediate.dense(a)))), ln2)

    with torch.no_grad():
        torch.manual_seed(3)
        expected = forward(att.output.dropout)
        torch.manual_seed(3)
        got, _ = layer(x)
        without = forward(lambda t: t)
    diagnose(got, expected, {"dropout is missing in training mode: LayerNorm(residual + Dropout(dense(x)))": without})


@pytest.mark.points(2)
def test_lesson_reference_values(others_by_reference):
    from minisbert import load_bert
    from minisbert.attention import extended_attention_mask
    from minisbert.course.check import check_close, reference
    others_by_reference("encoder_layer")
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    keep = torch.tensor(reference("batch.attention_mask"))
    x = reference("embeddings.output")
    with torch.no_grad():
        y, _ = bert.encoder.layer[0](x, extended_attention_mask(keep, x.dtype))
    check_close("layer0.output", y)
    check_close("gelu.output", gelu(reference("gelu.input")))
