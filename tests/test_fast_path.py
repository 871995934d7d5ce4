"""The fast path (minisbert/fast/fast_layers.py, fast_bert.py) computes what the written-out path computes.

One check runs over every way of executing the model: against the written-out
model with the same weights, it compares the hidden states at every layer, the
pooled embeddings, and the gradient of every parameter (1e-5 in float32; a
looser, stated bound in bf16, which rounds to 8 bits of mantissa). With dropout
on, the masks differ (the fast path draws them on packed tokens and inside torch's
attention kernel), so the two are compared by the statistics of what is dropped.
"""

import pytest
import torch
from torch.testing import assert_close

from minisbert import BertConfig
from minisbert.attention import MultiHeadAttention, extended_attention_mask
from minisbert.bert import BertModel
from minisbert.fast.fast_bert import FastBertModel
from minisbert.fast.fast_layers import (ATTENTION_BLOCK, FastAddNorm, FastEncoder, FastSelfAttention, PackedMask,
                                       Packing)
from minisbert.pooling import mean_pool

TINY = dict(vocab_size=50, hidden_size=24, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
            max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
RAGGED, FULL, FULL16 = [7, 2, 5, 1], [6, 6, 6], [16, 16]  # FULL16: no padding, and a whole attention block


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
    fast = FastBertModel(BertConfig(**TINY), add_pooling_layer=False)
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


PATHS = ["fused kernels (batch without padding)", "fused kernels (16 tokens each: not packed)",
         "fused kernels + padding-free", "fast path in bf16"]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_equals_the_written_out_model(path):
    if path.endswith("bf16") and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("torch has no bf16 kernels for this CPU")  # (emulated bf16 is fine for equality)
    plain, fast = twins()
    lengths = FULL if "without padding" in path else FULL16 if "16 tokens" in path else RAGGED
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
    real_queries = mask.bool()[:, None, :, None].expand_as(want[0])  # padding queries' rows mean nothing
    for w, g in zip(want, got):
        assert_close(g[real_queries], w[real_queries], atol=1e-6, rtol=1e-5)


def test_a_batch_without_padding_and_of_whole_attention_blocks_is_not_packed(monkeypatch):
    _, fast = twins()
    monkeypatch.setattr(Packing, "pack", lambda self, x: pytest.fail("packed a batch that has no padding"))
    ids, mask = batch(FULL16)
    with torch.no_grad():
        assert fast.eval()(ids, mask).last_hidden_state.shape == (2, 16, TINY["hidden_size"])


def test_attention_runs_on_a_grid_of_whole_blocks_and_its_rows_come_back_in_order():
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    packing = Packing(mask)
    assert (packing.grid_length, ATTENTION_BLOCK) == (16, 16)
    tokens = torch.tensor([0.0, 1, 2, 3, 6, 7])[:, None]  # packed as above: the value 3 b + l
    grid = packing.to_grid(tokens)  # (B, G, 1)
    assert grid.shape == (3, 16, 1)
    want = torch.zeros(3, 16, 1)  # token 0's row (the value 0) at the padding and the added columns
    want[:, :3] = torch.arange(9.0).view(3, 3, 1) * mask[..., None]
    assert torch.equal(grid, want)  # each token at its place
    assert torch.equal(packing.from_grid(grid), tokens)
    assert torch.equal(packing.unpack(tokens), want[:, :3])  # unpack, for the caller: zeros at the padding
    assert torch.equal(packing.to_grid(tokens + 5)[1, 1:], torch.full((15, 1), 5.0))  # token 0's row: 0 + 5


@pytest.mark.parametrize("path", ["training", "fused kernel", "batched products", "attentions returned"])
def test_what_attention_s_grid_holds_at_the_padding_never_reaches_a_result(monkeypatch, path):
    """to_grid leaves a copy of token 0 at the padding; the mask and from_grid must make any finite value there
    harmless: the same hidden states, embeddings and gradients (training), hidden states and the attention of
    every real query (inference, through either attention) with 1e4 written at every empty grid position."""
    _, fast = twins()
    ids, mask = batch(RAGGED)
    if path == "batched products":  # as the inference copies set it on an AMD processor
        for layer in fast.encoder.layer:
            layer.attention.self.batched_max = 80

    def results():
        if path == "training":
            return run(fast, RAGGED)
        with torch.no_grad():
            out = fast.eval()(ids, mask, output_attentions=path == "attentions returned")
        real_queries = mask.bool()[:, None, :, None]
        return [out.last_hidden_state] + [a.masked_fill(~real_queries, 0) for a in out.attentions or ()]
    want = results()
    real = Packing.to_grid

    def loud(self, x):
        grid = real(self, x).flatten(0, 1).clone()  # (B G, ...)
        empty = torch.ones(len(grid), dtype=torch.bool)
        empty[self.grid_index] = False
        grid[empty] = 1e4
        return grid.view(self.batch, self.grid_length, *x.shape[1:])
    monkeypatch.setattr(Packing, "to_grid", loud)
    assert_close(results(), want, atol=0, rtol=0)


def test_a_batch_of_padding_only_runs_and_gives_zeros():
    _, fast = twins()
    ids, mask = batch([3, 2])
    with torch.no_grad():
        hidden = fast.eval()(ids * 0, mask * 0).last_hidden_state
    assert hidden.shape == (2, 3, TINY["hidden_size"]) and not hidden.any()


def test_the_path_is_chosen_once_and_never_saved(tmp_path):
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")
    assert isinstance(model.bert, FastBertModel) and isinstance(model.bert.encoder, FastEncoder)  # the default
    plain = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu", fast=False)
    assert type(plain.bert) is BertModel and not isinstance(plain.bert.encoder, FastEncoder)
    sentences = ["A man is playing a guitar.", "Hi", "The quick brown fox jumps over the lazy dog " * 4]
    assert_close(model.encode(sentences, convert_to="torch"), plain.encode(sentences, convert_to="torch"),
                 atol=1e-6, rtol=1e-5)
    model.save(tmp_path / "m")
    saved = (tmp_path / "m" / "config.json").read_text()
    assert "fast" not in saved and "fused" not in saved and "unpad" not in saved


class Pooled(torch.nn.Module):
    """A sentence model around a BERT: a tokenized batch -> mean-pooled vectors, as SentenceBert calls it."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, features):
        tokens = self.bert(features["input_ids"], features["attention_mask"]).last_hidden_state
        return mean_pool(tokens, features["attention_mask"])


def one_training_step(bert, context):
    """The loss of one training_step of a pair batch and the update of every parameter (plain SGD)."""
    from minisbert.losses import CosineSimilarityLoss
    from minisbert.training import training_step
    model = Pooled(bert).train()
    features = [dict(zip(("input_ids", "attention_mask"), batch(RAGGED, seed))) for seed in (1, 2)]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    loss = training_step(model, CosineSimilarityLoss(), features, torch.tensor([0.9, 0.1, 0.5, 0.3]), optimizer,
                         scheduler, 1e9, context)
    return loss.item(), {n: p.detach() - before[n] for n, p in model.named_parameters()}


def test_the_training_step_in_bf16_on_the_fast_path_follows_float32_on_the_written_out_one():
    """One training step serves every precision: the fast model under a bf16 context (what fit passes for
    precision="bf16"; emulated where the CPU has no bf16, which changes the speed, not the numbers) moves
    every parameter as the written-out model does in float32."""
    plain, fast = twins()
    products = []  # the dtype of the query projection's output: the context was in force
    fast.encoder.layer[0].attention.self.query.register_forward_hook(lambda m, a, out: products.append(out.dtype))
    want_loss, want = one_training_step(plain, None)
    loss, got = one_training_step(fast, torch.autocast("cpu", dtype=torch.bfloat16))
    assert products == [torch.bfloat16, torch.bfloat16]  # two columns, each under the context
    assert loss == pytest.approx(want_loss, rel=2e-2)
    assert got.keys() == want.keys() and len(got) == len(list(plain.parameters()))
    for name in want:  # the key bias's true gradient is 0 (softmax ignores a shift): rounding only
        if want[name].norm() > 1e-6:
            assert cosine(got[name], want[name]) > 0.99, name


# Dropout on. The fast path drops out on packed tokens, (T, H), where the written-out one drops out on the
# grid, (B, L, H), and its attention draws its mask inside torch's fused kernel: the same seed does not give
# the same masks. So the two are compared by their statistics: what is dropped, how the rest is rescaled,
# and the distribution of the outputs over seeds.
P = 0.25  # both dropout rates; larger than BERT's 0.1, so that a wrong rate shows in fewer draws


def probe_attention(attention_class, lengths, training):
    """The attention weights after dropout, (B, L, L), read through a one-head attention whose scores are all
    0 (uniform weights 1/n over a sentence's n real keys) and whose values are one-hot (token l's value is
    e_l): each output row is its query's row of weights. The fast attention gets packed tokens."""
    L = max(lengths)
    cfg = BertConfig(**dict(TINY, hidden_size=L, num_attention_heads=1, attention_probs_dropout_prob=P))
    attention = attention_class(cfg).train(training)
    with torch.no_grad():
        for linear in attention.query, attention.key, attention.value:
            linear.bias.zero_()
            linear.weight.zero_()
        attention.value.weight.copy_(torch.eye(L))
    mask = (torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]).long()  # (B, L)
    x = torch.eye(L).expand(len(lengths), L, L)  # (B, L, H = L): token l is e_l
    with torch.no_grad():
        if attention_class is FastSelfAttention:
            packing = Packing(mask)
            additive = extended_attention_mask(packing.grid_mask(mask), torch.float32)  # (B, 1, 1, G)
            out = packing.unpack(attention(packing.pack(x), PackedMask(additive, packing))[0])
        else:
            out = attention(x, extended_attention_mask(mask, torch.float32))[0]  # (B, 1, 1, L)
    return out[..., :L], mask  # (B, L queries, L keys)


