"""Correlation measures by hand and against scipy; the STS Benchmark score of the bundled model."""

import pytest

from conftest import SHARED_DATA
from minisbert.data import read_pairs
from minisbert.evaluation import evaluate_sts, pearson, rank, spearman


def test_ranks_share_ties():
    assert rank([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]


def test_by_hand():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4], [1, 4, 9, 100]) == pytest.approx(1.0)  # monotone, not linear
    # d = rank differences (0, 0, 1, -1): rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(0.8)


def test_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    import numpy as np
    rng = np.random.default_rng(0)
    x, y = rng.random(200).round(1), rng.random(200).round(1)  # many ties
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


@pytest.mark.skipif(not (SHARED_DATA / "stsbenchmark").is_dir(), reason="../shared/data is absent")
def test_bundled_model_scores_the_published_82_03_on_sts_benchmark_test():
    from minisbert import SentenceBert
    model = SentenceBert.from_pretrained(device="cpu")
    result = evaluate_sts(model, read_pairs(SHARED_DATA / "stsbenchmark" / "sts-test.csv"), show_progress=False)
    assert result["n"] == 1379
    assert result["spearman"] == pytest.approx(82.03, abs=0.01)
