"""Lesson 04, solutions.

`python lessons/run_lessons.py --solutions 04` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: the parameters of the projections
def attention_parameters(H):
    """The number of weights and biases in the query, key and value projections of size H."""
    return 3 * (H * H + H)  # three H x H weights and three H biases


# %% Wrong 1: the biases forgotten
def attention_parameters(H):
    return 3 * H * H


# %% Wrong 1: the output projection W^O counted too (it lives in attention.output)
def attention_parameters(H):
    return 4 * (H * H + H)


# %% Wrong 1: one projection only
def attention_parameters(H):
    return H * H + H


# %% Exercise 2: one head alone
def head_alone(x, mask, h=5, d=32):
    """x: (B, L, H); mask: additive (B, 1, 1, L). Returns head h's output, (B, L, d)."""
    rows = slice(h * d, (h + 1) * d)

    def project(linear):  # this head's slice of the projection: (B, L, d)
        return x @ linear.weight[rows].T + linear.bias[rows]
    q, k, v = project(mha.query), project(mha.key), project(mha.value)
    probs = (q @ k.transpose(-2, -1) / d ** 0.5 + mask[:, 0]).softmax(-1)  # (B, L, L); mask[:, 0]: (B, 1, L)
    return probs @ v


# %% Wrong 2: the projections forgotten: the head's slice of x itself
def head_alone(x, mask, h=5, d=32):
    cols = slice(h * d, (h + 1) * d)
    q = k = v = x[..., cols]
    probs = (q @ k.transpose(-2, -1) / d ** 0.5 + mask[:, 0]).softmax(-1)
    return probs @ v


# %% Wrong 2: view into heads without the transpose: (B, L, H) read as (B, h, L, d)
def head_alone(x, mask, h=5, d=32):
    B, L, H = x.shape
    def split(t):
        return t.view(B, H // d, L, d)  # the classic reshape bug: no transpose
    q, k, v = split(mha.query(x)), split(mha.key(x)), split(mha.value(x))
    probs = (q @ k.transpose(-2, -1) / d ** 0.5 + mask).softmax(-1)
    return (probs @ v)[:, h]


# %% Wrong 2: scaled by sqrt(H) instead of sqrt(d)
def head_alone(x, mask, h=5, d=32):
    rows = slice(h * d, (h + 1) * d)
    def project(linear):
        return x @ linear.weight[rows].T + linear.bias[rows]
    q, k, v = project(mha.query), project(mha.key), project(mha.value)
    probs = (q @ k.transpose(-2, -1) / x.size(-1) ** 0.5 + mask[:, 0]).softmax(-1)
    return probs @ v


# %% Questions
# 3. 6 heads of 64: the projections are still H x H, so the parameters are the same; the score matrices
#    (B, h, L, L) halve in number, and each dot product is over 64 numbers instead of 32: the same
#    multiply-adds for Q K^T and for the weighted sum of V. Only the split changes (and the number of
#    attention patterns the layer can use at once).
