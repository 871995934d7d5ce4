"""Faults a learner will meet: odd input, a stream too long for memory, a damaged or mismatched
model folder, a save or a training run killed half-way. Each gets correct behaviour or a message
that names the problem. The README's robustness table lists these tests and the others like them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from minisbert import CheckpointError, SentenceBert

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def tiny():
    return SentenceBert.from_pretrained(FIXTURES / "tiny_sbert", device="cpu")


@pytest.fixture(scope="module")
def model():
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")


# -- input --------------------------------------------------------------------------------------

def test_whitespace_only_embeds_like_the_empty_string(model):
    """sentence-transformers embeds "" as [CLS] [SEP] (the fixture compares that); whitespace is the same."""
    empty, blank = model.encode(["", " \t\n\u3000 "])
    np.testing.assert_allclose(blank, empty, atol=1e-6)
    assert np.isfinite(empty).all() and abs(np.linalg.norm(empty) - 1) < 1e-5


def test_bytes_are_refused_with_the_fix(model):
    with pytest.raises(TypeError, match=r"sentences\[1\] must be a str, not bytes \(decode bytes first"):
        model.encode(["fine", b"caf\xc3\xa9"])
    with pytest.raises(TypeError, match="not bytes"):
        model.encode(b"whole")


sentence = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(sentence, min_size=1, max_size=12), batch_size=st.integers(1, 12), seed=st.integers(0, 99))
def test_encode_is_invariant_to_batch_size_and_order(tiny, texts, batch_size, seed):
    reference = tiny.encode(texts, batch_size=len(texts))
    order = np.random.default_rng(seed).permutation(len(texts))
    shuffled = tiny.encode([texts[i] for i in order], batch_size=batch_size)
    np.testing.assert_allclose(shuffled, reference[order], atol=1e-5)


# -- streams --------------------------------------------------------------------------------------

def test_encode_iter_equals_encode_and_names_bad_items_by_their_stream_index(tiny):
    texts = [f"a man plays guitar {i}" for i in range(23)]
    chunks = list(tiny.encode_iter(iter(texts), batch_size=4, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 3]
    np.testing.assert_allclose(np.concatenate(chunks), tiny.encode(texts), atol=1e-6)
    with pytest.raises(TypeError, match=r"sentences\[12\] must be a str, not NoneType"):
        list(tiny.encode_iter(texts[:12] + [None], chunk_size=5))
    with pytest.raises(TypeError, match="use encode for one string"):
        next(tiny.encode_iter("one string"))


STREAM = textwrap.dedent("""
    import resource, sys
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained(sys.argv[1], device="cpu")
    n, total = int(sys.argv[2]), 0
    # batches of 512: the claim is about the stream, and 31,000 batches of 32 spend minutes on per-call overhead
    for chunk in model.encode_iter((f"the dog {i % 97} runs in the park" for i in range(n)), batch_size=512,
                                   chunk_size=2048):
        total += len(chunk)
    assert total == n
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
""")


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory is read from Linux's ru_maxrss")
def test_a_million_sentences_stream_in_bounded_memory():
    """Peak memory for 1,000,000 sentences is that of 20,000: the stream is never held whole."""
    def peak_mib(n):
        out = subprocess.run([sys.executable, "-c", STREAM, str(FIXTURES / "tiny_sbert"), str(n)],
                             capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1]) / 1024
    small, large = peak_mib(20_000), peak_mib(1_000_000)
    from conftest import report
    report(f"robustness: peak memory streaming 20,000 sentences {small:.0f} MiB, 1,000,000 sentences {large:.0f} MiB")
    assert large < small + 16, (small, large)


def test_cli_encode_streams_into_the_array_file(tmp_path):
    lines = [f"the cat {i} sits on the mat" for i in range(50)]
    (tmp_path / "in.txt").write_text("\n".join(lines[:25]) + "\n\n  \n" + "\n".join(lines[25:]) + "\n")
    from minisbert.app.cli import main
    assert main(["encode", "--model", str(FIXTURES / "tiny_sbert"), "--input", str(tmp_path / "in.txt"),
                 "--output", str(tmp_path / "out.npy"), "--batch-size", "7"]) == 0
    tiny = SentenceBert.from_pretrained(FIXTURES / "tiny_sbert", device="cpu")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), tiny.encode(lines), atol=1e-6)
    assert not list(tmp_path.glob("*.partial"))


# -- model folders --------------------------------------------------------------------------------

def test_a_vocabulary_larger_than_the_embedding_matrix_is_refused(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(FIXTURES / "tiny_sbert", folder)
    tok = json.loads((folder / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    for word in ("extraone", "extratwo"):
        vocab[word] = max(vocab.values()) + 1
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    tokens = max(vocab.values()) + 1  # ids run 0 .. max; the fixture's vocabulary has a duplicate
    with pytest.raises(CheckpointError, match=rf"has {tokens} tokens but the embedding matrix of its "
                                              rf"weights has {tokens - 2} rows"):
        SentenceBert.from_pretrained(folder, device="cpu")


def test_a_save_that_fails_half_way_leaves_the_previous_model(tiny, tmp_path, monkeypatch):
    target = tmp_path / "model"
    tiny.save(target)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    expected = tiny.encode(["a dog runs"])

    def crash(self, *args, **kwargs):  # the disk fills up after the weights are written
        raise OSError("No space left on device")
    monkeypatch.setattr(type(tiny.tokenizer), "save", crash)
    with pytest.raises(OSError, match="No space left"):
        tiny.save(target)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
    np.testing.assert_array_equal(SentenceBert.from_pretrained(target, device="cpu").encode(["a dog runs"]), expected)


# -- training killed ----------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys, time
    import torch
    torch.set_num_threads(int(sys.argv[3]))  # as many threads as the parent: sums in the same order
    sys.path.insert(0, sys.argv[2])
    from minisbert.losses import CosineSimilarityLoss
    from test_training import train

    plain_forward = CosineSimilarityLoss.forward

    def slow_forward(self, embeddings, labels):  # slow enough to be killed in the middle; the same loss
        time.sleep(0.15)
        return plain_forward(self, embeddings, labels)

    CosineSimilarityLoss.forward = slow_forward
    train(sys.argv[1], checkpoint_steps=1)
""")


