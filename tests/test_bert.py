"""The whole encoder against transformers' BertModel, layer by layer."""

import shutil

import pytest
import torch
from safetensors.torch import load_file

from conftest import FIXTURES, report
from minisbert import BertConfig, WordPieceTokenizer, load_bert, resolve_model
from minisbert.bert import BertModel
from minisbert.fast.fast_bert import FastBertModel

SENTENCES = ["A man is playing a guitar.", "这是中国人民抗日战争纪念馆的简介", "[CLS] Hi!",
             "Sentence-BERT pools the token vectors of a siamese BERT into one fixed-size vector."]
TOL = 1e-5  # fp32, largest absolute difference of any hidden state


def max_diff_per_layer(ours, ref, mask):
    keep = mask.bool()
    return [(a - b)[keep].abs().max().item() for a, b in zip(ours, ref)]


@pytest.fixture(scope="module")
def minilm():
    return load_bert("all-MiniLM-L6-v2", device="cpu", fast=False)  # the written-out path; fast is checked beside it


def test_bundled_model_against_stored_reference(minilm):
    ref = load_file(str(FIXTURES / "bert_reference.safetensors"))
    with torch.no_grad():
        out = minilm(ref["input_ids"], ref["attention_mask"], output_hidden_states=True)
    diffs = max_diff_per_layer([out.hidden_states[i] for i in (0, 3, 6)],
                               [ref[f"hidden_{i}"] for i in (0, 3, 6)], ref["attention_mask"])
    assert max(diffs) <= TOL, diffs
    report("bert: all-MiniLM-L6-v2 vs stored transformers states, layers 0/3/6 max |diff| = "
           + ", ".join(f"{d:.1e}" for d in diffs))


def test_tiny_random_bert_against_stored_reference():
    ref = load_file(str(FIXTURES / "tiny_bert_reference.safetensors"))
    model = load_bert(FIXTURES / "tiny_bert", device="cpu", fast=False)
    with torch.no_grad():
        out = model(ref["input_ids"], ref["attention_mask"], ref["token_type_ids"],
                    output_hidden_states=True, output_attentions=True)
    diffs = max_diff_per_layer(out.hidden_states, [ref[f"hidden_{i}"] for i in range(3)], ref["attention_mask"])
    assert max(diffs) <= TOL, diffs
    for i, probs in enumerate(out.attentions):
        torch.testing.assert_close(probs, ref[f"attention_{i}"], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("fast", [False, True], ids=["written-out", "fast"])
def test_bundled_model_against_live_transformers(fast, transformers, model_dir):
    model = load_bert(model_dir, device="cpu", fast=fast)
    ref = transformers.AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    batch = WordPieceTokenizer.from_pretrained(model_dir)(SENTENCES)
    with torch.no_grad():
        ours = model(**batch, output_hidden_states=True, output_attentions=True)
        theirs = ref(**batch, output_hidden_states=True, output_attentions=True)
    diffs = max_diff_per_layer(ours.hidden_states, theirs.hidden_states, batch["attention_mask"])
    assert max(diffs) <= TOL, diffs
    real_queries = batch["attention_mask"].bool()[:, None, :, None].expand_as(theirs.attentions[0])
    for a, b in zip(ours.attentions, theirs.attentions):  # padding positions' own rows mean nothing
        torch.testing.assert_close(a[real_queries], b[real_queries], atol=1e-5, rtol=1e-4)
    report(f"bert ({'fast' if fast else 'written-out'}): all-MiniLM-L6-v2 vs live transformers, "
           "per-layer max |diff| = " + ", ".join(f"{d:.1e}" for d in diffs))


RANDOM_CONFIGS = {
    "chinese-vocab-21128": dict(vocab_size=21128, hidden_size=64, num_attention_heads=4, num_hidden_layers=2,
                                intermediate_size=256),
    "one-head": dict(vocab_size=500, hidden_size=24, num_attention_heads=1, num_hidden_layers=3,
                     intermediate_size=50),
    "sixteen-heads": dict(vocab_size=500, hidden_size=128, num_attention_heads=16, num_hidden_layers=2,
                          intermediate_size=512, layer_norm_eps=1e-6),
    "three-segments": dict(vocab_size=300, hidden_size=48, num_attention_heads=6, num_hidden_layers=4,
                           intermediate_size=100, type_vocab_size=3),
}


@pytest.mark.parametrize("name", RANDOM_CONFIGS)
def test_random_configurations_against_live_transformers(name, transformers, tmp_path):
    cfg = RANDOM_CONFIGS[name]
    torch.manual_seed(len(name))
    ref = transformers.BertModel(transformers.BertConfig(attn_implementation="eager", **cfg)).eval()
    with torch.no_grad():  # LayerNorms away from identity, so any slip shows
        for pname, p in ref.named_parameters():
            if "LayerNorm" in pname:
                p.normal_(1.0, 0.5)
    ref.save_pretrained(tmp_path)
    model = load_bert(tmp_path, device="cpu")
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, cfg["vocab_size"], (4, 23), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0
    mask[3, 4:] = 0
    types = torch.randint(0, cfg.get("type_vocab_size", 2), ids.shape, generator=g)
    with torch.no_grad():
        ours = model(ids, mask, types, output_hidden_states=True)
        theirs = ref(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    diffs = max_diff_per_layer(ours.hidden_states, theirs.hidden_states, mask)
    assert max(diffs) <= TOL, diffs
    report(f"bert: random {name} vs live transformers, max |diff| over {len(diffs)} layers = {max(diffs):.1e}")


def test_padding_does_not_change_a_sentence(minilm):
    tok = WordPieceTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    alone = tok(["A man plays the guitar."])
    batch = tok(["A man plays the guitar.", "A much longer sentence that forces padding onto the first one."])
    n = alone["input_ids"].shape[1]
    with torch.no_grad():
        a = minilm(**alone).last_hidden_state[0]
        b = minilm(**batch).last_hidden_state[0, :n]
    assert (a - b).abs().max() <= TOL


def test_the_fast_path_equals_the_written_out_model_layer_by_layer_on_real_weights(minilm):
    """The pretrained model on real sentences, both paths (tests/test_fast_path.py checks gradients too)."""
    fused = load_bert("all-MiniLM-L6-v2", device="cpu", fast=True)
    assert type(minilm) is BertModel and type(fused) is FastBertModel  # the loader picks the class
    batch = WordPieceTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))(SENTENCES)
    with torch.no_grad():
        a = minilm(**batch, output_hidden_states=True).hidden_states
        b = fused(**batch, output_hidden_states=True).hidden_states
    keep = batch["attention_mask"].bool()
    for i, (x, y) in enumerate(zip(a, b)):
        assert (x - y)[keep].abs().max() <= TOL, f"layer {i}"


