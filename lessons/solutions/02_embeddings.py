"""Lesson 02, solutions.

`python lessons/run_lessons.py --solutions 02` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: LayerNorm with tensor operations
def layer_norm(x, gamma, beta, eps=1e-12):
    """x: (..., H); gamma, beta: (H,). Returns a tensor shaped like x."""
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased: divide by H
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta  # eps inside the root


# %% Wrong 1: the unbiased variance (divide by H - 1)
def layer_norm(x, gamma, beta, eps=1e-12):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True)  # unbiased by default
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


# %% Wrong 1: normalised over the whole tensor, not over each token
def layer_norm(x, gamma, beta, eps=1e-12):
    mu = x.mean()
    var = ((x - mu) ** 2).mean()
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


# %% Wrong 1: gamma and beta left out
def layer_norm(x, gamma, beta, eps=1e-12):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)


# %% Wrong 1: the one-call answer, F.layer_norm [says: written out]
def layer_norm(x, gamma, beta, eps=1e-12):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], gamma, beta, eps)


# %% Questions
# 2. emb.word_embeddings.weight[0].norm() is not 0: padding_idx only zeroes the row when a model is created
#    (and keeps its gradient at zero); a checkpoint holds whatever row was saved. It does not matter: padding
#    positions are masked out of attention (lesson 03) and of pooling (lesson 07).
# 3. S = torch.nn.functional.normalize(sinusoidal(512, 384), dim=-1); k = 8
#    [round((S[p] @ S[p + k]).item(), 4) for p in (0, 50, 200, 400)]   # the same number four times
#    For one frequency w, sin(pw) sin((p+k)w) + cos(pw) cos((p+k)w) = cos(kw): the p cancels. The dot product
#    of two rows is the sum of cos(k w_i) over the H/2 frequencies, and every row has length sqrt(H/2), so the
#    cosine depends only on the distance k. The learned rows obey no such rule: each was trained on its own
#    (for all-MiniLM-L6-v2 the cosine of neighbours 0 and 1 is far below that of 1 and 2).
