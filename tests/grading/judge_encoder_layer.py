"""Judge of 'encoder_layer' (15 points), in the grader's process: the probe's inputs rebuilt from the
seed; the expected values from PyTorch's layer_norm and gelu around the layer's own weights."""

import math

import torch
import torch.nn.functional as F
from probe_encoder_layer import encoder_layer, gelu_inputs, hidden, layer_norm_inputs

from minisbert.attention import extended_attention_mask
from minisbert.course.judge import check, diagnose, pretrained_bert


@check(4, "out")
def layer_norm(seed, got):
    weight, bias, x = layer_norm_inputs(seed)
    mean = x.mean(-1, keepdim=True)
    diagnose(got("out"), F.layer_norm(x, (8,), weight, bias, 1e-12), {
        "the variance is the unbiased one (divide by H - 1): LayerNorm divides by H":
            (x - mean) / torch.sqrt(x.var(-1, keepdim=True) + 1e-12) * weight + bias,
        "eps is added outside the square root: it belongs inside, sqrt(var + eps)":
            (x - mean) / (x.std(-1, unbiased=False, keepdim=True) + 1e-12) * weight + bias,
        "the scale and shift (weight, bias) are missing":
            (x - mean) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-12)})


def float32_steps(x: torch.Tensor) -> float:
    """The tolerance for an exact GELU of x: 1e-6 of the largest |x| (at least 1e-6), about eight float32 steps
    there. Two exact forms, 0.5 x (1 + erf(x / sqrt 2)) and torch's F.gelu, round differently by a step or two,
    and a step is 1.2e-6 between 8 and 16, where a fixed 1e-6 failed a correct GELU for some seeds; the tanh
    approximation is off by up to 4.7e-4, far outside it."""
    return 1e-6 * max(1.0, x.abs().max().item())


@check(3, "out")
def gelu_is_exact(seed, got):
    x = gelu_inputs(seed)
    tanh = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    diagnose(got("out"), F.gelu(x), {"this is the tanh approximation: BERT uses the exact erf form": tanh,
                                     "this is ReLU: GELU is x times the normal CDF of x": torch.relu(x)},
             atol=float32_steps(x))


def by_pytorch(layer, x, drop=lambda t: t, mask=None):
    """The post-LN layer with F.layer_norm and F.gelu, `drop` where AddNorm applies dropout; and two common
    mistakes: no residual around the feed-forward block, and pre-LN."""
    att, out = layer.attention, layer.output
    ln1, ln2 = att.output.LayerNorm, out.LayerNorm

    def norm(t, ln):
        return F.layer_norm(t, (x.size(-1),), ln.weight, ln.bias, ln.eps)
    with torch.no_grad():
        a = norm(x + drop(att.output.dense(att.self(x, mask)[0])), ln1)
        h = F.gelu(layer.intermediate.dense(a))
        expected = norm(a + drop(out.dense(h)), ln2)
        no_residual = norm(out.dense(h), ln2)
        pre_ln = x + att.output.dense(att.self(F.layer_norm(x, (x.size(-1),)), mask)[0])
    return expected, {"the feed-forward block has no residual: LayerNorm(a + FFN(a))": no_residual,
                      "this looks pre-LN: BERT adds first and normalises after (post-LN)": pre_ln}


@check(4, "out")
def encoder_layer_is_post_ln(seed, got):
    x, _ = hidden(seed, 2, (2, 5, 16))
    expected, mistakes = by_pytorch(encoder_layer(seed).eval(), x)
    diagnose(got("out"), expected, mistakes)


@check(2, "out")
def dropout_on_each_sublayer_while_training(seed, got):
    x, _ = hidden(seed, 3, (2, 5, 16))
    layer = encoder_layer(seed, dropout=0.5).train()
    torch.manual_seed(seed + 1)
    expected, _ = by_pytorch(layer, x, layer.attention.output.dropout)
    without, _ = by_pytorch(layer, x)
    diagnose(got("out"), expected,
             {"dropout is missing in training mode: LayerNorm(residual + Dropout(dense(x)))": without})


@check(2, "out", "gelu")
def pretrained_model(seed, got):
    x, keep = hidden(seed, 4, (2, 9, 384))
    expected, mistakes = by_pytorch(pretrained_bert().encoder.layer[0], x, mask=extended_attention_mask(keep, x.dtype))
    diagnose(got("out"), expected, mistakes, atol=1e-4)
    wide = gelu_inputs(seed, 5) * 2  # the probe's GELU inputs, to |x| of 10-20
    diagnose(got("gelu"), F.gelu(wide), {}, atol=float32_steps(wide))
