"""Lesson 13, solutions.

`python lessons/run_lessons.py --solutions 13` runs the notebook with each `# %% Exercise N`
block below in place of the exercise's cell, so every check must pass.
"""

# %% Exercise 1: Q4_0 with any block size
def quantize(w, block):
    """w: a float32 tensor (rows, cols), cols a multiple of block. Returns the 4-bit weights, dequantised."""
    blocks = w.reshape(-1, block)                                         # (n_blocks, block)
    extreme = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))      # (n_blocks, 1), signed
    scale = (extreme / -8).half().float()                                 # stored as float16
    codes = torch.where(scale != 0, blocks / scale, torch.zeros_like(blocks)).round().clamp(-8, 7)
    return (codes * scale).reshape(w.shape)


# %% Wrong 1: the block size ignored: blocks of 32 always
def quantize(w, block):
    blocks = w.reshape(-1, 32)
    extreme = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))
    scale = (extreme / -8).half().float()
    codes = torch.where(scale != 0, blocks / scale, torch.zeros_like(blocks)).round().clamp(-8, 7)
    return (codes * scale).reshape(w.shape)


# %% Wrong 1: a symmetric scale, max |w| / 7, instead of Q4_0's signed extreme / -8
def quantize(w, block):
    blocks = w.reshape(-1, block)
    scale = (blocks.abs().amax(1, keepdim=True) / 7).half().float()
    codes = torch.where(scale != 0, blocks / scale, torch.zeros_like(blocks)).round().clamp(-8, 7)
    return (codes * scale).reshape(w.shape)


# %% Wrong 1: the scale kept in float32, not stored as float16
def quantize(w, block):
    blocks = w.reshape(-1, block)
    extreme = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))
    scale = extreme / -8
    codes = torch.where(scale != 0, blocks / scale, torch.zeros_like(blocks)).round().clamp(-8, 7)
    return (codes * scale).reshape(w.shape)


# %% Exercise 2: Viterbi over a toy vocabulary
def best_cut(text, scores):
    """scores: {piece: log-probability}. Returns the list of pieces with the highest total score."""
    best, back = [0.0] + [float("-inf")] * len(text), [0] * (len(text) + 1)
    for e in range(1, len(text) + 1):           # best[e]: the best score of text[:e]
        for i in range(e):
            piece = text[i:e]
            if piece in scores and best[i] + scores[piece] > best[e]:
                best[e], back[e] = best[i] + scores[piece], i
    pieces, e = [], len(text)
    while e > 0:                                # walk back along the chosen cuts
        pieces.append(text[back[e]:e])
        e = back[e]
    return pieces[::-1]


# %% Wrong 2: greedy: the longest piece first
def best_cut(text, scores):
    pieces, i = [], 0
    while i < len(text):
        e = next(e for e in range(len(text), i, -1) if text[i:e] in scores)
        pieces.append(text[i:e])
        i = e
    return pieces


# %% Wrong 2: each cut chosen by its last piece's score alone, not with the best score of the text before it
def best_cut(text, scores):
    best, back = [0.0] + [float("-inf")] * len(text), [0] * (len(text) + 1)
    for e in range(1, len(text) + 1):
        for i in range(e):
            if text[i:e] in scores and best[i] > float("-inf") and scores[text[i:e]] > best[e]:
                best[e], back[e] = scores[text[i:e]], i
    pieces, e = [], len(text)
    while e > 0:
        pieces.append(text[back[e]:e])
        e = back[e]
    return pieces[::-1]


# %% Wrong 2: the log-probabilities multiplied, as probabilities would be
def best_cut(text, scores):
    best, back = [1.0] + [float("-inf")] * len(text), [0] * (len(text) + 1)
    for e in range(1, len(text) + 1):
        for i in range(e):
            if text[i:e] in scores and best[i] * scores[text[i:e]] > best[e]:
                best[e], back[e] = best[i] * scores[text[i:e]], i
    pieces, e = [], len(text)
    while e > 0:
        pieces.append(text[back[e]:e])
        e = back[e]
    return pieces[::-1]


# %% Questions
# 3. In the lesson's "What four bits cost" loop, replace q4(w) by quantize(w, block) for block in (32, 64, 128)
#    and print the mean relative weight error and evaluate_sts(small, en_pairs). The error grows with the block:
#    a block's scale is set by its largest weight, and the bigger the block, the more likely it holds one
#    outlier, which makes the levels of all the other weights in it coarser. Small blocks cost more scales
#    (16 bits per block) but keep the levels fine.
# 4. q = model.encode([r["text"] for r in questions], prompt_name="passage")
#    hits = (model.encode([r["text"] for r in users], prompt_name="query") @ q.T).argmax(1)
#    Compare the share of right hits with the lesson's (both sides "query: "). On 20 user questions a difference
#    of one question is noise; the model card advises "query: " on both sides for symmetric tasks.
