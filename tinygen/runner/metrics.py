"""The arithmetic of the MLCommons runner's summary: throughput, per-file scores, top-1, AUC.

Written from the description in PROTOCOL.md section 3 (numpy only): each file's scores are
normalised to sum 1 (when there is more than one), averaged over that file's inferences (the
windows of an anomaly-detection file), and the per-file averages give top-1 and the ROC AUC
(one-vs-rest macro average for more than two classes, class 1 against the rest for two, the
single anomaly score for one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def throughput(iterations: int, elapsed_us: int) -> float:
    """Inferences per second of one timed window."""
    if elapsed_us <= 0:
        raise ValueError("a timed window must last at least one microsecond")
    return iterations * 1e6 / elapsed_us


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of nothing")
    return float(np.median(np.asarray(values, dtype=np.float64)))


def normalise(scores: Sequence[float]) -> FloatArray:
    """Scores scaled to sum 1; a single score (an anomaly score) is left as it is. All-zero
    scores stay zero (the reference would divide by zero)."""
    values = np.asarray(scores, dtype=np.float64)
    total = values.sum()
    if values.size == 1 or total == 0:
        return values
    normalised: FloatArray = values / total
    return normalised


def file_scores(window_scores: Sequence[Sequence[float]]) -> FloatArray:
    """One file's score vector: the mean of its inferences' normalised scores."""
    if not window_scores:
        raise ValueError("a file needs at least one inference")
    mean: FloatArray = np.mean([normalise(s) for s in window_scores], axis=0)
    return mean


def top1_percent(y_pred: FloatArray, labels: Sequence[int]) -> float:
    """Percentage of files whose highest score is their class (the first one on a tie)."""
    predicted = np.argmax(y_pred, axis=1)
    return float(100.0 * np.mean(predicted == np.asarray(labels)))


def ad_detection_percent(scores: FloatArray, labels: Sequence[int]) -> float:
    """What the MLCommons runner prints as "Top 1%" for anomaly detection: over 100 thresholds
    evenly spaced from the lowest score towards the highest, the best mean of precision and
    recall of "score above threshold" as the test for an anomaly (class 1)."""
    truth = np.asarray(labels) == 1
    lo, hi = float(scores.min()), float(scores.max())
    best = 0.0
    for step in range(100):
        flagged = scores > lo + step / 100 * (hi - lo)
        tp = float(np.sum(flagged & truth))
        fp = float(np.sum(flagged & ~truth))
        fn = float(np.sum(~flagged & truth))
        precision = tp / (tp + fp + 1e-8)
        recall = tp / (tp + fn + 1e-8)
        best = max(best, 100.0 * (precision + recall) / 2)
    return best


def _average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    mean_rank = last - (counts - 1) / 2.0
    ranks: FloatArray = mean_rank[inverse].astype(np.float64)
    return ranks


BoolArray = npt.NDArray[np.bool_]


def auc_binary(positive: Sequence[bool] | BoolArray, scores: FloatArray) -> float | None:
    """Area under the ROC curve of ``scores`` for telling positives from negatives: the chance
    that a random positive scores above a random negative, ties counting half (Mann-Whitney).
    None when one of the two groups is empty (the AUC is undefined)."""
    truth = np.asarray(positive, dtype=bool)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(np.asarray(scores, dtype=np.float64))
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auc_one_vs_rest(y_pred: FloatArray, labels: Sequence[int]) -> float | None:
    """Macro average over the classes of each class's AUC against all others. Classes with no
    file are left out (the reference refuses such a set); None with fewer than two classes."""
    truth = np.asarray(labels)
    aucs = []
    for c in range(y_pred.shape[1]):
        value = auc_binary(truth == c, y_pred[:, c])
        if value is not None:
            aucs.append(value)
    return float(np.mean(aucs)) if aucs else None


def accuracy_summary(y_pred: FloatArray, labels: Sequence[int]) -> tuple[float, float | None]:
    """(top-1 %, AUC) of per-file score vectors ``y_pred`` (files x scores), as the MLCommons
    runner reports them for 1 score (anomaly detection), 2 scores or more."""
    if y_pred.ndim != 2 or y_pred.shape[0] != len(labels) or y_pred.shape[0] == 0:
        raise ValueError("y_pred must be one row of scores per label")
    truth = np.asarray(labels)
    if y_pred.shape[1] == 1:
        return ad_detection_percent(y_pred[:, 0], labels), auc_binary(truth == 1, y_pred[:, 0])
    if y_pred.shape[1] == 2:
        return top1_percent(y_pred, labels), auc_binary(truth == 1, y_pred[:, 1])
    return top1_percent(y_pred, labels), auc_one_vs_rest(y_pred, labels)
