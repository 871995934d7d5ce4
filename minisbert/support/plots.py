"""Pictures: heatmaps (attention, cosine matrices), a 2-D map of embeddings, training curves.

Chinese labels need a font with CJK glyphs; matplotlib's default (DejaVu Sans)
has none and draws empty boxes. `use_cjk_font()` selects one that is installed
(Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, ...) or the Noto Sans CJK SC
font shipped by the `mplfonts` package (in requirements-dev.txt).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

CJK_FAMILIES = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC"]


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese with real glyphs; returns the family chosen (None: none found)."""
    import matplotlib
    from matplotlib import font_manager
    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in CJK_FAMILIES if f in installed), None)
    if family is None:
        try:
            import mplfonts
            font = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
            font_manager.fontManager.addfont(str(font))
            family = font_manager.FontProperties(fname=str(font)).get_name()
        except (ImportError, OSError, RuntimeError):
            warnings.warn("no font with Chinese glyphs found; Chinese labels will show as boxes. "
                          "Install one: pip install mplfonts (or apt install fonts-noto-cjk)", stacklevel=2)
            return None
    others = [f for f in matplotlib.rcParams["font.sans-serif"] if f != family]  # calling twice adds nothing
    matplotlib.rcParams["font.sans-serif"] = [family] + others
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack the U+2212 minus sign
    return family


def _numpy(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=float)


def plot_heatmap(matrix, row_labels, col_labels=None, title: str = "", ax=None, cmap: str = "viridis",
                 annotate: bool | None = None, vmin=None, vmax=None, xlabel: str = "", ylabel: str = "",
                 value_label: str = ""):
    """One matrix as a labelled heatmap (attention probabilities, cosine similarities).

    xlabel, ylabel name what the columns and rows are ("key", "query"); value_label
    what the colours measure (it labels the colour bar)."""
    import matplotlib.pyplot as plt
    m = _numpy(matrix)
    col_labels = row_labels if col_labels is None else col_labels
    if ax is None:
        size = max(3.0, 0.45 * max(m.shape) + 1.5)
        _, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(m.shape[1]), col_labels, rotation=90)
    ax.set_yticks(range(m.shape[0]), row_labels)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if annotate if annotate is not None else max(m.shape) <= 8:
        middle = (np.nanmax(m) + np.nanmin(m)) / 2
        for (i, j), value in np.ndenumerate(m):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if value > middle else "white")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=value_label)
    return ax


def pca_2d(embeddings) -> np.ndarray:
    """Project (n, D) onto its first two principal components: (n, 2)."""
    x = _numpy(embeddings)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)  # rows of vt: directions of largest variance
    return x @ vt[:2].T


def plot_embedding_map(embeddings, labels, groups=None, title: str = "", ax=None, annotate: bool = True):
    """A 2-D PCA map of sentence embeddings; points coloured by group, labelled with the texts."""
    import matplotlib.pyplot as plt
    xy = pca_2d(embeddings)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6))
    groups = ["" for _ in labels] if groups is None else list(groups)
    for g in dict.fromkeys(groups):
        idx = [i for i, h in enumerate(groups) if h == g]
        ax.scatter(xy[idx, 0], xy[idx, 1], label=str(g) if g != "" else None, s=30)
    if annotate:
        for (x, y), text in zip(xy, labels):
            ax.annotate(text if len(text) <= 24 else text[:22] + "…", (x, y), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    if any(g != "" for g in groups):
        ax.legend()
    ax.set(title=title, xlabel="principal component 1", ylabel="principal component 2")
    return ax


def plot_history(history: list[dict], path: Path) -> None:
    """Training curves to an image file: the loss by step and, if any, the evaluation scores by step."""
    # A bare Figure, not pyplot: no GUI backend needed, and a notebook's own backend is left alone.
    from matplotlib.figure import Figure
    losses = [(r["step"], r["loss"]) for r in history if "loss" in r]
    metric_keys = [k for k in dict.fromkeys(k for r in history for k in r) if k not in ("step", "epoch", "loss", "lr")]
    fig = Figure(figsize=(11 if metric_keys else 6, 4))
    axes = fig.subplots(1, 2 if metric_keys else 1, squeeze=False)
    if losses:
        axes[0, 0].plot(*zip(*losses), color="tab:blue")
    axes[0, 0].set(title="training loss", xlabel="step", ylabel="loss")
    if metric_keys:
        for k in metric_keys:
            points = [(r["step"], r[k]) for r in history if k in r]
            axes[0, 1].plot(*zip(*points), marker="o", label=k)
        axes[0, 1].set(title="evaluation", xlabel="step", ylabel="score")
        axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
