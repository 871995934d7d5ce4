"""The siamese training loop.

Every text column of a batch goes through the *same* SentenceBert (shared
weights: the "siamese network" of the SBERT paper), the loss compares the
embeddings, and AdamW updates the one encoder:

    for each batch of examples (texts_1, ..., texts_c, label):
        u_1 .. u_c = model(texts_1) .. model(texts_c)
        loss(u_1 .. u_c, label).backward(); clip the gradient norm; AdamW step

`training_step` is that update, written out. The learning rate rises linearly
from 0 over the first warmup_ratio of the steps, then falls linearly to 0.
Around the steps, `fit` logs the loss, evaluates, keeps the best model, and
writes a checkpoint (resume.py) from which an interrupted run resumes to
exactly the weights an uninterrupted run ends with (on CPU).

    output_dir/
      model/            the best model by the evaluator (the last one without), sentence-transformers layout
      checkpoint/       state.pt: weights, optimizer, schedule, random generators, step (see resume.py)
      history.json, history.csv, training.png     the loss and metric curves
"""

from __future__ import annotations

import csv
import functools
import json
import random
import time
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and a CI log

from . import distributed
from .batching import NoDuplicatesPlan, Plan
from .data import Example
from .device import PRECISIONS, precision_context
from .errors import InputError, InputTypeError, TrainingError
from .fast import make_grad_scaler, mixed_precision_step
from .model_finder import checkpoints_dir
from .plots import plot_history
from .resume import TrainingState, run_fingerprint


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
    no_duplicates: bool = False  # no text twice in a global batch: in-batch negatives without false ones (batching.py)

    # What a resumed run must share with the run that wrote the checkpoint.
    TRAJECTORY = ("epochs", "batch_size", "lr", "warmup_ratio", "weight_decay", "max_grad_norm", "seed",
                  "precision", "new_token_lr", "no_duplicates")

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise InputError(f"precision={self.precision!r}: use one of {', '.join(PRECISIONS)}")
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




def training_step(model, loss_fn: nn.Module, features: list[dict], labels: torch.Tensor, optimizer, scheduler,
                  max_grad_norm: float = 1.0) -> torch.Tensor:
    """One siamese update on a batch; returns the loss.

    features: one tokenized batch per text column (all on the model's device).
    A loss that is not finite raises FloatingPointError before anything is updated.
    (fast.mixed_precision_step is the same update with the forward pass under autocast.)
    """
    # BEGIN SOLUTION training_step: embed every column with the SAME model; the loss of the embeddings and labels
    value = loss_fn([model(f) for f in features], labels)
    # END SOLUTION
    if not torch.isfinite(value):
        raise FloatingPointError(f"the loss became {value.item()}")
    # BEGIN SOLUTION training_step: backward, clip the gradient norm, optimizer step, scheduler step, zero the grads
    value.backward()
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    # END SOLUTION
    return value.detach()


def make_batch(model, examples: list[Example], columns: int, device: torch.device):
    """One tokenized batch per text column, the labels (on the device), and how many texts were cut."""
    features, truncated = [], 0
    for c in range(columns):
        rows, cut = model.token_rows([ex.texts[c] for ex in examples], warn=False)
        features.append({k: v.to(device) for k, v in model.tokenizer.pad(rows).items()})
        truncated += cut
    return features, torch.as_tensor(np.array([ex.label for ex in examples]), device=device), truncated


def evaluate(model, evaluator, state: TrainingState, plan: Plan, output_dir: Path) -> None:
    """Score the model (on rank 0), record it, and save it if it is the best so far."""
    if distributed.is_main():
        metrics = evaluator(model)
        model.train()
        state.history.append({"step": state.step, "epoch": plan.epoch_position(state.step), **metrics})
        if metrics[evaluator.primary] > state.best:
            state.best = metrics[evaluator.primary]
            model.save(output_dir / "model")
    distributed.barrier()


def save_checkpoint(state: TrainingState, folder: Path, **components) -> None:
    """Rank 0 writes the training state; the other processes wait for it."""
    if distributed.is_main():
        state.capture(**components)
        state.save(folder)
    distributed.barrier()


