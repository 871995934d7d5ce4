"""Saving a SentenceBert in the sentence-transformers layout, atomically.

    path/
      modules.json                 the pipeline: Transformer, Pooling (, Normalize)
      sentence_bert_config.json    max_seq_length, do_lower_case
      config.json, model.safetensors   the BERT encoder (transformers' BertModel reads these)
      vocab.txt | sentencepiece.bpe.model, tokenizer_config.json, special_tokens_map.json
      1_Pooling/config.json        the pooling modes
      2_Normalize/                 present when vectors are L2-normalised

Everything is written to a temporary folder beside `path` first and renamed
into place at the end, so an interrupted save leaves the previous model intact.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

from safetensors.torch import save_file

from . import __version__

ST_MODULES = [("", "sentence_transformers.models.Transformer"),
              ("1_Pooling", "sentence_transformers.models.Pooling"),
              ("2_Normalize", "sentence_transformers.models.Normalize")]


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save_bert(bert, folder: Path) -> None:
    """config.json and model.safetensors, readable by transformers' BertModel too."""
    cfg = {k: v for k, v in asdict(bert.config).items() if k not in ("fused", "unpad")}
    _write_json(folder / "config.json", {"architectures": ["BertModel"], "model_type": "bert", **cfg})
    state = bert.state_dict()
    if state.pop("embeddings.extra_word_embeddings", None) is not None:  # vocabulary extension
        state["embeddings.word_embeddings.weight"] = bert.embeddings.token_weight()
    state = {k: v.detach().float().cpu().contiguous() for k, v in state.items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _looks_like_a_model(path: Path) -> bool:
    return any((path / f).is_file() for f in ("modules.json", "config.json"))


def save_sentence_bert(model, path: Path) -> Path:
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not _looks_like_a_model(path))):
        raise FileExistsError(f"{path} exists and is not a model folder; save to a new or empty "
                              "folder so nothing of yours is overwritten")
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
                     "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})
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
