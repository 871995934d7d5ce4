"""Lesson 04, exercises."""
import torch

from minisbert import BertModel
from minisbert.attention import extended_attention_mask, scaled_dot_product_attention
from minisbert.course.check import reference

bert = BertModel.from_pretrained("all-MiniLM-L6-v2", fast=False)
mha = bert.encoder.layer[0].attention.self

# 1. Parameters: three H x H weights and three H biases.
H = 384
print("by hand:", 3 * (H * H + H), "| counted:", sum(p.numel() for p in mha.parameters()))

# 2. Head 5 alone, with its slice of the weights.
device = mha.query.weight.device  # MINISBERT_DEVICE, or the first of cuda, mps, cpu
ids = torch.tensor(reference("batch.input_ids"), device=device)
keep = torch.tensor(reference("batch.attention_mask"), device=device)
with torch.no_grad():
    x = bert.embeddings(ids, torch.zeros_like(ids))
    mask = extended_attention_mask(keep, x.dtype)
    rows = slice(5 * 32, 6 * 32)

    def project(lin):
        return (x @ lin.weight[rows].T + lin.bias[rows])[:, None]  # (B, 1, L, 32)
    head5, _ = scaled_dot_product_attention(project(mha.query), project(mha.key), project(mha.value), mask)
# head 5's output is columns 160..191 of the concatenated context
torch.testing.assert_close(head5[:, 0].cpu(), reference("mha.layer0.context")[..., rows], atol=1e-5, rtol=0)
print("head 5 alone matches columns 160-191 of the reference context")

# 3. 6 heads of 64: the projections are still H x H, so the parameters are the same; the score matrices
# (B, h, L, L) halve in number, and each dot product is over 64 numbers instead of 32: the same FLOPs for
# Q K^T and for the weighted sum of V. Only the split changes.
