"""The siamese training loop.

Every text column of a batch goes through the *same* SentenceBert (shared
weights: the "siamese network" of the SBERT paper), the loss compares the
embeddings, and AdamW updates the one encoder:

    for each batch of examples (texts_1, ..., texts_c, label):
        u_1 .. u_c = model(texts_1) .. model(texts_c)
        loss(u_1 .. u_c, label).backward(); clip the gradient norm; AdamW step

`training_step` is that update, written out; one step serves every precision
(a context for the forward pass and a loss scaler, as in nanoGPT: in float32 the
context does nothing and the scaler scales by 1). The learning rate rises
linearly from 0 over the first warmup_ratio of the steps, then falls linearly
to 0. Around the steps, `fit` logs the loss, evaluates, keeps the best model,
and writes a checkpoint from which an interrupted run resumes to exactly the
weights an uninterrupted run ends with (on CPU); trainkit/run.py does that
bookkeeping, and says which files a run writes.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn

from .support.errors import InputError, InputTypeError, TrainingError
from .trainkit import distributed
from .trainkit.data import Example
from .trainkit.run import TrainingRun


@dataclass
class TrainConfig:
    """The options of a training run (every one has a default)."""
    epochs: int = 1
    batch_size: int = 16  # examples per step and process: under torchrun with N processes, N x batch_size
    lr: float = 2e-5  # peak learning rate
    warmup_ratio: float = 0.1  # share of the steps over which the rate rises from 0
    weight_decay: float = 0.01  # AdamW's, not applied to biases and LayerNorms
    max_grad_norm: float = 1.0  # the gradient is clipped to this norm before each step
    seed: int = 0
    precision: str = "fp32"  # fp32, bf16 (CPUs and GPUs that have it) or fp16 (CUDA, with loss scaling)
    new_token_lr: float | None = None  # learning rate of vocabulary rows added by extend_vocabulary
    eval_steps: int | None = None  # also evaluate every so many steps (always at the end of each epoch)
    checkpoint_steps: int | None = None  # also checkpoint every so many steps (always at the end of each epoch)
    log_steps: int | None = None  # log the mean loss every so many steps (default: 20 times an epoch)
    resume: bool = True  # continue from output_dir/checkpoint when one exists
    stop_after_steps: int | None = None  # stop early, as an interruption would (the schedule still spans every epoch)
    show_progress: bool = True
    no_duplicates: bool = False  # no text twice in a global batch: in-batch negatives without false ones (trainkit/batching.py)

    # What a resumed run must share with the run that wrote the checkpoint.
    TRAJECTORY = ("epochs", "batch_size", "lr", "warmup_ratio", "weight_decay", "max_grad_norm", "seed",
                  "precision", "new_token_lr", "no_duplicates")

    def __post_init__(self):  # (the precision is checked where it is used: trainkit/run.py)
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"{name}={getattr(self, name)!r}: use a positive integer")

    @classmethod
    def build(cls, config: "TrainConfig | None", options: dict) -> "TrainConfig":
        """`config` (or the defaults) with `options` replacing its fields; unknown names refused."""
        names = [f.name for f in fields(cls)]
        unknown = [k for k in options if k not in names]
        if unknown:
            raise InputTypeError(f"fit() got unknown options {unknown}; the options are {', '.join(names)}")
        return cls(**{**(asdict(config) if config else {}), **options})

    def trajectory(self) -> dict:
        return {name: getattr(self, name) for name in self.TRAJECTORY}


def check_examples(examples) -> int:
    """The number of text columns, or a TrainingError naming the first bad example."""
    if not examples:
        raise TrainingError("no training examples")
    columns = None
    for i, ex in enumerate(examples):
        if not isinstance(ex, Example) or not ex.texts or not all(isinstance(t, str) for t in ex.texts):
            raise TrainingError(f"train_data[{i}] must be an Example whose texts are strings, got {ex!r:.80}")
        if columns is None:
            columns = len(ex.texts)
        elif len(ex.texts) != columns:
            raise TrainingError(f"train_data[{i}] has {len(ex.texts)} texts, the first example has {columns}")
    return columns


def parameter_groups(model: nn.Module, loss: nn.Module, lr: float, weight_decay: float,
                     new_token_lr: float | None) -> list[dict]:
    """AdamW groups: no weight decay on biases and LayerNorms; extension rows at their own rate."""
    decay, no_decay, new_rows = [], [], []
    for name, p in [*model.named_parameters(), *(("loss." + n, p) for n, p in loss.named_parameters())]:
        if not p.requires_grad:
            continue
        if name.endswith("extra_word_embeddings"):
            new_rows.append(p)
        elif name.endswith("bias") or "LayerNorm" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if new_rows:
        groups.append({"params": new_rows, "weight_decay": 0.0, "lr": new_token_lr or lr})
    return groups


def make_optimizer(groups: list[dict], lr: float, device: torch.device) -> torch.optim.AdamW:
    """AdamW, as torch's fused kernel where the device has one (CPU, CUDA).

    The same update as the loop over parameters (tested within float rounding), in one
    pass over memory: the loop's many small ops over 22 million parameters took a
    quarter of a training step on a CPU. (sentence-transformers' trainer fuses it too.)
    """
    return torch.optim.AdamW(groups, lr=lr, fused=device.type in ("cpu", "cuda"))


def linear_schedule(warmup: int, total: int):
    """Multiplier of the learning rate at a step: 0 -> 1 over the warm-up, then 1 -> 0."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))
    return factor


class NoLossScaling:
    """A loss scaler that scales by 1, so each call is the plain one: training_step's default.
    (For fp16 on a GPU, fit passes torch's scaler, which has the same four methods.)"""

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return loss

    def unscale_(self, optimizer) -> None:
        pass

    def step(self, optimizer) -> None:
        optimizer.step()

    def update(self) -> None:
        pass


def training_step(model, loss_fn: nn.Module, features: list[dict], labels: torch.Tensor, optimizer, scheduler,
                  max_grad_norm: float = 1.0, context=None, scaler=None) -> torch.Tensor:
    """One siamese update on a batch; returns the loss.

    features: one tokenized batch per text column (all on the model's device).
    context: what the forward pass runs in (None: plain float32; fit passes the bf16 or fp16 one).
    scaler: scales the loss before backward and the gradients back before the update (None: no scaling).
    A loss that is not finite raises FloatingPointError before anything is updated.
    """
    scaler = scaler or NoLossScaling()
    with context or nullcontext():
        # BEGIN SOLUTION training_step: embed every column with the SAME model; the loss of the embeddings and labels
        value = loss_fn([model(f) for f in features], labels)
        # END SOLUTION
    if not torch.isfinite(value):
        raise FloatingPointError(f"the loss became {value.item()}")
    # BEGIN SOLUTION training_step: backward (of scaler.scale(loss)), unscale, clip the gradient norm, the optimizer step through the scaler, update it, scheduler step, zero the grads
    scaler.scale(value).backward()
    scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], max_grad_norm)
    scaler.step(optimizer)  # a real scaler skips the step when the scaled gradients overflowed
    scaler.update()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    # END SOLUTION
    return value.detach()


