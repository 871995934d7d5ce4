"""BERT parity: minisbert's hidden states against transformers' BertModel, layer by layer.

Recomputes the figures that tests/test_bert.py holds to 1e-5, on the same cases (its SENTENCES and
RANDOM_CONFIGS, imported from it, and its procedure for a random configuration), for both ways of
running the encoder: the written-out model the lessons read (`fast=False`) and the fast one
(`fast=True`, the default). Each figure is the largest absolute difference between the two libraries'
hidden states over the real tokens (padding excluded), in float32 on the CPU: the embeddings, then the
output of each layer, and the largest over all of them.

    python benchmarks/bert_parity.py [--json out.json]

Not a timing: any machine will do, but the figures may move in the last digit with the CPU's
floating-point kernels (the machine is recorded with them). Needs transformers and the model
all-MiniLM-L6-v2 (minisbert's model store or its package).
"""

import argparse
import sys
import tempfile

import torch
from common import REPO, RESULTS, print_table

from minisbert import WordPieceTokenizer, load_bert, resolve_model

sys.path.insert(0, str(REPO / "tests"))
from test_bert import RANDOM_CONFIGS, SENTENCES  # noqa: E402  (the cases the test checks)

PATHS = {"written-out": False, "fast": True}
MOST_LAYERS = 6  # all-MiniLM-L6-v2's; the random configurations have 2 to 4 and leave the rest blank


def largest_differences(ours, theirs, mask) -> list[float]:
    """The largest |ours - theirs| over the real tokens of each hidden state: N + 1 floats."""
    keep = mask.bool()  # (B, L)
    return [(a - b)[keep].abs().max().item() for a, b in zip(ours, theirs)]


def bundled_model(transformers, fast: bool) -> list[float]:
    """all-MiniLM-L6-v2 on the four SENTENCES (padded to the longest) against transformers' eager BertModel."""
    folder = resolve_model("all-MiniLM-L6-v2")
    model = load_bert(folder, device="cpu", fast=fast)
    reference = transformers.AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    batch = WordPieceTokenizer.from_pretrained(folder)(SENTENCES)
    with torch.no_grad():
        ours = model(**batch, output_hidden_states=True).hidden_states
        theirs = reference(**batch, output_hidden_states=True).hidden_states
    return largest_differences(ours, theirs, batch["attention_mask"])


def random_configuration(transformers, name: str, fast: bool) -> list[float]:
    """A randomly initialised transformers BertModel (its LayerNorms drawn away from identity, so that a slip
    shows), saved and loaded by minisbert; four rows of 23 random ids, two of them padded, random segments.
    The procedure of tests/test_bert.py::test_random_configurations_against_live_transformers."""
    cfg = RANDOM_CONFIGS[name]
    torch.manual_seed(len(name))
    reference = transformers.BertModel(transformers.BertConfig(attn_implementation="eager", **cfg)).eval()
    with torch.no_grad():
        for parameter_name, p in reference.named_parameters():
            if "LayerNorm" in parameter_name:
                p.normal_(1.0, 0.5)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, cfg["vocab_size"], (4, 23), generator=g)  # (B, L)
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0
    mask[3, 4:] = 0
    types = torch.randint(0, cfg.get("type_vocab_size", 2), ids.shape, generator=g)
    with tempfile.TemporaryDirectory() as folder:
        reference.save_pretrained(folder)
        model = load_bert(folder, device="cpu", fast=fast)
    with torch.no_grad():
        ours = model(ids, mask, types, output_hidden_states=True).hidden_states
        theirs = reference(input_ids=ids, attention_mask=mask, token_type_ids=types,
                           output_hidden_states=True).hidden_states
    return largest_differences(ours, theirs, mask)


def row(case: str, path: str, diffs: list[float]) -> list[str]:
    """case, path, embeddings, layer 1 .. layer 6 (blank past the model's last layer), largest."""
    layers = [f"{d:.1e}" for d in diffs] + [""] * (MOST_LAYERS + 1 - len(diffs))
    return [case, path, *layers, f"{max(diffs):.1e}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=str(RESULTS / "bert_parity.json"),
                    help="write the table and its provenance here (default: %(default)s)")
    args = ap.parse_args()
    import transformers
    transformers.logging.set_verbosity_error()  # the random models' "newly initialised" notes
    transformers.logging.disable_progress_bar()  # and save_pretrained's
    rows = []
    for path, fast in PATHS.items():
        rows.append(row(f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences", path, bundled_model(transformers, fast)))
    for name in RANDOM_CONFIGS:
        for path, fast in PATHS.items():
            rows.append(row(name, path, random_configuration(transformers, name, fast)))
    print_table(f"BERT hidden states against transformers {transformers.__version__} BertModel (fp32, CPU): "
                "largest absolute difference over real tokens",
                ["case", "path", "embeddings", *(f"layer {i}" for i in range(1, MOST_LAYERS + 1)), "largest"],
                rows, args.json)


if __name__ == "__main__":
    main()
