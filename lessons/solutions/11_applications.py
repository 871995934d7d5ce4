"""Lesson 11, solutions.

`python lessons/run_lessons.py --solutions 11` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: a nearest-centroid classifier
def nearest_centroid(x_train, y_train, x_test):
    """x_train: (n, D) and x_test: (m, D) embeddings; y_train: (n,) class ids. Returns the (m,) predicted ids."""
    classes = np.unique(y_train)
    centroids = np.stack([x_train[y_train == c].mean(0) for c in classes])     # (C, D)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)              # cosine = dot with unit vectors
    x_test = x_test / np.linalg.norm(x_test, axis=1, keepdims=True)
    return classes[(x_test @ centroids.T).argmax(1)]                             # (m,)
# Cross-validated, it lands a little below the logistic regression (74.5 % against 78.6 % when this was written),
# with intervals that overlap almost entirely: on 98 headlines the trained classifier cannot be said to add much.
# With multilingual-e5-small, whose vectors all sit close together, a learned weighting of the directions matters
# more.


# %% Wrong 1: each class's first example as its centroid, not the mean
def nearest_centroid(x_train, y_train, x_test):
    classes = np.unique(y_train)
    centroids = np.stack([x_train[y_train == c][0] for c in classes])
    return classes[(x_test @ centroids.T).argmax(1)]


# %% Wrong 1: the farthest centroid (argmin of the cosine)
def nearest_centroid(x_train, y_train, x_test):
    classes = np.unique(y_train)
    centroids = np.stack([x_train[y_train == c].mean(0) for c in classes])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return classes[(x_test @ centroids.T).argmin(1)]


# %% Exercise 2: recommend across languages
def recommend(embeddings, liked, candidates, k=3):
    """embeddings: (n, D); liked, candidates: lists of row numbers. Returns the k candidate rows closest to the
    mean of the liked rows, closest first."""
    profile = embeddings[liked].mean(0)                                          # (D,)
    profile = profile / np.linalg.norm(profile)
    rows = [i for i in candidates if i not in liked]
    unit = embeddings[rows] / np.linalg.norm(embeddings[rows], axis=1, keepdims=True)
    return [rows[j] for j in np.argsort(-(unit @ profile))[:k]]


# %% Wrong 2: the liked items recommended back [says: never the liked]
def recommend(embeddings, liked, candidates, k=3):
    profile = embeddings[liked].mean(0)
    unit = embeddings[candidates] / np.linalg.norm(embeddings[candidates], axis=1, keepdims=True)
    return [candidates[j] for j in np.argsort(-(unit @ profile))[:k]]


# %% Wrong 2: the first liked row as the profile, not the mean of them
def recommend(embeddings, liked, candidates, k=3):
    profile = embeddings[liked[0]]
    rows = [i for i in candidates if i not in liked]
    unit = embeddings[rows] / np.linalg.norm(embeddings[rows], axis=1, keepdims=True)
    return [rows[j] for j in np.argsort(-(unit @ profile))[:k]]


# %% Wrong 2: the farthest first
def recommend(embeddings, liked, candidates, k=3):
    profile = embeddings[liked].mean(0)
    rows = [i for i in candidates if i not in liked]
    unit = embeddings[rows] / np.linalg.norm(embeddings[rows], axis=1, keepdims=True)
    return [rows[j] for j in np.argsort(unit @ profile)[:k]]


# %% Questions
# 3. english_tuned = SentenceBert.from_pretrained("all-MiniLM-L6-v2"), then section 1's fit with the English pairs
#    (q["lang"] == "en", the FAQ question of the same faq_id and language), and report matched(english_tuned, "en")
#    and bootstrap_interval(np.mean, after - before["en"]). When this was written: 95.0 % -> 96.7 %, gain interval
#    [0.0, 5.0]. Starting at 57 of 60, at most three questions can be gained; the interval reaches 0, so there is
#    nothing to claim.
# 4. recommend(titles, [12], [i for i in range(len(articles)) if i != 12]) with each model's titles.
#    all-MiniLM-L6-v2 sees a Chinese title of [UNK]s and returns other Chinese titles whatever their topic (cooking,
#    cooking, tech). multilingual-e5-small also returns Chinese titles first (finance, travel, tech): the language of
#    a text still pulls on a multilingual embedding, as strongly here as the topic. A cross-language recommender
#    therefore searches each language's articles separately (exercise 2), or the translations.