def check_attention_dropout(attention_class):
    """Over 400 sentences (7,900 real query-key pairs), training mode drops a share P of the weights
    (within four standard deviations of a binomial: 0.0195) and scales each kept one from 1/n to 1/(n (1-P));
    padding keys weigh 0; eval mode drops nothing."""
    torch.manual_seed(0)
    lengths = RAGGED * 100
    weights, mask = probe_attention(attention_class, lengths, training=True)
    real = (mask[:, :, None] * mask[:, None, :]).bool()  # (B, L, L): real query, real key
    n = mask.sum(1).float()[:, None, None].expand_as(weights)  # each sentence's number of real tokens
    w, n = weights[real], n[real]
    dropped = (w == 0).float().mean().item()
    assert abs(dropped - P) < 4 * (P * (1 - P) / w.numel()) ** 0.5, f"dropped {dropped:.4f} of the weights, not {P}"
    assert_close(w[w != 0] * n[w != 0], torch.full_like(w[w != 0], 1 / (1 - P)), msg="kept weights x n != 1/(1-P)")
    padding_keys = mask.bool()[:, :, None] & ~real  # real queries, padding keys
    assert weights[padding_keys].abs().max() == 0
    weights, _ = probe_attention(attention_class, lengths, training=False)
    assert_close(weights[real] * n, torch.ones_like(n), msg="eval mode dropped or rescaled weights")


