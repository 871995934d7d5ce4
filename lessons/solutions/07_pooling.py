"""Lesson 07, solutions.

`python lessons/run_lessons.py --solutions 07` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: the masked mean with torch.where
def where_mean(tokens, mask):
    """tokens: (B, L, H); mask: (B, L), 1 for a real token. Returns (B, H)."""
    real = mask.bool()[..., None]                      # (B, L, 1)
    return torch.where(real, tokens, 0.0).sum(1) / real.sum(1)


# %% Wrong 1: the mask forgotten: the mean over every position, padding included
def where_mean(tokens, mask):
    return tokens.mean(1)


# %% Wrong 1: padding zeroed but the sum divided by the padded length L
def where_mean(tokens, mask):
    real = mask.bool()[..., None]
    return torch.where(real, tokens, 0.0).sum(1) / tokens.size(1)


# %% Wrong 1: the library's mean_pool [says: written out]
def where_mean(tokens, mask):
    return mean_pool(tokens, mask)


# %% Exercise 2: max pooling
def masked_max(tokens, mask):
    """tokens: (B, L, H); mask: (B, L). Returns (B, H): each feature's largest value over the real tokens."""
    return tokens.masked_fill(mask[..., None] == 0, float("-inf")).max(dim=1).values


# %% Wrong 2: the mask forgotten: the padding competes
def masked_max(tokens, mask):
    return tokens.max(dim=1).values


# %% Wrong 2: padding set to 0, which beats a feature whose real values are all negative
def masked_max(tokens, mask):
    return (tokens * mask[..., None]).max(dim=1).values


# %% Wrong 2: the library's max_pool [says: written out]
def masked_max(tokens, mask):
    return max_pool(tokens, mask)


# %% Questions
# 3. alone, batch = model.encode(sentences[2]), model.encode(sentences)[2]; abs(alone - batch).max()
#    is at the level of float rounding (1e-7): the mask keeps the padding out of the mean.
# 4. model.pooling = Pooling(384, ["mean", "max"]): the vectors are concatenated, dimension 768; the
#    Spearman on the course pairs is evaluate_sts(model, pairs); expect it near the mean's and the max's, since
#    both halves of the vector vote in the cosine (measure it: this answer does not store the figure).
