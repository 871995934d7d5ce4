"""A SentenceBert as a folder in the sentence-transformers layout: reading its
module list, and saving the whole folder atomically.

    path/
      modules.json                 the pipeline: Transformer, Pooling (, Normalize)
      sentence_bert_config.json    max_seq_length, do_lower_case
      config.json, model.safetensors   the BERT encoder (transformers' BertModel reads these)
      vocab.txt | sentencepiece.bpe.model | unigram_tokenizer.json, tokenizer_config.json, ...
      1_Pooling/config.json        the pooling modes
      2_Normalize/                 present when vectors are L2-normalised

Everything is written to a temporary folder beside `path` first and renamed
into place at the end, so an interrupted save leaves the previous model intact.
An existing folder is replaced only if every file in it is one a save writes:
a folder holding anything else (your notes, a README, data, another project, files
another library saved) is refused and left untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..support.errors import ConfigError, OutputExistsError
from ..support.jsonfile import read_json
from ..support.version import __version__
from .weights import save_bert

ST_MODULES = [("", "sentence_transformers.models.Transformer"),
              ("1_Pooling", "sentence_transformers.models.Pooling"),
              ("2_Normalize", "sentence_transformers.models.Normalize")]


# The files a save writes (each tokenizer writes its own few of them). Only a folder holding nothing else
# may be replaced by a save: a file minisbert did not write (a README.md of yours, a tokenizer.json or a
# pytorch_model.bin that another library saved) is never deleted.
MODEL_FILES = {"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "config.json",
               "model.safetensors", "vocab.txt", "sentencepiece.bpe.model", "unigram_tokenizer.json",
               "tokenizer_config.json", "special_tokens_map.json", "1_Pooling/config.json"}
MODEL_FOLDERS = {"1_Pooling", "2_Normalize"}
MODULE_KINDS = ("Transformer", "Pooling", "Normalize")


def read_modules(folder: Path) -> dict[str, Path]:
    """modules.json as {kind: folder}: where the Transformer, Pooling and Normalize modules live.

    A bare BERT folder (no modules.json) is a Transformer with mean pooling.
    """
    modules = read_json(folder / "modules.json",
                        [{"path": "", "type": "Transformer"}, {"path": "1_Pooling", "type": "Pooling"}])
    kinds = {}
    for m in modules:
        kind = m.get("type", "").rsplit(".", 1)[-1]
        if kind not in MODULE_KINDS:
            raise ConfigError(f"{folder / 'modules.json'} lists a {m.get('type')} module ({m.get('path')}), "
                              f"which minisbert does not implement (it has {', '.join(MODULE_KINDS)})")
        kinds[kind] = folder / m.get("path", "")
    if "Transformer" not in kinds:
        raise ConfigError(f"{folder / 'modules.json'} lists no Transformer module")
    return kinds


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def foreign_files(path: Path) -> list[str]:
    """What in an existing folder does not belong to a model folder (relative paths, sorted)."""
    foreign = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_dir():
            if rel not in MODEL_FOLDERS:
                foreign.append(rel + "/")
        elif rel not in MODEL_FILES:
            foreign.append(rel)
    return foreign


def _check_replaceable(path: Path) -> None:
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputExistsError(f"{path} exists and is a file; save the model to a new or empty folder")
    foreign = foreign_files(path)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputExistsError(f"{path} holds files that are not part of a model folder ({shown}); nothing was "
                                "written. Save to a new or empty folder, or move those files away first")


def save_sentence_bert(model, path: Path) -> Path:
    _check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.saving-{os.getpid()}"
    old = path.parent / f".{path.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_bert(model.bert, tmp)
        model.tokenizer.save(tmp, model_max_length=model.max_seq_length)
        _write_json(tmp / "sentence_bert_config.json",
                    {"max_seq_length": model.max_seq_length, "do_lower_case": model.do_lower_case})
        (tmp / "1_Pooling").mkdir()
        _write_json(tmp / "1_Pooling" / "config.json", model.pooling.config())
        modules = ST_MODULES if model.normalize else ST_MODULES[:2]
        if model.normalize:
            (tmp / "2_Normalize").mkdir()
        _write_json(tmp / "modules.json", [{"idx": i, "name": str(i), "path": p, "type": t}
                                           for i, (p, t) in enumerate(modules)])
        _write_json(tmp / "config_sentence_transformers.json",
                    {"__version__": {"minisbert": __version__}, "model_type": "SentenceTransformer",
                     "prompts": model.prompts, "default_prompt_name": model.default_prompt_name,
                     "similarity_fn_name": "cosine"})
        if path.exists():
            path.rename(old)  # the previous model stays whole until the new one is in place
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            old.rename(path)  # the final rename failed: put the previous model back
        raise
    return path
