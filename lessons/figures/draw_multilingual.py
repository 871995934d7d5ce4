"""Lessons 12, 13 and B1: multilingual distillation, a Q4_0 block, gathered in-batch negatives."""

import numpy as np

from figlib import BLUE, GREEN, GREY, ORANGE, PURPLE, RED, WHITE, YELLOW, arrow, box, canvas, cell, save

DISTILLATION = {
    "en": {"title": "multilingual knowledge distillation (Reimers & Gurevych 2020)",
           "teacher": "teacher: the English model\n(frozen, not trained)", "student": "student\n(trained)",
           "same": "the same student", "loss": "loss = MSE(s_en, t) + MSE(s_zh, t)",
           "pull": "pulled towards t",
           "note": "the student learns to put a translation where the teacher puts the English original, and keeps\n"
                   "its English where it was; parallel sentences are all it needs, no scores or labels"},
    "zh": {"title": "多语言知识蒸馏（Reimers & Gurevych 2020）",
           "teacher": "教师模型：英文模型\n（冻结，不训练）", "student": "学生模型\n（参与训练）",
           "same": "同一个学生模型", "loss": "损失 = MSE(s_en, t) + MSE(s_zh, t)（均方误差）",
           "pull": "被拉向 t",
           "note": "学生模型学会把译文放到教师模型放英文原句的位置，同时让英文保持原位；\n"
                   "只需要平行句对（原句与译文），不需要打分或标签"},
}


def distillation(lang):
    t = DISTILLATION[lang]
    fig, ax = canvas(9.5, 5.6, (-5.2, 5.6), (-6.2, 1.0), t["title"])
    en, zh = '"The weather is nice today."', "“今天天气很好。”"
    box(ax, -3.2, 0, en, WHITE, width=3.6)
    box(ax, 3.2, 0, zh, WHITE, width=3.6)
    box(ax, -3.2, -1.5, t["teacher"], YELLOW, width=3.4, height=0.9)
    box(ax, 1.3, -1.5, t["student"], PURPLE, width=1.8, height=0.9)
    box(ax, 4.3, -1.5, t["student"], PURPLE, width=1.8, height=0.9)
    ax.text(2.8, -2.25, t["same"], ha="center", va="center", fontsize=8.5, color="dimgray")
    arrow(ax, (-3.2, -0.37), (-3.2, -1.02))
    arrow(ax, (-1.4, -0.2), (0.8, -1.02), connectionstyle="arc3,rad=-0.15")  # the English sentence to the student
    arrow(ax, (3.9, -0.37), (4.2, -1.02))
    for x, name in ((-3.2, "t"), (1.3, "s_en"), (4.3, "s_zh")):
        arrow(ax, (x, -1.98), (x, -2.95) if x < 0 else (x, -2.95))
        box(ax, x, -3.3, name, WHITE, width=1.3, height=0.6)
    for x in (1.3, 4.3):
        arrow(ax, (x - 0.7, -3.5), (-2.5, -3.5), colour=RED, connectionstyle="arc3,rad=0.25" if x > 2 else "arc3")
    ax.text(-0.6, -3.75, t["pull"], ha="center", va="top", fontsize=9, color=RED)
    box(ax, 0.2, -4.7, t["loss"], ORANGE, width=6.0, height=0.6)
    ax.text(0.2, -5.7, t["note"], ha="center", va="center", fontsize=8.5, color="dimgray")
    return save(fig, "distillation.png", lang)


def q4_block():
    """32 made-up weights quantised as minisbert.loading.e5_q4.quantize_q4_0 does it."""
    w = np.random.default_rng(13).normal(0, 0.02, 32).astype(np.float32)
    extreme = w[np.abs(w).argmax()]
    if extreme > 0:
        w = -w  # keep d positive in the picture; a positive extreme gives a negative d, the same rule
        extreme = -extreme
    d = np.float16(extreme / -8)
    q = np.clip(np.round(w / np.float32(d)) + 8, 0, 15).astype(int)
    return w, float(d), q


