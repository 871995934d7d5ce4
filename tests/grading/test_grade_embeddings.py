"""Assignment 'embeddings': BertEmbeddings.forward (minisbert/bert.py)."""

import torch
from references import _others_by_reference, diagnose  # noqa: F401 (the fixture)

from minisbert.bert import BertConfig, BertEmbeddings


def test_sum_of_three_embeddings_then_layer_norm(others_by_reference):
    others_by_reference("embeddings")
    torch.manual_seed(0)
    emb = BertEmbeddings(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                    intermediate_size=16, max_position_embeddings=20)).eval()
    ids = torch.tensor([[2, 7, 9, 3, 0], [2, 5, 3, 0, 0]])
    segments = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 1, 1, 1]])
    tok, pos = emb.word_embeddings(ids), emb.position_embeddings(torch.arange(5))
    seg = emb.token_type_embeddings(segments)
    ln = emb.LayerNorm
    with torch.no_grad():
        diagnose(emb(ids, segments), ln(tok + pos + seg), {
            "the segment (token type) embeddings are missing": ln(tok + pos),
            "the position embeddings are missing": ln(tok + seg),
            "LayerNorm is missing: normalise the sum": tok + pos + seg,
            "positions are looked up by token id: use 0 .. L-1": ln(tok + emb.position_embeddings(ids) + seg)})


def test_lesson_reference_values(others_by_reference):
    from minisbert import BertModel
    from minisbert.course.check import check_close, reference
    others_by_reference("embeddings")
    bert = BertModel.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    ids = torch.tensor(reference("batch.input_ids"))
    with torch.no_grad():
        check_close("embeddings.output", bert.embeddings(ids, torch.zeros_like(ids)))
