"""The WordPiece tokenizer against transformers' fast BertTokenizer, id for id."""

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokenizer_corpus as corpus
from conftest import load_fixture, need, report
from minisbert import WordPieceTokenizer, resolve_model


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))


@pytest.fixture(scope="module")
def cased(tok):
    return WordPieceTokenizer(tok.vocab, do_lower_case=False)


@pytest.fixture(scope="module")
def fast(transformers, model_dir):
    return transformers.AutoTokenizer.from_pretrained(model_dir)


# -- against the committed fixture (no reference library needed) -------------
def test_fixture_ids_and_decode(tok):
    rows = load_fixture("tokenizer_reference.json")["uncased"]
    for r in rows:
        assert tok.encode(r["text"]) == r["ids"], r["text"]
        assert tok.decode(r["ids"]) == r["decoded"], r["text"]
    report(f"tokenizer: {len(rows)} texts equal to the stored fast-BertTokenizer ids and decodes")


def test_fixture_pairs_with_truncation(tok):
    rows = load_fixture("tokenizer_reference.json")["pairs"]
    for r in rows:
        batch = tok(r["text"], r["pair"], max_length=r["max_length"])
        assert batch["input_ids"][0].tolist() == r["ids"], (r["text"][:20], r["max_length"])
        assert batch["token_type_ids"][0].tolist() == r["token_type_ids"]
    report(f"tokenizer: {len(rows)} sentence pairs equal, longest-first truncation included")


def test_fixture_cased_vocabulary(cased):
    rows = load_fixture("tokenizer_reference.json")["cased"]
    for r in rows:
        assert cased.encode(r["text"]) == r["ids"], r["text"]


# -- live against transformers --------------------------------------------------
def test_live_edge_cases_and_random_text(tok, fast):
    texts = corpus.EDGE_CASES + corpus.random_texts(3000, seed=1)
    for text in texts:
        ids = fast(text)["input_ids"]
        assert tok.encode(text) == ids, text
        assert tok.decode(ids) == fast.decode(ids, skip_special_tokens=True), text
    report(f"tokenizer: {len(texts)} texts equal to live transformers {fast.__class__.__name__}")


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_live_hypothesis_unicode(tok, fast, text):
    ids = fast(text)["input_ids"]
    assert tok.encode(text) == ids
    assert tok.decode(tok.encode(text)) == fast.decode(ids, skip_special_tokens=True)


def test_live_pairs(tok, fast):
    for a, b, max_length in corpus.PAIR_CASES:
        kw = {"truncation": True, "max_length": max_length} if max_length else {}
        assert tok.encode(a, b, max_length=max_length) == fast(a, b, **kw)["input_ids"]


# -- where the fast tokenizer departs from the older pure-Python one -----------
# We follow the fast one (what the checkpoints use); each case is named here.
DIVERGENCES = {
    "unassigned code point kept": ("x\u0378y", ["x\u0378y"]),
    "final sigma lower-cased one character at a time": ("ΟΔΟΣ", ["οδοσ"]),
    "U+061D, punctuation since Unicode 14, not split": ("a\u061db", ["a\u061db"]),
}


@pytest.mark.parametrize("name", DIVERGENCES)
def test_divergence_from_legacy_tokenizer(tok, name, model_dir):
    text, words = DIVERGENCES[name]
    assert tok.basic_tokenize(text) == words
    transformers = need("transformers")
    legacy = transformers.BertTokenizerLegacy(vocab_file=str(model_dir / "vocab.txt"))
    fast = transformers.AutoTokenizer.from_pretrained(model_dir)
    assert tok.encode(text) == fast(text)["input_ids"]
    assert legacy(text)["input_ids"] != fast(text)["input_ids"], "the legacy tokenizer now agrees"


def test_python_unicode_would_split_u061d():
    # Why the table is needed: this Python's own data calls U+061D punctuation.
    assert unicodedata.category("\u061d") == "Po"


def test_other_reference_quirks(tok):
    assert tok.basic_tokenize("a\u2028b\u2029c") == ["a", "b", "c"]  # line separators are whitespace
    assert tok.basic_tokenize("a\U0002b820b") == ["a\U0002b820b"]  # outside its CJK table
    assert tok.basic_tokenize("a\U0002b920b") == ["a", "\U0002b920", "b"]
    assert tok.basic_tokenize("a\ufffdb\x00c") == ["abc"]  # removed by the clean-up
    assert tok.tokenize("say [CLS] and [cls]") == ["say", "[CLS]", "and", "[", "cl", "##s", "]"]


# -- the algorithm on a vocabulary small enough to check by hand ---------------
@pytest.fixture
def tiny():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "una", "##ffa", "##ble", "un", "##aff",
             "run", "##ning", "##n", "!", "x"]
    return WordPieceTokenizer(vocab)


def test_greedy_longest_match_first(tiny):
    assert tiny.tokenize("unaffable") == ["una", "##ffa", "##ble"]  # not un ##aff ...
    assert tiny.tokenize("Running!") == ["run", "##ning", "!"]
    assert tiny.tokenize("runx") == ["[UNK]"]  # one unmatched piece: the whole word is [UNK]
    assert tiny.tokenize("x" * 100) == ["[UNK]"]  # no piece "##x": unmatched
    assert tiny.tokenize("run" + "n" * 97) == ["run"] + ["##n"] * 97  # exactly 100 characters
    assert tiny.tokenize("run" + "n" * 98) == ["[UNK]"]  # 101 characters: too long
    assert tiny.encode("run", "x") == [2, 10, 3, 14, 3]


def test_empty_second_text_is_still_a_pair(tok):
    # transformers drops a pair that is "" (it tests the pair for truth); we keep
    # BERT's template, so the empty second segment still gets its [SEP].
    assert tok.encode("a", "") == [tok.cls_token_id, 1037, tok.sep_token_id, tok.sep_token_id]


def test_batch_padding_and_masks(tok):
    batch = tok(["a b c", "a"], ["d", "e f"])
    assert batch["input_ids"].shape == (2, 7)
    assert batch["attention_mask"].tolist() == [[1] * 7, [1] * 6 + [0]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 0]]
    assert batch["input_ids"][1, -1].item() == tok.pad_token_id
    fixed = tok(["a"], max_length=8, padding="max_length")
    assert fixed["input_ids"].shape == (1, 8)


def test_max_length_truncates_single_text(tok):
    assert len(tok.encode("word " * 50, max_length=10)) == 10
    assert tok.encode("word " * 50, max_length=10)[-1] == tok.sep_token_id


def test_bad_input_is_named(tok):
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, not int"):
        tok(["fine", 3])
    with pytest.raises(TypeError, match="decode bytes first"):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match="padding=True"):
        tok(["a", "a b c"], padding=False)
    with pytest.raises(ValueError, match="2 texts but 1 text_pairs"):
        tok(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="at least 3"):
        tok.encode("a", "b", max_length=2)
    with pytest.raises(ValueError, match="outside this vocabulary"):
        tok.decode([10**6])


def test_vocab_without_special_tokens_is_refused():
    with pytest.raises(ValueError, match=r"lacks the special tokens \['\[MASK\]'\]"):
        WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
