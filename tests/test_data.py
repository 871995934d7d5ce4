"""Pairs files in every accepted form, and malformed rows named by file and line."""

import pytest

from minisbert.trainkit.data import DataError, Pair, read_pairs

EXPECTED = [Pair("A man plays.", 'He said "hi", twice.', 4.5), Pair("一个人。", "两个人。", 1.0)]


@pytest.mark.parametrize("name,text", [
    ("header.csv", 'sentence1,sentence2,score\nA man plays.,"He said ""hi"", twice.",4.5\n一个人。,两个人。,1\n'),
    ("header.tsv", 'score\tsentence1\tsentence2\n4.5\tA man plays.\tHe said "hi", twice.\n1\t一个人。\t两个人。\n'),
    ("label.csv", 'sentence1,sentence2,label\nA man plays.,"He said ""hi"", twice.",4.5\n一个人。,两个人。,1.0\n'),
    ("pairs.jsonl", '{"sentence1": "A man plays.", "sentence2": "He said \\"hi\\", twice.", "score": 4.5}\n'
                    '{"sentence1": "一个人。", "sentence2": "两个人。", "label": 1}\n'),
    ("sts-test.csv", 'main-captions\tMSRvid\t2012test\t0001\t4.5\tA man plays.\tHe said "hi", twice.\n'
                     'main-forums\tx\t2014\t0002\t1.0\t一个人。\t两个人。\textra\tfields\n'),
    ("stsb-zh.csv", 'A man plays.,"He said ""hi"", twice.",4.5\r\n一个人。,两个人。,1.0\r\n'),
])
def test_every_form(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert read_pairs(path) == EXPECTED


@pytest.mark.parametrize("text,message", [
    ("sentence1,sentence2,score\na,b,4\nc,d,high\n", r"bad.csv, line 3: score 'high' is not a number"),
    ("sentence1,sentence2,score\na,b\n", r"bad.csv, line 2: expected 3 fields, found 2"),
    ("a,b,1\nc,d\n", r"bad.csv, line 2: expected 3 fields \(sentence1, sentence2, score\)"),
    ("g\tf\t2012\t1\t4.0\tonly one sentence\n", r"bad.csv, line 1: 6 fields without a header"),
    ("g\tf\t2012\t1\t4.0\ta\tb\ng\tf\t2012\t1\t4.0\tc\n", r"bad.csv, line 2: an STS Benchmark row has at least 7"),
    ("text,other,score\na,b,1\n", r"neither a header naming sentence1, sentence2 and score"),
    ("text\tother\tscore\na\tb\t1\n", r"neither a header naming sentence1"),
    ("", r"bad.csv is empty"),
])
def test_malformed_rows_are_named(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_pairs(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_pairs(tmp_path / "nope.csv")


def test_triplets_in_csv_and_jsonl(tmp_path):
    from minisbert.trainkit.data import Example, read_triplets
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("anchor,positive,negative\nq,right answer,wrong answer\n")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"anchor": "q", "positive": "right answer", "negative": "wrong answer"}\n')
    expected = [Example(("q", "right answer", "wrong answer"))]
    assert read_triplets(csv_file) == expected and read_triplets(jsonl) == expected
    csv_file.write_text("anchor,positive\nq,a\n")
    with pytest.raises(DataError, match="must name negative"):
        read_triplets(csv_file)


def test_nli_by_name_by_number_and_snli_format(tmp_path):
    from minisbert.trainkit.data import read_nli
    named = tmp_path / "nli.csv"
    named.write_text("premise,hypothesis,label\nA dog runs.,An animal moves.,entailment\n"
                     "A dog runs.,A cat sleeps.,Contradiction\nA dog runs.,The dog is happy.,1\n")
    assert [p.score for p in read_nli(named)] == [0, 2, 1]
    snli = tmp_path / "dev.txt"
    snli.write_text("two women are embracing\tthe sisters are hugging\t1\na man sleeps\ta man is awake\t2\n")
    assert [(p.sentence1, p.score) for p in read_nli(snli)] == [("two women are embracing", 1), ("a man sleeps", 2)]
    snli.write_text("a\tb\tmaybe\n")
    with pytest.raises(DataError, match="dev.txt, line 1: label 'maybe' is not one of entailment"):
        read_nli(snli)