def _checkpoint_step(out: Path) -> int:
    try:
        return torch.load(out / "checkpoint" / "state.pt", weights_only=False)["step"]
    except (FileNotFoundError, RuntimeError, EOFError):  # not written yet
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_run_killed_with_sigkill_resumes_to_the_same_weights(tmp_path):
    from test_training import train, weights
    full, _ = train(tmp_path / "full", checkpoint_steps=1)
    out = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out), str(TESTS), str(torch.get_num_threads())], cwd=TESTS)
    deadline = time.time() + 120
    while _checkpoint_step(out) < 7 and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert child.poll() is None, "the run ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = _checkpoint_step(out)
    assert 7 <= killed_at < 24
    resumed, history = train(out, checkpoint_steps=1)
    wf, wr = weights(full), weights(resumed)
    assert all(torch.equal(wf[k], wr[k]) for k in wf), f"weights differ after a SIGKILL at step {killed_at}"
    assert history[-1]["step"] == 24


def test_a_failed_final_rename_puts_the_previous_model_back(tiny, tmp_path, monkeypatch):
    target = tmp_path / "model"
    tiny.save(target)
    real_rename = Path.rename

    def rename(self, dest):
        if self.name.startswith(".model.saving-"):
            raise OSError("rename failed")
        return real_rename(self, dest)
    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        tiny.save(target)
    monkeypatch.undo()
    assert SentenceBert.from_pretrained(target, device="cpu").dimension == tiny.dimension
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
