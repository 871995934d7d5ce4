"""Training on several processes with torch.distributed (corpus encoding across processes: corpus.py).

Under `torchrun --nproc_per_node N`, `fit` runs unchanged: each process takes its
share of every global batch (batch_size per process, N x batch_size in all), the
model is wrapped in DistributedDataParallel (gradients are averaged across the
processes during backward), and only rank 0 evaluates and writes checkpoints,
history and plots. Backends: NCCL on GPUs, gloo on CPU.

In-batch negatives need care: with N processes, each process sees only its own
batch, so MultipleNegativesRankingLoss would rank against B - 1 negatives instead
of N x B - 1. `gather` collects the embeddings of all processes, keeping the
gradient path back to each process's own part, so N processes with batch B train
like one process with batch N x B.

    torchrun --nproc_per_node 2 -m minisbert train --train pairs.csv --loss mnrl ...
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """Whether this process writes files and evaluates (rank 0, or the only process)."""
    return rank() == 0


def init_from_environment(device: torch.device) -> bool:
    """Join the process group torchrun describes (WORLD_SIZE, RANK, MASTER_ADDR ...), once.
    Returns whether training is distributed."""
    if dist.is_initialized():
        return dist.get_world_size() > 1
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return True


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel around the shared encoder when distributed, else the model itself.

    Every text column of a batch goes through the same wrapped module before one
    backward; autograd sums each parameter's gradient over the columns before DDP's
    hook sees it, so DDP averages it once, as it expects.
    """
    if world_size() == 1:
        return model
    pooler = getattr(getattr(model, "bert", None), "pooler", None)
    if pooler is not None:  # BERT's pooler gets no gradient (SBERT pools the tokens): DDP must not wait for it
        pooler.requires_grad_(False)
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward returns each process its share of the summed gradient:
    every process's loss depends on every process's rows, so the gradients of a row
    computed on all processes add up (one all_reduce), and each keeps its own rows'."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x)
        return torch.cat(parts)  # (N * n, ...)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        n = grad.shape[0] // dist.get_world_size()
        return grad[dist.get_rank() * n:(dist.get_rank() + 1) * n]


def gather(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All processes' x concatenated in rank order (N * n, ...), and where this process's rows start.

    Every process must pass the same number of rows (fit gives each a full share). The
    gradient flows back to each process's own rows.
    """
    if world_size() == 1:
        return x, 0
    return _GatherWithGrad.apply(x.contiguous()), rank() * x.shape[0]


def shard(items: list, batch_size: int) -> list:
    """This process's share of one global batch: rows [rank * batch_size, (rank + 1) * batch_size)."""
    r = rank()
    return items[r * batch_size:(r + 1) * batch_size]
