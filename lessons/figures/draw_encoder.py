"""Lessons 03-06: one query's attention, heads, the encoder layer (post-LN and pre-LN), the stack, pre-training."""

import math

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

from figlib import BLUE, GREEN, GREY, ORANGE, PINK, PURPLE, RED, WHITE, YELLOW, arrow, box, canvas, cell, grid, save

# One query against four keys; the last key is padding. Scores q·k_j chosen by hand, d = 4.
KEYS = ["[CLS]", "the", "cat", "[PAD]"]
SCORES = np.array([2.0, 1.0, 4.0, 3.0])
D = 4

QKV = {
    "en": {"title": 'scaled dot-product attention for one query (the token "cat"), d = 4',
           "rows": ["keys k_j", "q · k_j", "÷ √d = ÷ 2", "+ mask", "softmax:\nweights a_j", "a_j · v_j"],
           "min": "very\nnegative", "pad": "padding", "out": "output = Σ_j a_j v_j = {terms}",
           "note": "the mask adds 0 for a real key and the most negative float (torch.finfo(dtype).min) for padding:\n"
                   "after softmax its weight is 0, whatever its score; the weights of each query sum to 1"},
    "zh": {"title": "一个查询（query，词元 “cat”）的缩放点积注意力，d = 4",
           "rows": ["键 k_j（key）", "q · k_j", "÷ √d = ÷ 2", "+ 掩码（mask）", "softmax：\n注意力权重 a_j",
                    "a_j · v_j（值 value）"],
           "min": "极小的\n负数", "pad": "填充", "out": "输出 = Σ_j a_j v_j = {terms}",
           "note": "掩码对真实的键加 0，对填充位置加最小的浮点数（torch.finfo(dtype).min）：\n"
                   "softmax 之后填充位置的权重为 0，与其得分无关；每个查询的权重之和为 1"},
}


def qkv(lang):
    t = QKV[lang]
    fig, ax = canvas(9, 6.3, (-3.2, 8.2), (-9.6, 1.4), t["title"])
    scaled = SCORES / math.sqrt(D)
    masked = np.where(np.arange(4) < 3, scaled, -np.inf)
    weights = np.exp(masked - masked.max())
    weights /= weights.sum()
    rows_y = [0, -1.3, -2.6, -3.9, -5.3, -6.7]
    for y, label in zip(rows_y, t["rows"]):
        ax.text(-0.3, y + 0.35, label, ha="right", va="center", fontsize=9.5)
    for j, key in enumerate(KEYS):
        x, pad = j * 2, j == 3
        values = [key, f"{SCORES[j]:.1f}", f"{scaled[j]:.2f}", t["min"] if pad else "0",
                  f"{weights[j]:.2f}", f"{weights[j]:.2f} · v{j + 1}"]
        colours = [GREY if pad else BLUE, WHITE, WHITE, PINK if pad else WHITE, PINK if pad else GREEN,
                   GREY if pad else YELLOW]
        for y, value, colour in zip(rows_y, values, colours):
            cell(ax, x, y, value, colour, width=1.6, height=0.7, fontsize=8.5 if "\n" in value else 10)
        for y0, y1 in zip(rows_y, rows_y[1:]):
            arrow(ax, (x + 0.8, y0 - 0.02), (x + 0.8, y1 + 0.72))
        arrow(ax, (x + 0.8, rows_y[-1] - 0.02), (3.8, -7.9), colour="dimgray")
    ax.text(6.8, 0.85, t["pad"], ha="center", fontsize=9, color="dimgray")
    terms = " + ".join(f"{w:.2f}·v{j + 1}" for j, w in enumerate(weights[:3])) + " + 0·v4"
    box(ax, 3.8, -8.3, t["out"].format(terms=terms), ORANGE, width=8.4, height=0.7, fontsize=9.5)
    ax.text(2.5, -9.35, t["note"], ha="center", va="center", fontsize=8.5, color="dimgray")
    return save(fig, "qkv.png", lang)


HEAD_COLOURS = [BLUE, ORANGE]  # head 0, head 1
HEAD_SPLIT = {
    "en": {"x": "x: (L, H) = (3, 6)", "view": "x.view(L, h, d): (3, 2, 3)", "tr": ".transpose(0, 1): (2, 3, 3)",
           "pos": "position {i}", "head": "head {k}: its 3 columns\nat every position",
           "title": "splitting H into heads (batch axis left out): the numbers keep their place in memory until the "
                    "transpose"},
    "zh": {"x": "x：(L, H) = (3, 6)", "view": "x.view(L, h, d)：(3, 2, 3)", "tr": ".transpose(0, 1)：(2, 3, 3)",
           "pos": "位置 {i}", "head": "头 {k}：每个位置上\n属于它的 3 列",
           "title": "把 H 拆成多个头（省略批量维）：在 transpose 之前，各个数在内存中的位置不变"},
}


