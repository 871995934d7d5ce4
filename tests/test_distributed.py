"""torch.distributed with the gloo backend on 2 CPU processes: gathered in-batch negatives and
fit() equal to one process on the same global batches."""

import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import FIXTURES

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available() or sys.platform == "win32",
                                reason="needs torch.distributed with the gloo backend")
WORLD = 2


def test_gathered_negatives_give_the_single_process_loss_and_gradient(tmp_path):
    import distributed_workers as w
    from minisbert.losses import MultipleNegativesRankingLoss
    inputs = torch.randn(2, 8, 5, generator=torch.Generator().manual_seed(1))  # (columns, global batch, features)
    mp.spawn(w.gathered_mnrl, args=(WORLD, str(tmp_path / "rdv"), inputs, str(tmp_path / "out.pt")), nprocs=WORLD)
    result = torch.load(tmp_path / "out.pt")
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 6)
    loss = MultipleNegativesRankingLoss()([layer(inputs[0]), layer(inputs[1])])  # one process, batch 8
    loss.backward()
    torch.testing.assert_close(result[True]["loss"], loss.detach(), atol=1e-5, rtol=0)  # float sums in another order
    torch.testing.assert_close(result[True]["grad"], layer.weight.grad, atol=1e-5, rtol=0)
    # without gathering each process ranks against its own 4 candidates: another, easier loss
    assert (result[False]["loss"] - loss).abs() > 1e-3


@pytest.mark.parametrize("loss_name", ["cosine", "mnrl"])
def test_fit_on_two_processes_equals_one_process_with_the_global_batch(tmp_path, loss_name):
    import distributed_workers as w
    from minisbert import SentenceBert
    from minisbert.training import fit
    folder = str(FIXTURES / "tiny_sbert")
    out = tmp_path / "two"
    mp.spawn(w.fit_share, args=(WORLD, str(tmp_path / "rdv"), folder, loss_name, str(out)), nprocs=WORLD)
    model = w.without_dropout(SentenceBert.from_pretrained(folder, device="cpu"))
    examples, loss = w.training_data(loss_name)
    fit(model, examples, loss, epochs=2, batch_size=4 * WORLD, lr=1e-3, output_dir=tmp_path / "one",
        show_progress=False)
    one = model.state_dict()
    for rank in range(WORLD):
        two = torch.load(out / f"weights-rank{rank}.pt")
        for k in one:
            torch.testing.assert_close(two[k], one[k], atol=1e-5, rtol=0, msg=f"{k} differs on rank {rank}")
    assert (out / "model" / "model.safetensors").is_file() and (out / "history.json").is_file()
