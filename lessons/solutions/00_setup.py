"""Lesson 00, solutions.

`python lessons/run_lessons.py --solutions 00` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: a matrix product with loops
def matmul_loops(a, b):
    """a: (n, m), b: (m, p). Returns the (n, p) product as a tensor, computed with Python loops."""
    n, m = a.shape
    p = b.shape[1]
    out = torch.zeros(n, p, dtype=a.dtype)
    for i in range(n):
        for j in range(p):
            for k in range(m):
                out[i, j] += a[i, k] * b[k, j]
    return out


# %% Wrong 1: the sum is not reset for each entry (one running total)
def matmul_loops(a, b):
    n, m = a.shape
    p = b.shape[1]
    out = torch.zeros(n, p, dtype=a.dtype)
    total = 0.0
    for i in range(n):
        for j in range(p):
            for k in range(m):
                total += a[i, k] * b[k, j]
            out[i, j] = total
    return out


# %% Wrong 1: the last term of each sum left out (range(m - 1))
def matmul_loops(a, b):
    n, m = a.shape
    p = b.shape[1]
    out = torch.zeros(n, p, dtype=a.dtype)
    for i in range(n):
        for j in range(p):
            for k in range(m - 1):
                out[i, j] += a[i, k] * b[k, j]
    return out


# %% Wrong 1: the one-call answer, a @ b [says: written out]
def matmul_loops(a, b):
    return a @ b


# %% Questions
# 2. MINISBERT_DEVICE=cuda python lessons/run_lessons.py: the largest differences change in the last digits
#    (another order of summation, other kernels) and stay within the tolerances.
# 3. check_close("setup.product", a @ b[:, :1]) names the shape (3, 1) against (3, 2);
#    check_close("setup.product", (a @ b).index_put_((torch.tensor([0]), torch.tensor([0])), torch.tensor(float("nan"))))
#    names the non-finite value and its index.
