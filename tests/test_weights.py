"""Loading weights: the name variations of real checkpoints, and every way a file can be wrong."""

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import FIXTURES
from minisbert import CheckpointError, load_bert
from minisbert.loading.weights import checkpoint_key_to_param


@pytest.fixture
def tiny(tmp_path):
    """A copy of the tiny checkpoint to damage, and its tensors."""
    folder = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny_bert", folder)
    return folder, load_file(str(folder / "model.safetensors"))


def reference_output(folder):
    ids = torch.tensor([[2, 5, 7, 11, 3]])
    with torch.no_grad():
        return load_bert(folder, device="cpu")(ids).last_hidden_state


def rewrite(folder, tensors, name="model.safetensors"):
    (folder / "model.safetensors").unlink()
    if name.endswith(".bin"):
        torch.save(tensors, folder / name)
    else:
        save_file(tensors, str(folder / name))


def test_name_map():
    assert checkpoint_key_to_param("bert.encoder.layer.0.attention.self.query.weight", True) \
        == "encoder.layer.0.attention.self.query.weight"
    assert checkpoint_key_to_param("cls.predictions.bias", True) is None
    assert checkpoint_key_to_param("embeddings.LayerNorm.gamma", False) == "embeddings.LayerNorm.weight"
    assert checkpoint_key_to_param("encoder.layer.1.output.LayerNorm.beta", False) \
        == "encoder.layer.1.output.LayerNorm.bias"
    assert checkpoint_key_to_param("embeddings.position_ids", False) is None


def test_task_checkpoint_with_prefix_heads_and_old_names_loads_the_same(tiny):
    folder, tensors = tiny
    expected = reference_output(folder)
    renamed = {"bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in tensors.items()}
    renamed["bert.embeddings.position_ids"] = torch.arange(64)[None]
    renamed["cls.predictions.bias"] = torch.zeros(99)  # a pre-training head: skipped
    renamed["classifier.weight"] = torch.zeros(2, 32)
    rewrite(folder, renamed, "pytorch_model.bin")
    assert torch.equal(reference_output(folder), expected)


def test_half_precision_checkpoint_is_computed_in_float32(tiny):
    folder, tensors = tiny
    rewrite(folder, {k: v.half() for k, v in tensors.items()})
    model = load_bert(folder, device="cpu")
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_checkpoint_without_pooler_gives_a_model_without_one(tiny):
    folder, tensors = tiny
    rewrite(folder, {k: v for k, v in tensors.items() if not k.startswith("pooler.")})
    assert load_bert(folder, device="cpu").pooler is None


@pytest.mark.parametrize("damage,message", [
    (lambda t: t.pop("encoder.layer.1.output.dense.weight"), "1 missing tensors: encoder.layer.1.output.dense.weight"),
    (lambda t: t.update({"encoder.layer.9.extra.weight": torch.zeros(3)}), "1 unexpected tensors: encoder.layer.9.extra"),
    (lambda t: t.update({"embeddings.word_embeddings.weight": torch.zeros(100, 32)}),
     r"embeddings.word_embeddings.weight: file \(100, 32\), config.json \(99, 32\)"),
    (lambda t: t["encoder.layer.0.intermediate.dense.bias"].fill_(float("nan")), "NaN or infinite"),
])
def test_bad_tensors_are_named_and_nothing_is_returned(tiny, damage, message):
    folder, tensors = tiny
    damage(tensors)
    rewrite(folder, tensors)
    with pytest.raises(CheckpointError, match=message):
        load_bert(folder)


def test_truncated_file(tiny):
    folder, _ = tiny
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="model.safetensors cannot be read.*truncated or damaged"):
        load_bert(folder)


def test_corrupted_pickle(tiny):
    folder, _ = tiny
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04garbage")
    with pytest.raises(CheckpointError, match="pytorch_model.bin cannot be read"):
        load_bert(folder)


def test_missing_weights_and_config(tiny):
    folder, _ = tiny
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no weights: expected one of model.safetensors"):
        load_bert(folder)
    (folder / "config.json").unlink()
    with pytest.raises(Exception, match="config.json is missing"):
        load_bert(folder)


def test_config_of_another_size(tiny):
    folder, _ = tiny
    cfg = folder / "config.json"
    cfg.write_text(cfg.read_text().replace('"intermediate_size": 37', '"intermediate_size": 40'))
    with pytest.raises(CheckpointError, match="wrong shape.*another model's config"):
        load_bert(folder)
