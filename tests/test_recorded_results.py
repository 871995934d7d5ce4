"""Recorded results that tests cannot recompute: the STS Benchmark lives outside the repository, so the
promises made about it are held against the figures the benchmarks recorded (benchmarks/results/).

Instructors' material: the student edition leaves out the benchmark results, and this file with them.
"""

import json
from pathlib import Path

import pytest
RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
# encode_speed.json (an Intel Xeon with VNNI) and one JSON per kind of machine since (encode_speed-<cpu>.json);
# a machine without VNNI does not time int8, so its JSON has no int8 row to hold to the promise
ENCODE_SPEED = RESULTS / "encode_speed.json"
WITH_INT8 = [p for p in sorted(RESULTS.glob("encode_speed*.json"))
             if any(row[1:2] == ["minisbert int8"] for row in json.loads(p.read_text(encoding="utf-8"))["rows"])]
RERUN = "python benchmarks/encode_speed.py (on a quiet machine, with ../shared/data/stsbenchmark beside the repository)"
PROMISED_GAP = 0.3  # docs/performance.md: int8 within 0.3 of a Spearman point of float32 on STS-B test


def sts_b_scores(document: dict, name: str) -> dict[str, float]:
    """Each library's STS-B test Spearman (x100) in encode_speed's table: the column "STS-B test Spearman"
    of the rows whose first column is "STS-B test" ("minisbert", "minisbert int8", ...)."""
    header = document["header"]
    assert "STS-B test Spearman" in header, (f"{name} has no 'STS-B test Spearman' column (STS-B was "
                                             f"absent when it ran): rerun {RERUN}")
    column = header.index("STS-B test Spearman")
    return {row[1]: float(row[column]) for row in document["rows"] if row[0] == "STS-B test"}


def check_sts_b_gap(document: dict, name: str) -> None:
    scores = sts_b_scores(document, name)
    assert {"minisbert", "minisbert int8"} <= scores.keys(), (f"{name} has no STS-B test row for "
                                                             f"minisbert or minisbert int8: rerun {RERUN}")
    gap = scores["minisbert int8"] - scores["minisbert"]
    assert abs(gap) <= PROMISED_GAP, (f"int8's STS-B test Spearman is {gap:+.2f} from float32's in "
                                      f"{name}, beyond the {PROMISED_GAP} the README promises: "
                                      f"fix int8, or rerun {RERUN} if the recorded figures are old")


@pytest.mark.parametrize("path", WITH_INT8, ids=[p.name for p in WITH_INT8])
def test_int8_stays_within_0_3_of_float32_on_sts_b_test(path):
    """The promise is about STS-B test (1,379 pairs), which lives outside the repository: the test reads the
    scores the benchmark recorded (the 60 pairs of test_encode_in_int8_stays_close_to_float32 are too few to
    hold a gap of 0.3). A rerun may change the figures; the gap must stay within the promise."""
    check_sts_b_gap(json.loads(path.read_text(encoding="utf-8")), path.name)


def test_some_recorded_run_times_int8():
    assert WITH_INT8, f"no benchmarks/results/encode_speed*.json holds an int8 row: rerun {RERUN} on a CPU with VNNI"


def test_a_recorded_gap_beyond_0_3_fails_and_says_how_to_rerun():
    """The mutation: the recorded int8 score set to 0.31 below float32's."""
    document = json.loads(ENCODE_SPEED.read_text(encoding="utf-8"))
    column = document["header"].index("STS-B test Spearman")
    float32 = sts_b_scores(document, ENCODE_SPEED.name)["minisbert"]
    for row in document["rows"]:
        if row[:2] == ["STS-B test", "minisbert int8"]:
            row[column] = f"{float32 - 0.31:.2f}"
    with pytest.raises(AssertionError, match=r"-0\.31 from float32's.*rerun python benchmarks/encode_speed\.py"):
        check_sts_b_gap(document, ENCODE_SPEED.name)

