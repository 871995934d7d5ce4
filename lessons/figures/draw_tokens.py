"""Lessons 01-02: WordPiece's greedy longest match, and BERT's three embeddings summed."""

from figlib import BLUE, GREEN, GREY, PURPLE, WHITE, YELLOW, arrow, box, canvas, cell, save

# "unaffable" cut with the vocabulary of all-MiniLM-L6-v2 (bert-base-uncased's vocab.txt): every string tried,
# in order, and whether it is in the vocabulary. (Checked against the file: "un" is there too, but "unaf",
# "unaff" ... are tried first and "una" matches before it; "##aff" is not in the vocabulary at all.)
WORD = "unaffable"
TRIES = [  # (start, end) of the candidate in WORD, found
    [(0, 9, False), (0, 8, False), (0, 7, False), (0, 6, False), (0, 5, False), (0, 4, False), (0, 3, True)],
    [(3, 9, False), (3, 8, False), (3, 7, False), (3, 6, True)],
    [(6, 9, True)],
]
IDS = {"una": 14477, "##ffa": 20961, "##ble": 3468}

WORDPIECE = {
    "en": {"title": 'WordPiece, greedy longest match first: "unaffable" with the vocabulary of all-MiniLM-L6-v2',
           "start": "{n}. start at character {start}",
           "rule": "at each start, try the longest remaining string first, then one character shorter each time",
           "hit": "in the vocabulary: take it", "miss": "not in the vocabulary",
           "result": "pieces and ids:",
           "note": 'Greedy is not morphology: "una" is found before "un" (also in the vocabulary) is tried.\n'
                   'A piece that continues a word starts with ##; a word with no possible cut becomes [UNK].'},
    "zh": {"title": "WordPiece 贪心最长匹配优先：用 all-MiniLM-L6-v2 的词表切分 “unaffable”",
           "start": "{n}. 从第 {start} 个字符开始",
           "rule": "每个起点先试最长的剩余字符串，不在词表中就去掉末尾一个字符再试",
           "hit": "在词表中：取用", "miss": "不在词表中",
           "result": "切分结果（词元）及其 id：",
           "note": "贪心匹配不等于词素切分：“una” 先于同样在词表中的 “un” 被找到。\n"
                   "接续词内部的子词以 ## 开头；无法切分的词整体变成 [UNK]（未知词元）。"},
}


def wordpiece(lang):
    t = WORDPIECE[lang]
    fig, ax = canvas(10, 5.3, (-0.2, 13.2), (-8.3, 1.5), t["title"])
    for k, ch in enumerate(WORD):  # the word, one cell per character, coloured by the piece it ends up in
        piece = 0 if k < 3 else 1 if k < 6 else 2
        cell(ax, 3.9 + k * 0.55, 0.1, ch, [BLUE, YELLOW, PURPLE][piece], width=0.55, height=0.65, fontsize=12,
             family="monospace")
        ax.text(3.9 + k * 0.55 + 0.275, 0.8, str(k), ha="center", va="bottom", fontsize=7, color="dimgray")
    for col, tries in enumerate(TRIES):
        x0 = col * 4.4
        ax.text(x0 + 1.85, -1.0, t["start"].format(n=col + 1, start=tries[0][0]), ha="center", va="center",
                fontsize=10, weight="bold")
        for r, (start, end, found) in enumerate(tries):
            s = ("##" if start > 0 else "") + WORD[start:end]
            y = -1.55 - r * 0.62
            cell(ax, x0 + 0.2, y - 0.26, s, GREEN if found else GREY, width=1.9, height=0.5, fontsize=11,
                 family="monospace")
            ax.text(x0 + 2.25, y, t["hit"] if found else t["miss"], va="center", fontsize=8.5,
                    color="black" if found else "dimgray", weight="bold" if found else "normal")
    ax.text(6.5, -0.4, t["rule"], ha="center", va="center", fontsize=8.5, color="dimgray", style="italic")
    ax.text(0.0, -6.35, t["result"], va="center", fontsize=10)
    x = 3.9
    for piece, colour in zip(IDS, [BLUE, YELLOW, PURPLE]):
        box(ax, x + 0.8, -6.35, f"{piece}  ({IDS[piece]})", colour, width=1.9, height=0.5)
        x += 2.3
    ax.text(6.5, -7.75, t["note"], ha="center", va="center", fontsize=9)
    return save(fig, "wordpiece.png", lang)


