"""Encoding a corpus file, in one process or several: the rows in input order, nothing half-written."""

import numpy as np
import pytest

from conftest import FIXTURES
from minisbert import SentenceBert
from minisbert.app.corpus import encode_file

TINY = str(FIXTURES / "tiny_sbert")
LINES = [f"the {w} runs in the park {i}" for i, w in enumerate(["dog", "cat", "man", "woman"] * 13)]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(LINES[:20]) + "\n\n   \n" + "\n".join(LINES[20:]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_are_in_input_order_for_any_number_of_workers(corpus, tmp_path, workers):
    out = tmp_path / f"out{workers}.npy"
    n, dimension = encode_file(TINY, corpus, out, num_workers=workers, batch_size=5, chunk_size=7,
                               show_progress=False)
    expected = SentenceBert.from_pretrained(TINY, device="cpu").encode(LINES)
    assert (n, dimension) == expected.shape
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)
    assert not list(tmp_path.glob("*.partial"))


def test_bad_input_leaves_no_file(tmp_path):
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(ValueError, match="holds no sentences"):
        encode_file(TINY, tmp_path / "empty.txt", tmp_path / "out.npy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        encode_file(TINY, tmp_path / "absent.txt", tmp_path / "out.npy")
    with pytest.raises(ValueError, match="num_workers=0"):
        encode_file(TINY, tmp_path / "empty.txt", tmp_path / "out.npy", num_workers=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


def test_a_failure_while_encoding_removes_the_partial_array(corpus, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("out of memory")
        yield
    monkeypatch.setattr(SentenceBert, "encode_iter", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        encode_file(TINY, corpus, tmp_path / "out.npy", show_progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]
