"""Lesson pictures: Chinese labels get real glyphs, heatmaps and the PCA map are what they claim."""

import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from conftest import need  # noqa: E402

from minisbert.support.plots import pca_2d, plot_embedding_map, plot_heatmap, use_cjk_font  # noqa: E402


def _render(fig) -> list[str]:
    """Draw the figure; return matplotlib's warnings (a missing glyph is one)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return [str(w.message) for w in caught]


def test_chinese_labels_render_with_real_glyphs():
    need("mplfonts", "mplfonts (requirements-dev.txt) provides the CJK font")
    family = use_cjk_font()
    assert family is not None
    fig, ax = plt.subplots()
    ax.set_title("这是中国人民抗日战争纪念馆的简介 北京大学的地理位置")
    assert not [w for w in _render(fig) if "missing from font" in w]


def test_without_a_cjk_font_the_glyphs_are_missing():
    """The test above can fail: the default font has no Chinese glyphs."""
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots()
        ax.set_title("北京大学")
        assert any("missing from font" in w for w in _render(fig))


def test_heatmap_labels_and_values():
    m = torch.tensor([[1.0, 0.25], [0.25, 1.0]])
    ax = plot_heatmap(m, ["a", "b"], title="cos")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.25", "0.25", "1.00"]
    np.testing.assert_array_equal(ax.images[0].get_array(), m.numpy())
    plt.close(ax.figure)


def test_pca_finds_the_direction_of_largest_variance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5)) * [10, 3, 0.1, 0.1, 0.1]
    xy = pca_2d(torch.tensor(x))
    assert xy.shape == (200, 2)
    assert abs(np.corrcoef(xy[:, 0], x[:, 0])[0, 1]) > 0.99 and abs(np.corrcoef(xy[:, 1], x[:, 1])[0, 1]) > 0.99


def test_embedding_map_groups_and_labels():
    ax = plot_embedding_map(np.eye(4), ["one", "two", "three", "a very long sentence indeed, cut short"],
                            ["x", "x", "y", "y"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y"]
    assert ax.texts[-1].get_text().endswith("…") and len(ax.collections) == 2
    plt.close(ax.figure)
