"""The fast path (minisbert/fast.py) computes what the written-out path computes.

One check runs over every way of executing the model: against the written-out
model with the same weights, it compares the hidden states at every layer, the
pooled embeddings, and the gradient of every parameter (1e-5 in float32; a
looser, stated bound in bf16, which rounds to 8 bits of mantissa).
"""

import pytest
import torch
from torch.testing import assert_close

from minisbert.bert import BertConfig, BertModel
from minisbert.fast import FastEncoder, Packing
from minisbert.pooling import mean_pool

TINY = dict(vocab_size=50, hidden_size=24, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
            max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
RAGGED, FULL = [7, 2, 5, 1], [6, 6, 6]


def batch(lengths, seed=0):
    """input_ids and attention_mask for sentences of the given lengths, padded to the longest."""
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    ids = torch.randint(1, TINY["vocab_size"], (len(lengths), L), generator=g)
    mask = (torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]).long()  # (B, L)
    return ids * mask, mask


def twins():
    """The written-out model and a fast model holding the same weights."""
    torch.manual_seed(0)
    plain = BertModel(BertConfig(**TINY), add_pooling_layer=False)  # no pooler: every parameter gets a gradient
    fast = BertModel(BertConfig(**TINY), add_pooling_layer=False, fast=True)
    fast.load_state_dict(plain.state_dict())
    return plain, fast


def run(model, lengths, precision="fp32"):
    """Hidden states at every layer, mean-pooled embeddings, and every parameter's gradient."""
    ids, mask = batch(lengths)
    model.train()  # dropout is 0 in TINY: training mode, but deterministic
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        out = model(ids, mask, output_hidden_states=True)
        pooled = mean_pool(out.last_hidden_state, mask)  # (B, H)
    weights = torch.linspace(-1, 1, pooled.numel()).view_as(pooled)
    (pooled.float() * weights).sum().backward()
    keep = mask.bool()
    hidden = [h[keep].float() for h in out.hidden_states]  # the real tokens of each layer, (T, H)
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return hidden, pooled.float(), grads


def cosine(a, b):
    return torch.nn.functional.cosine_similarity(a.flatten().double(), b.flatten().double(), dim=0).item()


PATHS = ["fused kernels (batch without padding)", "fused kernels + padding-free", "fast path in bf16"]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_equals_the_written_out_model(path):
    if path.endswith("bf16") and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("torch has no bf16 kernels for this CPU")  # (emulated bf16 is fine for equality)
    plain, fast = twins()
    lengths = FULL if "without padding" in path else RAGGED
    want_hidden, want_pooled, want_grads = run(plain, lengths)
    hidden, pooled, grads = run(fast, lengths, "bf16" if path.endswith("bf16") else "fp32")
    assert len(hidden) == TINY["num_hidden_layers"] + 1
    assert grads.keys() == want_grads.keys() and len(grads) == len(list(plain.parameters()))
    if path.endswith("bf16"):  # 8-bit mantissa: compare directions, not digits
        for layer, (h, w) in enumerate(zip(hidden, want_hidden)):
            assert cosine(h, w) > 0.999, f"layer {layer}"
        assert cosine(pooled, want_pooled) > 0.999
        for name in want_grads:  # the key bias's true gradient is 0 (softmax ignores a shift): rounding only
            if want_grads[name].norm() > 1e-6:
                assert cosine(grads[name], want_grads[name]) > 0.99, name
        return
    for layer, (h, w) in enumerate(zip(hidden, want_hidden)):
        assert_close(h, w, atol=1e-5, rtol=1e-5, msg=f"hidden states of layer {layer}")
    assert_close(pooled, want_pooled, atol=1e-5, rtol=1e-5)
    for name in want_grads:
        assert_close(grads[name], want_grads[name], atol=1e-5, rtol=1e-4, msg=f"gradient of {name}")


def test_a_wrong_pack_order_is_caught(monkeypatch):
    """The check above can fail: pack the real tokens in reverse order and the layers disagree."""
    plain, fast = twins()
    monkeypatch.setattr(Packing, "pack", lambda self, x: x.flatten(0, 1).index_select(0, self.index.flip(0)))
    want_hidden, _, _ = run(plain, RAGGED)
    hidden, _, _ = run(fast, RAGGED)
    with pytest.raises(AssertionError):
        assert_close(hidden[1], want_hidden[1], atol=1e-5, rtol=1e-5)


def test_pack_keeps_the_real_tokens_in_reading_order_and_unpack_restores_the_grid():
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    x = torch.arange(9.0).view(3, 3, 1)  # token (b, l) holds the value 3 b + l
    packing = Packing(mask)
    packed = packing.pack(x)
    assert packed.shape == (6, 1)
    assert packed.flatten().tolist() == [0, 1, 2, 3, 6, 7]
    grid = packing.unpack(packed)
    assert grid.shape == (3, 3, 1)
    assert torch.equal(grid, x * mask[..., None])  # real tokens back in place, zeros at the padding


def test_attention_probabilities_of_the_fast_path_equal_the_written_out_ones():
    plain, fast = twins()
    ids, mask = batch(RAGGED)
    with torch.no_grad():
        want = plain.eval()(ids, mask, output_attentions=True).attentions
        got = fast.eval()(ids, mask, output_attentions=True).attentions
    real_queries = mask.bool()[:, None, :, None].expand_as(want[0])  # padding rows attend from zeros when packed
    for w, g in zip(want, got):
        assert_close(g[real_queries], w[real_queries], atol=1e-6, rtol=1e-5)


def test_a_batch_without_padding_is_not_packed(monkeypatch):
    _, fast = twins()
    monkeypatch.setattr(Packing, "pack", lambda self, x: pytest.fail("packed a batch that has no padding"))
    ids, mask = batch(FULL)
    with torch.no_grad():
        assert fast.eval()(ids, mask).last_hidden_state.shape == (3, 6, TINY["hidden_size"])


def test_the_path_is_chosen_once_and_never_saved(tmp_path):
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")
    assert model.bert.fast and isinstance(model.bert.encoder, FastEncoder)  # the default of every loader
    plain = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    assert not isinstance(plain.bert.encoder, FastEncoder)
    sentences = ["A man is playing a guitar.", "Hi", "The quick brown fox jumps over the lazy dog " * 4]
    assert_close(model.encode(sentences, convert_to="torch"), plain.encode(sentences, convert_to="torch"),
                 atol=1e-6, rtol=1e-5)
    model.save(tmp_path / "m")
    saved = (tmp_path / "m" / "config.json").read_text()
    assert "fast" not in saved and "fused" not in saved and "unpad" not in saved
