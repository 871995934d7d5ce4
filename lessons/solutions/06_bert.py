"""Lesson 06, exercises."""
import torch

from minisbert import BertConfig, BertModel, CheckpointError, resolve_model
from minisbert.course.check import reference
from minisbert.fast import Packing
from minisbert.weights import check_bert_weights, read_bert_weights

folder = resolve_model("all-MiniLM-L6-v2")

# 1. A config with another hidden size: every misshapen tensor is listed, nothing is loaded.
config = BertConfig.from_json(folder / "config.json")
config.hidden_size = 256
config.num_attention_heads = 8
state, path = read_bert_weights(folder)
try:
    check_bert_weights(state, {k: v.shape for k, v in BertModel(config).state_dict().items()}, path,
                       folder / "config.json")
except CheckpointError as e:
    print(str(e)[:300], "...")

# 2. PyTorch's load_state_dict copies a NaN without complaint; every output would then be NaN.
state, _ = read_bert_weights(folder)
state["encoder.layer.3.output.dense.weight"] = state["encoder.layer.3.output.dense.weight"].clone()
state["encoder.layer.3.output.dense.weight"][0, 0] = float("nan")
model = BertModel(BertConfig.from_json(folder / "config.json"))
model.load_state_dict(state)
with torch.no_grad():
    out = model(torch.tensor([[101, 7592, 102]])).last_hidden_state
print("outputs that are NaN:", torch.isnan(out).float().mean().item())

# 3. One sentence without padding equals its row of the padded batch at the real tokens.
model = BertModel.from_pretrained(folder, fast=False)
ids = torch.tensor([[101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102, 0, 0]], device=model.pooler.dense.weight.device)
keep = (ids != 0).long()
with torch.no_grad():
    padded = model(ids, keep).last_hidden_state[0, :9]
    alone = model(ids[:, :9]).last_hidden_state[0]
print("largest difference, padded vs alone:", (padded - alone).abs().max().item())

# 4. Padding-free execution: the per-token layers see the T real tokens, not the B x L grid.
keep = torch.tensor(reference("batch.attention_mask"))
packing = Packing(keep)
B, L = keep.shape
padding = B * L - len(packing.index)
H, inner, layers = 384, 1536, 6
per_token = 4 * H * H + 2 * H * inner  # Q, K, V and output projections, then the feed-forward network
print(f"{len(packing.index)} real tokens in a {B} x {L} grid: one projection saves {padding * H * H:,} "
      f"multiply-adds, the six layers {layers * padding * per_token:,}")
