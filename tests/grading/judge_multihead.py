"""Judge of 'multihead' (15 points), in the grader's process: the probe's inputs rebuilt from the seed,
the expected values from PyTorch's attention over heads split by view + transpose."""

import torch
import torch.nn.functional as F
from probe_multihead import hidden, module

from minisbert.course.judge import check, diagnose, pretrained_bert


def by_pytorch(mha, x, keep):
    """The module's output computed per head with PyTorch's attention, and the output with the heads merged
    without moving them back (B, h, L, d) -> (B, L, H) (a common mistake)."""
    B, L, H = x.shape
    h, d = mha.num_heads, mha.head_dim
    with torch.no_grad():
        q, k, v = (t.view(B, L, h, d).transpose(1, 2) for t in (mha.query(x), mha.key(x), mha.value(x)))
        per_head = F.scaled_dot_product_attention(q, k, v, attn_mask=keep.bool()[:, None, None, :])  # (B, h, L, d)
    return per_head.transpose(1, 2).reshape(B, L, H), per_head.reshape(B, L, H)


MERGED_WRONG = "the heads are merged without moving them back: transpose(1, 2) before the reshape to (B, L, H)"


@check(5, "heads")
def split_heads_shape_and_grouping(seed, got):
    x, _ = hidden(seed, 0, (2, 5, 12))
    diagnose(got("heads"), x.view(2, 5, 3, 4).transpose(1, 2), {
        "view(B, h, L, d) without a transpose mixes positions and heads: view(B, L, h, d), then transpose(1, 2)":
            x.reshape(2, 3, 5, 4),
        "the heads are not moved before the positions: the result must be (B, h, L, d)": x.view(2, 5, 3, 4)})


@check(6, "out")
def forward_matches_pytorch(seed, got):
    x, keep = hidden(seed, 1, (2, 5, 12))
    expected, merged_wrong = by_pytorch(module(seed), x, keep)
    diagnose(got("out"), expected, {MERGED_WRONG: merged_wrong})


@check(4, "out")
def pretrained_model(seed, got):
    x, keep = hidden(seed, 2, (2, 9, 384))
    expected, merged_wrong = by_pytorch(pretrained_bert().encoder.layer[0].attention.self, x, keep)
    diagnose(got("out"), expected, {MERGED_WRONG: merged_wrong}, atol=1e-4)
