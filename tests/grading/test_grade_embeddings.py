"""Assignment 'embeddings': BertEmbeddings.forward (minisbert/bert.py)."""

import pytest
import torch
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert import BertConfig
from minisbert.bert import BertEmbeddings


IDS = torch.tensor([[2, 7, 9, 3, 0], [2, 5, 3, 0, 0]])
SEGMENTS = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 1, 1, 1]])


def embeddings(dropout=0.1):
    torch.manual_seed(0)
    return BertEmbeddings(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=20,
                                     hidden_dropout_prob=dropout))


@pytest.mark.points(5)
def test_sum_of_three_embeddings_then_layer_norm(others_by_reference):
    others_by_reference("embeddings")
    emb, ids, segments = embeddings().eval(), IDS, SEGMENTS
    tok, pos = emb.word_embeddings(ids), emb.position_embeddings(torch.arange(5))
    seg = emb.token_type_embeddings(segments)
    ln = emb.LayerNorm
    with torch.no_grad():
        diagnose(emb(ids, segments), ln(tok + pos + seg), {
            "the segment (token type) embeddings are missing": ln(tok + pos),
            "the position embeddings are missing": ln(tok + seg),
            "LayerNorm is missing: normalise the sum": tok + pos + seg,
            "positions are looked up by token id: use 0 .. L-1": ln(tok + emb.position_embeddings(ids) + seg)})


@pytest.mark.points(2)
def test_dropout_after_layer_norm_while_training(others_by_reference):
    others_by_reference("embeddings")
    emb = embeddings(dropout=0.5).train()
    with torch.no_grad():
        x = emb.word_embeddings(IDS) + emb.position_embeddings(torch.arange(5)) + emb.token_type_embeddings(SEGMENTS)
        torch.manual_seed(1)
        expected = emb.dropout(emb.LayerNorm(x))
        torch.manual_seed(1)
        before_norm = emb.LayerNorm(emb.dropout(x))
        torch.manual_seed(1)
        got = emb(IDS, SEGMENTS)
    diagnose(got, expected, {"dropout is missing in training mode: Dropout(LayerNorm(sum))": emb.LayerNorm(x),
                             "dropout comes before LayerNorm: normalise the sum, then drop": before_norm})


@pytest.mark.points(3)
def test_lesson_reference_values(others_by_reference):
    from minisbert import load_bert
    from minisbert.course.check import check_close, reference
    others_by_reference("embeddings")
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    ids = torch.tensor(reference("batch.input_ids"))
    with torch.no_grad():
        check_close("embeddings.output", bert.embeddings(ids, torch.zeros_like(ids)))
