"""The SentencePiece tokenizer against transformers' XLMRobertaTokenizer.

The test trains its own small unigram model, as XLM-R's was trained (NFKC
normalisation, "▁" for spaces); a copy of one such model and the reference's
ids for it are committed, so the comparison also holds without transformers.

transformers does not call the sentencepiece library: it converts the model to
its own Rust implementation, which differs from the library on text no model
should meet: control characters, runs of unknown characters (it fuses them into
one <unk>), stacked combining marks, and ties between equally likely cuts of
long repeated runs ("xxxx..."). The comparison therefore uses ordinary text in
many scripts, not the WordPiece test's adversarial corpus.
"""

import io
import shutil

import pytest

import tokenizer_corpus as corpus
from conftest import FIXTURES, load_fixture, need, report
from minisbert.tokenizers.sentencepiece import SentencePieceTokenizer

TEXTS = [t for t in corpus.EDGE_CASES if t.isprintable() and "xx" not in t and "\u0315" not in t
         and "\ufffd" not in t] + ["The quick brown fox jumps over the lazy dog.", "北京大学的地理位置",
                                    "a<s>b", "<mask> hi </s>", "  multiple   spaces  "]
PAIRS = [("A man plays.", "一个人在弹吉他。", None), ("word " * 40, "short one", 16)]


def train_model(folder):
    spm = need("sentencepiece")
    lines = [t for t in corpus.EDGE_CASES if t.strip() and "\x00" not in t] * 20
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, vocab_size=300,
                                   model_type="unigram", character_coverage=1.0,
                                   hard_vocab_limit=False, num_threads=1, minloglevel=2)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    return folder


def test_against_committed_reference():
    ref = load_fixture("sentencepiece_reference.json")
    tok = SentencePieceTokenizer.from_pretrained(FIXTURES / "spm")
    assert len(tok) == ref["vocab_size"]
    for row in ref["texts"]:
        assert tok.encode(row["text"]) == row["ids"], row["text"]
        assert tok.decode(row["ids"]) == row["decoded"], row["text"]
    for row in ref["pairs"]:
        assert tok.encode(row["text"], row["pair"], max_length=row["max_length"]) == row["ids"]
    report(f"sentencepiece: {len(ref['texts']) + len(ref['pairs'])} cases equal to stored XLMRobertaTokenizer ids")


def test_live_against_xlm_roberta_tokenizer(tmp_path):
    transformers = need("transformers")
    need("google.protobuf", "transformers needs protobuf to read SentencePiece models")
    folder = train_model(tmp_path / "spm")
    ref = transformers.XLMRobertaTokenizer.from_pretrained(folder)
    tok = SentencePieceTokenizer.from_pretrained(folder)
    assert len(tok) == len(ref)
    for text in TEXTS:
        ids = ref(text)["input_ids"]
        assert tok.encode(text) == ids, text
        assert tok.decode(ids) == ref.decode(ids, skip_special_tokens=True), text
    for a, b, max_length in PAIRS:
        kw = {"truncation": True, "max_length": max_length} if max_length else {}
        assert tok.encode(a, b, max_length=max_length) == ref(a, b, **kw)["input_ids"]
    report(f"sentencepiece: {len(TEXTS) + len(PAIRS)} cases equal to live XLMRobertaTokenizer")


def test_ids_follow_the_fairseq_convention():
    tok = SentencePieceTokenizer.from_pretrained(FIXTURES / "spm")
    assert [tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    assert tok.mask_token_id == tok.sp.get_piece_size() + 1
    piece = tok.sp.id_to_piece(10)
    assert tok.vocab[piece] == 11  # model piece i -> id i + 1
    batch = tok(["a", "b"], ["c", "d"])
    assert batch["token_type_ids"].sum() == 0


def test_folder_without_model_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="no SentencePiece"):
        SentencePieceTokenizer.from_pretrained(tmp_path)
    (tmp_path / "broken.model").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable SentencePiece model"):
        SentencePieceTokenizer.from_pretrained(tmp_path)


def make_fixture():
    """Called by tests/fixtures/make_fixtures.py."""
    from transformers import XLMRobertaTokenizer
    folder = FIXTURES / "spm"
    shutil.rmtree(folder, ignore_errors=True)
    train_model(folder)
    ref = XLMRobertaTokenizer.from_pretrained(folder)
    rows = [{"text": t, "ids": ref(t)["input_ids"],
             "decoded": ref.decode(ref(t)["input_ids"], skip_special_tokens=True)} for t in TEXTS]
    pairs = [{"text": a, "pair": b, "max_length": m,
              "ids": ref(a, b, **({"truncation": True, "max_length": m} if m else {}))["input_ids"]}
             for a, b, m in PAIRS]
    return {"reference": "transformers XLMRobertaTokenizer", "vocab_size": len(ref),
            "texts": rows, "pairs": pairs}
