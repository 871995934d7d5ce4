"""Lesson 01, exercises."""
from minisbert import WordPieceTokenizer
from minisbert.course.check import check_that, reference

tokenizer = WordPieceTokenizer.from_pretrained("all-MiniLM-L6-v2")


# 1. Greedy longest-match-first WordPiece for one (already basic-tokenized) word.
def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:  # shrink the candidate from the right until it is in the vocabulary
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:  # not even one character matches: the whole word is unknown
            return [unk]
        pieces.append(piece)
        start = end
    return pieces


words = [w for text in reference("sentences.en") for w in tokenizer.basic_tokenize(text)]
check_that("solution.wordpiece", all(wordpiece(w, tokenizer.vocab) == tokenizer.tokenize(w) for w in words),
           f"wordpiece() agrees with the tokenizer on all {len(words)} words")

# 2. The characters of the seed's first sentence that are [UNK].
text = reference("sentences.zh")[0]
print("[UNK] characters:", [c for c in text if tokenizer.tokenize(c) == ["[UNK]"]])

# 3. The model is uncased: basic tokenization lower-cases before WordPiece.
print(tokenizer.encode("HELLO"), tokenizer.encode("hello"), tokenizer.basic_tokenize("HELLO"))
