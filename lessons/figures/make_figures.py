"""Draw the lessons' diagrams into lessons/figures/ (PNG), with matplotlib only.

    python lessons/figures/make_figures.py

- head_split.png (lesson 04): a (L, H) = (3, 6) matrix of the numbers 0-17 cut into
  h = 2 heads of d = 3 by view, then transpose: which number goes where.
- post_ln_layer.png (lesson 05): BERT's encoder layer, LayerNorm after each residual sum.
- siamese.png (lesson 09): two sentences through one encoder with shared weights, then
  the objective on u and v.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).parent
HEAD_COLOURS = ["#9ecae1", "#fdae6b"]  # head 0, head 1


def grid(ax, values, x0, y0, colours, title):
    """Draw a 2-D array of numbers as coloured cells, top-left at (x0, y0)."""
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(plt.Rectangle((x0 + c, y0 - r - 1), 1, 1, facecolor=colours[r][c], edgecolor="black"))
            ax.text(x0 + c + 0.5, y0 - r - 0.5, str(values[r, c]), ha="center", va="center", fontsize=11)
    ax.text(x0 + cols / 2, y0 + 0.4, title, ha="center", va="bottom", fontsize=11)


def head_split():
    L, H, h = 3, 6, 2
    d = H // h
    x = np.arange(L * H).reshape(L, H)              # (L, H): position i holds 6i .. 6i+5
    colour = [[HEAD_COLOURS[c // d] for c in range(H)] for _ in range(L)]  # columns 0-2 head 0, 3-5 head 1
    fig, ax = plt.subplots(figsize=(11, 3.8))
    grid(ax, x, 0, 0, colour, "x: (L, H) = (3, 6)")
    viewed = x.reshape(L, h, d)                      # (L, h, d): each row cut into two heads
    for i in range(L):
        grid(ax, viewed[i], 8, -i * 2.7, [HEAD_COLOURS[:h][k:k + 1] * d for k in range(h)],
             "x.view(L, h, d): (3, 2, 3)" if i == 0 else "")
        ax.text(11.2, -i * 2.7 - 1, f"position {i}", ha="left", va="center", fontsize=9)
    moved = viewed.transpose(1, 0, 2)                # (h, L, d): heads first
    for k in range(h):
        grid(ax, moved[k], 14.5, -k * 4, [[HEAD_COLOURS[k]] * d for _ in range(L)],
             ".transpose(0, 1): (2, 3, 3)" if k == 0 else "")
        ax.text(18, -k * 4 - 1.5, f"head {k}: its 3 columns\nat every position", va="center", fontsize=9)
    for x0, x1 in ((6.2, 7.8), (12.9, 14.3)):
        ax.add_patch(FancyArrowPatch((x0, -1.5), (x1, -1.5), arrowstyle="-|>", mutation_scale=18))
    ax.set(xlim=(-0.5, 21.5), ylim=(-8, 1.2))
    ax.set_axis_off()
    ax.set_title("splitting H into heads (batch axis left out): the numbers keep their place in memory until the "
                 "transpose", fontsize=11)
    fig.savefig(HERE / "head_split.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def box(ax, x, y, text, colour="#e5e5e5", width=2.6, height=0.7):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def arrow(ax, start, end, **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, **kw))


def post_ln_layer():
    fig, ax = plt.subplots(figsize=(5.5, 7))
    steps = [(0, "x  (B, L, H)", "#ffffff"), (1.3, "multi-head attention", "#9ecae1"),
             (2.4, "dense W^O", "#9ecae1"), (3.5, "add  x + ·", "#ffffff"), (4.5, "LayerNorm  ->  a", "#c7e9c0"),
             (5.8, "dense H -> 4H, GELU", "#fdae6b"), (6.9, "dense 4H -> H", "#fdae6b"), (8.0, "add  a + ·", "#ffffff"),
             (9.0, "LayerNorm  ->  y", "#c7e9c0")]
    for y, text, colour in steps:
        box(ax, 0, -y, text, colour)
    for (y0, _, _), (y1, _, _) in zip(steps, steps[1:]):
        arrow(ax, (0, -y0 - 0.37), (0, -y1 + 0.37))
    for start, end, label in ((0, 3.5, "residual: x"), (4.5, 8.0, "residual: a")):
        ax.add_patch(FancyArrowPatch((1.35, -start), (1.35, -end), connectionstyle="arc3,rad=-0.35",
                                     arrowstyle="-|>", mutation_scale=14, color="tab:red"))
        ax.text(2.2, -(start + end) / 2, label, color="tab:red", va="center", fontsize=9)
    ax.set(xlim=(-2, 3.2), ylim=(-9.6, 0.6))
    ax.set_axis_off()
    ax.set_title("BERT's encoder layer (post-LN): LayerNorm after each sum", fontsize=11)
    fig.savefig(HERE / "post_ln_layer.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def siamese():
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for x, sentence, vec in ((-2.2, '"A man plays a guitar."', "u"), (2.2, '"Someone plays guitar."', "v")):
        box(ax, x, 0, sentence, "#ffffff", width=3.4)
        box(ax, x, -1.4, "BERT encoder", "#9ecae1", width=3.0)
        box(ax, x, -2.6, "mean pooling", "#c7e9c0", width=3.0)
        box(ax, x, -3.8, vec, "#ffffff", width=1.0)
        for y0, y1 in ((0, -1.4), (-1.4, -2.6), (-2.6, -3.8)):
            arrow(ax, (x, y0 - 0.37), (x, y1 + 0.37))
    ax.add_patch(FancyArrowPatch((-0.7, -1.4), (0.7, -1.4), arrowstyle="<|-|>", mutation_scale=14, color="tab:red"))
    ax.text(0, -1.05, "the same weights", ha="center", color="tab:red", fontsize=9)
    box(ax, 0, -5.2, "objective: cos(u, v) vs the gold score (regression),\nsoftmax(W [u; v; |u - v|]) (NLI), "
        "or a triplet / in-batch ranking", "#fdae6b", width=7.0, height=1.0)
    arrow(ax, (-2.2, -4.17), (-1.2, -4.7))
    arrow(ax, (2.2, -4.17), (1.2, -4.7))
    ax.set(xlim=(-4.3, 4.3), ylim=(-6, 0.6))
    ax.set_axis_off()
    ax.set_title("SBERT's siamese network: one encoder, two inputs", fontsize=11)
    fig.savefig(HERE / "siamese.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    head_split()
    post_ln_layer()
    siamese()
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.png"))))
