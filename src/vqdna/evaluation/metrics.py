"""Benchmark metrics in plain numpy: MCC, accuracy and macro F1 for classification tasks, Spearman,
Pearson and MSE for regression tasks.

They follow scikit-learn / scipy conventions (which are not dependencies of vqdna), so numbers are
comparable with published GUE and Nucleotide Transformer results:

* `matthews_corrcoef` is Gorodkin's multi-class R_K statistic (the binary MCC for two classes)
  and is 0.0 when it is undefined, e.g. for a constant prediction;
* `f1_macro` averages per-class F1 over every label seen in `y_true` or `y_pred`;
* `pearson` and `spearman` are NaN when an input is constant (the correlation is undefined).

Inputs are 1-D array-likes; mismatched lengths and empty inputs are errors, never truncated.
"""

from __future__ import annotations

import numpy as np


def _pair(y_true, y_pred, *, minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as 1-D arrays of the same, sufficient length (or a ValueError saying why not)."""
    a, b = np.asarray(y_true), np.asarray(y_pred)
    for name, arr in (("y_true", a), ("y_pred", b)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if len(a) != len(b):
        raise ValueError(f"length mismatch: y_true has {len(a)} values but y_pred has {len(b)}")
    if len(a) == 0:
        raise ValueError("empty input: y_true and y_pred hold no values")
    if len(a) < minimum:
        raise ValueError(f"need at least {minimum} values, got {len(a)}")
    return a, b


def _real(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float versions of numeric inputs; NaN or infinity is an error (it would poison every metric)."""
    try:
        x, y = a.astype(np.float64), b.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"regression metrics need numbers: {exc}") from exc
    for name, arr in (("y_true", x), ("y_pred", y)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{name} holds {bad.size} NaN or infinite values (first at index {int(bad[0])})")
    return x, y


def _confusion(y_true, y_pred, labels=()) -> tuple[np.ndarray, np.ndarray]:
    """(the sorted union of the labels in y_true, y_pred and `labels`, the confusion matrix over
    them: rows are true classes, columns predicted ones)."""
    a, b = _pair(y_true, y_pred)
    extra = [np.asarray(labels)] if len(labels) else []  # an empty float array would not join strings
    classes, codes = np.unique(np.concatenate([a, b, *extra]), return_inverse=True)
    k = len(classes)
    t, p = codes[: len(a)], codes[len(a) : 2 * len(a)]
    return classes, np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.float64)


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the truth."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(a == b))


def matthews_corrcoef(y_true, y_pred) -> float:
    """Multi-class Matthews correlation (Gorodkin 2004), as scikit-learn computes it:
    (c·s − t·p) / sqrt((s² − p·p)(s² − t·t)) with c correct predictions, s samples, t and p the
    per-class true and predicted counts. 0.0 when the denominator is 0."""
    cm = _confusion(y_true, y_pred)[1]
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    c, s = np.trace(cm), cm.sum()
    cov_tp = c * s - t @ p
    cov_pp = s * s - p @ p
    cov_tt = s * s - t @ t
    if cov_pp * cov_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_tt * cov_pp))


def _per_class(y_true, y_pred, labels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, F1) of every label in y_true or y_pred, or of `labels` only where given
    (as scikit-learn's `labels=`); 0 where undefined (a class never predicted has precision 0, as
    scikit-learn's zero_division=0)."""
    # a listed label found in neither array gets a row and a column of zeros (F1 0)
    classes, cm = _confusion(y_true, y_pred, () if labels is None else labels)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    if labels is not None:
        pick = np.searchsorted(classes, np.asarray(labels))
        return precision[pick], recall[pick], f1[pick]
    return precision, recall, f1


def f1_macro(y_true, y_pred, labels=None) -> float:
    """Unweighted mean of per-class F1 over every label in y_true or y_pred, or over `labels` only
    (a class's F1 is 0 when its precision and recall are both 0). A prediction outside `labels`
    still counts as a miss of its true class."""
    return float(_per_class(y_true, y_pred, labels)[2].mean())


def precision_macro(y_true, y_pred) -> float:
    """Unweighted mean of per-class precision (DNABERT-2 reports it)."""
    return float(_per_class(y_true, y_pred)[0].mean())


def recall_macro(y_true, y_pred) -> float:
    """Unweighted mean of per-class recall (DNABERT-2 reports it)."""
    return float(_per_class(y_true, y_pred)[1].mean())


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")  # undefined, as in scipy
    xm, ym = x - x.mean(), y - y.mean()
    r = (xm @ ym) / np.sqrt((xm @ xm) * (ym @ ym))
    return float(np.clip(r, -1.0, 1.0))  # rounding can push |r| a hair above 1


def average_ranks(values) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of the ranks they span (scipy's 'average')."""
    x = np.asarray(values)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    new_group = np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]])
    group = np.cumsum(new_group) - 1  # group number of each sorted position
    bounds = np.concatenate([np.flatnonzero(new_group), [len(x)]])  # first sorted position of each group
    mean_rank = (bounds[:-1] + 1 + bounds[1:]) / 2.0  # mean of ranks first+1 .. next_first
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def pearson(x, y) -> float:
    """Pearson correlation; NaN when either input is constant."""
    a, b = _real(*_pair(x, y, minimum=2))
    return _pearson(a, b)


def spearman(x, y) -> float:
    """Spearman correlation: Pearson correlation of average ranks; NaN when either input is constant."""
    a, b = _real(*_pair(x, y, minimum=2))
    return _pearson(average_ranks(a), average_ranks(b))


def mse(y_true, y_pred) -> float:
    """Mean squared error."""
    a, b = _real(*_pair(y_true, y_pred))
    return float(np.mean((a - b) ** 2))


def improves(score: float, best: float | None) -> bool:
    """Whether a dev score (higher is better) replaces the best so far in a model selection: the first
    score always does; a NaN one (constant predictions) never wins over a number, and a NaN best
    never blocks a later number."""
    if best is None:
        return True
    return bool(np.isfinite(score)) and not (bool(np.isfinite(best)) and score <= best)


def classification_metrics(y_true, y_pred) -> dict[str, float]:
    """{'mcc', 'accuracy', 'f1', 'precision', 'recall' (the last three macro)} of predicted class labels."""
    return {
        "mcc": matthews_corrcoef(y_true, y_pred),
        "accuracy": accuracy(y_true, y_pred),
        "f1": f1_macro(y_true, y_pred),
        "precision": precision_macro(y_true, y_pred),
        "recall": recall_macro(y_true, y_pred),
    }


# DNABERT-2's finetune/train.py evaluates the test set with the Trainer and saves the result as
# eval_results.json, so its keys carry the Trainer's "eval_" prefix for test scores; we write
# these keys too (with our test scores) so that scripts reading DNABERT-2 results read ours.
DNABERT2_KEYS = {
    "mcc": "eval_matthews_correlation",
    "accuracy": "eval_accuracy",
    "f1": "eval_f1",
    "precision": "eval_precision",
    "recall": "eval_recall",
}


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """{'spearman', 'pearson', 'mse'} of predicted values."""
    return {
        "spearman": spearman(y_true, y_pred),
        "pearson": pearson(y_true, y_pred),
        "mse": mse(y_true, y_pred),
    }
