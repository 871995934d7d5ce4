"""Lesson 01, solutions.

`python lessons/run_lessons.py --solutions 01` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: WordPiece, longest match first
def wordpiece(word, vocab):
    """word: one basic-tokenized word; vocab: the vocabulary (a dict or set). Returns its pieces, a list of str."""
    if len(word) > 100:  # BERT gives up on very long words
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:  # shrink the candidate from the right until it is in the vocabulary
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:  # not even one character matches: the whole word is unknown
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


# %% Wrong 1: no [UNK] case: an unknown character is skipped and the rest kept [says: [UNK]]
def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:  # skip the character nothing matches
            start += 1
            continue
        pieces.append(piece)
        start = end
    return pieces


# %% Wrong 1: an unknown character becomes [UNK] alone, the rest of the word kept [says: [UNK]]
def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            pieces.append("[UNK]")
            start += 1
            continue
        pieces.append(piece)
        start = end
    return pieces


# %% Wrong 1: no ## on the pieces that continue a word
def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and word[start:end] not in vocab and "##" + word[start:end] not in vocab:
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(word[start:end])
        start = end
    return pieces


# %% Wrong 1: shortest match first
def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = start + 1
        while end <= len(word):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end += 1
        if end > len(word):
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


# %% Wrong 1: the tokenizer's own answer, tokenizer.tokenize [says: written out]
def wordpiece(word, vocab):
    return tokenizer.tokenize(word)


# %% Questions
# 2. [c for c in chinese[0] if tokenizer.tokenize(c) == ["[UNK]"]]: most of the sentence's characters.
# 3. tokenizer.encode("HELLO") == tokenizer.encode("hello"): all-MiniLM-L6-v2 is uncased, and basic
#    tokenization lower-cases (and strips accents) before WordPiece looks anything up
#    (tokenizer.basic_tokenize("HELLO") == ["hello"]).
