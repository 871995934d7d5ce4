"""Lesson 03, exercises."""
import math

import torch

from minisbert.course.check import check_close, reference

q, k, v = reference("sdpa.q"), reference("sdpa.k"), reference("sdpa.v")
keep = torch.tensor(reference("sdpa.attention_mask"))


# 1. Attention with masked_fill: padding keys get -inf before the softmax.
def attention(q, k, v, keep):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, h, L, L)
    scores = scores.masked_fill(keep[:, None, None, :] == 0, float("-inf"))
    probs = scores.softmax(-1)
    return probs @ v, probs


out, probs = attention(q, k, v, keep)
check_close("sdpa.output", out)
check_close("sdpa.probs", probs)

# 2. A causal mask: query i sees keys 0..i.
L = q.size(-2)
causal = torch.ones(L, L).tril().bool()
scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~causal, float("-inf"))
print("first query's weights:", scores.softmax(-1)[0, 0, 0])

# 3. Heads that look at the neighbour: the average weight on the previous / next position, per head.
from minisbert import BertModel, WordPieceTokenizer  # noqa: E402
tok, bert = WordPieceTokenizer.from_pretrained(), BertModel.from_pretrained(fast=False)
with torch.no_grad():
    batch = tok(["The quick brown fox jumps over the lazy dog near the river bank."])
    a = bert(**{k: v.to(bert.pooler.dense.weight.device) for k, v in batch.items()},
             output_attentions=True).attentions[0][0]  # (heads, L, L)
prev, nxt = a.diagonal(offset=-1, dim1=1, dim2=2).mean(-1), a.diagonal(offset=1, dim1=1, dim2=2).mean(-1)
print("head with most weight on the previous token:", prev.argmax().item(), f"({prev.max():.2f})")
print("head with most weight on the next token:", nxt.argmax().item(), f"({nxt.max():.2f})")
