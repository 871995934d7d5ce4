"""Reading and writing BERT's weights: config.json and model.safetensors of a model folder.

Reading checks every tensor's name and shape against the model it is meant for.

Checkpoints name tensors as BERT's modules do (`encoder.layer.0.attention.self.
query.weight`), with variations this file maps onto our parameter names:

- task checkpoints (BertForSequenceClassification, BertForPreTraining, ...)
  prefix the encoder with `bert.`; their task heads (`cls.*`, `classifier.*`)
  are not part of the encoder and are skipped;
- old TensorFlow-converted checkpoints call LayerNorm's weight and bias
  `gamma` and `beta`;
- `embeddings.position_ids` is a saved buffer (0, 1, 2, ...), not a weight.

Nothing is assigned until everything has been checked, so a bad file raises a
`CheckpointError` that names each problem, and no half-loaded model exists.
Writing (`save_bert`) produces files that transformers' BertModel reads too.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import torch

from ..support.errors import CheckpointError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
BUFFERS = {"embeddings.position_ids", "embeddings.token_type_ids"}


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors or .bin file, or a CheckpointError that names the file."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path), device="cpu")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # safetensors and pickle raise many kinds; all mean "unreadable"
        raise CheckpointError(f"{path} cannot be read ({type(e).__name__}: {e}); the file may be "
                              "truncated or damaged: copy or save it again") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a dictionary of tensors (a state dict)")
    return state


def find_weight_file(folder: Path) -> Path:
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise CheckpointError(f"{folder} has no weights: expected one of {', '.join(WEIGHT_FILES)}; "
                          f"it holds {present or 'nothing'}")


def checkpoint_key_to_param(key: str, prefixed: bool) -> str | None:
    """Our parameter name for a checkpoint tensor name, or None for a tensor we skip."""
    if prefixed:
        if not key.startswith("bert."):
            return None  # a task head (cls.*, classifier.*, qa_outputs.*)
        key = key[len("bert."):]
    if key in BUFFERS:
        return None
    return re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key))


def _listing(names, limit=8) -> str:
    names = sorted(names)
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def read_bert_weights(folder: Path) -> tuple[dict[str, torch.Tensor], Path]:
    """The tensors of a folder's weight file under our parameter names, and the file's path."""
    path = find_weight_file(folder)
    raw = read_state_dict(path)
    prefixed = any(k.startswith("bert.") for k in raw)
    state = {}
    for key, tensor in raw.items():
        name = checkpoint_key_to_param(key, prefixed)
        if name is not None:
            state[name] = tensor
    return state, path


def check_bert_weights(state: dict[str, torch.Tensor], expected: dict[str, torch.Size], path: Path,
                       config_path: Path) -> dict[str, torch.Tensor]:
    """`state` as float32, if its names and shapes are exactly `expected`'s; else a CheckpointError."""
    missing = expected.keys() - state.keys()
    unexpected = state.keys() - expected.keys()
    misshapen = [f"{k}: file {tuple(state[k].shape)}, config.json {tuple(expected[k])}"
                 for k in expected.keys() & state.keys() if state[k].shape != expected[k]]
    if missing or unexpected or misshapen:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing tensors: {_listing(missing)}")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected tensors: {_listing(unexpected)}")
        if misshapen:
            problems.append(f"{len(misshapen)} tensors of the wrong shape: {_listing(misshapen, 4)}")
        hint = ("; the weights do not fit config.json (another model's config?)" if misshapen
                else "; is this a BERT checkpoint?")
        raise CheckpointError(f"{path} does not match a BERT of {config_path}: " + "; ".join(problems) + hint)
    checked = {}
    for k, tensor in state.items():
        if not tensor.is_floating_point():
            raise CheckpointError(f"{path}: tensor {k} has dtype {tensor.dtype}, expected floating point")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path}: tensor {k} holds NaN or infinite values; the file is damaged")
        checked[k] = tensor.float()  # fp16/bf16 checkpoints are computed in float32 by default
    return checked


def save_bert(bert, folder: Path) -> None:
    """config.json and model.safetensors, readable by transformers' BertModel too."""
    from safetensors.torch import save_file
    config = {"architectures": ["BertModel"], "model_type": "bert", **asdict(bert.config)}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    state = bert.state_dict()
    if state.pop("embeddings.extra_word_embeddings", None) is not None:  # vocabulary extension
        state["embeddings.word_embeddings.weight"] = bert.embeddings.token_weight()
    state = {k: v.detach().float().cpu().contiguous() for k, v in state.items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