Q4 = {
    "en": {"title": "one Q4_0 block: 32 weights in 18 bytes (4.5 bits per weight)",
           "d": "d = {d:.6f}\n(fp16, 2 bytes)", "byte": "byte {j}", "low": "low 4 bits:\nweight j",
           "high": "high 4 bits:\nweight j + 16", "levels": "the 16 levels w = d · (q − 8), from −8d to 7d; "
           "dots: the 32 weights before rounding",
           "q": "code q", "qm8": "q − 8",
           "note": "d = the weight largest in size ({e:.4f}) / −8, so that weight gets code 0 exactly; the others "
                   "round to the\nnearest level (an error of at most d/2). Reading: weight 0 has q = {q0}, "
                   "so w = d · ({q0} − 8) = {w0:.4f}."},
    "zh": {"title": "一个 Q4_0 块：32 个权重占 18 字节（每个权重 4.5 比特）",
           "d": "d = {d:.6f}\n（fp16，2 字节）", "byte": "字节 {j}", "low": "低 4 位：\n权重 j",
           "high": "高 4 位：\n权重 j + 16", "levels": "16 个量化级 w = d · (q − 8)，从 −8d 到 7d；圆点：取整前的 32 个权重",
           "q": "编码 q", "qm8": "q − 8",
           "note": "d = 绝对值最大的权重（{e:.4f}）/ −8，这个权重恰好得到编码 0；其余权重取整到最近的量化级\n"
                   "（误差至多 d/2）。读取：权重 0 的 q = {q0}，所以 w = d · ({q0} − 8) = {w0:.4f}。"},
}


def q4_0_block(lang):
    t = Q4[lang]
    w, d, q = q4_block()
    fig, ax = canvas(10, 5.0, (-2.6, 17.8), (-7.9, 1.6), t["title"])
    cell(ax, -0.6, -1.0, t["d"].format(d=d), YELLOW, width=2.55, height=2.0, fontsize=8.5)
    for j in range(16):
        x = 2.1 + j * 0.95
        ax.text(x + 0.475, 1.15, str(j), ha="center", fontsize=8, color="dimgray")
        cell(ax, x, 0, str(q[j]), BLUE, width=0.95, height=1.0, fontsize=9)
        cell(ax, x, -1.0, str(q[j + 16]), ORANGE, width=0.95, height=1.0, fontsize=9)
    ax.text(2.1, 1.15, t["byte"].format(j="") + " ", ha="right", fontsize=8, color="dimgray")
    ax.text(17.5, 0.5, t["low"], va="center", fontsize=8.5)
    ax.text(17.5, -0.5, t["high"], va="center", fontsize=8.5)
    # The number line: level k (q - 8 = k) at x = 1 + (k + 8) * 1.0.
    y0 = -5.0
    ax.plot([0.6, 16.4], [y0, y0], color="black", lw=1)
    for code in range(16):
        x = 1 + code
        ax.plot([x, x], [y0 - 0.12, y0 + 0.12], color="black", lw=1)
        ax.text(x, y0 - 0.3, str(code), ha="center", va="top", fontsize=8.5, color="tab:blue")
        ax.text(x, y0 - 0.85, str(code - 8), ha="center", va="top", fontsize=8.5)
    ax.text(0.3, y0 - 0.3, t["q"], ha="right", va="top", fontsize=8.5, color="tab:blue")
    ax.text(0.3, y0 - 0.85, t["qm8"], ha="right", va="top", fontsize=8.5)
    counts = {}
    for j in range(32):
        x = 1 + w[j] / d + 8
        k = counts[q[j]] = counts.get(q[j], 0) + 1
        ax.plot(x, y0 + 0.3 + 0.32 * k, "o", ms=4.5, color=BLUE if j < 16 else ORANGE, mec="black", mew=0.4)
    ax.text(8.5, -2.3, t["levels"], ha="center", va="center", fontsize=9)
    note = t["note"].format(e=float(w[np.abs(w).argmax()]), q0=q[0], w0=d * (q[0] - 8))
    ax.text(8.5, -7.2, note, ha="center", va="center",
            fontsize=8.5, color="dimgray")
    return save(fig, "q4_0_block.png", lang)


