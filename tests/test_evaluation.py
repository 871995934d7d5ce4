"""Correlation measures by hand and against scipy; the STS Benchmark score of the bundled model."""

import numpy as np
import pytest

from conftest import SHARED_DATA, need, need_data
from minisbert.trainkit.data import read_pairs
from minisbert.support.errors import InputError
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
    stats = need("scipy.stats")
    import numpy as np
    rng = np.random.default_rng(0)
    x, y = rng.random(200).round(1), rng.random(200).round(1)  # many ties
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_bundled_model_scores_the_published_82_03_on_sts_benchmark_test():
    from minisbert import SentenceBert
    need_data(SHARED_DATA / "stsbenchmark")
    model = SentenceBert.from_pretrained(device="cpu")
    result = evaluate_sts(model, read_pairs(SHARED_DATA / "stsbenchmark" / "sts-test.csv"), show_progress=False)
    assert result["n"] == 1379
    assert result["spearman"] == pytest.approx(82.03, abs=0.01)


def test_best_threshold_by_hand():
    from minisbert.evaluation import best_threshold
    out = best_threshold([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0])
    assert out["accuracy"] == 75.0 and out["accuracy_threshold"] == 0.9
    assert out["f1"] == pytest.approx(80.0) and out["f1_threshold"] == 0.7  # tp 2, fp 1, fn 0
    assert best_threshold([0.5, 0.5], [1, 0])["accuracy"] == 50.0  # a threshold cannot split a tie


def test_retrieval_metrics_by_hand():
    from minisbert.evaluation import retrieval_metrics
    import math
    out = retrieval_metrics([[3, 1, 2], [7, 8, 9]], [{1}, {9, 8}])
    assert out["mrr@10"] == pytest.approx(100 * (1 / 2 + 1 / 2) / 2)
    assert out["recall@1"] == 0.0 and out["recall@5"] == 100.0
    ndcg_q1 = (1 / math.log2(3)) / 1
    ndcg_q2 = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert out["ndcg@10"] == pytest.approx(100 * (ndcg_q1 + ndcg_q2) / 2)


def test_evaluators_on_the_bundled_model():
    from minisbert import SentenceBert
    from minisbert.trainkit.data import Example, Pair
    from minisbert.evaluation import BinaryClassificationEvaluator, RetrievalEvaluator, TripletEvaluator
    model = SentenceBert.from_pretrained(device="cpu")
    triplets = [Example(("A man plays guitar.", "Someone plays a guitar.", "A cat sleeps.")),
                Example(("It is raining.", "Rain is falling.", "The sun is shining."))]
    assert TripletEvaluator(triplets)(model)["accuracy"] == 100.0
    pairs = [Pair("How do I reset my password?", "I forgot my password.", 1),
             Pair("How do I reset my password?", "Where is my parcel?", 0)]
    assert BinaryClassificationEvaluator(pairs)(model)["accuracy"] == 100.0
    retrieval = RetrievalEvaluator(["forgot password", "late delivery"],
                                   ["Reset your password here.", "Track your parcel.", "Guitar lessons."],
                                   [{0}, {1}])(model)
    assert retrieval["mrr@10"] == 100.0 and retrieval["ndcg@10"] == 100.0


def test_bootstrap_interval_agrees_with_scipys_percentile_bootstrap():
    import scipy.stats
    from minisbert.evaluation import bootstrap_interval, spearman
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = x + rng.normal(scale=1.0, size=60)
    low, high = bootstrap_interval(spearman, x, y, rounds=4000)
    theirs = scipy.stats.bootstrap((x, y), lambda a, b: scipy.stats.spearmanr(a, b).statistic, paired=True,
                                   vectorized=False, n_resamples=4000, method="percentile", random_state=0)
    # Two independent resamplings of the same data: the ends agree to Monte Carlo error.
    assert abs(low - theirs.confidence_interval.low) < 0.03 and abs(high - theirs.confidence_interval.high) < 0.03
    assert low < spearman(x, y) < high
    wide = bootstrap_interval(spearman, x[:15], y[:15], rounds=4000)
    assert wide[1] - wide[0] > high - low  # fewer rows, less certainty
    assert bootstrap_interval(spearman, x, y, rounds=200) == bootstrap_interval(spearman, x, y, rounds=200)
    with pytest.raises(InputError, match="one length"):
        bootstrap_interval(spearman, x, y[:10])
