"""Padding-free execution (minisbert/packing.py) gives the padded path's numbers at the real tokens."""

import pytest
import torch
from torch.testing import assert_close

from minisbert.bert import BertConfig, BertModel
from minisbert.packing import Packing

TINY = dict(vocab_size=50, hidden_size=24, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
            max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def ragged_batch(lengths, seed=0):
    """input_ids and attention_mask for sentences of the given lengths, padded to the longest."""
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    ids = torch.randint(1, TINY["vocab_size"], (len(lengths), L), generator=g)
    mask = (torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]).long()  # (B, L)
    return ids * mask, mask


def test_pack_keeps_the_real_tokens_in_reading_order_and_unpack_restores_the_grid():
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    x = torch.arange(9.0).view(3, 3, 1)  # token (b, l) holds the value 3 b + l
    packing = Packing(mask, torch.zeros(3, 1, 1, 3))
    packed = packing.pack(x)
    assert packed.shape == (6, 1)
    assert packed.flatten().tolist() == [0, 1, 2, 3, 6, 7]
    grid = packing.unpack(packed)
    assert grid.shape == (3, 3, 1)
    assert torch.equal(grid, x * mask[..., None])  # real tokens back in place, zeros at the padding


@pytest.mark.parametrize("fused", [False, True])
def test_unpadded_model_equals_the_padded_model_at_every_layer(fused):
    torch.manual_seed(0)
    padded = BertModel(BertConfig(**TINY, fused=fused)).eval()
    unpadded = BertModel(BertConfig(**TINY, fused=fused, unpad=True)).eval()
    unpadded.load_state_dict(padded.state_dict())
    ids, mask = ragged_batch([7, 2, 11, 1, 5])
    with torch.no_grad():
        a = padded(ids, mask, output_hidden_states=True).hidden_states
        b = unpadded(ids, mask, output_hidden_states=True).hidden_states
    keep = mask.bool()
    for i, (x, y) in enumerate(zip(a, b)):
        assert_close(y[keep], x[keep], atol=1e-5, rtol=1e-5, msg=f"layer {i}")
        assert torch.equal(y[~keep], torch.zeros_like(y[~keep])), "padding positions are zeros when unpadded"


def test_unpadded_attention_probabilities_equal_the_padded_ones():
    torch.manual_seed(1)
    padded = BertModel(BertConfig(**TINY)).eval()
    unpadded = BertModel(BertConfig(**TINY, unpad=True)).eval()
    unpadded.load_state_dict(padded.state_dict())
    ids, mask = ragged_batch([3, 9, 6])
    with torch.no_grad():
        a = padded(ids, mask, output_attentions=True).attentions
        b = unpadded(ids, mask, output_attentions=True).attentions
    for x, y in zip(a, b):  # (B, h, L, L) -> (B, L, h, L): compare the real queries' rows
        assert_close(y.transpose(1, 2)[mask.bool()], x.transpose(1, 2)[mask.bool()], atol=1e-6, rtol=1e-5)


def test_unpadded_gradients_equal_the_padded_ones():
    """Training takes the same steps: the gradient of a pooled loss matches parameter by parameter."""
    torch.manual_seed(2)
    padded = BertModel(BertConfig(**TINY, fused=True))
    unpadded = BertModel(BertConfig(**TINY, fused=True, unpad=True))
    unpadded.load_state_dict(padded.state_dict())
    ids, mask = ragged_batch([4, 12, 8, 1], seed=3)
    for model in (padded, unpadded):
        hidden = model(ids, mask).last_hidden_state  # (B, L, H)
        m = mask[..., None].float()
        mean = (hidden * m).sum(1) / m.sum(1)  # mean pooling over the real tokens
        mean.pow(2).sum().backward()
    for (name, p), q in zip(padded.named_parameters(), unpadded.parameters()):
        if p.grad is None:  # the pooler is not in the loss
            assert q.grad is None, name
            continue
        assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_a_batch_without_padding_takes_the_plain_path(monkeypatch):
    model = BertModel(BertConfig(**TINY, unpad=True)).eval()
    monkeypatch.setattr(Packing, "pack", lambda self, x: pytest.fail("packed a batch that has no padding"))
    ids, mask = ragged_batch([6, 6])
    with torch.no_grad():
        assert model(ids, mask).last_hidden_state.shape == (2, 6, TINY["hidden_size"])


def test_sentence_bert_uses_the_padding_free_path_and_agrees_with_the_padded_one():
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")
    assert model.bert.config.unpad and model.bert.config.fused
    sentences = ["A man is playing a guitar.", "Hi", "The quick brown fox jumps over the lazy dog " * 4]
    fast = model.encode(sentences, convert_to="torch")
    model.bert.config.unpad = False
    plain = model.encode(sentences, convert_to="torch")
    assert_close(fast, plain, atol=1e-6, rtol=1e-5)
