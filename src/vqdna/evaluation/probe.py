"""Linear probing (the paper's "Lin." setting): frozen features, a linear model on top.

Features of a sequence are mean-pooled over its tokens:
- a pretrained or fine-tuned model folder: the encoder's last hidden states;
- a tokenizer folder: token frequencies (a bag of tokens; HRQ: each level's, side by side), the
  same rule for every tokenizer so that they compare side by side; or, for VQ/HRQ,
  `features="vectors"`: the mean quantized code vector (levels averaged, as the decoder sees them).
  On the SARS-CoV-2 variant task the mean code vector lost most of what the code counts carry
  (benchmarks/README.md, "linear probes"): 64 averaged numbers cannot say which codes occurred.
The linear model is multinomial logistic regression (regression tasks: ridge) on standardized
features; its L2 strength is chosen on the dev split (a grid of decades that extends past an edge
that wins), and the test split is scored once.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from vqdna.errors import UserError
from vqdna.evaluation.metrics import classification_metrics, improves, regression_metrics
from vqdna.inference import batches, embed
from vqdna.seqio import TASK_SPLITS, load_task, task_files
from vqdna.storage import claim_folder, finish_folder, package_versions, write_json
from vqdna.tokenizers import GenomeTokenizer, load_tokenizer

L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
# When the grid's smallest (or largest) L2 wins on dev, the search goes on past it a decade at a time
# while dev improves, up to these limits: on the SARS-CoV-2 variant task several probes chose 1e-4,
# the grid's edge, so the grid alone could not say whether weaker L2 did better. The limits keep the
# fit well posed: logistic regression's C = 1/(L2·n) grows without bound as L2 falls.
L2_LIMITS = (1e-6, 1e2)


def search_l2(
    dev_score: Callable[[float], tuple[float, Any]],
    grid: Sequence[float] = L2_GRID,
    limits: tuple[float, float] = L2_LIMITS,
) -> tuple[float, Any, list[float]]:
    """The L2 whose `dev_score(l2)` (higher is better; returns (score, anything)) is best over the
    grid, extended a decade at a time past an edge that wins (see L2_LIMITS); ties keep the L2 tried
    first. Returns (l2, what dev_score returned with it, every L2 tried in order)."""
    best: tuple[float, float, Any] | None = None  # (score, l2, payload)
    tried: list[float] = []

    def attempt(l2: float) -> None:
        nonlocal best
        tried.append(l2)
        score, payload = dev_score(l2)
        if improves(score, None if best is None else best[0]):
            best = (score, l2, payload)

    for l2 in grid:
        attempt(l2)
    lo, hi = limits
    edge = min(tried)  # "%.3g" keeps the decades exact to print (1e-4 / 10 is 1.0000000000000001e-05)
    while best[1] == edge and edge / 10 >= lo * (1 - 1e-9):
        edge = float(f"{edge / 10:.3g}")
        attempt(edge)
    edge = max(tried)
    while best[1] == edge and edge * 10 <= hi * (1 + 1e-9):
        edge = float(f"{edge * 10:.3g}")
        attempt(edge)
    return best[1], best[2], tried


@torch.no_grad()
def tokenizer_features(
    tokenizer: GenomeTokenizer, sequences: Sequence[str], kind: str = "tokens", batch_size: int = 256
) -> np.ndarray:
    """Each sequence's features of the given kind (`GenomeTokenizer.FEATURE_KINDS`)."""
    out = np.zeros((len(sequences), tokenizer.feature_size(kind)), dtype=np.float32)
    for sl in batches(len(sequences), batch_size):
        batch = tokenizer(list(sequences[sl]))
        out[sl] = tokenizer.features(batch["input_ids"], batch["attention_mask"], kind).numpy()
    return out


def _standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std[std < 1e-8] = 1.0  # constant features (e.g. unused tokens) stay 0 instead of dividing by 0
    return [(x - mean) / std for x in (train, *others)]


