"""Lesson 12, solutions.

`python lessons/run_lessons.py --solutions 12` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: the distillation objective
def distillation_loss(teacher_en, student_en, student_zh):
    """Each (batch, D): the teacher's embeddings of English sentences, the student's of the same sentences and of
    their Chinese translations. Returns the loss this lesson trains with (a scalar tensor)."""
    english = (student_en - teacher_en) ** 2                # (batch, D): the student keeps its English
    chinese = (student_zh - teacher_en) ** 2                # (batch, D): the translation lands on the English
    return (english.mean() + chinese.mean()) / 2            # the mean over both halves, as MSELoss over one list


# %% Wrong 1: only the Chinese half
def distillation_loss(teacher_en, student_en, student_zh):
    return ((student_zh - teacher_en) ** 2).mean()


# %% Wrong 1: only the English half
def distillation_loss(teacher_en, student_en, student_zh):
    return ((student_en - teacher_en) ** 2).mean()


# %% Wrong 1: the Chinese student compared with the English student, not with the teacher
def distillation_loss(teacher_en, student_en, student_zh):
    return (((student_en - teacher_en) ** 2).mean() + ((student_zh - student_en) ** 2).mean()) / 2


# %% Exercise 2: translation search both ways
def translation_accuracy(a, b):
    """a, b: (n, D) embeddings, row i of b translates row i of a. Returns the share of the 2n searches (rows of a
    among the rows of b, and rows of b among the rows of a) whose nearest row is the translation."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cosines = a @ b.T                                       # (n, n): row i of a against every row of b
    right = np.arange(len(a))
    return float(np.concatenate([cosines.argmax(1) == right, cosines.argmax(0) == right]).mean())
# multilingual-e5-small, trained on parallel text of about a hundred languages, finds 99.0 % of them (when this
# was written); the distilled student, taught by a few hundred course sentences, finds most of the Chinese ->
# English ones (the lesson's figure). Real parallel data (the shared-data cell) closes much of the gap.


# %% Wrong 2: one direction only (each row of a among the rows of b) [says: both]
def translation_accuracy(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(((a @ b.T).argmax(1) == np.arange(len(a))).mean())


# %% Wrong 2: the same direction counted twice
def translation_accuracy(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    right = (a @ b.T).argmax(1) == np.arange(len(a))
    return float(np.concatenate([right, right]).mean())


# %% Wrong 2: dot products without normalising: a longer row wins
def translation_accuracy(a, b):
    cosines = a @ b.T
    right = np.arange(len(a))
    return float(np.concatenate([cosines.argmax(1) == right, cosines.argmax(0) == right]).mean())


# %% Questions
# Measured when this was written with a smaller set-up than the lesson's: distilling on the 22 headline pairs of
# data/financial_headlines.csv for 10 epochs (fit(..., MSELoss(), epochs=10, batch_size=16, lr=5e-5,
# new_token_lr=...)), then comparing model.bert.embeddings.extra_word_embeddings before and after.
# 3. With one learning rate for all (5e-5), the new rows moved 0.0046 on average (the length of the change of a
#    row) against 0.239 with new_token_lr=3e-3, and the MSE to the teacher stayed higher (0.00267 against 0.00103).
#    The new rows all start at the same vector and only a large step separates them; the pretrained weights,
#    meanwhile, need the small one, or they forget what they know. Hence two learning rates.
# 4. Random rows (normal_(0, 0.02)) ended at an MSE of 0.00095, as good as the mean's 0.00103: with their own
#    learning rate the rows travel far from where they start, so the start hardly matters here. The mean's
#    advantage is before training: every new character then acts like an average word, not like noise.
# 5. After that distillation, extend with the characters of 500 stsb-zh training pairs and fit
#    pairs_to_examples(pairs, 5.0) with CosineSimilarityLoss() for one epoch (new_token_lr=1e-3): stsb-zh test
#    reached 55.5. `python benchmarks/train_results.py chinese` runs the full recipe; the README gives its result.
