"""Embedding a corpus file into a .npy array, in one process or several, in bounded memory.

The output is created at its full size first (a memory-mapped .npy), then each
worker embeds a contiguous range of lines and writes its rows in place: the
result is in input order whatever the number of workers, and no process holds
more than a chunk of sentences. The file is written as OUTPUT.partial and renamed
when complete, so an interrupted run never leaves a half-written array behind.

    encode_file("all-MiniLM-L6-v2", "corpus.txt", "corpus.npy", num_workers=2)
    encode_file(..., devices=["cuda:0", "cuda:1"])      # one worker per GPU

Workers are separate processes (torch.multiprocessing, spawn), each with its own
copy of the model and cores // workers threads; on a CPU this pays when there are
more cores than one process uses well, on several GPUs it uses them all.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap
from ..fast.compiled import check_compiler
from ..support.device import pick_device
from ..support.errors import InputError, MissingFileError


def read_lines(path: str | Path):
    """The non-empty lines of a UTF-8 file, stripped, read lazily."""
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"input file {p} does not exist")
    with p.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line.strip()


def _fill(model, input_path: str, array_path: str, start: int, end: int, batch_size: int, chunk_size: int,
          precision: str, prompt_name: str | None, compile: bool, progress: bool = False) -> None:
    """Embed lines [start, end) of the input into rows [start, end) of the array file."""
    from tqdm import tqdm
    out = np.load(array_path, mmap_mode="r+")
    row = start
    with tqdm(total=end - start, desc="Encoding", unit=" sentences", disable=not progress) as bar:
        lines = itertools.islice(read_lines(input_path), start, end)
        for chunk in model.encode_iter(lines, batch_size=batch_size, chunk_size=chunk_size, precision=precision,
                                       prompt_name=prompt_name, compile=compile):
            out[row:row + len(chunk)] = chunk
            row += len(chunk)
            bar.update(len(chunk))
    out.flush()


def _worker(index, folder, devices, threads, args):
    """One of several processes: its own model on its device, its own range of lines."""
    from ..sbert import SentenceBert
    torch.set_num_threads(threads)
    _fill(SentenceBert.from_pretrained(folder, device=devices[index % len(devices)]), *args[index])


def encode_file(model_name: str, input_path: str | Path, output_path: str | Path, num_workers: int = 1,
                devices: list[str] | None = None, batch_size: int = 32, chunk_size: int = 4096,
                show_progress: bool = True, precision: str = "fp32", prompt_name: str | None = None,
                compile: bool = False) -> tuple[int, int]:
    """Embed every non-empty line of input_path into output_path (.npy, float32); returns (rows, dimension).

    prompt_name: one of the model's prompts (e.g. "passage" for multilingual-e5-small's documents).
    compile: run the encoder's layers through torch.compile (each worker compiles once; see fast/compiled.py).
    """
    if not isinstance(num_workers, int) or num_workers < 1:
        raise InputError(f"num_workers={num_workers!r}: use a positive integer")
    n = sum(1 for _ in read_lines(input_path))
    if not n:
        raise InputError(f"{input_path} holds no sentences (one sentence a line is expected)")
    from ..loading.find import resolve_model
    from ..sbert import SentenceBert
    folder = resolve_model(model_name)
    workers = min(num_workers, n)
    devices = devices or [None]  # None: each worker picks as pick_device does
    # One process: this model does the work. Several: it only tells the dimension (and that the folder loads).
    model = SentenceBert.from_pretrained(folder, device=devices[0] if workers == 1 else "cpu")
    model.prompt_text(prompt_name)  # an unknown prompt name fails here, before any work
    if compile:  # and a missing C++ compiler, where a worker would compile for the CPU
        for device in devices:
            check_compiler(pick_device(device))
    output = Path(output_path)
    partial = output.with_name(output.name + ".partial")
    open_memmap(partial, mode="w+", dtype=np.float32, shape=(n, model.dimension)).flush()  # workers fill it
    bounds = np.linspace(0, n, workers + 1).astype(int)
    args = [(str(input_path), str(partial), int(bounds[i]), int(bounds[i + 1]), batch_size, chunk_size, precision,
             prompt_name, compile)
            for i in range(workers)]
    try:
        if workers == 1:
            _fill(model, *args[0], progress=show_progress and n >= 1000)
        else:
            threads = max(1, (os.cpu_count() or 1) // workers)
            torch.multiprocessing.spawn(_worker, args=(str(folder), devices, threads, args), nprocs=workers)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)
    return n, model.dimension
