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
