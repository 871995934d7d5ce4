"""Lesson 10, solutions.

`python lessons/run_lessons.py --solutions 10` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: Spearman with tied ranks
def my_spearman(x, y):
    """x, y: sequences of numbers. Returns Spearman's rho (between -1 and 1)."""
    def average_ranks(values):
        values = np.asarray(values, dtype=float)
        ranks = np.empty(len(values))
        ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
        for value in np.unique(values):  # tied values share the mean of their ranks
            ranks[values == value] = ranks[values == value].mean()
        return ranks
    return np.corrcoef(average_ranks(x), average_ranks(y))[0, 1]


# %% Wrong 1: ties ranked in order of appearance, not given the mean of their ranks
def my_spearman(x, y):
    def ranks(values):
        return np.argsort(np.argsort(values, kind="stable"), kind="stable") + 1.0
    return np.corrcoef(ranks(x), ranks(y))[0, 1]


# %% Wrong 1: Pearson's r of the values themselves
def my_spearman(x, y):
    return np.corrcoef(np.asarray(x, dtype=float), np.asarray(y, dtype=float))[0, 1]


# %% Wrong 1: the library's spearman [says: written out]
def my_spearman(x, y):
    return spearman(x, y)


# %% Exercise 2: MRR@10 by hand
def mrr_at_10(model, queries, corpus, relevant):
    """queries, corpus: lists of rows of data/faq.csv; relevant[i]: the indices of corpus entries relevant to query i."""
    q = model.encode([r["text"] for r in queries])      # (Q, D), unit vectors
    c = model.encode([r["text"] for r in corpus])       # (C, D)
    total = 0.0
    for i, scores in enumerate(q @ c.T):                # cosines of query i with every corpus entry
        top = np.argsort(-scores, kind="stable")[:10]
        total += next((1 / (r + 1) for r, j in enumerate(top) if j in relevant[i]), 0.0)
    return 100 * total / len(queries)                   # x 100, as the evaluator reports it


# %% Wrong 2: the corpus ranked by ascending cosine
def mrr_at_10(model, queries, corpus, relevant):
    q = model.encode([r["text"] for r in queries])
    c = model.encode([r["text"] for r in corpus])
    total = 0.0
    for i, scores in enumerate(q @ c.T):
        top = np.argsort(scores, kind="stable")[:10]
        total += next((1 / (r + 1) for r, j in enumerate(top) if j in relevant[i]), 0.0)
    return 100 * total / len(queries)


# %% Wrong 2: the mean reciprocal rank as a fraction, not x 100
def mrr_at_10(model, queries, corpus, relevant):
    q = model.encode([r["text"] for r in queries])
    c = model.encode([r["text"] for r in corpus])
    total = 0.0
    for i, scores in enumerate(q @ c.T):
        top = np.argsort(-scores, kind="stable")[:10]
        total += next((1 / (r + 1) for r, j in enumerate(top) if j in relevant[i]), 0.0)
    return total / len(queries)


# %% Wrong 2: the library's retrieval metrics [says: written out]
def mrr_at_10(model, queries, corpus, relevant):
    return RetrievalEvaluator([r["text"] for r in queries], [r["text"] for r in corpus], relevant)(model)["mrr@10"]


# %% Questions
# 3. English headlines only (the notebook's imports and model):
#        heads = [h for h in csv.DictReader(open("data/financial_headlines.csv", encoding="utf-8")) if h["lang"] == "en"]
#        plot_embedding_map(model.encode([h["headline"] for h in heads]), [h["headline"] for h in heads],
#                           [h["sentiment"] for h in heads], title="English headlines")
#    Look whether positive and negative headlines separate along either direction: on the lesson's map they are
#    interleaved, because the model was trained for topical similarity, not sentiment; two directions of 384 keep
#    little of what a classifier can use. Lesson 11 trains a classifier on the whole embeddings instead.
