"""Judge of 'embeddings' (10 points), in the grader's process: the probe's inputs rebuilt from the seed,
the expected values from the module's own tables and PyTorch's layer_norm."""

import torch
import torch.nn.functional as F
from probe_embeddings import batch, embeddings, pretrained_ids

from minisbert.course.judge import check, diagnose, pretrained_bert


def by_pytorch(emb, ids, segments):
    """LayerNorm(token + position + segment), and the common mistakes' outputs."""
    def ln(t):
        return F.layer_norm(t, (t.size(-1),), emb.LayerNorm.weight, emb.LayerNorm.bias, emb.LayerNorm.eps)
    with torch.no_grad():
        tok, seg = emb.word_embeddings(ids), emb.token_type_embeddings(segments)
        pos = emb.position_embeddings(torch.arange(ids.size(1)))
        mistakes = {"the segment (token type) embeddings are missing": ln(tok + pos),
                    "the position embeddings are missing": ln(tok + seg),
                    "LayerNorm is missing: normalise the sum": tok + pos + seg}
        if ids.max() < emb.position_embeddings.num_embeddings:  # else that mistake raises an IndexError
            mistakes["positions are looked up by token id: use 0 .. L-1"] = ln(tok + emb.position_embeddings(ids) + seg)
        return ln(tok + pos + seg), mistakes


@check(5, "out")
def sum_of_three_embeddings_then_layer_norm(seed, got):
    ids, segments = batch(seed)
    expected, mistakes = by_pytorch(embeddings(seed).eval(), ids, segments)
    diagnose(got("out"), expected, mistakes)


@check(2, "out")
def dropout_after_layer_norm_while_training(seed, got):
    ids, segments = batch(seed, 1)
    emb = embeddings(seed, dropout=0.5).train()
    with torch.no_grad():
        x = emb.word_embeddings(ids) + emb.position_embeddings(torch.arange(5)) + emb.token_type_embeddings(segments)
        torch.manual_seed(seed + 1)
        expected = emb.dropout(emb.LayerNorm(x))
        torch.manual_seed(seed + 1)
        before_norm = emb.LayerNorm(emb.dropout(x))
    diagnose(got("out"), expected, {"dropout is missing in training mode: Dropout(LayerNorm(sum))": emb.LayerNorm(x),
                                    "dropout comes before LayerNorm: normalise the sum, then drop": before_norm})


@check(3, "out")
def pretrained_model(seed, got):
    ids = pretrained_ids(seed)
    expected, mistakes = by_pytorch(pretrained_bert().embeddings, ids, torch.zeros_like(ids))
    diagnose(got("out"), expected, mistakes, atol=1e-4)
