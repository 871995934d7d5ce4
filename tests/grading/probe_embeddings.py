"""Probe of 'embeddings' (runs in the graded process, with the student's BertEmbeddings.forward; LayerNorm
by its reference). Input builders shared with judge_embeddings.py."""

import torch
from draws import draw



def batch(seed, n=0, vocab=20, shape=(2, 5)):
    """Token ids (B, L) and segment ids (B, L) drawn from the seed."""
    g = draw(seed, n)
    return torch.randint(1, vocab, shape, generator=g), torch.randint(0, 2, shape, generator=g)


def embeddings(seed, dropout=0.1):
    """A small BertEmbeddings (vocabulary 50, H=8, 20 positions) with weights drawn from the seed; the ids
    drawn by batch() stay below 20, so that looking positions up by token id is a mistake that runs."""
    from minisbert import BertConfig
    from minisbert.bert import BertEmbeddings
    torch.manual_seed(seed)
    return BertEmbeddings(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=20, hidden_dropout_prob=dropout))


def pretrained_ids(seed):
    """(2, 9) ids of all-MiniLM-L6-v2's vocabulary, each sequence starting with [CLS] (101)."""
    ids, _ = batch(seed, 2, 30522, (2, 9))
    ids[:, 0] = 101
    return ids


def sum_of_three_embeddings_then_layer_norm(seed):
    ids, segments = batch(seed)
    with torch.no_grad():
        return {"out": embeddings(seed).eval()(ids, segments)}


def dropout_after_layer_norm_while_training(seed):
    ids, segments = batch(seed, 1)
    emb = embeddings(seed, dropout=0.5).train()
    torch.manual_seed(seed + 1)
    with torch.no_grad():
        return {"out": emb(ids, segments)}


def pretrained_model(seed):
    from minisbert import load_bert
    ids = pretrained_ids(seed)
    bert = load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)
    with torch.no_grad():
        return {"out": bert.embeddings(ids, torch.zeros_like(ids))}