TOKENS = ["[CLS]", "my", "dog", "is", "cute", "[SEP]", "he", "likes", "play", "##ing", "[SEP]"]
SEGMENT = ["A"] * 6 + ["B"] * 5

EMBEDDING_SUM = {
    "en": {"title": "BERT's input: three embeddings summed at every position, then LayerNorm",
           "tokens": "input tokens", "token": "token embeddings\n(table 30522 × 384)",
           "segment": "segment embeddings\n(table 2 × 384)", "position": "position embeddings\n(table 512 × 384)",
           "sum": "sum per position  →  LayerNorm  (→ dropout while training)\n"
                  "→  (B, L, H) = (1, 11, 384), into encoder layer 1",
           "sentence": ["sentence A", "sentence B"]},
    "zh": {"title": "BERT 的输入：每个位置上三种嵌入相加，再做层归一化（LayerNorm）",
           "tokens": "输入词元", "token": "词元嵌入\n（查表 30522 × 384）",
           "segment": "片段嵌入（segment）\n（查表 2 × 384）", "position": "位置嵌入\n（查表 512 × 384）",
           "sum": "逐位置相加  →  层归一化（训练时再做暂退法 dropout）\n"
                  "→  (B, L, H) = (1, 11, 384)，送入第 1 个编码器层",
           "sentence": ["句子 A", "句子 B"]},
}


def _sub(token):
    """E with the token as a subscript, in mathtext."""
    hashes = r"\#\#" if token.startswith("##") else ""
    return rf"$E_{{{hashes}\mathrm{{{token.lstrip('#')}}}}}$"


def embedding_sum(lang):
    t = EMBEDDING_SUM[lang]
    fig, ax = canvas(10, 5.4, (-3.4, 11.1), (-7.6, 1.6), t["title"])
    rows = [(0, t["tokens"]), (-1.9, t["token"]), (-3.5, t["segment"]), (-5.1, t["position"])]
    for y, label in rows:
        ax.text(-0.25, y + 0.4, label, ha="right", va="center", fontsize=9)
    for i, tok in enumerate(TOKENS):
        cell(ax, i + 0.05, 0, tok, WHITE, width=0.9, height=0.8, fontsize=9)
        cell(ax, i + 0.05, -1.9, _sub(tok), BLUE, width=0.9, height=0.8, fontsize=9)
        cell(ax, i + 0.05, -3.5, rf"$E_{SEGMENT[i]}$", PURPLE, width=0.9, height=0.8, fontsize=10)
        cell(ax, i + 0.05, -5.1, rf"$E_{{{i}}}$", YELLOW, width=0.9, height=0.8, fontsize=10)
        for y in (-2.3, -3.9):
            ax.text(i + 0.5, y, "+", ha="center", va="center", fontsize=12)
        arrow(ax, (i + 0.5, -0.05), (i + 0.5, -1.05))
        arrow(ax, (i + 0.5, -5.15), (i + 0.5, -6.3))
    for (a, b), label in zip(((0, 6), (6, 11)), t["sentence"]):
        ax.plot([a + 0.1, b - 0.1], [1.0, 1.0], color="dimgray", lw=1)
        ax.text((a + b) / 2, 1.05, label, ha="center", va="bottom", fontsize=9, color="dimgray")
    box(ax, 5.5, -6.95, t["sum"], GREEN, width=10.9, height=0.9, fontsize=9.5)
    return save(fig, "embedding_sum.png", lang)


FIGURES = [wordpiece, embedding_sum]
