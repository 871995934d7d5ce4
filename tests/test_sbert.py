"""SentenceBert: embeddings equal to sentence-transformers', and models that travel both ways."""

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import FIXTURES, need, report
from minisbert import ConfigError, SentenceBert

sys.path.insert(0, str(FIXTURES))
from make_fixtures import SBERT_SENTENCES, TINY_SENTENCES  # noqa: E402

MIN_COSINE = 0.99999


def cosines(a, b):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


@pytest.fixture(scope="module")
def model():
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")


@pytest.fixture(scope="module")
def st_model(model_dir):
    st = need("sentence_transformers", "the committed fixtures cover the same cases")
    return st.SentenceTransformer(str(model_dir), device="cpu")


def test_embeddings_equal_stored_sentence_transformers(model):
    ref = load_file(str(FIXTURES / "sbert_reference.safetensors"))["embeddings"]
    cos = cosines(model.encode(SBERT_SENTENCES), ref)
    assert cos.min() >= MIN_COSINE, cos
    report(f"sbert: {len(SBERT_SENTENCES)} sentences vs stored sentence-transformers, min cosine {cos.min():.7f}")


def test_embeddings_equal_live_sentence_transformers(model, st_model):
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from common import mixed_length_sentences
    sentences = SBERT_SENTENCES + mixed_length_sentences(200, seed=3)
    cos = cosines(model.encode(sentences), st_model.encode(sentences))
    assert cos.min() >= MIN_COSINE
    report(f"sbert: {len(sentences)} sentences vs live sentence-transformers, min cosine {cos.min():.7f}")


def test_shapes_types_and_normalisation(model):
    one = model.encode("A man is playing a guitar.")
    many = model.encode(["A man is playing a guitar.", "Hi"])
    assert one.shape == (384,) and many.shape == (2, 384) and many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-6)
    raw = model.encode(["A man is playing a guitar.", "Hi"], normalize=False, convert_to="torch")
    assert isinstance(raw, torch.Tensor) and raw.norm(dim=1).min() > 1.5  # mean vectors are longer
    np.testing.assert_allclose(torch.nn.functional.normalize(raw).numpy(), many, atol=1e-6)
    assert model.encode([]).shape == (0, 384)
    assert not model.training and not model.bert.training  # encode leaves dropout off


def test_batch_size_and_order_do_not_matter(model):
    ref = model.encode(SBERT_SENTENCES, batch_size=32)
    np.testing.assert_allclose(model.encode(SBERT_SENTENCES, batch_size=1), ref, atol=1e-5)
    np.testing.assert_allclose(model.encode(SBERT_SENTENCES[::-1], batch_size=3)[::-1], ref, atol=1e-5)


def test_truncation_warns_once_with_the_count(model):
    texts = ["word " * 300, "short", "long " * 1000]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = model.encode(texts)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "2 of 3 texts were longer than max_seq_length=256" in messages[0]
    np.testing.assert_allclose(emb[0], model.encode("word " * 254), atol=1e-5)  # 254 + [CLS] + [SEP]


def test_progress_bar(model, capsys):
    model.encode(["a", "b"], show_progress=True)
    assert "Encoding" in capsys.readouterr().err
    model.encode(["a", "b"])
    assert "Encoding" not in capsys.readouterr().err  # short inputs stay quiet


def test_bad_input_names_the_item(model):
    with pytest.raises(TypeError, match=r"sentences\[2\] must be a str, not NoneType"):
        model.encode(["a", "b", None])
    with pytest.raises(TypeError, match="not int"):
        model.encode(5)
    with pytest.raises(ValueError, match=r"sentences\[1\] holds a lone surrogate '\\ud800' at position 2"):
        model.encode(["fine", "ab\ud800"])
    with pytest.raises(ValueError, match="convert_to='list'"):
        model.encode("a", convert_to="list")


def test_similarity_of_texts(model):
    sim = model.similarity(["A man is playing a guitar.", "A man plays the guitar."], ["A cat sleeps."])
    assert sim.shape == (2, 1) and sim.max() < 0.5
    pair = model.similarity("A man is playing a guitar.", "A man plays the guitar.")
    assert pair.item() > 0.9