GATHER = {
    "en": {"title": "in-batch negatives on 2 processes, a global batch of B = 8 pairs (4 per process)",
           "no": "without gathering: each process scores\nits 4 anchors against its own 4 positives (B/2 × B/2)",
           "yes": "with all_gather: each process scores its 4 anchors\nagainst all 8 positives (B/2 × B)",
           "proc": "process {k}", "rows": "anchors", "cols": "positives (candidates)",
           "no_n": "3 negatives per anchor; the grey scores\nare computed by nobody",
           "pos": "= positive pair (a_i, p_i)", "neg": "= a negative: another pair's positive",
           "yes_n": "7 negatives per anchor, as in one batch of 8; the gradient\n"
                    "of each gathered positive goes back to the process that embedded it"},
    "zh": {"title": "两个进程上的批内负样本：全局批量 B = 8 个句对（每个进程 4 个）",
           "no": "不收集：每个进程只用自己的 4 个锚点\n对比自己的 4 个正样本（B/2 × B/2）",
           "yes": "用 all_gather 收集：每个进程用自己的 4 个锚点\n对比全部 8 个正样本（B/2 × B）",
           "proc": "进程 {k}", "rows": "锚点", "cols": "正样本（候选）",
           "no_n": "每个锚点只有 3 个负样本；\n灰色的得分没有任何进程计算",
           "pos": "= 正样本对 (a_i, p_i)", "neg": "= 负样本：其他句对的正样本",
           "yes_n": "每个锚点有 7 个负样本，与单个 8 对的批量相同；\n收集来的正样本的梯度传回计算它的进程"},
}


def gathered_negatives(lang):
    t = GATHER[lang]
    B, half = 8, 4
    fig, ax = canvas(10, 5.8, (-1.8, 21.2), (-12.4, 3.4), t["title"])
    for ox, gathered in ((0, False), (11.5, True)):
        ax.text(ox + 4, 2.1, t["yes" if gathered else "no"], ha="center", va="center", fontsize=9)
        for i in range(B):
            ax.text(ox + i + 0.5, 0.15, f"p{i + 1}", ha="center", va="bottom", fontsize=8.5)
            ax.text(ox - 0.15, -i - 0.5, f"a{i + 1}", ha="right", va="center", fontsize=8.5)
            for j in range(B):
                mine = i // half
                seen = gathered or j // half == mine
                colour = (GREEN if i == j else [BLUE, ORANGE][mine]) if seen else GREY
                cell(ax, ox + j, -i - 1, "+" if i == j else "", colour, fontsize=10, edgecolor="white"
                     if not seen else "black", linewidth=0.6)
        for k in range(2):
            ax.text(ox + 8.15, -k * half - 2, t["proc"].format(k=k), va="center", fontsize=8.5,
                    color=["tab:blue", "tab:orange"][k])
        ax.text(ox + 4, -9.6, t["yes_n" if gathered else "no_n"], ha="center", va="center", fontsize=8.5,
                color="dimgray")
    cell(ax, 2.0, -11.9, "+", GREEN, width=0.7, height=0.7)
    ax.text(2.9, -11.55, t["pos"], va="center", fontsize=8.5)
    cell(ax, 10.0, -11.9, "", BLUE, width=0.35, height=0.7)
    cell(ax, 10.35, -11.9, "", ORANGE, width=0.35, height=0.7)
    ax.text(10.9, -11.55, t["neg"], va="center", fontsize=8.5)
    return save(fig, "gathered_negatives.png", lang)


FIGURES = [distillation, q4_0_block, gathered_negatives]