@pytest.mark.parametrize("attention_class", [MultiHeadAttention, FastSelfAttention], ids=["written-out", "fast"])
def test_attention_dropout_drops_the_share_p_and_rescales_the_rest(attention_class):
    check_attention_dropout(attention_class)


def mutant_kernel(kind):
    """torch's fused attention with one dropout mistake: a wrong rate, no rescale, or dropout in eval mode."""
    kernel = torch.nn.functional.scaled_dot_product_attention

    def mutant(q, k, v, attn_mask=None, dropout_p=0.0):
        if kind == "half the rate":
            return kernel(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p / 2)
        if kind == "no rescale":
            return kernel(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p) * (1 - dropout_p)
        return kernel(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p or P)  # "on in eval mode"
    return mutant


@pytest.mark.parametrize("kind, failure", [("half the rate", "dropped 0.1"), ("no rescale", "1/\\(1-P\\)"),
                                           ("on in eval mode", "eval mode")])
def test_a_dropout_mistake_in_the_fast_attention_is_caught(kind, failure, monkeypatch):
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", mutant_kernel(kind))
    with pytest.raises(AssertionError, match=failure):
        check_attention_dropout(FastSelfAttention)


def outputs_over_seeds(model, seeds):
    """The mean-pooled embeddings of the RAGGED batch in training mode, one draw per seed: (S, B, H)."""
    ids, mask = batch(RAGGED)
    model.train()
    draws = []
    with torch.no_grad():
        for seed in seeds:
            torch.manual_seed(seed)
            draws.append(mean_pool(model(ids, mask).last_hidden_state, mask))
    return torch.stack(draws)


def check_same_distribution_with_dropout():
    """With both dropout rates at P: eval mode equal to 1e-5; in training mode, over 200 seeds each (disjoint),
    every embedding coordinate's mean agrees (|z| < 5 over the 96 of them; measured 2.0) and the total
    variance agrees within 7 % (measured +2.2 %; the noise of a variance over 200 draws is about 1.5 %). A fast
    path with no hidden dropout gives |z| up to 14.9 and -11.6 %. The weights are drawn at std 0.3, not BERT's
    0.02, so that attention is not uniform and the dropout after it moves the outputs; a mistake in the
    attention's own dropout moves them too little to show here, which check_attention_dropout catches."""
    torch.manual_seed(0)
    config = BertConfig(**dict(TINY, hidden_dropout_prob=P, attention_probs_dropout_prob=P, initializer_range=0.3))
    plain = BertModel(config, add_pooling_layer=False)
    fast = FastBertModel(config, add_pooling_layer=False)
    fast.load_state_dict(plain.state_dict())
    ids, mask = batch(RAGGED)
    with torch.no_grad():
        assert_close(fast.eval()(ids, mask).last_hidden_state[mask.bool()],
                     plain.eval()(ids, mask).last_hidden_state[mask.bool()], atol=1e-5, rtol=1e-5)
    want, got = outputs_over_seeds(plain, range(200)), outputs_over_seeds(fast, range(1000, 1200))
    assert want.std(0).min() > 0.1  # dropout is on: the draws differ (measured 0.33)
    z = (got.mean(0) - want.mean(0)) / ((got.var(0) + want.var(0)) / len(got)).sqrt()  # (B, H)
    assert z.abs().max() < 5, f"the mean embedding differs by up to {z.abs().max():.1f} standard errors"
    ratio = (got.var(0).sum() / want.var(0).sum()).item()
    assert abs(ratio - 1) < 0.07, f"the fast path's outputs vary {ratio:.3f} times as much"


def test_with_dropout_on_the_fast_path_follows_the_written_out_model_in_distribution():
    check_same_distribution_with_dropout()


def test_a_fast_path_that_skips_the_hidden_dropout_is_caught(monkeypatch):
    monkeypatch.setattr(FastAddNorm, "forward", lambda self, x, residual: self.LayerNorm(residual + self.dense(x)))
    with pytest.raises(AssertionError, match="standard errors"):
        check_same_distribution_with_dropout()
