"""Code that runs inside the processes tests/test_distributed.py starts (spawn needs it importable)."""

import torch
import torch.distributed as dist
from torch import nn


def start(rank: int, world: int, rendezvous: str) -> None:
    torch.set_num_threads(1)  # two processes on two cores
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)


def stop() -> None:
    dist.barrier()  # no process tears gloo down while another is still talking to it
    dist.destroy_process_group()


def without_dropout(model: nn.Module) -> nn.Module:
    """Dropout draws different masks for one batch of 8 than for two of 4; switch it off to compare."""
    from minisbert.attention import MultiHeadAttention
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        if isinstance(m, MultiHeadAttention):
            m.dropout = 0.0
    return model


def gathered_mnrl(rank: int, world: int, rendezvous: str, inputs: torch.Tensor, out: str) -> None:
    """Each process embeds its share of a global batch with a shared linear layer; MNRL with
    gathered candidates; the gradient averaged as DistributedDataParallel averages it."""
    from minisbert.losses import MultipleNegativesRankingLoss
    start(rank, world, rendezvous)
    torch.manual_seed(0)
    layer = nn.Linear(inputs.shape[-1], 6)
    B = inputs.shape[1] // world
    anchors, positives = (layer(inputs[c, rank * B:(rank + 1) * B]) for c in (0, 1))
    result = {}
    for gather in (True, False):
        layer.zero_grad()
        loss = MultipleNegativesRankingLoss(gather=gather)([anchors, positives])
        loss.backward(retain_graph=True)
        grad = layer.weight.grad.clone()
        dist.all_reduce(grad)
        total = loss.detach().clone()
        dist.all_reduce(total)
        result[gather] = {"loss": total / world, "grad": grad / world}
    if rank == 0:
        torch.save(result, out)
    stop()


def fit_share(rank: int, world: int, rendezvous: str, folder: str, loss_name: str, out: str) -> None:
    """fit() on this process's shares of the global batches."""
    from minisbert import SentenceBert
    from minisbert.training import fit
    start(rank, world, rendezvous)
    model = without_dropout(SentenceBert.from_pretrained(folder, device="cpu"))
    examples, loss = training_data(loss_name)
    fit(model, examples, loss, epochs=2, batch_size=4, lr=1e-3, output_dir=out, show_progress=False)
    torch.save(model.state_dict(), f"{out}/weights-rank{rank}.pt")
    stop()


def training_data(loss_name: str):
    from minisbert.trainkit.data import Example
    from minisbert.losses import CosineSimilarityLoss, MultipleNegativesRankingLoss
    words = "the a man woman dog cat plays runs eats sits in on park car red blue".split()
    texts = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(4 + i % 3)) for i in range(32)]
    if loss_name == "mnrl":
        return [Example((texts[i], texts[i + 16])) for i in range(16)], MultipleNegativesRankingLoss()
    return [Example((texts[i], texts[i + 16]), (i % 5) / 4) for i in range(16)], CosineSimilarityLoss()