def head_split(lang):
    t = HEAD_SPLIT[lang]
    L, H, h = 3, 6, 2
    d = H // h
    x = np.arange(L * H).reshape(L, H)  # (L, H): position i holds 6i .. 6i+5
    fig, ax = canvas(11, 3.8, (-0.5, 21.5), (-8, 1.2), t["title"])
    grid(ax, x, 0, 0, [[HEAD_COLOURS[c // d] for c in range(H)] for _ in range(L)], t["x"])
    viewed = x.reshape(L, h, d)  # (L, h, d): each row cut into two heads
    for i in range(L):
        grid(ax, viewed[i], 8, -i * 2.7, [[HEAD_COLOURS[k]] * d for k in range(h)], t["view"] if i == 0 else "")
        ax.text(11.2, -i * 2.7 - 1, t["pos"].format(i=i), ha="left", va="center", fontsize=9)
    moved = viewed.transpose(1, 0, 2)  # (h, L, d): heads first
    for k in range(h):
        grid(ax, moved[k], 14.5, -k * 4, [[HEAD_COLOURS[k]] * d for _ in range(L)], t["tr"] if k == 0 else "")
        ax.text(18, -k * 4 - 1.5, t["head"].format(k=k), va="center", fontsize=9)
    for x0, x1 in ((6.2, 7.8), (12.9, 14.3)):
        arrow(ax, (x0, -1.5), (x1, -1.5))
    return save(fig, "head_split.png", lang)


def _add(ax, x, y):
    """The residual sum: a circle with a plus."""
    ax.add_patch(Circle((x, y), 0.22, facecolor=WHITE, edgecolor="black", zorder=3))
    ax.text(x, y, "+", ha="center", va="center", fontsize=12, zorder=4)


def _layer(ax, ox, order, t):
    """One encoder layer drawn as a residual stream (red, at x = ox) with two branches to its right.
    order "post": x -> sublayer -> add -> LN; "pre": x -> LN -> sublayer -> add."""
    bx = ox + 2.3  # the branches' column
    ax.text(ox, 0.45, "x", ha="center", va="bottom", fontsize=11)
    y = 0.3
    for name, colour in ((t["attn"], BLUE), (t["ffn"], ORANGE)):
        fork = y - 0.5
        branch = [(t["ln"], GREEN), (name, colour)] if order == "pre" else [(name, colour)]
        ys = [fork - 0.7 - 0.9 * k for k in range(len(branch))]
        join = ys[-1] - 0.8
        ax.plot([ox, ox], [y, join + 0.22], color=RED, lw=2.2, zorder=1)  # the stream, fork to the sum
        ax.plot([ox, bx], [fork, fork], color="black", lw=1)
        arrow(ax, (bx, fork), (bx, ys[0] + 0.3))
        for k, ((text, c), yk) in enumerate(zip(branch, ys)):
            box(ax, bx, yk, text, c, width=2.6, height=0.55, fontsize=9)
            if k:
                arrow(ax, (bx, ys[k - 1] - 0.3), (bx, yk + 0.3))
        arrow(ax, (bx, ys[-1] - 0.3), (ox + 0.22, join), connectionstyle="angle,angleA=-90,angleB=180")
        _add(ax, ox, join)
        y = join - 0.22
        if order == "post":
            arrow(ax, (ox, y), (ox, y - 0.4))
            box(ax, ox, y - 0.7, t["ln"], GREEN, width=1.6, height=0.55, fontsize=9)
            y -= 1.0
    arrow(ax, (ox, y), (ox, y - 0.45), colour=RED if order == "pre" else "black")
    ax.text(ox, y - 0.5, "y", ha="center", va="top", fontsize=11)
    return y - 0.5


PRE_POST = {
    "en": {"attn": "multi-head attention", "ffn": "feed-forward network", "ln": "LayerNorm",
           "post": "post-LN (BERT, the original Transformer):\nadd, then LayerNorm",
           "pre": "pre-LN (GPT-2 and many later encoders):\nLayerNorm inside the branch",
           "post_note": "the residual path (red) runs\nthrough every LayerNorm",
           "pre_note": "the residual path (red) bypasses\nevery LayerNorm; a last LayerNorm\n"
                       "follows the final layer",
           "title": "where LayerNorm sits in an encoder layer"},
    "zh": {"attn": "多头注意力", "ffn": "前馈网络（FFN）", "ln": "层归一化",
           "post": "后归一化 post-LN（BERT、原始 Transformer）：\n先相加，再层归一化",
           "pre": "前归一化 pre-LN（GPT-2 及许多后来的编码器）：\n层归一化放在分支内部",
           "post_note": "残差路径（红色）穿过\n每一个层归一化",
           "pre_note": "残差路径（红色）绕过\n所有层归一化；最后一层\n之后再加一个层归一化",
           "title": "编码器层中层归一化（LayerNorm）的位置"},
}


def pre_post_ln(lang):
    t = PRE_POST[lang]
    fig, ax = canvas(9.5, 6.2, (-1.2, 12.6), (-8.4, 2.0), t["title"])
    for ox, order in ((0, "post"), (6.8, "pre")):
        ax.text(ox + 1.6, 1.55, t[order], ha="center", va="center", fontsize=9.5)
        bottom = _layer(ax, ox, order, t)
        ax.text(ox + 0.6, bottom, t[order + "_note"], ha="left", va="top", fontsize=9, color=RED)
    return save(fig, "pre_post_ln.png", lang)


POST_LN = {
    "en": {"steps": ["x  (B, L, H)", "multi-head attention", "dense W^O", "add  x + ·", "LayerNorm  ->  a",
                     "dense H -> 4H, GELU", "dense 4H -> H", "add  a + ·", "LayerNorm  ->  y"],
           "res": ["residual: x", "residual: a"], "title": "BERT's encoder layer (post-LN): LayerNorm after each sum"},
    "zh": {"steps": ["x  (B, L, H)", "多头注意力", "全连接 W^O", "相加  x + ·", "层归一化  ->  a",
                     "全连接 H -> 4H，GELU", "全连接 4H -> H", "相加  a + ·", "层归一化  ->  y"],
           "res": ["残差：x", "残差：a"], "title": "BERT 的编码器层（post-LN）：每次相加之后做层归一化"},
}


def post_ln_layer(lang):
    t = POST_LN[lang]
    fig, ax = canvas(5.5, 7, (-2, 3.2), (-9.6, 0.6), t["title"])
    ys = [0, 1.3, 2.4, 3.5, 4.5, 5.8, 6.9, 8.0, 9.0]
    colours = [WHITE, BLUE, BLUE, WHITE, GREEN, ORANGE, ORANGE, WHITE, GREEN]
    for y, text, colour in zip(ys, t["steps"], colours):
        box(ax, 0, -y, text, colour)
    for y0, y1 in zip(ys, ys[1:]):
        arrow(ax, (0, -y0 - 0.37), (0, -y1 + 0.37))
    for (start, end), label in zip(((0, 3.5), (4.5, 8.0)), t["res"]):
        ax.add_patch(FancyArrowPatch((1.35, -start), (1.35, -end), connectionstyle="arc3,rad=-0.35",
                                     arrowstyle="-|>", mutation_scale=14, color=RED))
        ax.text(2.2, -(start + end) / 2, label, color=RED, va="center", fontsize=9)
    return save(fig, "post_ln_layer.png", lang)


STACK = {
    "en": {"title": "BERT as an encoder: token ids in, one vector per token out (all-MiniLM-L6-v2: N = 6, H = 384)",
           "ids": "token ids", "emb": "embeddings: token + segment + position, LayerNorm",
           "layer": "encoder layer {i}: attention (12 heads) + feed-forward 384 → 1536 → 384",
           "out": "one vector per token (last hidden state)", "mask": "attention mask (B, L)\n1 = token, 0 = padding",
           "same": "every layer keeps the shape (B, L, H)"},
    "zh": {"title": "作为编码器的 BERT：输入词元 id，每个词元输出一个向量（all-MiniLM-L6-v2：N = 6，H = 384）",
           "ids": "词元 id", "emb": "嵌入层：词元嵌入 + 片段嵌入 + 位置嵌入，层归一化",
           "layer": "第 {i} 个编码器层：多头注意力（12 个头）+ 前馈网络 384→1536→384",
           "out": "每个词元一个向量（最后一层的隐状态）", "mask": "注意力掩码 (B, L)\n1 = 词元，0 = 填充",
           "same": "每一层都保持形状 (B, L, H)"},
}


def encoder_stack(lang):
    t = STACK[lang]
    fig, ax = canvas(10, 6.4, (-7.0, 6.6), (-10.4, 1.0), t["title"])
    items = [(0, t["ids"] + "   [[101, 2026, 3899, 102, 0, 0], ...]", WHITE, "(B, L)  int"),
             (-1.4, t["emb"], PURPLE, "(B, L, H)")]
    items += [(-2.8 - 1.05 * i, t["layer"].format(i=i + 1), BLUE, "(B, L, H)") for i in range(6)]
    items += [(-9.4, t["out"], GREEN, "(B, L, H) = (B, L, 384)")]
    for k, (y, text, colour, shape) in enumerate(items):
        box(ax, 0, y, text, colour, width=8.2, height=0.62, fontsize=9)
        ax.text(4.35, y, shape, va="center", fontsize=9, color="dimgray")
        if k:
            arrow(ax, (0, items[k - 1][0] - 0.36), (0, y + 0.36))
    ax.text(-4.75, -5.4, t["mask"], ha="right", va="center", fontsize=8.5, color=RED)
    ax.plot([-4.6, -4.6], [-2.8, -8.05], color=RED, lw=1.2)
    for i in range(6):
        arrow(ax, (-4.6, -2.8 - 1.05 * i), (-4.15, -2.8 - 1.05 * i), colour=RED)
    ax.text(0, -10.2, t["same"], ha="center", va="center", fontsize=9, color="dimgray")
    return save(fig, "encoder_stack.png", lang)


MLM_TOKENS = ["[CLS]", "my", "dog", "is", "[MASK]", "[SEP]", "he", "likes", "[MASK]", "##ing", "[SEP]"]
MLM_TARGETS = {4: "cute", 8: "play"}

MLM_NSP = {
    "en": {"title": "BERT's pre-training on a sentence pair: masked language modelling + next sentence prediction",
           "enc": "BERT encoder (all positions attend to all, in both directions)", "pred": "predict\n\"{w}\"",
           "head": "dense, GELU, LayerNorm;\nsoftmax over the\n30,522 pieces",
           "nsp": "classifier on C:\nIsNext or NotNext?", "C": "C",
           "mlm_note": "MLM: 15 % of the token positions are chosen at random; a chosen token becomes [MASK] 80 % of "
                       "the time,\na random token 10 %, stays unchanged 10 %; the loss is the cross-entropy at the "
                       "chosen positions only.",
           "nsp_note": "NSP: sentence B follows A in the text half of the time (IsNext), is a random sentence "
                       "otherwise (NotNext);\nread from [CLS]'s final vector C (through BERT's pooler, dense + tanh). "
                       "(RoBERTa later dropped NSP.)"},
    "zh": {"title": "BERT 在句子对上的预训练：掩蔽语言模型（MLM）+ 下一句预测（NSP）",
           "enc": "BERT 编码器（每个位置关注所有位置，双向）", "pred": "预测\n“{w}”",
           "head": "全连接、GELU、层归一化；\n在 30522 个子词上\n做 softmax",
           "nsp": "基于 C 的分类器：\nIsNext 还是 NotNext？", "C": "C",
           "mlm_note": "MLM：随机选出 15% 的词元位置；被选中的词元 80% 替换为 [MASK]，10% 替换为随机词元，"
                       "10% 保持不变；\n只在被选中的位置上计算交叉熵损失。",
           "nsp_note": "NSP：一半的情况下句子 B 是原文中紧跟 A 的下一句（IsNext），否则是随机抽取的句子（NotNext）；\n"
                       "由 [CLS] 的最终向量 C（经过 BERT 的 pooler：全连接 + tanh）判断。（RoBERTa 后来去掉了 NSP。）"},
}


def mlm_nsp(lang):
    t = MLM_NSP[lang]
    fig, ax = canvas(10, 5.6, (-0.3, 11.3), (-3.4, 5.6), t["title"])
    for i, tok in enumerate(MLM_TOKENS):
        masked = i in MLM_TARGETS
        cell(ax, i + 0.05, -0.8, tok, PINK if masked else (GREY if tok.startswith("[") else WHITE),
             width=0.9, height=0.6, fontsize=8.5 if masked else 9)
        arrow(ax, (i + 0.5, -0.18), (i + 0.5, 0.3))
        cell(ax, i + 0.15, 1.6, t["C"] if i == 0 else rf"$T_{{{i}}}$", YELLOW if i == 0 else WHITE,
             width=0.7, height=0.5, fontsize=9)
        arrow(ax, (i + 0.5, 1.2), (i + 0.5, 1.6))
    box(ax, 5.5, 0.75, t["enc"], BLUE, width=10.8, height=0.7)
    for i, word in MLM_TARGETS.items():
        box(ax, i + 0.5, 3.95, t["head"], ORANGE, width=2.0, height=0.95, fontsize=7.5)
        arrow(ax, (i + 0.5, 2.1), (i + 0.5, 3.45))
        ax.text(i + 0.5, 4.75, t["pred"].format(w=word), ha="center", va="bottom", fontsize=9, weight="bold")
    box(ax, 0.9, 3.95, t["nsp"], ORANGE, width=2.1, height=0.95, fontsize=8)
    arrow(ax, (0.5, 2.1), (0.7, 3.45))
    ax.text(5.5, -1.6, t["mlm_note"], ha="center", va="center", fontsize=8.5)
    ax.text(5.5, -2.75, t["nsp_note"], ha="center", va="center", fontsize=8.5)
    return save(fig, "mlm_nsp.png", lang)


FIGURES = [qkv, head_split, pre_post_ln, post_ln_layer, encoder_stack, mlm_nsp]
