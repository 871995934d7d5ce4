"""LayerNorm, GELU and the encoder layer against PyTorch's own modules."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from minisbert import BertConfig
from minisbert.attention import extended_attention_mask
from minisbert.layers import EncoderLayer, LayerNorm, gelu


@pytest.mark.parametrize("H,eps,seed", [(4, 1e-12, 0), (384, 1e-12, 1), (768, 1e-5, 2)])
def test_layer_norm_against_torch(H, eps, seed):
    torch.manual_seed(seed)
    ours, ref = LayerNorm(H, eps), torch.nn.LayerNorm(H, eps=eps)
    with torch.no_grad():
        ours.weight.normal_(), ours.bias.normal_()
        ref.weight.copy_(ours.weight), ref.bias.copy_(ours.bias)
    x = torch.randn(2, 5, H) * 3 + 1
    assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


def test_layer_norm_by_hand():
    y = LayerNorm(2, eps=0.0)(torch.tensor([[1.0, 3.0]]))  # mean 2, biased var 1
    assert_close(y, torch.tensor([[-1.0, 1.0]]))


def test_gelu_is_the_exact_erf_form():
    x = torch.linspace(-6, 6, 1001)
    assert_close(gelu(x), F.gelu(x, approximate="none"))
    assert (gelu(x) - F.gelu(x, approximate="tanh")).abs().max() > 1e-5  # not the approximation


def copy_into_torch_layer(ours: EncoderLayer) -> torch.nn.TransformerEncoderLayer:
    sa, H = ours.attention.self, ours.attention.self.query.in_features
    ref = torch.nn.TransformerEncoderLayer(H, sa.num_heads, ours.intermediate.dense.out_features, dropout=0.0,
                                           activation="gelu", layer_norm_eps=1e-12, batch_first=True,
                                           norm_first=False)
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(torch.cat([sa.query.weight, sa.key.weight, sa.value.weight]))
        ref.self_attn.in_proj_bias.copy_(torch.cat([sa.query.bias, sa.key.bias, sa.value.bias]))
        ref.self_attn.out_proj.load_state_dict(ours.attention.output.dense.state_dict())
        ref.norm1.load_state_dict(ours.attention.output.LayerNorm.state_dict())
        ref.linear1.load_state_dict(ours.intermediate.dense.state_dict())
        ref.linear2.load_state_dict(ours.output.dense.state_dict())
        ref.norm2.load_state_dict(ours.output.LayerNorm.state_dict())
    return ref


@pytest.mark.parametrize("H,heads,ff,L,seed", [(16, 2, 64, 5, 0), (384, 12, 1536, 17, 1), (32, 1, 37, 8, 2)])
def test_encoder_layer_against_torch_transformer_layer(H, heads, ff, L, seed):
    torch.manual_seed(seed)
    ours = EncoderLayer(BertConfig(hidden_size=H, num_attention_heads=heads, intermediate_size=ff,
                                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    with torch.no_grad():  # non-trivial LayerNorm parameters, so a swapped norm would show
        for name, p in ours.named_parameters():
            if "LayerNorm" in name:
                p.normal_()
    ref = copy_into_torch_layer(ours)
    # train() with zero dropout: torch's eval fast path would zero the padded rows
    ours.train(), ref.train()
    x = torch.randn(3, L, H)
    keep = torch.ones(3, L, dtype=torch.long)
    keep[1, L // 2:] = 0
    with torch.no_grad():
        out, _ = ours(x, extended_attention_mask(keep, x.dtype))
        expected = ref(x, src_key_padding_mask=keep == 0)
    assert_close(out, expected, atol=1e-5, rtol=1e-5)
