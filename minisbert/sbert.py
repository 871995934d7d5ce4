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
from .loading.find import DEFAULT_MODEL
from .loading.folder import save_sentence_bert
from .loading.pretrained import read_sentence_bert
from .pooling import Pooling, l2_normalize
from .similarity import cos_sim
from .support.errors import ConfigError, InputError, InputTypeError
from .support.inputs import check_iterable, check_text, check_texts
from .tokenizers import WordPieceTokenizer

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
        """Load a model folder (sentence-transformers layout), a bare BERT folder, or multilingual-e5-small's
        4-bit file (loading/pretrained.py finds and reads it).

        fast=True (the default) builds the fast encoder (fast/: fused kernels, padding-free layers, and
        encode in reduced precision or through torch.compile); fast=False the written-out code of the
        lessons. Both give the same numbers.
        """
        return cls(**read_sentence_bert(name_or_path, device, fast)).eval()  # dropout off until training

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

    def forward(self, features: dict[str, torch.Tensor], normalize: bool | None = None) -> torch.Tensor:
        """A tokenized batch (on self.device) -> sentence embeddings (B, D): BERT, pooling, normalisation."""
        tokens = self.bert(features["input_ids"], features["attention_mask"],
                           features.get("token_type_ids")).last_hidden_state  # (B, L, H)
        return self.pool(tokens, features["attention_mask"], normalize)

    def pool(self, tokens: torch.Tensor, attention_mask: torch.Tensor, normalize: bool | None = None) -> torch.Tensor:
        """Token vectors (B, L, H) -> one vector per sentence (B, D), L2-normalised if the model (or
        `normalize`) says so."""
        emb = self.pooling(tokens, attention_mask)  # (B, D)
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
        "int8" (CPU) runs the encoder's Linear layers on 8-bit integers; "auto" picks
        the fastest of these that this machine runs natively and says which on stderr
        (fast/hardware.py: bf16 with AMX, int8 with VNNI and no AMX, else bf16 with AVX512-BF16, else float32).
        prompt_name picks one of the model's prompts (multilingual-e5-small: "query", "passage")
        and prompt gives the text itself; either is put before every sentence.
        compile=True runs the encoder's layers through torch.compile: faster per
        sentence, but the first call of a process spends tens of seconds compiling; for large jobs.
        Precision and compile are ways of running the fast encoder (from_pretrained's default).
        """
        if convert_to not in ("numpy", "torch"):
            raise InputError(f"convert_to={convert_to!r}: use 'numpy' or 'torch'")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size={batch_size!r}: use a positive integer")
        encoder = self.bert.for_inference(precision, compile)  # the module that runs BERT: see BertModel
        single = isinstance(sentences, str)
        texts = [sentences] if single else check_texts(sentences)
        rows, _ = self.token_rows(texts, prompt=self.prompt_text(prompt_name, prompt))
        out = torch.empty(len(texts), self.dimension)
        order = sorted(range(len(texts)), key=lambda i: -len(rows[i][0]))  # longest first
        show = len(texts) >= PROGRESS_MIN_SENTENCES if show_progress is None else show_progress
        was_training = self.training
        self.eval()
        with torch.inference_mode(), tqdm(total=len(texts), desc="Encoding", unit=" sentences",
                                          disable=not show) as bar:
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                batch = {k: v.to(self.device) for k, v in self.tokenizer.pad([rows[i] for i in chunk]).items()}
                tokens = encoder(batch["input_ids"], batch["attention_mask"],
                                 batch.get("token_type_ids")).last_hidden_state  # (b, L, H)
                out[chunk] = self.pool(tokens, batch["attention_mask"], normalize).float().cpu()
                bar.update(len(chunk))
        self.train(was_training)
        result = out[0] if single else out
        return result.numpy() if convert_to == "numpy" else result

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
        """Write the model in the sentence-transformers layout; see loading/folder.py."""
        return save_sentence_bert(self, Path(path))
