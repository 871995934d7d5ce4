"""How examples become steps: every example once an epoch, and no text twice in a batch when asked."""

import pytest
import torch

from minisbert.trainkit.batching import NoDuplicatesPlan, Plan
from minisbert.trainkit.data import Example
from minisbert.losses import MultipleNegativesRankingLoss
from minisbert.training import fit
from test_training import tiny, weights


def _texts(n_examples, shared_every=3):
    """Pairs (anchor i, positive): every third example shares its positive with the one before."""
    return [(f"anchor {i}", f"positive {i - (i % shared_every == 1)}") for i in range(n_examples)]


@pytest.mark.parametrize("n, batch", [(23, 4), (16, 16), (5, 8)])
def test_a_plan_cuts_each_epochs_order_into_consecutive_batches(n, batch):
    plan = Plan(n, batch, epochs=3, seed=7)
    assert plan.total == 3 * -(-n // batch)
    for epoch in range(3):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(7 + epoch)).tolist()
        first = epoch * plan.steps_in(epoch)
        assert sum((plan.rows(first + k) for k in range(plan.steps_in(epoch))), []) == order
        assert plan.ends_epoch(first + plan.steps_in(epoch))
        assert plan.steps_in(epoch) == 1 or not plan.ends_epoch(first + 1)
    assert plan.epoch_position(plan.steps_in(0)) == 1.0


def test_no_text_appears_twice_in_a_batch_and_every_example_comes_once_an_epoch():
    texts = _texts(40) + [("anchor 0", "the same anchor again")]  # a text shared across columns too
    plan = NoDuplicatesPlan(len(texts), 6, epochs=2, seed=1, texts=texts)
    for epoch in range(2):
        batches = plan.batches(epoch)
        assert sorted(i for b in batches for i in b) == list(range(len(texts)))
        for b in batches:
            in_batch = [t for i in b for t in texts[i]]
            assert len(in_batch) == len(set(in_batch)), b
            assert 1 <= len(b) <= 6
    assert plan.total == sum(plan.steps_in(e) for e in range(2))
    assert plan.batches(0) == NoDuplicatesPlan(len(texts), 6, 2, 1, texts=texts).batches(0)  # the seed decides


def test_without_duplicates_the_plan_is_the_plain_one():
    texts = [(f"a {i}", f"b {i}") for i in range(30)]
    plain, strict = Plan(30, 8, 2, 3), NoDuplicatesPlan(30, 8, 2, 3, texts=texts)
    assert [plain.rows(s) for s in range(plain.total)] == [strict.rows(s) for s in range(strict.total)]


def test_a_text_in_every_example_makes_batches_of_one():
    texts = [("the same question", f"answer {i}") for i in range(5)]
    plan = NoDuplicatesPlan(5, 4, epochs=1, seed=0, texts=texts)
    assert plan.total == 5 and all(len(plan.rows(s)) == 1 for s in range(5))


def test_a_run_without_duplicates_resumes_to_the_same_weights(tmp_path):
    examples = [Example(t) for t in _texts(30)]
    args = dict(epochs=2, batch_size=8, lr=1e-3, show_progress=False, no_duplicates=True, checkpoint_steps=1)
    full = tiny()
    history = fit(full, examples, MultipleNegativesRankingLoss(), output_dir=tmp_path / "full", **args)
    stopped = tiny()
    fit(stopped, examples, MultipleNegativesRankingLoss(), output_dir=tmp_path / "part", stop_after_steps=5, **args)
    resumed = tiny()
    fit(resumed, examples, MultipleNegativesRankingLoss(), output_dir=tmp_path / "part", **args)
    wf, wr = weights(full), weights(resumed)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    steps = NoDuplicatesPlan(30, 8, 2, 0, texts=[e.texts for e in examples]).total
    assert history[-1]["step"] == steps > 2 * 4  # more steps than 30 examples in plain batches of 8 need
    assert history[-1]["epoch"] == 2.0
