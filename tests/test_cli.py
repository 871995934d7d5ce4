"""The command line, run as a user runs it."""

import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "minisbert", *args], capture_output=True, text=True)


def test_tokenize_prints_tokens_and_ids():
    out = run("tokenize", "A man is playing a guitar.")
    assert out.returncode == 0, out.stderr
    assert "[CLS] a man is playing a guitar . [SEP]" in out.stdout
    assert "101 1037 2158 2003 2652 1037 2858 1012 102" in out.stdout


def test_unknown_model_is_a_clear_error_not_a_traceback():
    out = run("tokenize", "x", "--model", "no-such-model")
    assert out.returncode == 2
    assert "no model named 'no-such-model'" in out.stderr and "Traceback" not in out.stderr


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0 and "tokenize" in out.stdout
