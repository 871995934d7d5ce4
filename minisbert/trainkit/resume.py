"""Resuming an interrupted training run, safely.

`fit` writes the whole state of a run to output_dir/checkpoint/state.pt: the
weights, AdamW's moments, the schedule's position, the random generators and
the history. A run that restarts from it ends with exactly the weights an
uninterrupted run ends with (on CPU; tests/test_training.py checks this).

Two guards:

- The file is read with `torch.load(..., weights_only=True)`: tensors, numbers,
  strings and containers only. A `state.pt` from elsewhere that holds pickled
  code is refused instead of run.
- The state carries a fingerprint of what determines the run (the training
  data, the loss, the hyper-parameters). A resume whose data or settings differ
  is refused with a message naming what changed, instead of silently mixing two
  runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..support.errors import TrainingError

STATE_FILE = "state.pt"


def data_fingerprint(examples) -> str:
    """sha256 of the training examples, texts and labels, in order."""
    h = hashlib.sha256()
    for ex in examples:
        label = ex.label.tolist() if hasattr(ex.label, "tolist") else ex.label
        h.update(repr((ex.texts, label)).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def run_fingerprint(examples, loss, settings: dict) -> dict:
    """What a resumed run must share with the run that wrote the checkpoint."""
    loss_settings = {k: v for k, v in vars(loss).items() if isinstance(v, (int, float, str, bool))}
    return {"data": data_fingerprint(examples), "examples": len(examples),
            "loss": f"{type(loss).__name__}{sorted(loss_settings.items())}", **settings}


def fingerprint_changes(saved: dict, now: dict) -> list[str]:
    """Human-readable differences between two fingerprints ([] when they agree)."""
    changes = []
    for key in dict.fromkeys([*saved, *now]):
        before, after = saved.get(key), now.get(key)
        if before == after:
            continue
        if key == "data":
            changes.append("the training data (its texts or labels differ)")
        else:
            changes.append(f"{key}: {before!r} then, {after!r} now")
    return changes


def rng_states() -> dict:
    """Every random generator training uses, as tensors and plain lists (weights_only-safe)."""
    version, keys, gauss = random.getstate()
    name, mt, pos, has_gauss, cached = np.random.get_state()
    states = {"torch": torch.get_rng_state(), "python": [version, list(keys), gauss],
              "numpy": [name, torch.from_numpy(mt.astype(np.int64)), pos, has_gauss, cached]}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    version, keys, gauss = states["python"]
    random.setstate((version, tuple(keys), gauss))
    name, mt, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, mt.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


@dataclass
class TrainingState:
    """Where a run stands: the step, the history, the best score, and every component's state."""
    fingerprint: dict
    step: int = 0
    history: list = field(default_factory=list)
    best: float = float("-inf")
    components: dict = field(default_factory=dict)  # model, loss, optimizer, scheduler, scaler state dicts
    rng: dict = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        """Write folder/state.pt atomically: a kill mid-write leaves the previous state."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (STATE_FILE + ".tmp")
        torch.save({"fingerprint": self.fingerprint, "step": self.step, "history": self.history,
                    "best": self.best, "components": self.components, "rng": self.rng}, tmp)
        os.replace(tmp, folder / STATE_FILE)

    @classmethod
    def load(cls, folder: Path, fingerprint: dict, device: torch.device) -> "TrainingState":
        """The state in folder/state.pt, if it is data only and belongs to this run; else a TrainingError."""
        path = folder / STATE_FILE
        try:
            saved = torch.load(path, map_location=device, weights_only=True)
        except pickle.UnpicklingError as e:
            raise TrainingError(f"{path} holds more than tensors and numbers (it could run code when loaded), "
                                f"so it was not loaded ({str(e).splitlines()[0]}). Delete it, or train into a "
                                "new output folder") from None
        except (RuntimeError, EOFError, OSError) as e:
            raise TrainingError(f"{path} cannot be read ({type(e).__name__}: {e}); delete it to start "
                                "afresh") from None
        if not isinstance(saved, dict) or "fingerprint" not in saved:
            raise TrainingError(f"{path} is not a minisbert training state; delete it to start afresh")
        changes = fingerprint_changes(saved["fingerprint"], fingerprint)
        if changes:
            raise TrainingError(f"{path} was written by a different run, so it was not resumed. Changed: "
                                + "; ".join(changes) + ". To start afresh, train into a new output folder, "
                                "delete " + str(folder) + ", or pass resume=False")
        return cls(**saved)

    def restore(self, **modules) -> None:
        """Load every component's saved state into the live objects, and the random generators."""
        for name, obj in modules.items():
            if obj is not None and self.components.get(name) is not None:
                obj.load_state_dict(self.components[name])
        set_rng_states(self.rng)

    def capture(self, **modules) -> None:
        """Take every component's state and the random generators' now, before a save."""
        self.components = {name: obj.state_dict() if obj is not None else None for name, obj in modules.items()}
        self.rng = rng_states()
