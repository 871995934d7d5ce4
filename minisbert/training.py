"""The siamese training loop.

Every text column of a batch goes through the *same* SentenceBert (shared
weights: the "siamese network" of the SBERT paper), the loss compares the
embeddings, and AdamW updates the one encoder:

    for each batch of examples (texts_1, ..., texts_c, label):
        u_1 .. u_c = model(texts_1) .. model(texts_c)
        loss(u_1 .. u_c, label).backward(); clip the gradient norm; AdamW step

The learning rate rises linearly from 0 over the first warmup_ratio of the
steps, then falls linearly to 0. Along the way `fit` logs the loss, evaluates,
keeps the best model, and writes a checkpoint from which an interrupted run
resumes to exactly the weights an uninterrupted run ends with (on CPU).

    output_dir/
      model/            the best model by the evaluator (the last one without), sentence-transformers layout
      checkpoint/       model, optimizer, scheduler, RNG states and step, for resuming
      history.json, history.csv, training.png     the loss and metric curves
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and a CI log

from . import distributed
from .data import Example
from .device import PRECISIONS, precision_context
from .errors import MinisbertError
from .hub import checkpoints_dir


class TrainingError(MinisbertError, RuntimeError):
    """Training cannot go on (a NaN loss, bad data); the last good checkpoint is kept."""


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


def _autocast(device: torch.device, amp):
    """amp: None (fp16 on CUDA, else off), False or 'fp32', True or 'fp16', 'bf16' -> context, GradScaler."""
    if amp is None:
        amp = "fp16" if device.type == "cuda" else False
    precision = {False: "fp32", True: "fp16"}.get(amp, amp)
    if precision not in PRECISIONS:
        raise ValueError(f"amp={amp!r}: use None (automatic), False ('fp32'), 'fp16' or 'bf16'")
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" and device.type == "cuda" else None
    return precision_context(device, precision), scaler  # fp16 on a CPU: a ValueError that says so


def _save_state(path: Path, state: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / "state.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path / "state.pt")  # atomic: a kill mid-write leaves the old checkpoint


def _rng_states() -> dict:
    states = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def training_step(model, loss_fn: nn.Module, features: list[dict], labels: torch.Tensor, optimizer, scheduler,
                  max_grad_norm: float = 1.0, autocast=contextlib.nullcontext(), scaler=None) -> torch.Tensor:
    """One siamese update on a batch; returns the loss.

    features: one tokenized batch per text column (all on the model's device).
    A loss that is not finite raises FloatingPointError before anything is updated.
    """
    # BEGIN SOLUTION training_step: embed every column with the SAME model; the loss of the embeddings and labels
    with autocast:
        value = loss_fn([model(f) for f in features], labels)
    # END SOLUTION
    if not torch.isfinite(value):
        raise FloatingPointError(f"the loss became {value.item()}")
    # BEGIN SOLUTION training_step: backward (through the scaler if given), clip the gradient norm, step, zero grads
    (scaler.scale(value) if scaler else value).backward()
    if scaler:
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], max_grad_norm)
    scaler.step(optimizer) if scaler else optimizer.step()
    if scaler:
        scaler.update()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    # END SOLUTION
    return value.detach()


def fit(model, train_data: list[Example], loss: nn.Module, epochs: int = 1, batch_size: int = 16,
        lr: float = 2e-5, warmup_ratio: float = 0.1, weight_decay: float = 0.01, max_grad_norm: float = 1.0,
        evaluator=None, eval_steps: int | None = None, output_dir: str | Path | None = None, seed: int = 0,
        amp=None, checkpoint_steps: int | None = None, log_steps: int | None = None,
        new_token_lr: float | None = None, resume: bool = True, stop_after_steps: int | None = None,
        show_progress: bool = True) -> list[dict]:
    """Train `model` on `train_data` with `loss`; returns the history (one dict per log or evaluation).

    batch_size is per process: under torchrun with N processes a step sees N x batch_size
    examples (see minisbert/distributed.py); rank 0 evaluates and writes the files.
    eval_steps / checkpoint_steps: also evaluate / checkpoint every so many steps
    (always at the end of each epoch). resume: continue from output_dir/checkpoint
    when one exists. stop_after_steps: stop early (the schedule still spans every
    epoch), as an interruption would.
    """
    columns = check_examples(train_data)
    device = model.device
    autocast, scaler = _autocast(device, amp)  # an impossible precision fails before anything is written
    output_dir = Path(output_dir) if output_dir else checkpoints_dir() / time.strftime("run-%Y%m%d-%H%M%S")
    output_dir.mkdir(parents=True, exist_ok=True)
    loss.to(device)
    distributed.init_from_environment(device)  # under torchrun: join the process group
    world, main = distributed.world_size(), distributed.is_main()
    global_batch = batch_size * world  # batch_size examples per process
    steps_per_epoch = math.ceil(len(train_data) / global_batch)
    total = steps_per_epoch * epochs
    log_steps = log_steps or max(1, steps_per_epoch // 20)
    optimizer = make_optimizer(parameter_groups(model, loss, lr, weight_decay, new_token_lr), lr, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(int(warmup_ratio * total), total))

    step, history, best = 0, [], -math.inf
    ckpt = output_dir / "checkpoint"
    if resume and (ckpt / "state.pt").is_file():
        state = torch.load(ckpt / "state.pt", map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        loss.load_state_dict(state["loss"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        step, history, best = state["step"], state["history"], state["best"]
        _set_rng_states(state["rng"])
    else:
        torch.manual_seed(seed), random.seed(seed), np.random.seed(seed)

    def checkpoint():  # rank 0 writes, the others wait for it
        if main:
            _save_state(ckpt, {"model": model.state_dict(), "loss": loss.state_dict(),
                               "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                               "scaler": scaler.state_dict() if scaler else None, "step": step,
                               "history": history, "best": best, "rng": _rng_states()})
        distributed.barrier()

    def evaluate():  # once, on rank 0
        nonlocal best
        if main:
            metrics = evaluator(model)
            model.train()
            history.append({"step": step, "epoch": step / steps_per_epoch, **metrics})
            if metrics[evaluator.primary] > best:
                best = metrics[evaluator.primary]
                model.save(output_dir / "model")
        distributed.barrier()

    encoder = distributed.wrap(model)  # DistributedDataParallel under torch.distributed
    model.train()
    running, count = 0.0, 0
    bar = tqdm(total=total, initial=step, desc="Training", unit=" steps", disable=not (show_progress and main))
    while step < total and (stop_after_steps is None or step < stop_after_steps):
        epoch, within = divmod(step, steps_per_epoch)
        order = torch.randperm(len(train_data), generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        rows = order[within * global_batch:(within + 1) * global_batch]
        if world > 1 and len(rows) < global_batch:  # every process needs a full share: wrap around
            rows += order[:global_batch - len(rows)]
        batch = [train_data[i] for i in distributed.shard(rows, batch_size)]
        features = [{k: v.to(device) for k, v in model.tokenize([ex.texts[c] for ex in batch]).items()}
                    for c in range(columns)]
        labels = torch.as_tensor(np.array([ex.label for ex in batch]), device=device)
        try:
            value = training_step(encoder, loss, features, labels, optimizer, scheduler, max_grad_norm, autocast,
                                  scaler)
        except FloatingPointError as e:
            raise TrainingError(f"{e} at step {step + 1}; training stopped. "
                                f"The last good checkpoint is in {ckpt} (lower the learning rate?)") from None
        step += 1
        running, count = running + value.item(), count + 1
        bar.update(1)
        bar.set_postfix(loss=f"{running / count:.4f}")
        if step % log_steps == 0 or step % steps_per_epoch == 0:
            history.append({"step": step, "epoch": step / steps_per_epoch, "loss": running / count,
                            "lr": scheduler.get_last_lr()[0]})
            running, count = 0.0, 0
        end_of_epoch = step % steps_per_epoch == 0
        if evaluator is not None and (end_of_epoch or (eval_steps and step % eval_steps == 0)):
            evaluate()
        if end_of_epoch or (checkpoint_steps and step % checkpoint_steps == 0):
            checkpoint()
    bar.close()
    model.eval()
    if main:
        if step >= total and evaluator is None:
            model.save(output_dir / "model")
        write_history(history, output_dir)
    distributed.barrier()
    return history


def write_history(history: list[dict], output_dir: Path) -> None:
    """history.json, history.csv and training.png (loss and evaluation curves)."""
    (output_dir / "history.json").write_text(json.dumps(history, indent=1))
    keys = list(dict.fromkeys(k for row in history for k in row))
    with (output_dir / "history.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    plot_history(history, output_dir / "training.png")


def plot_history(history: list[dict], path: Path) -> None:
    # A bare Figure, not pyplot: no GUI backend needed, and a notebook's own backend is left alone.
    from matplotlib.figure import Figure
    losses = [(r["step"], r["loss"]) for r in history if "loss" in r]
    metric_keys = [k for k in dict.fromkeys(k for r in history for k in r) if k not in ("step", "epoch", "loss", "lr")]
    fig = Figure(figsize=(11 if metric_keys else 6, 4))
    axes = fig.subplots(1, 2 if metric_keys else 1, squeeze=False)
    if losses:
        axes[0, 0].plot(*zip(*losses), color="tab:blue")
    axes[0, 0].set(title="training loss", xlabel="step", ylabel="loss")
    if metric_keys:
        for k in metric_keys:
            points = [(r["step"], r[k]) for r in history if k in r]
            axes[0, 1].plot(*zip(*points), marker="o", label=k)
        axes[0, 1].set(title="evaluation", xlabel="step")
        axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
