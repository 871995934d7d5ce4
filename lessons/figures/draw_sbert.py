"""Lessons 07-10: pooling with a mask, cosine against dot product, the siamese network, in-batch negatives,
Spearman's rank correlation."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

from figlib import BLUE, GREEN, GREY, ORANGE, PINK, RED, WHITE, YELLOW, arrow, box, canvas, cell, save

POOL_TOKENS = ["[CLS]", "hello", "[SEP]", "[PAD]", "[PAD]"]
POOL_VECTORS = np.array([[1, 4, -2], [3, 0, 2], [2, -1, 6], [5, 5, 5], [5, 5, 5]])
POOL_MASK = np.array([1, 1, 1, 0, 0])

POOLING = {
    "en": {"title": "pooling token vectors into one sentence vector: the attention mask keeps padding out",
           "vectors": "token vectors (L, H)", "mask": "mask", "mean": "masked mean (the default):",
           "mean_eq": "sum of the real rows / 3 real tokens", "cls": "CLS: the first row",
           "max": "max over the real rows (padding set to −∞)",
           "wrong": "without the mask (sum / 5): {v}: the padding leaks in",
           "alt": "alternatives:",
           "note": "padding rows hold numbers too (here 5 5 5): only the mask says to skip them"},
    "zh": {"title": "把词元向量汇聚（pooling）成一个句子向量：注意力掩码把填充排除在外",
           "vectors": "词元向量 (L, H)", "mask": "掩码", "mean": "带掩码的平均池化（默认）：",
           "mean_eq": "真实行之和 / 3 个真实词元", "cls": "CLS 池化：取第一行",
           "max": "最大池化：在真实行上取最大值（填充置为 −∞）",
           "wrong": "不用掩码（和 / 5）：{v}：填充混了进来",
           "alt": "其他做法：", "note": "填充行里同样有数（这里是 5 5 5）：只有掩码说明要跳过它们"},
}


def _vec(v):
    return "[" + ", ".join(f"{x:g}" for x in v) + "]"


def pooling_mask(lang):
    t = POOLING[lang]
    fig, ax = canvas(10, 4.6, (-1.6, 15.0), (-6.3, 1.2), t["title"])
    ax.text(1.5, 0.45, t["vectors"], ha="center", fontsize=9.5)
    ax.text(3.9, 0.45, t["mask"], ha="center", fontsize=9.5)
    for r, (tok, vec, m) in enumerate(zip(POOL_TOKENS, POOL_VECTORS, POOL_MASK)):
        y = -r * 0.9 - 0.6
        ax.text(-0.15, y + 0.35, tok, ha="right", va="center", fontsize=9.5, color="black" if m else "dimgray")
        for c, x in enumerate(vec):
            cell(ax, c, y, f"{x:g}", GREEN if m else GREY, height=0.7)
        cell(ax, 3.5, y, str(m), WHITE if m else PINK, width=0.8, height=0.7)
    real = POOL_VECTORS[POOL_MASK == 1]
    mean = real.sum(0) / len(real)
    wrong = POOL_VECTORS.sum(0) / len(POOL_VECTORS)
    arrow(ax, (4.6, -1.5), (5.6, -1.5))
    ax.text(5.8, -0.6, t["mean"], fontsize=10, weight="bold")
    ax.text(5.8, -1.3, f"{_vec(real.sum(0))} / 3 = {_vec(mean)}", fontsize=10)
    ax.text(5.8, -1.85, t["mean_eq"], fontsize=9, color="dimgray")
    ax.text(5.8, -2.5, t["wrong"].format(v=_vec(np.round(wrong, 1))), fontsize=9, color=RED)
    ax.text(5.8, -3.35, t["alt"], fontsize=10, weight="bold")
    ax.text(5.8, -3.95, f"{t['cls']}:  {_vec(POOL_VECTORS[0])}", fontsize=9.5)
    ax.text(5.8, -4.55, f"{t['max']}:  {_vec(real.max(0))}", fontsize=9.5)
    ax.text(6.5, -5.9, t["note"], ha="center", fontsize=9, color="dimgray")
    return save(fig, "pooling_mask.png", lang)


COSINE = {
    "en": {"title": "same angle, different lengths: the dot product changes, the cosine does not",
           "pair": ["pair 1", "pair 2 (v twice as long)"]},
    "zh": {"title": "夹角相同、长度不同：点积随长度改变，余弦相似度不变",
           "pair": ["向量对 1", "向量对 2（v 的长度加倍）"]},
}


def cosine_vs_dot(lang):
    t = COSINE[lang]
    u = np.array([2.0, 1.0])
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.3))
    for ax, v, name in zip(axes, (np.array([1.0, 2.0]), np.array([2.0, 4.0])), t["pair"]):
        for vec, label, colour in ((u, "u", "tab:blue"), (v, "v", "tab:orange")):
            ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=colour, lw=2))
            ax.text(*(vec + 0.15), f"{label} = ({vec[0]:g}, {vec[1]:g})", color=colour, fontsize=10)
        a0, a1 = np.degrees(np.arctan2(u[1], u[0])), np.degrees(np.arctan2(v[1], v[0]))
        ax.add_patch(Arc((0, 0), 1.4, 1.4, theta1=a0, theta2=a1, color="dimgray"))
        ax.text(0.85, 0.85, f"{a1 - a0:.1f}°", fontsize=9, color="dimgray")
        dot = float(u @ v)
        cos = dot / (np.linalg.norm(u) * np.linalg.norm(v))
        ax.set_title(f"{name}:  |u| = {np.linalg.norm(u):.2f},  |v| = {np.linalg.norm(v):.2f}\n"
                     f"u · v = {dot:g}      cos(u, v) = {cos:.2f}", fontsize=10)
        ax.set(xlim=(-0.3, 5.2), ylim=(-0.3, 5.0), aspect="equal")
        ax.grid(alpha=0.3)
    fig.suptitle(t["title"], fontsize=11)
    fig.tight_layout()
    return save(fig, "cosine_vs_dot.png", lang)


SIAMESE = {
    "en": {"a": '"A man plays a guitar."', "b": '"Someone plays guitar."', "enc": "BERT encoder",
           "pool": "mean pooling",
           "same": "the same weights",
           "obj": "objective: cos(u, v) vs the gold score (regression),\nsoftmax(W [u; v; |u - v|]) (NLI), "
                  "or a triplet / in-batch ranking",
           "title": "SBERT's siamese network: one encoder, two inputs"},
    "zh": {"a": "“A man plays a guitar.”", "b": "“Someone plays guitar.”", "enc": "BERT 编码器", "pool": "平均池化",
           "same": "同一套权重",
           "obj": "目标函数：cos(u, v) 与人工标注分数比较（回归），\nsoftmax(W [u; v; |u - v|])（自然语言推断 NLI），"
                  "\n或三元组损失 / 批内排序损失",
           "title": "SBERT 的孪生网络（siamese network）：一个编码器，两个输入"},
}


def siamese(lang):
    t = SIAMESE[lang]
    fig, ax = canvas(8, 5.5, (-4.3, 4.3), (-6, 0.6), t["title"])
    for x, sentence, vec in ((-2.2, t["a"], "u"), (2.2, t["b"], "v")):
        box(ax, x, 0, sentence, WHITE, width=3.4)
        box(ax, x, -1.4, t["enc"], BLUE, width=3.0)
        box(ax, x, -2.6, t["pool"], GREEN, width=3.0)
        box(ax, x, -3.8, vec, WHITE, width=1.0)
        for y0, y1 in ((0, -1.4), (-1.4, -2.6), (-2.6, -3.8)):
            arrow(ax, (x, y0 - 0.37), (x, y1 + 0.37))
    arrow(ax, (-0.7, -1.4), (0.7, -1.4), colour=RED, style="<|-|>")
    ax.text(0, -0.72, t["same"], ha="center", va="center", color=RED, fontsize=9)
    box(ax, 0, -5.25, t["obj"], ORANGE, width=7.0, height=1.1)
    arrow(ax, (-2.2, -4.17), (-1.2, -4.65))
    arrow(ax, (2.2, -4.17), (1.2, -4.65))
    return save(fig, "siamese.png", lang)


# Cosines of 4 anchors (rows) with the 4 positives of their batch (columns), made up for the picture.
BATCH_COS = np.array([[0.62, 0.55, 0.20, 0.41], [0.48, 0.71, 0.66, 0.30],
                      [0.12, 0.40, 0.58, 0.51], [0.35, 0.52, 0.44, 0.57]])
SCALE = 20

INBATCH = {
    "en": {"title": "in-batch negatives (Multiple Negatives Ranking loss): a batch of B = 4 pairs (a_i, p_i)",
           "rows": "anchors", "cols": "positives", "p": "softmax of row i,\nits entry i", "loss": "−log",
           "pos": "diagonal: the positive pair", "neg": "off the diagonal: a negative (another pair's positive)",
           "note": "each row is a classification over the B columns: logits = 20 · cos(a_i, p_j), scale 20 = "
                   "1 / temperature 0.05;\nthe right class is column i, loss = cross-entropy, averaged over rows"},
    "zh": {"title": "批内负样本（Multiple Negatives Ranking 损失）：一个批量含 B = 4 个句对 (a_i, p_i)",
           "rows": "锚点（anchor）", "cols": "正样本（positive）", "p": "第 i 行 softmax 后\n第 i 列的概率",
           "loss": "−log", "pos": "对角线：正样本对", "neg": "非对角线：负样本（其他句对的正样本）",
           "note": "每一行都是对 B 列的分类：logits = 20 · cos(a_i, p_j)，缩放系数 20 = 1 / 温度 0.05；\n"
                   "正确类别为第 i 列，损失为交叉熵，再对各行求平均"},
}


def inbatch_negatives(lang):
    t = INBATCH[lang]
    B = len(BATCH_COS)
    logits = SCALE * BATCH_COS
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    fig, ax = canvas(9, 5.6, (-2.6, 10.4), (-6.9, 1.4), t["title"])
    for i in range(B):
        ax.text(-0.15, -i - 0.5, f"a{i + 1}", ha="right", va="center", fontsize=10)
        ax.text(i + 0.5, 0.15, f"p{i + 1}", ha="center", va="bottom", fontsize=10)
        for j in range(B):
            cell(ax, j, -i - 1, f"{BATCH_COS[i, j]:.2f}", GREEN if i == j else PINK)
        cell(ax, 4.6, -i - 1, f"{probs[i, i]:.3f}", YELLOW, width=1.4)
        cell(ax, 6.3, -i - 1, f"{-np.log(probs[i, i]):.3f}", ORANGE, width=1.2)
    ax.text(-1.2, -2, t["rows"], rotation=90, ha="center", va="center", fontsize=10)
    ax.text(2, 0.75, t["cols"] + "   cos(a_i, p_j)", ha="center", va="bottom", fontsize=10)
    ax.text(5.3, 0.1, t["p"], ha="center", va="bottom", fontsize=8.5)
    ax.text(6.9, 0.1, t["loss"], ha="center", va="bottom", fontsize=9)
    cell(ax, 0, -4.9, "", GREEN, width=0.5, height=0.4)
    ax.text(0.7, -4.7, t["pos"], va="center", fontsize=9)
    cell(ax, 0, -5.5, "", PINK, width=0.5, height=0.4)
    ax.text(0.7, -5.3, t["neg"], va="center", fontsize=9)
    ax.text(3.9, -6.4, t["note"], ha="center", va="center", fontsize=8.5, color="dimgray")
    return save(fig, "inbatch_negatives.png", lang)


GOLD = np.array([0.5, 1.2, 2.0, 2.9, 3.6, 4.5])
MODEL = np.round(0.1 * np.exp(0.8 * GOLD), 2)  # monotone in the gold score, not linear

RANKS = {
    "en": {"title": "Spearman's ρ = Pearson's r of the ranks: a monotone, non-linear relation gets ρ = 1",
           "raw": "the scores: Pearson r = {r:.3f}", "ranked": "their ranks: Pearson r = ρ = {rho:.3f}",
           "gold": "gold score", "model": "model score", "rgold": "rank of the gold score",
           "rmodel": "rank of the model score", "table": "score → rank",
           "heads": ["gold", "rank", "model", "rank"]},
    "zh": {"title": "斯皮尔曼等级相关 ρ = 秩次的皮尔逊相关：单调而非线性的关系得到 ρ = 1",
           "raw": "原始分数：皮尔逊 r = {r:.3f}", "ranked": "秩次：皮尔逊 r = ρ = {rho:.3f}",
           "gold": "人工标注分数", "model": "模型分数", "rgold": "人工标注分数的秩次",
           "rmodel": "模型分数的秩次", "table": "分数 → 秩次",
           "heads": ["标注", "秩次", "模型", "秩次"]},
}


def _ranks(x):
    return np.argsort(np.argsort(x)) + 1  # no ties here; tied values would share their average rank


def rank_correlation(lang):
    t = RANKS[lang]
    rg, rm = _ranks(GOLD), _ranks(MODEL)
    r, rho = np.corrcoef(GOLD, MODEL)[0, 1], np.corrcoef(rg, rm)[0, 1]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1, 0.8, 1]})
    a1.scatter(GOLD, MODEL, color="tab:blue", zorder=3)
    a1.plot(GOLD, np.polyval(np.polyfit(GOLD, MODEL, 1), GOLD), color="gray", ls="--", lw=1)
    a1.set(xlabel=t["gold"], ylabel=t["model"], title=t["raw"].format(r=r))
    a3.scatter(rg, rm, color="tab:orange", zorder=3)
    a3.plot([1, 6], [1, 6], color="gray", ls="--", lw=1)
    a3.set(xlabel=t["rgold"], ylabel=t["rmodel"], title=t["ranked"].format(rho=rho), xticks=range(1, 7),
           yticks=range(1, 7))
    for ax in (a1, a3):
        ax.grid(alpha=0.3)
        ax.title.set_fontsize(10)
    a2.set_axis_off()
    a2.set(xlim=(0, 4), ylim=(-7.2, 1))
    a2.text(2, 0.5, t["table"], ha="center", fontsize=10)
    for k, head in enumerate(t["heads"]):
        a2.text(0.5 + k, -0.2, head, ha="center", fontsize=9)
    for i in range(len(GOLD)):
        y = -1.1 - i
        for k, (value, colour) in enumerate(((f"{GOLD[i]:g}", WHITE), (str(rg[i]), BLUE),
                                             (f"{MODEL[i]:g}", WHITE), (str(rm[i]), ORANGE))):
            cell(a2, k + 0.05, y - 0.4, value, colour, width=0.9, height=0.8, fontsize=9)
    fig.suptitle(t["title"], fontsize=11)
    fig.tight_layout()
    return save(fig, "rank_correlation.png", lang)


FIGURES = [pooling_mask, cosine_vs_dot, siamese, inbatch_negatives, rank_correlation]
