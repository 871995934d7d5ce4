"""Judge of 'training_step' (15 points), in the grader's process: the model, batch and optimizer rebuilt
from the seed; the expected update is plain SGD on the loss's gradient, computed here."""

import torch
from probe_training_step import SCALER_CALLS, cosine_mse, setup

from minisbert.course.judge import Failure, check, require


def sgd(seed, lr=0.5):
    """The weights before the step, the loss and its gradient, from a fresh model of the same seed."""
    model, _, _, features, labels = setup(seed)
    loss = cosine_mse([model(f) for f in features], labels)
    loss.backward()
    return model.bag.weight.detach(), loss.detach(), model.bag.weight.grad


def updated(got, before):
    after = got("after", shape=before.shape)
    if torch.allclose(after, before):
        raise Failure("the weights did not change: call loss.backward() and optimizer.step()")
    return after


@check(3, "calls", "loss")
def embeds_each_column_once_and_returns_the_loss(seed, got):
    calls = int(got("calls", torch.int64, ()))
    require(calls == 2, f"the model must embed each of the 2 columns once (it was called {calls} times)")
    _, loss, _ = sgd(seed)
    require(torch.allclose(got("loss", shape=()), loss), "return the loss of the batch")


@check(2, "after")
def the_update_is_one_optimizer_step(seed, got):
    before, _, grad = sgd(seed)
    require(torch.allclose(updated(got, before), before - 0.5 * grad, atol=1e-6),
            "the update is not one optimizer step on the loss's gradient")


@check(2, "gradients_left", "last_epoch", "after")
def gradients_zeroed_and_schedule_advanced(seed, got):
    before, _, grad = sgd(seed)
    require(torch.allclose(updated(got, before), before - 0.5 * grad, atol=1e-6),
            "the update is not one optimizer step on the loss's gradient")
    require(not bool(got("gradients_left", torch.bool, ())),
            "zero the gradients after the step (optimizer.zero_grad()), or they pile up over steps")
    require(int(got("last_epoch", torch.int64, ())) == 1,
            "advance the learning-rate schedule once per step (scheduler.step())")


@check(2, "after")
def the_optimizer_steps_before_the_scheduler(seed, got):
    before, _, grad = sgd(seed)
    after = updated(got, before)
    # linear_schedule(0, 10): the first step runs at the full rate, the second at 0.9 of it
    if torch.allclose(after, before - 0.9 * 0.5 * grad, atol=1e-6):
        raise Failure("the step used the next step's learning rate: call optimizer.step() before scheduler.step()")
    require(torch.allclose(after, before - 0.5 * grad, atol=1e-6), "the update is not one step at the current rate")


@check(2, "after")
def gradients_are_clipped_before_the_step(seed, got):
    before, _, grad = sgd(seed)
    after = updated(got, before)
    if torch.allclose(after, before - grad, atol=1e-6):
        raise Failure("the gradients were not clipped before optimizer.step(): clip_grad_norm_ between "
                      "backward() and step()")
    clipped = before - grad * min(1.0, 1e-3 / (grad.norm().item() + 1e-6))
    require(torch.allclose(after, clipped, atol=1e-6),
            f"the update has norm {(after - before).norm().item():.3g}: clip the gradient norm to max_grad_norm "
            "before the optimizer step")


@check(2, "raised", "after", "finite_after")
def a_nan_loss_updates_nothing(seed, got):
    before, _, grad = sgd(seed)
    require(bool(got("raised", torch.bool, ())), "a loss that is not finite must raise FloatingPointError")
    require(torch.equal(got("after", shape=before.shape), before), "a loss that is not finite must update nothing")
    require(torch.allclose(got("finite_after", shape=before.shape), before - 0.5 * grad, atol=1e-6),
            "a finite loss must still give one optimizer step: raise only when the loss is not finite")


@check(2, "calls", "after")
def the_update_goes_through_the_loss_scaler(seed, got):
    calls = [SCALER_CALLS[i] if 0 <= i < len(SCALER_CALLS) else "?" for i in got("calls", torch.int64).tolist()]
    if calls != list(SCALER_CALLS):
        raise Failure(f"the scaler's calls were {calls}: backward of scaler.scale(loss), then "
                      "scaler.unscale_(optimizer) before clipping, scaler.step(optimizer) and scaler.update()")
    before, _, grad = sgd(seed)
    require(torch.allclose(got("after", shape=before.shape), before - 0.5 * grad, atol=1e-6),
            "with a loss scaler the update must still be one step on the true (unscaled) gradient")