def test_default_arguments_and_too_long_input(minilm):
    ids = torch.tensor([[101, 1037, 2158, 102]])
    with torch.no_grad():
        full = minilm(ids, torch.ones_like(ids), torch.zeros_like(ids)).last_hidden_state
        assert torch.equal(minilm(ids).last_hidden_state, full)
    with pytest.raises(ValueError, match="longer than max_position_embeddings=512"):
        minilm(torch.ones(1, 513, dtype=torch.long))


@pytest.mark.parametrize("field,value,message", [
    ("hidden_act", "relu", "hidden_act='relu'"),
    ("position_embedding_type", "relative_key", "position_embedding_type='relative_key'"),
    ("num_attention_heads", 5, "divisible by num_attention_heads=5"),
    ("vocab_size", 0, "vocab_size=0"),
])
def test_config_the_code_cannot_honour_is_refused(field, value, message):
    with pytest.raises(Exception, match=message) as err:
        BertConfig(**{field: value})
    assert type(err.value).__name__ == "ConfigError"


def test_other_architectures_are_refused(tmp_path):
    shutil.copytree(FIXTURES / "tiny_bert", tmp_path / "m")
    cfg = (tmp_path / "m" / "config.json")
    cfg.write_text(cfg.read_text().replace('"model_type": "bert"', '"model_type": "xlm-roberta"'))
    with pytest.raises(Exception, match="model_type='xlm-roberta'.*not a BERT"):
        load_bert(tmp_path / "m")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float16, 2e-2), (torch.bfloat16, 1e-1)])
def test_cuda_matches_cpu(minilm, dtype, tol):
    # Tolerances: fp32 on GPU differs from CPU by kernel order (~1e-5); fp16 keeps ~3
    # decimal digits and bf16 ~2, accumulated over 6 layers of hidden states of size ~1-10.
    batch = WordPieceTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))(SENTENCES)
    gpu = load_bert("all-MiniLM-L6-v2", device="cuda").to(dtype)
    with torch.no_grad():
        cpu_out = minilm(**batch).last_hidden_state
        gpu_out = gpu(**{k: v.cuda() for k, v in batch.items()}).last_hidden_state.float().cpu()
    keep = batch["attention_mask"].bool()
    assert (cpu_out - gpu_out)[keep].abs().max() <= tol
