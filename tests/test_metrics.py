"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

import math

import numpy as np
import pytest

from vqdna.evaluation.metrics import (
    accuracy,
    average_ranks,
    classification_metrics,
    f1_macro,
    improves,
    matthews_corrcoef,
    mse,
    pearson,
    precision_macro,
    recall_macro,
    regression_metrics,
    spearman,
)

# Binary: positions 0-2 are TP, 3 is FN, 4-5 are TN, 6 is FP.
BIN_TRUE = [1, 1, 1, 1, 0, 0, 0]
BIN_PRED = [1, 1, 1, 0, 0, 0, 1]

# Three classes. Confusion matrix (rows true, columns predicted):
#   true 0: 2 1 0
#   true 1: 0 1 1
#   true 2: 0 0 3
THREE_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
THREE_PRED = [0, 0, 1, 1, 2, 2, 2, 2]


def test_binary_classification_by_hand():
    # TP=3, TN=2, FP=1, FN=1:
    # MCC = (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (3·2 − 1·1) / sqrt(4·4·3·3) = 5/12
    assert matthews_corrcoef(BIN_TRUE, BIN_PRED) == pytest.approx(5 / 12)
    # 5 of 7 correct
    assert accuracy(BIN_TRUE, BIN_PRED) == pytest.approx(5 / 7)
    # class 1: P = 3/4, R = 3/4 → F1 = 3/4; class 0: P = 2/3, R = 2/3 → F1 = 2/3
    # macro F1 = (3/4 + 2/3) / 2 = 17/24
    assert f1_macro(BIN_TRUE, BIN_PRED) == pytest.approx(17 / 24)
    # macro precision = (3/4 + 2/3) / 2, macro recall the same here (FP = FN = 1)
    assert classification_metrics(BIN_TRUE, BIN_PRED) == pytest.approx(
        {"mcc": 5 / 12, "accuracy": 5 / 7, "f1": 17 / 24, "precision": 17 / 24, "recall": 17 / 24}
    )


def test_three_class_mcc_and_f1_by_hand():
    # Gorodkin: c = 6 correct, s = 8 samples, true counts t = (3, 2, 3), predicted p = (2, 2, 4)
    # c·s − t·p = 48 − (6 + 4 + 12) = 26
    # s² − p·p = 64 − (4 + 4 + 16) = 40,  s² − t·t = 64 − (9 + 4 + 9) = 42
    # MCC = 26 / sqrt(40·42) = 26 / sqrt(1680)
    assert matthews_corrcoef(THREE_TRUE, THREE_PRED) == pytest.approx(26 / math.sqrt(1680))
    # class 0: P = 2/2, R = 2/3 → F1 = 2·1·(2/3) / (5/3) = 4/5
    # class 1: P = 1/2, R = 1/2 → F1 = 1/2
    # class 2: P = 3/4, R = 3/3 → F1 = 2·(3/4) / (7/4) = 6/7
    # macro = (4/5 + 1/2 + 6/7) / 3 = (56 + 35 + 60) / 70 / 3 = 151/210
    assert f1_macro(THREE_TRUE, THREE_PRED) == pytest.approx(151 / 210)
    # macro precision = (1 + 1/2 + 3/4) / 3 = 3/4; macro recall = (2/3 + 1/2 + 1) / 3 = 13/18
    assert precision_macro(THREE_TRUE, THREE_PRED) == pytest.approx(3 / 4)
    assert recall_macro(THREE_TRUE, THREE_PRED) == pytest.approx(13 / 18)
    from sklearn.metrics import precision_score, recall_score  # the same definitions as scikit-learn's

    assert precision_macro(THREE_TRUE, THREE_PRED) == pytest.approx(
        precision_score(THREE_TRUE, THREE_PRED, average="macro")
    )
    assert recall_macro(THREE_TRUE, THREE_PRED) == pytest.approx(recall_score(THREE_TRUE, THREE_PRED, average="macro"))
    assert accuracy(THREE_TRUE, THREE_PRED) == pytest.approx(6 / 8)
    # labels need not be integers: the same task with names gives the same numbers
    names = np.array(["a", "b", "c"])
    assert matthews_corrcoef(names[THREE_TRUE], names[THREE_PRED]) == pytest.approx(26 / math.sqrt(1680))


def test_binary_mcc_agrees_with_the_multiclass_formula():
    # For two classes R_K is the binary MCC: same input as above through the other route.
    # c = 5, s = 7, t = (3, 4), p = (3, 4) for classes (0, 1):
    # (5·7 − (9 + 16)) / sqrt((49 − 25)(49 − 25)) = 10 / 24 = 5/12
    assert matthews_corrcoef(BIN_TRUE, BIN_PRED) == pytest.approx(10 / 24)


def test_macro_f1_counts_a_label_only_predicted():
    # class 0: P = 1/1, R = 1/2 → 2/3; class 1: P = R = 1 → 1
    # class 2 never occurs but is predicted once: P = 0/1, R = 0 (no true samples) → F1 = 0
    # macro = (2/3 + 1 + 0) / 3 = 5/9
    assert f1_macro([0, 0, 1, 1], [0, 2, 1, 1]) == pytest.approx(5 / 9)
    # restricted to labels 0 and 1 (scikit-learn's labels=): the prediction 2 is a miss of class 0
    assert f1_macro([0, 0, 1, 1], [0, 2, 1, 1], labels=[0, 1]) == pytest.approx((2 / 3 + 1) / 2)
    # a listed label that occurs nowhere has F1 0 and counts in the mean
    assert f1_macro([0, 0, 1, 1], [0, 2, 1, 1], labels=[0, 1, 3]) == pytest.approx((2 / 3 + 1) / 3)


