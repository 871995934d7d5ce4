"""Probe of 'encoder_layer' (runs in the graded process, with the student's LayerNorm, gelu, AddNorm and
EncoderLayer; the attention by its references). Input builders shared with judge_encoder_layer.py."""

import torch
from draws import draw, hidden



def layer_norm_inputs(seed):
    """weight, bias (8,) and x (2, 3, 8), off-centre and wide so that a wrong variance shows."""
    g = draw(seed, 0)
    weight, bias = torch.randn(8, generator=g), torch.randn(8, generator=g)
    return weight, bias, torch.randn(2, 3, 8, generator=g) * 3 + 1


def gelu_inputs(seed, n=1):
    return (torch.randn(201, generator=draw(seed, n)) * 2.5).sort().values


def encoder_layer(seed, dropout=0.1):
    """A small layer (H=16, 4 heads, 4H=64) with weights drawn from the seed; dropout only on the sublayers."""
    from minisbert import BertConfig
    from minisbert.layers import EncoderLayer
    torch.manual_seed(seed)
    return EncoderLayer(BertConfig(hidden_size=16, num_attention_heads=4, intermediate_size=64,
                                   hidden_dropout_prob=dropout, attention_probs_dropout_prob=0.0))



def layer_norm(seed):
    from minisbert.layers import LayerNorm
    weight, bias, x = layer_norm_inputs(seed)
    ln = LayerNorm(8, eps=1e-12)
    with torch.no_grad():
        ln.weight.copy_(weight)
        ln.bias.copy_(bias)
        return {"out": ln(x)}


def gelu_is_exact(seed):
    from minisbert.layers import gelu
    return {"out": gelu(gelu_inputs(seed))}


def encoder_layer_is_post_ln(seed):
    x, _ = hidden(seed, 2, (2, 5, 16))
    with torch.no_grad():
        return {"out": encoder_layer(seed).eval()(x)[0]}


def dropout_on_each_sublayer_while_training(seed):
    x, _ = hidden(seed, 3, (2, 5, 16))
    layer = encoder_layer(seed, dropout=0.5).train()
    torch.manual_seed(seed + 1)
    with torch.no_grad():
        return {"out": layer(x)[0]}


def pretrained_model(seed):
    """Layer 0 of all-MiniLM-L6-v2 on hidden states drawn from the seed, and gelu on its scale."""
    from minisbert import load_bert
    from minisbert.attention import extended_attention_mask
    from minisbert.layers import gelu
    x, keep = hidden(seed, 4, (2, 9, 384))
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    with torch.no_grad():
        out = bert.encoder.layer[0](x, extended_attention_mask(keep, x.dtype))[0]
    return {"out": out, "gelu": gelu(gelu_inputs(seed, 5) * 2)}
