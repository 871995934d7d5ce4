"""Assignment 'training_step': one siamese update (minisbert/training.py)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minisbert.training import linear_schedule, training_step


class BagOfWords(nn.Module):
    """A stand-in for SentenceBert (same call: a dict of input_ids -> embeddings), so this
    assignment is graded apart from the encoder's."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.bag = nn.EmbeddingBag(20, 4, mode="mean")
        self.calls = 0

    def forward(self, features):
        self.calls += 1
        return self.bag(features["input_ids"])


def cosine_mse(embeddings, labels):
    u, v = embeddings
    return ((F.cosine_similarity(u, v) - labels) ** 2).mean()


def setup(lr=0.5):
    model = BagOfWords()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(0, 10))
    features = [{"input_ids": torch.tensor([[1, 2], [3, 4]])}, {"input_ids": torch.tensor([[1, 5], [6, 7]])}]
    return model, optimizer, scheduler, features, torch.tensor([1.0, 0.0])


def one_step(lr=0.5, max_grad_norm=1e9):
    """The weights before and after one training_step, and what plain SGD on the loss's gradient gives."""
    model, optimizer, scheduler, features, labels = setup(lr)
    before = model.bag.weight.detach().clone()
    training_step(model, cosine_mse, features, labels, optimizer, scheduler, max_grad_norm=max_grad_norm)
    ref = BagOfWords()
    cosine_mse([ref(f) for f in features], labels).backward()
    return model, scheduler, before, ref.bag.weight.grad


@pytest.mark.points(3)
def test_embeds_each_column_once_and_returns_the_loss():
    model, optimizer, scheduler, features, labels = setup()
    with torch.no_grad():
        expected_loss = cosine_mse([model(f) for f in features], labels)
    model.calls = 0
    value = training_step(model, cosine_mse, features, labels, optimizer, scheduler, max_grad_norm=1e9)
    assert model.calls == 2, f"the model must embed each of the 2 columns once (it was called {model.calls} times)"
    assert torch.allclose(torch.as_tensor(value), expected_loss), "return the loss of the batch"


@pytest.mark.points(2)
def test_the_update_is_one_optimizer_step():
    model, _, before, grad = one_step()
    changed = model.bag.weight.detach()
    if torch.allclose(changed, before):
        pytest.fail("the weights did not change: call loss.backward() and optimizer.step()", pytrace=False)
    assert torch.allclose(changed, before - 0.5 * grad, atol=1e-6), \
        "the update is not one optimizer step on the loss's gradient"


@pytest.mark.points(2)
def test_gradients_zeroed_and_schedule_advanced():
    model, scheduler, _, _ = one_step()
    assert all(p.grad is None or not p.grad.any() for p in model.parameters()), \
        "zero the gradients after the step (optimizer.zero_grad()), or they pile up over steps"
    assert scheduler.last_epoch == 1, "advance the learning-rate schedule once per step (scheduler.step())"


@pytest.mark.points(2)
def test_the_optimizer_steps_before_the_scheduler():
    model, _, before, grad = one_step()
    changed = model.bag.weight.detach()
    # linear_schedule(0, 10): the first step runs at the full rate, the second at 0.9 of it
    if torch.allclose(changed, before - 0.9 * 0.5 * grad, atol=1e-6):
        pytest.fail("the step used the next step's learning rate: call optimizer.step() before scheduler.step()",
                    pytrace=False)
    assert torch.allclose(changed, before - 0.5 * grad, atol=1e-6), "the update is not one step at the current rate"


@pytest.mark.points(2)
def test_gradients_are_clipped_before_the_step():
    model, _, before, grad = one_step(lr=1.0, max_grad_norm=1e-3)
    step = (model.bag.weight.detach() - before).norm().item()
    if torch.allclose(model.bag.weight.detach(), before - grad, atol=1e-6):
        pytest.fail("the gradients were not clipped before optimizer.step(): clip_grad_norm_ between "
                    "backward() and step()", pytrace=False)
    assert step == pytest.approx(1e-3, rel=1e-3), \
        f"the update has norm {step:.3g}: clip the gradient norm to max_grad_norm before the optimizer step"


@pytest.mark.points(2)
def test_a_nan_loss_updates_nothing():
    model, optimizer, scheduler, features, _ = setup()
    before = model.bag.weight.detach().clone()
    with pytest.raises(FloatingPointError):
        training_step(model, cosine_mse, features, torch.tensor([float("nan"), 0.0]), optimizer, scheduler)
    assert torch.equal(model.bag.weight, before)


class EightfoldScaler:
    """A loss scaler as fp16 training uses one (the same four methods as torch.amp.GradScaler), scaling by 8;
    it records the order of the calls."""

    def __init__(self):
        self.calls = []

    def scale(self, loss):
        self.calls.append("scale")
        return loss * 8

    def unscale_(self, optimizer):
        self.calls.append("unscale_")
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.div_(8)

    def step(self, optimizer):
        self.calls.append("step")
        optimizer.step()

    def update(self):
        self.calls.append("update")


@pytest.mark.points(2)
def test_the_update_goes_through_the_loss_scaler():
    model, optimizer, scheduler, features, labels = setup()
    before = model.bag.weight.detach().clone()
    scaler = EightfoldScaler()
    training_step(model, cosine_mse, features, labels, optimizer, scheduler, 1e9, None, scaler)
    ref = BagOfWords()
    cosine_mse([ref(f) for f in features], labels).backward()
    if scaler.calls != ["scale", "unscale_", "step", "update"]:
        pytest.fail(f"the scaler's calls were {scaler.calls}: backward of scaler.scale(loss), then "
                    "scaler.unscale_(optimizer) before clipping, scaler.step(optimizer) and scaler.update()",
                    pytrace=False)
    assert torch.allclose(model.bag.weight.detach(), before - 0.5 * ref.bag.weight.grad, atol=1e-6), \
        "with a loss scaler the update must still be one step on the true (unscaled) gradient"
