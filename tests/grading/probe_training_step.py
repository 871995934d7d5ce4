"""Probe of 'training_step' (runs in the graded process, with the student's training_step). The model,
optimizer and batch are built from the seed by setup(), which judge_training_step.py shares."""

import torch
import torch.nn.functional as F
from torch import nn

SCALER_CALLS = ("scale", "unscale_", "step", "update")


class BagOfWords(nn.Module):
    """A stand-in for SentenceBert (same call: a dict of input_ids -> embeddings), so this assignment is
    graded apart from the encoder's; it counts its calls."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.bag = nn.EmbeddingBag(20, 4, mode="mean")
        self.calls = 0

    def forward(self, features):
        self.calls += 1
        return self.bag(features["input_ids"])


def cosine_mse(embeddings, labels):
    u, v = embeddings
    return ((F.cosine_similarity(u, v) - labels) ** 2).mean()


def setup(seed, lr=0.5):
    """model, SGD, a linear schedule over 10 steps, two columns of 2 texts of 2 ids, labels in {0, 1}.

    The columns draw from disjoint halves of the vocabulary and each label lies at least 0.5 from its pair's
    cosine, so that the gradient is never near zero and the checks can tell one update from another."""
    from minisbert.training import linear_schedule
    model = BagOfWords(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(0, 10))
    g = torch.Generator().manual_seed(seed)
    features = [{"input_ids": torch.randint(low, low + 10, (2, 2), generator=g)} for low in (0, 10)]
    with torch.no_grad():
        cos = F.cosine_similarity(*(model.bag(f["input_ids"]) for f in features))
    return model, optimizer, scheduler, features, (cos < 0.5).float()


def _step(seed, lr=0.5, max_grad_norm=1e9, labels=None, scaler=None):
    from minisbert.training import training_step
    model, optimizer, scheduler, features, drawn = setup(seed, lr)
    value = training_step(model, cosine_mse, features, drawn if labels is None else labels, optimizer, scheduler,
                          max_grad_norm, None, scaler)
    return model, scheduler, value


def embeds_each_column_once_and_returns_the_loss(seed):
    model, _, value = _step(seed)
    return {"calls": torch.tensor(model.calls), "loss": torch.as_tensor(value).float()}


def the_update_is_one_optimizer_step(seed):
    return {"after": _step(seed)[0].bag.weight}


def gradients_zeroed_and_schedule_advanced(seed):
    model, scheduler, _ = _step(seed)
    left = any(p.grad is not None and bool(p.grad.any()) for p in model.parameters())
    # the bookkeeping alone (no forward, no backward) must not pass: the step's update is returned too
    return {"gradients_left": torch.tensor(left), "last_epoch": torch.tensor(scheduler.last_epoch),
            "after": model.bag.weight}


def the_optimizer_steps_before_the_scheduler(seed):
    return {"after": _step(seed)[0].bag.weight}


def gradients_are_clipped_before_the_step(seed):
    return {"after": _step(seed, lr=1.0, max_grad_norm=1e-3)[0].bag.weight}


def a_nan_loss_updates_nothing(seed):
    model, optimizer, scheduler, features, _ = setup(seed)
    from minisbert.training import training_step
    try:
        training_step(model, cosine_mse, features, torch.tensor([float("nan"), 0.0]), optimizer, scheduler)
        raised = False
    except FloatingPointError:
        raised = True
    # a step that refuses every loss would pass the lines above: the same step must also work on a finite one
    return {"raised": torch.tensor(raised), "after": model.bag.weight, "finite_after": _step(seed)[0].bag.weight}


class EightfoldScaler:
    """A loss scaler as fp16 training uses one (the four methods of torch.amp.GradScaler), scaling by 8;
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


def the_update_goes_through_the_loss_scaler(seed):
    scaler = EightfoldScaler()
    model, _, _ = _step(seed, scaler=scaler)
    calls = [SCALER_CALLS.index(c) for c in scaler.calls]
    return {"calls": torch.tensor(calls, dtype=torch.long), "after": model.bag.weight}
