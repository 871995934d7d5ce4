"""Reference of 'encoder_layer' for the other assignments' probes (never in the graded tree of
'encoder_layer'): PyTorch's LayerNorm and GELU, and the post-LN residual blocks."""

import torch.nn.functional as F


def ref_layer_norm_forward(self, x):
    return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


def ref_add_norm_forward(self, x, residual):
    return self.LayerNorm(residual + self.dropout(self.dense(x)))


def ref_encoder_layer_forward(self, x, mask=None, output_attentions=False):
    a, probs = self.attention(x, mask, output_attentions)
    return self.output(self.intermediate(a), residual=a), probs


def install():
    from minisbert import layers
    layers.LayerNorm.forward = ref_layer_norm_forward
    layers.gelu = F.gelu
    layers.AddNorm.forward = ref_add_norm_forward
    layers.EncoderLayer.forward = ref_encoder_layer_forward