def test_save_and_load_round_trip(model, tmp_path):
    model.save(tmp_path / "saved")
    again = SentenceBert.from_pretrained(tmp_path / "saved", device="cpu")
    np.testing.assert_array_equal(again.encode(SBERT_SENTENCES), model.encode(SBERT_SENTENCES))
    assert again.max_seq_length == 256 and again.normalize and again.pooling.modes == ["mean"]
    model.save(tmp_path / "saved")  # saving over a model replaces it
    assert not list(tmp_path.glob(".saved*")), "temporary folders left behind"


def test_saved_model_loads_in_sentence_transformers_and_transformers(model, st_model, tmp_path):
    transformers = need("transformers")
    model.save(tmp_path / "saved")
    st = type(st_model)(str(tmp_path / "saved"), device="cpu")
    assert cosines(st.encode(SBERT_SENTENCES), model.encode(SBERT_SENTENCES)).min() >= MIN_COSINE
    bert = transformers.BertModel.from_pretrained(tmp_path / "saved").eval()
    batch = model.tokenizer(SBERT_SENTENCES)
    with torch.no_grad():
        theirs = bert(**batch).last_hidden_state
        ours = model.bert(**batch).last_hidden_state
    keep = batch["attention_mask"].bool()
    assert (theirs - ours)[keep].abs().max() <= 1e-5


def test_model_saved_by_sentence_transformers_loads(tmp_path):
    # tests/fixtures/tiny_sbert was saved by sentence-transformers 6 (new config forms,
    # only tokenizer.json, [cls, max] pooling, no normalisation).
    model = SentenceBert.from_pretrained(FIXTURES / "tiny_sbert", device="cpu")
    assert model.pooling.modes == ["cls", "max"] and not model.normalize and model.max_seq_length == 32
    ref = load_file(str(FIXTURES / "tiny_sbert_reference.safetensors"))["embeddings"]
    assert (model.encode(TINY_SENTENCES, convert_to="torch") - ref).abs().max() <= 1e-5


def test_unsupported_module_and_unsafe_save_target(model, tmp_path):
    folder = tmp_path / "dense"
    shutil.copytree(FIXTURES / "tiny_sbert", folder)
    modules = folder / "modules.json"
    modules.write_text(modules.read_text().replace("pooling.Pooling", "dense.Dense"))
    with pytest.raises(ConfigError, match="lists a .*Dense module"):
        SentenceBert.from_pretrained(folder)
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not part of a model folder"):
        model.save(mine)
    assert (mine / "notes.txt").read_text() == "precious"


def test_a_model_folder_with_a_foreign_file_is_not_replaced(model, tmp_path):
    """A stray config.json once made a project folder 'look like a model', and the rest of it was deleted."""
    project = tmp_path / "project"
    model.save(project)  # a real model folder ...
    (project / "config.json").write_text("{}")
    (project / "data").mkdir()
    (project / "data" / "train.csv").write_text("mine")  # ... that now also holds something of yours
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
    with pytest.raises(FileExistsError, match=r"not part of a model folder \(data/, data/train.csv\)"):
        model.save(project)
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == before
    assert (project / "config.json").read_text() == "{}" and (project / "data" / "train.csv").read_text() == "mine"
    model.save(tmp_path / "again")
    model.save(tmp_path / "again")  # a folder holding only a model is replaced
    assert SentenceBert.from_pretrained(tmp_path / "again", device="cpu").dimension == model.dimension


def test_a_save_never_replaces_a_file_it_did_not_write(model, tmp_path):
    """A README.md of yours (or a tokenizer.json another library saved) beside the model: the save is refused."""
    for name, text in [("README.md", "# my model\nnotes"), ("tokenizer.json", "{}")]:
        folder = tmp_path / name
        model.save(folder)
        (folder / name).write_text(text)
        with pytest.raises(FileExistsError, match=f"not part of a model folder \\({name}\\)"):
            model.save(folder)
        assert (folder / name).read_text() == text


def test_bf16_encoding_is_close_to_float32(model):
    from minisbert.fast.precision import bf16_supported
    if not bf16_supported(model.device):
        pytest.skip("this processor has no bf16 support (the fallback is tested in test_device.py)")
    fp32 = model.encode(SBERT_SENTENCES)
    bf16 = model.encode(SBERT_SENTENCES, precision="bf16")
    assert bf16.dtype == np.float32
    assert cosines(bf16, fp32).min() > 0.999
