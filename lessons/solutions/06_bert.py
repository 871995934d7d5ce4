"""Lesson 06, solutions.

`python lessons/run_lessons.py --solutions 06` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: one sentence, no padding
from minisbert import WordPieceTokenizer  # noqa: E402 (a solution block is one notebook cell)

tokenizer = WordPieceTokenizer.from_pretrained(folder)


def last_hidden_alone(sentence):
    """Returns bert's last hidden state for the sentence alone: (tokens, H), [CLS] and [SEP] included."""
    batch = tokenizer([sentence])
    with torch.no_grad():
        return model(batch["input_ids"].to(device), batch["attention_mask"].to(device)).last_hidden_state[0]


# %% Wrong 1: [CLS] and [SEP] left out (the pieces' ids only)
from minisbert import WordPieceTokenizer  # noqa: E402
tokenizer = WordPieceTokenizer.from_pretrained(folder)
def last_hidden_alone(sentence):
    ids = torch.tensor([tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence))])
    with torch.no_grad():
        return model(ids.to(device)).last_hidden_state[0]


# %% Wrong 1: the sentence padded in a batch with a longer one, padding rows kept
from minisbert import WordPieceTokenizer  # noqa: E402
tokenizer = WordPieceTokenizer.from_pretrained(folder)
def last_hidden_alone(sentence):
    batch = tokenizer([sentence, sentence + " and a few more words to make it longer"])
    with torch.no_grad():
        return model(batch["input_ids"].to(device), batch["attention_mask"].to(device)).last_hidden_state[0]


# %% Wrong 1: the first layer's output instead of the last
from minisbert import WordPieceTokenizer  # noqa: E402
tokenizer = WordPieceTokenizer.from_pretrained(folder)
def last_hidden_alone(sentence):
    batch = tokenizer([sentence])
    with torch.no_grad():
        out = model(batch["input_ids"].to(device), batch["attention_mask"].to(device), output_hidden_states=True)
    return out.hidden_states[1][0]


# %% Questions
# 2. config.hidden_size, config.num_attention_heads = 256, 8, then check_bert_weights(...) as in the lesson:
#    every misshapen tensor is listed, and nothing is loaded.
# 3. state["encoder.layer.3.output.dense.weight"][0, 0] = float("nan"); model.load_state_dict(state) copies it
#    without complaint, and from layer 3 on every output is NaN. check_bert_weights refuses it by name.
# 4. (last_hidden_alone(s) - hidden[-1, 0, :n]).abs().max() is about 1e-6 for the n real tokens: the mask
#    keeps the padding out of every layer.
# 5. from minisbert.fast.fast_layers import Packing; packing = Packing(keep.cpu()); B, L = keep.shape
#    padding = B * L - len(packing.index)
#    one 384 x 384 projection saves padding * 384 * 384 multiply-adds; the six layers
#    6 * padding * (4 * 384 * 384 + 2 * 384 * 1536).
