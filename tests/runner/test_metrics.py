"""The summary arithmetic against values worked out by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygen.runner import metrics


def test_throughput_is_inferences_per_second() -> None:
    assert metrics.throughput(70, 12_500_000) == pytest.approx(5.6)
    with pytest.raises(ValueError):
        metrics.throughput(1, 0)


def test_median_of_odd_and_even_counts() -> None:
    assert metrics.median([5.0, 1.0, 3.0, 2.0, 4.0]) == 3.0
    assert metrics.median([1.0, 2.0, 3.0, 4.0]) == 2.5


def test_normalise_scales_to_sum_one_but_keeps_a_single_score() -> None:
    assert metrics.normalise([1, 1, 2]).tolist() == [0.25, 0.25, 0.5]
    assert metrics.normalise([0.7]).tolist() == [0.7]  # an anomaly score is not a distribution
    assert metrics.normalise([0, 0, 0]).tolist() == [0, 0, 0]


def test_file_scores_average_the_normalised_inferences() -> None:
    # [1, 3] -> [.25, .75]; [3, 1] -> [.75, .25]; mean [.5, .5]
    assert metrics.file_scores([[1, 3], [3, 1]]).tolist() == [0.5, 0.5]
    # windows of an anomaly file: plain mean of the single scores
    assert metrics.file_scores([[0.2], [0.4], [0.9]]).tolist() == pytest.approx([0.5])


def test_top1_counts_argmax_hits() -> None:
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert metrics.top1_percent(y, [1, 0, 0]) == pytest.approx(200 / 3)
    # a tie goes to the first class, as numpy's argmax does
    assert metrics.top1_percent(np.array([[0.5, 0.5]]), [0]) == 100.0


def test_auc_binary_by_hand() -> None:
    # positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs ordered right
    assert metrics.auc_binary([False, False, True, True],
                              np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    # ties count half: positive 0.5 vs negatives 0.2 (1) and 0.5 (0.5)
    assert metrics.auc_binary([False, False, True], np.array([0.2, 0.5, 0.5])) == 0.75
    assert metrics.auc_binary([False, True], np.array([0.5, 0.5])) == 0.5
    assert metrics.auc_binary([True, True], np.array([0.1, 0.2])) is None


def test_auc_binary_equals_counting_every_pair() -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, 60).astype(bool)
    scores = rng.integers(0, 12, 60) / 11.0  # many ties
    pairs = [1.0 if p > n else 0.5 if p == n else 0.0
             for p, n in itertools.product(scores[truth], scores[~truth])]
    assert metrics.auc_binary(truth, scores) == pytest.approx(sum(pairs) / len(pairs))


def test_auc_one_vs_rest_is_the_macro_average() -> None:
    y = np.array([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2], [0.2, 0.3, 0.5], [0.3, 0.5, 0.2]])
    labels = [0, 1, 2, 0]
    # class 0: positives .5 .3 vs negatives .4 .2 -> 3/4; class 1: .4 vs .3 .3 .5 -> 2/3;
    # class 2: .5 vs .2 .2 .2 -> 1
    assert metrics.auc_one_vs_rest(y, labels) == pytest.approx((0.75 + 2 / 3 + 1) / 3)
    # a class no file belongs to is left out
    assert metrics.auc_one_vs_rest(y[:2], [0, 1]) == pytest.approx((1 + 1) / 2)
    assert metrics.auc_one_vs_rest(y[:1], [0]) is None


def test_ad_detection_percent_by_hand() -> None:
    # thresholds from 0.1 up: "> 0.1" flags .9 and .5: precision 1/2, recall 1 -> 75;
    # above 0.5 only .9 is flagged (a normal file) -> 0
    assert metrics.ad_detection_percent(np.array([0.1, 0.9, 0.5]), [0, 0, 1]) == \
        pytest.approx(75.0)
    # separable scores: precision and recall 1
    assert metrics.ad_detection_percent(np.array([0.1, 0.2, 0.9, 0.8]), [0, 0, 1, 1]) == \
        pytest.approx(100.0)


def test_accuracy_summary_picks_the_auc_by_score_count() -> None:
    two = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
    top1, auc = metrics.accuracy_summary(two, [0, 1, 1])
    assert top1 == pytest.approx(200 / 3)
    assert auc == 1.0
    one = np.array([[0.1], [0.4], [0.35], [0.8]])
    top1, auc = metrics.accuracy_summary(one, [0, 0, 1, 1])  # anomaly scores
    assert auc == 0.75
    assert top1 == pytest.approx(metrics.ad_detection_percent(one[:, 0], [0, 0, 1, 1]))
    with pytest.raises(ValueError):
        metrics.accuracy_summary(two, [0, 1])
