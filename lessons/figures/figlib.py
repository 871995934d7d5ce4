"""What every diagram shares: colours, boxes and arrows, the two languages, saving.

Each drawing function takes `lang` ("en" or "zh") and reads its words from its own label
table, so that the English and the Chinese figure are the same drawing.
"""

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).parent
LANGS = ("en", "zh")
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # the CJK font has no bold: regular is used
DPI = 110

# One meaning, one colour, in every figure.
WHITE = "#ffffff"
GREY = "#e5e5e5"      # plain data, padding
BLUE = "#9ecae1"      # attention, the encoder
ORANGE = "#fdae6b"    # feed-forward network, objectives and losses
GREEN = "#c7e9c0"     # LayerNorm, pooling; a match, a positive pair
PURPLE = "#dadaeb"    # segment embeddings, the student
YELLOW = "#fee391"    # position embeddings, the teacher, scales
PINK = "#fcbba1"      # a negative, what is masked out
RED = "tab:red"       # residual paths, shared weights, what the loss pulls

CJK_FAMILIES = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "SimHei"]


def cjk_family() -> str:
    """The font for Chinese labels: mplfonts' Noto Sans CJK SC (requirements-dev.txt), the same file on every
    machine so that the PNGs come out the same; else an installed CJK font, as minisbert.support.plots does."""
    try:
        import mplfonts
        font = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        font_manager.fontManager.addfont(str(font))
        return font_manager.FontProperties(fname=str(font)).get_name()
    except (ImportError, OSError, RuntimeError):
        installed = {f.name for f in font_manager.fontManager.ttflist}
        family = next((f for f in CJK_FAMILIES if f in installed), None)
        if family is None:
            raise SystemExit("no font with Chinese glyphs: pip install mplfonts (requirements-dev.txt)")
        return family


def style(lang: str) -> dict:
    """rcParams for one language (use with plt.rc_context)."""
    rc = {"font.size": 10, "savefig.dpi": DPI, "axes.unicode_minus": False}
    # Each glyph comes from the first family in the list that has it: English figures draw the odd Chinese
    # sentence with the CJK font, Chinese figures everything with it.
    rc["font.family"] = [cjk_family(), "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk_family()]
    return rc


def canvas(width, height, xlim, ylim, title=None):
    """A figure with one axis-free drawing area in data units."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set(xlim=xlim, ylim=ylim)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11)
    return fig, ax


def save(fig, name: str, lang: str) -> Path:
    path = HERE / name if lang == "en" else HERE / "zh" / name
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def box(ax, x, y, text, colour=GREY, width=2.6, height=0.7, fontsize=10, **kw):
    """A rounded box centred at (x, y)."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=colour, edgecolor=kw.pop("edgecolor", "black"), **kw))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def cell(ax, x, y, text="", colour=WHITE, width=1.0, height=1.0, fontsize=10, **kw):
    """A square-cornered cell with its lower-left corner at (x, y)."""
    ax.add_patch(plt.Rectangle((x, y), width, height, facecolor=colour, edgecolor=kw.pop("edgecolor", "black"),
                               linewidth=kw.pop("linewidth", 1.0)))
    if text != "":
        ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=fontsize, **kw)


def arrow(ax, start, end, colour="black", style="-|>", **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=colour,
                                 shrinkA=kw.pop("shrinkA", 0), shrinkB=kw.pop("shrinkB", 0), **kw))


def grid(ax, values, x0, y0, colours, title="", fontsize=11):
    """A 2-D array of numbers as coloured cells, top-left corner at (x0, y0)."""
    rows, cols = len(values), len(values[0])
    for r in range(rows):
        for c in range(cols):
            cell(ax, x0 + c, y0 - r - 1, str(values[r][c]), colours[r][c], fontsize=fontsize)
    if title:
        ax.text(x0 + cols / 2, y0 + 0.4, title, ha="center", va="bottom", fontsize=fontsize)
