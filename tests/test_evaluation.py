import math

import numpy as np
import pytest

from vqdna.alphabet import to_ids
from vqdna.corpus import Genome
from vqdna.evaluation.tokenizer import evaluate_tokenizer
from vqdna.tokenizers import KmerTokenizer


def test_tokenizer_metrics_are_hand_computed_and_skip_n_runs():
    genome = Genome("g", [to_ids("ACACNNNNACGT")])
    r = evaluate_tokenizer(KmerTokenizer(2), [genome])
    # tokens AC AC [UNK] [UNK] AC GT: the two all-N tokens are left out of the code statistics
    assert r["code_counts"][0][5 + 1] == 3 and r["code_counts"][0][5 + 11] == 1 and sum(r["code_counts"][0]) == 4
    assert r["code_usage"] == pytest.approx(2 / 21)  # 16 2-mers + 5 single bases
    p = np.array([0.75, 0.25])
    assert r["perplexity"] == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert r["reconstruction_accuracy"] == 1.0 and r["tokens_per_bp"] == 0.5
    assert r["n_fraction"] == pytest.approx(4 / 12) and r["bp"] == 12 and r["windows"] == 1


@pytest.mark.parametrize("classes", [2, 3])
def test_probe_logistic_regression_solves_the_multinomial_objective(classes):
    """fit_logistic (scikit-learn underneath) returns the optimum of mean cross-entropy + l2·|w|²/2
    over a (features, classes) weight matrix: the gradient there is zero, for two classes (sklearn's
    one-logit form, mapped) as for more; and it predicts what sklearn predicts."""
    import torch

    from vqdna.evaluation.probe import fit_logistic

    rng = np.random.default_rng(classes)
    y = rng.integers(0, classes, size=300)
    x = rng.normal(size=(300, 6)) + np.eye(classes, 6)[y] * 1.5
    norms = []
    for l2 in (1e-3, 1e-1):
        w, b, converged = fit_logistic(x, y, classes, l2)
        assert converged
        norms.append(np.abs(w).sum())
        assert w.shape == (6, classes) and b.shape == (classes,)
        W, B = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        X, Y = torch.tensor(x), torch.tensor(y)
        loss = torch.nn.functional.cross_entropy(X @ W + B, Y) + l2 * (W * W).sum() / 2
        loss.backward()
        assert W.grad.abs().max() < 1e-4 and B.grad.abs().max() < 1e-4, (l2, W.grad, B.grad)
    assert norms[1] < norms[0]  # a stronger penalty shrinks the weights


@pytest.mark.parametrize(
    "peak, chosen, tried",
    [
        (1e-2, 1e-2, [1e-4, 1e-3, 1e-2, 1e-1, 1.0]),  # inside the grid: nothing more is tried
        (1e-5, 1e-5, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e-5, 1e-6]),  # past the low edge, until dev falls
        (10.0, 10.0, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]),  # past the high edge
        (1e-9, 1e-6, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e-5, 1e-6]),  # stops at the low limit
        (1e9, 100.0, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]),  # and at the high one
    ],
)
def test_probe_l2_search_extends_past_a_winning_edge(peak, chosen, tried):
    from vqdna.evaluation.probe import search_l2

    def dev_score(l2):  # dev score peaked at `peak` on a log scale; the payload names its L2
        return -abs(math.log10(l2) - math.log10(peak)), f"model at {l2}"

    l2, payload, seen = search_l2(dev_score)
    assert l2 == chosen and payload == f"model at {chosen}" and seen == tried


def test_probe_l2_search_keeps_the_first_of_tied_scores():
    from vqdna.evaluation.probe import search_l2

    # a flat dev score (e.g. features that carry nothing): the grid's first L2 wins; one decade past
    # it is tried and, not better, ends the search
    l2, _, tried = search_l2(lambda l2: (0.5, None))
    assert l2 == 1e-4 and tried == [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e-5]
    # NaN dev scores (constant predictions) never win over a number
    scores = {1e-4: float("nan"), 1e-3: 0.2, 1e-2: float("nan"), 1e-1: 0.1, 1.0: float("nan")}
    assert search_l2(lambda l2: (scores[l2], None))[0] == 1e-3


def test_probe_says_when_its_fit_did_not_converge():
    """Separable classes with almost no penalty: the optimum lies far out, and 3 L-BFGS iterations
    do not reach it; the probe's result says so."""
    from vqdna.evaluation.probe import fit_logistic, linear_probe

    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2] * 40)
    x = rng.normal(size=(120, 5)) + np.eye(3, 5)[y] * 6
    assert fit_logistic(x, y, 3, 1e-6, max_iter=3)[2] is False
    assert fit_logistic(x, y, 3, 1e-1)[2] is True
    split = {"train": x[:80], "dev": x[80:100], "test": x[100:]}
    targets = {"train": y[:80], "dev": y[80:100], "test": y[100:]}
    r = linear_probe(split, targets, "classification", 3)
    assert isinstance(r["converged"], bool) and r["l2"] in r["l2_tried"]
    r = linear_probe(split, {k: v.astype(np.float32) for k, v in targets.items()}, "regression", 1)
    assert r["converged"] is True  # ridge is solved in closed form


def test_probe_never_predicts_a_class_absent_from_train():
    from vqdna.evaluation.probe import fit_logistic

    rng = np.random.default_rng(0)
    y = np.array([0, 2] * 50)
    x = rng.normal(size=(100, 3)) + y[:, None]
    w, b, _ = fit_logistic(x, y, 3, 1e-2)
    assert np.isneginf(b[1]) and set((rng.normal(size=(50, 3)) * 5 @ w + b).argmax(-1)) <= {0, 2}
