"""Lesson 08, solutions.

`python lessons/run_lessons.py --solutions 08` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: cosine similarity as one matrix product
def similarity_matrix(embeddings):
    """embeddings: (n, D), a numpy array or a tensor. Returns the (n, n) matrix of cosine similarities."""
    e = np.asarray(embeddings, dtype=np.float64)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)   # unit rows
    return e @ e.T


# %% Wrong 1: the dot product without normalising: right only for unit vectors [says: scale]
def similarity_matrix(embeddings):
    e = np.asarray(embeddings, dtype=np.float64)
    return e @ e.T


# %% Wrong 1: the columns normalised instead of the rows
def similarity_matrix(embeddings):
    e = np.asarray(embeddings, dtype=np.float64)
    e = e / np.linalg.norm(e, axis=0, keepdims=True)
    return e @ e.T


# %% Wrong 1: the library's cos_sim [says: written out]
def similarity_matrix(embeddings):
    return cos_sim(embeddings, embeddings)


# %% Questions
# 2. f = model.encode([r["text"] for r in faq if r["lang"] == "en"]); sim = f @ f.T with the diagonal set to -1;
#    the argmax is the closest pair. Two FAQ entries that close compete for the same user questions: a search
#    may return the neighbour, so such entries are worth merging or rewording.
# 3. semantic_search(model.encode([u["text"] for u in english]), faq_emb, top_k=3), then count the user
#    questions whose FAQ is among the three hits.
