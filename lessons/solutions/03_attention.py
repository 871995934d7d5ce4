"""Lesson 03, solutions.

`python lessons/run_lessons.py --solutions 03` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: attention with masked_fill
def attention(q, k, v, keep):
    """q, k, v: (B, h, L, d); keep: (B, L), 1 for a real key. Returns the output (B, h, L, d)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))           # (B, h, L, L)
    scores = scores.masked_fill(keep[:, None, None, :] == 0, float("-inf"))  # broadcast over heads, queries
    return scores.softmax(-1) @ v


# %% Wrong 1: no division by sqrt(d)
def attention(q, k, v, keep):
    scores = q @ k.transpose(-2, -1)
    scores = scores.masked_fill(keep[:, None, None, :] == 0, float("-inf"))
    return scores.softmax(-1) @ v


# %% Wrong 1: the mask forgotten
def attention(q, k, v, keep):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    return scores.softmax(-1) @ v


# %% Wrong 1: the queries masked instead of the keys
def attention(q, k, v, keep):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(keep[:, None, :, None] == 0, -1e9)
    return scores.softmax(-1) @ v


# %% Wrong 1: the softmax over the queries (dim -2)
def attention(q, k, v, keep):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(keep[:, None, None, :] == 0, float("-inf"))
    return scores.softmax(-2).nan_to_num() @ v


# %% Wrong 1: the one-call answer, F.scaled_dot_product_attention [says: written out]
def attention(q, k, v, keep):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :].bool())


# %% Exercise 2: causal attention
def causal_attention(q, k, v):
    """q, k, v: (B, h, L, d). Query i attends to keys 0..i. Returns the output (B, h, L, d)."""
    L = q.size(-2)
    allowed = torch.ones(L, L).tril().bool()                            # (L, L): row i is True up to column i
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


# %% Wrong 2: the wrong triangle: query i attends to keys i..L-1
def causal_attention(q, k, v):
    L = q.size(-2)
    allowed = torch.ones(L, L).triu().bool()
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


# %% Wrong 2: the diagonal masked too: query i attends only to the keys before it
def causal_attention(q, k, v):
    L = q.size(-2)
    allowed = torch.ones(L, L).tril(-1).bool()
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(~allowed, -1e9)
    return scores.softmax(-1) @ v


# %% Wrong 2: no division by sqrt(d)
def causal_attention(q, k, v):
    L = q.size(-2)
    allowed = torch.ones(L, L).tril().bool()
    scores = (q @ k.transpose(-2, -1)).masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


# %% Wrong 2: the one-call answer, F.scaled_dot_product_attention(is_causal=True) [says: written out]
def causal_attention(q, k, v):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)


# %% Questions
# 3. With `attn` of the notebook (layer 0, the padded sentence):
#        prev = attn[0].diagonal(offset=-1, dim1=1, dim2=2).mean(-1)   # per head: weight on the previous token
#        nxt = attn[0].diagonal(offset=1, dim1=1, dim2=2).mean(-1)     # ... and on the next one
#        prev.argmax(), nxt.argmax()
#    In all-MiniLM-L6-v2's first layer some heads put most of their weight one step back or one step ahead:
#    position is among the first things a layer reads.