def test_degenerate_and_extreme_predictions():
    y = [0, 1, 0, 1, 1]
    # a constant prediction makes s² − p·p = 0: MCC is undefined and reported as 0
    assert matthews_corrcoef(y, [1, 1, 1, 1, 1]) == 0.0
    assert matthews_corrcoef([1, 1, 1], [1, 1, 1]) == 0.0
    assert matthews_corrcoef(y, y) == pytest.approx(1.0)
    assert matthews_corrcoef(y, [1 - v for v in y]) == pytest.approx(-1.0)
    assert f1_macro(y, y) == pytest.approx(1.0) and accuracy(y, y) == 1.0
    assert f1_macro(y, [1 - v for v in y]) == 0.0 and accuracy(y, [1 - v for v in y]) == 0.0
    # three classes, perfect
    assert matthews_corrcoef(THREE_TRUE, THREE_TRUE) == pytest.approx(1.0)


def test_pearson_by_hand():
    # x = (1, 2, 3), y = (2, 4, 5); means 2 and 11/3
    # deviations x: (−1, 0, 1), y: (−5/3, 1/3, 4/3)
    # Σdx·dy = 5/3 + 0 + 4/3 = 3;  Σdx² = 2;  Σdy² = (25 + 1 + 16)/9 = 14/3
    # r = 3 / sqrt(2 · 14/3) = sqrt(27/28)
    assert pearson([1, 2, 3], [2, 4, 5]) == pytest.approx(math.sqrt(27 / 28))
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_average_ranks_by_hand():
    # sorted: 1 → rank 1, 2 → rank 2, the three 5s share ranks 3, 4, 5 → (3 + 4 + 5)/3 = 4
    assert average_ranks([5, 1, 5, 5, 2]).tolist() == [4.0, 1.0, 4.0, 4.0, 2.0]


def test_spearman_with_ties_by_hand():
    # x = (1, 2, 2, 3) → ranks (1, 2.5, 2.5, 4);  y = (10, 30, 20, 40) → ranks (1, 3, 2, 4)
    # both rank vectors have mean 2.5; deviations x: (−1.5, 0, 0, 1.5), y: (−1.5, 0.5, −0.5, 1.5)
    # Σdx·dy = 2.25 + 2.25 = 4.5;  Σdx² = 4.5;  Σdy² = 2.25 + 0.25 + 0.25 + 2.25 = 5
    # ρ = 4.5 / sqrt(4.5 · 5) = sqrt(0.9)
    assert spearman([1, 2, 2, 3], [10, 30, 20, 40]) == pytest.approx(math.sqrt(0.9))
    # monotone but not linear: Spearman 1, Pearson below 1
    assert spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [1, 10, 100, 1000]) < 0.95


def test_constant_input_gives_nan_correlation():
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))


def test_regression_metrics_by_hand():
    # squared errors (1, 4, 4) → MSE = 9/3 = 3
    assert mse([1, 2, 3], [2, 4, 5]) == pytest.approx(3.0)
    out = regression_metrics([1, 2, 3], [2, 4, 5])
    assert set(out) == {"spearman", "pearson", "mse"}
    assert out["spearman"] == pytest.approx(1.0)
    assert out["pearson"] == pytest.approx(math.sqrt(27 / 28))
    assert out["mse"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    "fn", [accuracy, matthews_corrcoef, f1_macro, pearson, spearman, mse, classification_metrics, regression_metrics]
)
def test_bad_lengths_are_errors(fn):
    with pytest.raises(ValueError, match="length mismatch: y_true has 3 values but y_pred has 2"):
        fn([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="empty input"):
        fn([], [])


def test_correlations_need_two_finite_values():
    with pytest.raises(ValueError, match="at least 2 values"):
        pearson([1.0], [2.0])
    with pytest.raises(ValueError, match="at least 2 values"):
        spearman([1.0], [2.0])
    with pytest.raises(ValueError, match="y_pred holds 1 NaN"):
        pearson([1, 2, 3], [1, float("nan"), 3])
    with pytest.raises(ValueError, match="must be 1-D"):
        accuracy([[0, 1]], [[0, 1]])


def pick(scores):
    best = None
    for i, score in enumerate(scores):
        if improves(score, None if best is None else scores[best]):
            best = i
    return best


def test_model_selection_skips_nan_scores_wherever_they_fall():
    # a NaN dev score (constant predictions) first used to block every later number
    assert pick([math.nan, 0.2, 0.5, 0.3, math.nan]) == 2
    assert pick([0.4, math.nan, 0.4]) == 0  # ties keep the first (the cheaper or earlier setting)
    assert pick([math.nan, math.nan]) == 0  # nothing finite: the first, so there is always a choice
    assert pick([-0.1, -0.3]) == 0
