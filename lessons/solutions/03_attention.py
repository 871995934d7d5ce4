"""Lesson 03, solutions.

`python lessons/run_lessons.py --solutions 03` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: attention with masked_fill
import math


def attention(q, k, v, keep):
    """q, k, v: (B, h, L, d); keep: (B, L), 1 for a real key. Returns the output (B, h, L, d)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))           # (B, h, L, L)
    scores = scores.masked_fill(keep[:, None, None, :] == 0, float("-inf"))  # broadcast over heads, queries
    return scores.softmax(-1) @ v


# %% Exercise 2: causal attention
def causal_attention(q, k, v):
    """q, k, v: (B, h, L, d). Query i attends to keys 0..i. Returns the output (B, h, L, d)."""
    L = q.size(-2)
    allowed = torch.ones(L, L).tril().bool()                            # (L, L): row i is True up to column i
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


# %% Questions
# 3. With `attn` of the notebook (layer 0, the padded sentence):
#        prev = attn[0].diagonal(offset=-1, dim1=1, dim2=2).mean(-1)   # per head: weight on the previous token
#        nxt = attn[0].diagonal(offset=1, dim1=1, dim2=2).mean(-1)     # ... and on the next one
#        prev.argmax(), nxt.argmax()
#    In all-MiniLM-L6-v2's first layer some heads put most of their weight one step back or one step ahead:
#    position is among the first things a layer reads.