def fit(model, train_data: list[Example], loss: nn.Module, config: TrainConfig | None = None, *,
        evaluator=None, output_dir: str | Path | None = None, **options) -> list[dict]:
    """Train `model` on `train_data` with `loss`; returns the history (one dict per log or evaluation).

    The options are TrainConfig's fields, given as a TrainConfig or by name
    (`fit(model, data, loss, epochs=4, lr=5e-5)`). The model trains on the path it was
    built with (fast or written-out, see SentenceBert.from_pretrained).
    """
    cfg = TrainConfig.build(config, options)
    columns = check_examples(train_data)
    run = TrainingRun(model, train_data, loss, cfg, output_dir, evaluator)  # plan, precision, folder, processes
    optimizer = make_optimizer(parameter_groups(model, loss, cfg.lr, cfg.weight_decay, cfg.new_token_lr),
                               cfg.lr, run.device)
    warmup, total = int(cfg.warmup_ratio * run.plan.total), run.plan.total
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(warmup, total))
    run.resume(optimizer, scheduler)  # the step, history and best score: from the checkpoint, or new
    encoder = distributed.wrap(model)  # DistributedDataParallel under torchrun, else the model itself
    model.train()
    while run.more_steps():
        features, labels = run.batch(columns)
        try:
            value = training_step(encoder, loss, features, labels, optimizer, scheduler, cfg.max_grad_norm,
                                  run.context, run.scaler)
        except FloatingPointError as e:
            raise run.failed(e) from None
        run.stepped(value.item(), scheduler.get_last_lr()[0])  # count, show, log
        if run.evaluation_due() and run.record_evaluation():  # a new best score
            run.save_model()
        if run.checkpoint_due():
            run.save_checkpoint()
    return run.finish()