def fit(model, train_data: list[Example], loss: nn.Module, config: TrainConfig | None = None, *,
        evaluator=None, output_dir: str | Path | None = None, **options) -> list[dict]:
    """Train `model` on `train_data` with `loss`; returns the history (one dict per log or evaluation).

    The options are TrainConfig's fields, given as a TrainConfig or by name
    (`fit(model, data, loss, epochs=4, lr=5e-5)`). Under torchrun rank 0 evaluates
    and writes the files (see distributed.py). The model trains on the path it was
    built with (fast or written-out, see SentenceBert.from_pretrained).
    """
    cfg = TrainConfig.build(config, options)
    columns = check_examples(train_data)
    device = model.device
    precision_context(device, cfg.precision)  # an impossible precision fails before anything is written
    output_dir = Path(output_dir) if output_dir else checkpoints_dir() / time.strftime("run-%Y%m%d-%H%M%S")
    output_dir.mkdir(parents=True, exist_ok=True)
    loss.to(device)
    distributed.init_from_environment(device)  # under torchrun: join the process group
    shape = (len(train_data), cfg.batch_size * distributed.world_size(), cfg.epochs, cfg.seed)
    plan = NoDuplicatesPlan(*shape, texts=[ex.texts for ex in train_data]) if cfg.no_duplicates else Plan(*shape)
    log_steps = cfg.log_steps or max(1, plan.steps_in(0) // 20)
    optimizer = make_optimizer(parameter_groups(model, loss, cfg.lr, cfg.weight_decay, cfg.new_token_lr),
                               cfg.lr, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(int(cfg.warmup_ratio * plan.total),
                                                                             plan.total))
    scaler = make_grad_scaler(device, cfg.precision)
    components = {"model": model, "loss": loss, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    fingerprint = run_fingerprint(train_data, loss, {**cfg.trajectory(), "processes": distributed.world_size()})
    ckpt = output_dir / "checkpoint"
    if cfg.resume and (ckpt / "state.pt").is_file():
        state = TrainingState.load(ckpt, fingerprint, device)
        state.restore(**components)
    else:
        state = TrainingState(fingerprint)
        torch.manual_seed(cfg.seed), random.seed(cfg.seed), np.random.seed(cfg.seed)
    step = training_step if cfg.precision == "fp32" else \
        functools.partial(mixed_precision_step, precision=cfg.precision, scaler=scaler)

    encoder = distributed.wrap(model)  # DistributedDataParallel under torch.distributed
    model.train()
    running, truncated = [], 0  # losses since the last log line; texts cut to max_seq_length
    bar = tqdm(total=plan.total, initial=state.step, desc="Training", unit=" steps",
               disable=not (cfg.show_progress and distributed.is_main()))
    while state.step < plan.total and (cfg.stop_after_steps is None or state.step < cfg.stop_after_steps):
        batch = [train_data[i] for i in distributed.shard(plan.rows(state.step), cfg.batch_size)]
        features, labels, cut = make_batch(model, batch, columns, device)
        truncated += cut
        try:
            value = step(encoder, loss, features, labels, optimizer, scheduler, cfg.max_grad_norm)
        except FloatingPointError as e:
            raise TrainingError(f"{e} at step {state.step + 1}; training stopped. The last good "
                                f"checkpoint is in {ckpt} (lower the learning rate?)") from None
        state.step += 1
        running.append(value.item())
        bar.update(1)
        bar.set_postfix(loss=f"{sum(running) / len(running):.4f}")
        end_of_epoch = plan.ends_epoch(state.step)
        if state.step % log_steps == 0 or end_of_epoch:
            state.history.append({"step": state.step, "epoch": plan.epoch_position(state.step),
                                  "loss": sum(running) / len(running), "lr": scheduler.get_last_lr()[0]})
            running = []
        if evaluator is not None and (end_of_epoch or (cfg.eval_steps and state.step % cfg.eval_steps == 0)):
            evaluate(model, evaluator, state, plan, output_dir)
        if end_of_epoch or (cfg.checkpoint_steps and state.step % cfg.checkpoint_steps == 0):
            save_checkpoint(state, ckpt, **components)
    bar.close()
    if truncated:
        warnings.warn(f"{truncated} training texts were longer than max_seq_length={model.max_seq_length} tokens "
                      "and were truncated; only their beginning was trained on", stacklevel=2)
    model.eval()
    if distributed.is_main():
        if state.step >= plan.total and evaluator is None:
            model.save(output_dir / "model")
        write_history(state.history, output_dir)
    distributed.barrier()
    return state.history


def write_history(history: list[dict], output_dir: Path) -> None:
    """history.json, history.csv and training.png (loss and evaluation curves)."""
    (output_dir / "history.json").write_text(json.dumps(history, indent=1))
    keys = list(dict.fromkeys(k for row in history for k in row))
    with (output_dir / "history.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    plot_history(history, output_dir / "training.png")
