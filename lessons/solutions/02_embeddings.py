"""Lesson 02, exercises."""
import torch

from minisbert import BertModel
from minisbert.course.check import check_close, reference


# 1. LayerNorm with plain tensor operations: biased variance, eps inside the square root.
def layer_norm(x, gamma, beta, eps=1e-12):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


check_close("layernorm.output", layer_norm(reference("layernorm.input"), reference("layernorm.weight"),
                                           reference("layernorm.bias")))

# 2. padding_idx only zeroes the [PAD] row at initialisation (and freezes it); a checkpoint holds whatever row
# was saved, here not zero. It does not matter: padding positions are masked out of attention (lesson 03)
# and of pooling (lesson 07).
bert = BertModel.from_pretrained("all-MiniLM-L6-v2", fast=False)
emb = bert.embeddings
print("norm of row 0 ([PAD]):", emb.word_embeddings.weight[0].norm().item())

# 3. The same token at positions 1 and 5.
with torch.no_grad():
    ids = torch.tensor([[101, 4937, 1012, 1012, 1012, 4937, 102]], device=emb.word_embeddings.weight.device)  # "cat" at positions 1 and 5
    out = emb(ids, torch.zeros_like(ids))[0]
print("cos(cat@1, cat@5) =", torch.cosine_similarity(out[1], out[5], dim=0).item())
