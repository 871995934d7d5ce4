"""The machinery around fit's loop: the plan of batches, precision, resuming, logs, checkpoints, files.

`training.fit` holds the loop a learner reads (a batch, a training step, the
bookkeeping); a `TrainingRun` does the bookkeeping, so that fit stays on one
screen:

    output_dir/
      model/            the best model by the evaluator (the last one without), sentence-transformers layout
      checkpoint/       state.pt: weights, optimizer, schedule, random generators, step (see resume.py)
      history.json, history.csv, training.png     the loss and metric curves

Under torchrun every process runs the loop on its share of each global batch;
rank 0 alone evaluates and writes files, and the others wait for it (distributed.py).
"""

from __future__ import annotations

import csv
import json
import random
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and a CI log

from ..fast.precision import make_grad_scaler, precision_context
from ..loading.find import checkpoints_dir
from ..support.errors import TrainingError
from ..support.plots import plot_history
from . import distributed
from .batching import NoDuplicatesPlan, Plan
from .resume import TrainingState, run_fingerprint


class TrainingRun:
    """One call of fit: where it writes, which batches it takes, how far it is, and its records."""

    def __init__(self, model, train_data: list, loss: torch.nn.Module, cfg, output_dir: str | Path | None,
                 evaluator=None):
        self.model, self.train_data, self.loss, self.cfg, self.evaluator = model, train_data, loss, cfg, evaluator
        self.device = model.device
        # the forward pass's context (autocast for bf16/fp16; an impossible precision fails here, before any
        # file is written) and the loss scaler (fp16 on CUDA only; None: no scaling)
        self.context = precision_context(self.device, cfg.precision)
        self.scaler = make_grad_scaler(self.device, cfg.precision)
        self.output_dir = Path(output_dir) if output_dir else checkpoints_dir() / time.strftime("run-%Y%m%d-%H%M%S")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint = self.output_dir / "checkpoint"
        loss.to(self.device)
        distributed.init_from_environment(self.device)  # under torchrun: join the process group
        shape = (len(train_data), cfg.batch_size * distributed.world_size(), cfg.epochs, cfg.seed)
        self.plan = NoDuplicatesPlan(*shape, texts=[ex.texts for ex in train_data]) if cfg.no_duplicates \
            else Plan(*shape)
        self.log_steps = cfg.log_steps or max(1, self.plan.steps_in(0) // 20)
        self.running, self.truncated = [], 0  # losses since the last log line; texts cut to max_seq_length
        self.components: dict = {}

    def resume(self, optimizer, scheduler) -> TrainingState:
        """The state of the run: restored from output_dir/checkpoint when it belongs to this run, else new."""
        self.components = {"model": self.model, "loss": self.loss, "optimizer": optimizer, "scheduler": scheduler,
                           "scaler": self.scaler}
        fingerprint = run_fingerprint(self.train_data, self.loss,
                                      {**self.cfg.trajectory(), "processes": distributed.world_size()})
        if self.cfg.resume and (self.checkpoint / "state.pt").is_file():
            state = TrainingState.load(self.checkpoint, fingerprint, self.device)
            state.restore(**self.components)
        else:
            state = TrainingState(fingerprint)
            torch.manual_seed(self.cfg.seed), random.seed(self.cfg.seed), np.random.seed(self.cfg.seed)
        self.bar = tqdm(total=self.plan.total, initial=state.step, desc="Training", unit=" steps",
                        disable=not (self.cfg.show_progress and distributed.is_main()))
        self.state = state
        return state

    def more_steps(self) -> bool:
        stop = self.cfg.stop_after_steps
        return self.state.step < self.plan.total and (stop is None or self.state.step < stop)

    def batch(self, columns: int):
        """The next batch, this process's share: one tokenized batch per text column, and the labels."""
        examples = [self.train_data[i] for i in distributed.shard(self.plan.rows(self.state.step),
                                                                  self.cfg.batch_size)]
        features = []
        for c in range(columns):
            rows, cut = self.model.token_rows([ex.texts[c] for ex in examples], warn=False)
            features.append({k: v.to(self.device) for k, v in self.model.tokenizer.pad(rows).items()})
            self.truncated += cut
        return features, torch.as_tensor(np.array([ex.label for ex in examples]), device=self.device)

    def failed(self, error: FloatingPointError) -> TrainingError:
        return TrainingError(f"{error} at step {self.state.step + 1}; training stopped. The last good "
                             f"checkpoint is in {self.checkpoint} (lower the learning rate?)")

    def stepped(self, loss: float, lr: float) -> None:
        """Count the step, show it, and log the mean loss every log_steps steps and at the end of an epoch."""
        state = self.state
        state.step += 1
        self.running.append(loss)
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{sum(self.running) / len(self.running):.4f}")
        if state.step % self.log_steps == 0 or self.plan.ends_epoch(state.step):
            state.history.append({"step": state.step, "epoch": self.plan.epoch_position(state.step),
                                  "loss": sum(self.running) / len(self.running), "lr": lr})
            self.running = []

    def evaluation_due(self) -> bool:
        every = self.cfg.eval_steps
        return self.evaluator is not None and (self.plan.ends_epoch(self.state.step)
                                               or bool(every and self.state.step % every == 0))

    def record_evaluation(self) -> bool:
        """Score the model (rank 0) and record it in the history; True when it is the best score so far."""
        best = False
        if distributed.is_main():
            metrics = self.evaluator(self.model)
            self.model.train()
            self.state.history.append({"step": self.state.step, "epoch": self.plan.epoch_position(self.state.step),
                                       **metrics})
            best = metrics[self.evaluator.primary] > self.state.best
            self.state.best = max(self.state.best, metrics[self.evaluator.primary])
        distributed.barrier()
        return best

    def save_model(self) -> None:
        """Rank 0 writes the model to output_dir/model; the other processes wait for it."""
        if distributed.is_main():
            self.model.save(self.output_dir / "model")
        distributed.barrier()

    def checkpoint_due(self) -> bool:
        every = self.cfg.checkpoint_steps
        return self.plan.ends_epoch(self.state.step) or bool(every and self.state.step % every == 0)

    def save_checkpoint(self) -> None:
        """Rank 0 writes the training state; the other processes wait for it."""
        if distributed.is_main():
            self.state.capture(**self.components)
            self.state.save(self.checkpoint)
        distributed.barrier()

    def finish(self) -> list[dict]:
        """Close the bar, warn about cut texts, save the last model when no evaluator chose one, write the
        history; returns it."""
        self.bar.close()
        if self.truncated:
            warnings.warn(f"{self.truncated} training texts were longer than max_seq_length="
                          f"{self.model.max_seq_length} tokens and were truncated; only their beginning was "
                          "trained on", stacklevel=3)
        self.model.eval()
        if self.state.step >= self.plan.total and self.evaluator is None:
            self.save_model()
        if distributed.is_main():
            write_history(self.state.history, self.output_dir)
        distributed.barrier()
        return self.state.history


def write_history(history: list[dict], output_dir: Path) -> None:
    """history.json, history.csv and training.png (loss and evaluation curves)."""
    (output_dir / "history.json").write_text(json.dumps(history, indent=1))
    keys = list(dict.fromkeys(k for row in history for k in row))
    with (output_dir / "history.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    plot_history(history, output_dir / "training.png")
