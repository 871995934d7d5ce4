"""Assignment 'pooling': mean_pool, max_pool and cls_pool (minisbert/pooling.py)."""

import pytest
import torch
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert.pooling import cls_pool, max_pool, mean_pool


def batch():
    torch.manual_seed(0)
    tokens = torch.randn(2, 4, 6)
    tokens[1, 2:] = 5.0  # large padding vectors: they must not leak into the pooled vectors
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    return tokens, mask


@pytest.mark.points(5)
def test_mean_over_real_tokens(others_by_reference):
    others_by_reference("pooling")
    tokens, mask = batch()
    expected = torch.stack([tokens[0].mean(0), tokens[1, :2].mean(0)])
    diagnose(mean_pool(tokens, mask), expected, {
        "padding is averaged in: multiply by the mask and divide by the number of real tokens": tokens.mean(1),
        "the masked sum is divided by the padded length, not the number of real tokens":
            (tokens * mask[..., None]).sum(1) / 4})


@pytest.mark.points(4)
def test_max_over_real_tokens(others_by_reference):
    others_by_reference("pooling")
    tokens, mask = batch()
    expected = torch.stack([tokens[0].max(0).values, tokens[1, :2].max(0).values])
    diagnose(max_pool(tokens, mask), expected, {
        "padding wins the max: set padding positions to -inf first": tokens.max(1).values,
        "padding set to 0 can still win the max (vectors may be all negative): use -inf":
            (tokens * mask[..., None]).max(1).values})


@pytest.mark.points(2)
def test_cls_is_the_first_token(others_by_reference):
    others_by_reference("pooling")
    tokens, mask = batch()
    diagnose(cls_pool(tokens, mask), tokens[:, 0], {"this is the last token, not [CLS] (the first)": tokens[:, -1]})


@pytest.mark.points(4)
def test_lesson_reference_values(others_by_reference):
    from minisbert import SentenceBert
    from minisbert.course.check import check_close, reference
    others_by_reference("pooling")
    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    f = model.tokenize(reference("pooling.sentences"))
    with torch.no_grad():
        tokens = model.bert(f["input_ids"], f["attention_mask"]).last_hidden_state
    check_close("pooling.mean", mean_pool(tokens, f["attention_mask"]))
    check_close("pooling.max", max_pool(tokens, f["attention_mask"]))
    check_close("pooling.cls", cls_pool(tokens, f["attention_mask"]))
