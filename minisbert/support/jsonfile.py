"""Reading the JSON files of a model folder (config.json, tokenizer_config.json, modules.json, ...)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ConfigError


def read_json(path: Path, default=None):
    """A JSON file of a model folder, `default` when it is absent, a ConfigError when it is broken."""
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON ({e}); repair or delete it") from None