def fit_logistic(
    x: np.ndarray, y: np.ndarray, classes: int, l2: float, *, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Multinomial logistic regression minimising mean cross-entropy + l2·|w|²/2 (bias free);
    returns (weights (features, classes), bias (classes,), whether L-BFGS converged within
    max_iter). Fitted by scikit-learn's L-BFGS: our earlier torch L-BFGS was 7-25x slower on 4k
    k-mer features, and far slower when the cores were busy (many tiny multi-threaded ops)."""
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y)
    w = np.zeros((x.shape[1], classes))
    b = np.full(classes, -np.inf)  # a class absent from train is never predicted
    if len(present) == 2:
        # sklearn fits one logit d for two classes, penalised |d|²/2 per C·n; the multinomial
        # optimum is w = ±d/2, whose penalty l2·(|d/2|² + |d/2|²)/2 = l2·|d|²/4 means C = 2/(l2·n)
        model = LogisticRegression(C=2.0 / (l2 * len(x)), max_iter=max_iter)
        converged = fit_converged(model, x, y)
        w[:, present[1]], w[:, present[0]] = model.coef_[0] / 2, -model.coef_[0] / 2
        b[present[1]], b[present[0]] = model.intercept_[0] / 2, -model.intercept_[0] / 2
    else:
        model = LogisticRegression(C=1.0 / (l2 * len(x)), max_iter=max_iter)
        converged = fit_converged(model, x, y)
        w[:, present], b[present] = model.coef_.T, model.intercept_
    return w, b, converged


def fit_converged(model, x, y) -> bool:
    """Fit a scikit-learn estimator (or pipeline) on (x, y); whether its solver converged, i.e.
    raised no ConvergenceWarning (which is kept out of the user's output: the caller records it)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    return not any(issubclass(c.category, ConvergenceWarning) for c in caught)


def fit_ridge(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    n = len(x)
    mean_y = float(y.mean())
    a = x.T @ x / n + l2 * np.eye(x.shape[1])
    w = np.linalg.solve(a, x.T @ (y - mean_y) / n)
    return w, mean_y


def linear_probe(
    features: dict[str, np.ndarray], targets: dict[str, np.ndarray], task_type: str, num_labels: int
) -> dict[str, Any]:
    """Choose L2 on dev, score test once."""
    train, dev, test = _standardize(features["train"], features["dev"], features["test"])
    primary = "mcc" if task_type == "classification" else "spearman"
    metrics = classification_metrics if task_type == "classification" else regression_metrics

    def fit(l2: float):  # -> (the fitted model's predictions on an array of features, converged)
        if task_type == "classification":
            w, b, converged = fit_logistic(train, targets["train"], num_labels, l2)
            return (lambda x: (x @ w + b).argmax(-1)), converged
        w, b = fit_ridge(train, targets["train"], l2)  # closed form
        return (lambda x: x @ w + b), True

    def dev_score(l2: float) -> tuple[float, tuple[dict, Any, bool]]:
        predict, converged = fit(l2)
        dev_metrics = metrics(targets["dev"], predict(dev))
        return dev_metrics[primary], (dev_metrics, predict, converged)

    l2, (dev_metrics, predict, converged), tried = search_l2(dev_score)
    test_metrics = metrics(targets["test"], predict(test))  # once, with the L2 chosen on dev
    return {
        **{f"test_{k}": float(v) for k, v in test_metrics.items()},
        "dev_metrics": dev_metrics,
        "l2": l2,
        "l2_tried": tried,
        # False: L-BFGS stopped at its iteration limit (weak L2 on many features); the fit is then
        # what it reached, still chosen on dev like the rest
        "converged": converged,
        "primary_metric": primary,
    }


def probe(
    source: str | Path,
    data_path: str | Path,
    output_dir: str | Path | None = None,
    *,
    what: str = "model",
    features: str | None = None,
    task_type: str = "auto",
    max_length_bp: int = 100_000,
) -> dict[str, Any]:
    """Linear probe of a model folder (`what="model"`) or a tokenizer folder (`what="tokenizer"`,
    with the `features` kind, default "tokens") on a task folder (`task_type` "auto" decides
    classification or regression from the labels, as fine-tuning does); writes eval_results.json to
    `output_dir` when given."""
    started = time.time()
    if task_type not in ("auto", "classification", "regression"):
        raise UserError(f"task type must be auto, classification or regression; got {task_type!r}")
    if what == "tokenizer":  # a bad kind is refused before the task is read and the folder claimed
        features = features or "tokens"
        tok = load_tokenizer(source)
        tok.feature_size(features)
    elif what != "model":
        raise UserError(f"what must be 'model' or 'tokenizer', got {what!r}")
    elif features is not None:
        raise UserError("features apply to a tokenizer only (a model is probed by its mean-pooled hidden states)")
    task = load_task(data_path, task_type, max_length_bp)
    if output_dir is not None:  # claimed before the work: a folder of another run is refused up front
        inputs = {
            "what": what,
            "source": os.path.realpath(source),
            "task": os.path.realpath(data_path),
            "task_files": task_files(data_path),
            "max_length_bp": max_length_bp,
            "task_type": task_type,
            **({"features": features} if what == "tokenizer" else {}),
        }
        # resume=True: an interrupted probe is simply redone (it has no checkpoints)
        if claim_folder(output_dir, "probe", inputs, resume=True) == "finished":
            raise UserError(
                f"{output_dir} already holds this probe's results; choose another --output-dir (nothing was overwritten)"
            )
    if what == "model":
        # One call, so the model is loaded once for all three splits.
        every = embed(source, [x for s in TASK_SPLITS for x in task.splits[s].sequences], max_length_bp=max_length_bp)
        ends = np.cumsum([len(task.splits[s]) for s in TASK_SPLITS])
        x = dict(zip(TASK_SPLITS, np.split(every, ends[:-1])))
        kind = "model"
    else:
        kind = tok.kind
        x = {s: tokenizer_features(tok, task.splits[s].sequences, features) for s in TASK_SPLITS}
    result = linear_probe(x, task.targets, task.task_type, task.num_labels)
    result.update(
        source=str(source),
        source_kind=kind,
        task=str(data_path),
        task_type=task.task_type,
        feature_dim=int(x["train"].shape[1]),
        **({"features": features} if what == "tokenizer" else {}),
        examples={s: len(task.splits[s]) for s in TASK_SPLITS},
        wall_seconds=round(time.time() - started, 1),
        versions=package_versions(),
    )
    if output_dir is not None:
        write_json(Path(output_dir) / "eval_results.json", result)
        finish_folder(output_dir)
    return result
