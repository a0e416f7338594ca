"""Does a linear probe of an encoder keep improving below the probe's L2 search limit (1e-6)?
Dev scores only, with convergence: the encoder's mean-pooled embeddings of a task's train and dev
splits, then the probe's own logistic regression at each L2 (issue 13; benchmarks/README.md,
"Linear probes on the whole variant task").

    python benchmarks/probe_weak_l2.py runs/suite/models/bpe runs/tasks13/variants_all
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vqdna.evaluation.metrics import classification_metrics
from vqdna.evaluation.probe import _standardize, fit_logistic
from vqdna.inference import embed
from vqdna.seqio import load_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("task")
    ap.add_argument("--l2", default="1e-5,1e-6,1e-7,1e-8,1e-9")
    args = ap.parse_args()
    started = time.time()
    task = load_task(args.task, "classification", 100_000)
    x = {s: embed(args.model, task.splits[s].sequences, max_length_bp=100_000) for s in ("train", "dev")}
    print(f"embedded in {time.time() - started:.0f} s", flush=True)
    train, dev = _standardize(x["train"], x["dev"])
    for l2 in (float(v) for v in args.l2.split(",")):
        w, b, converged = fit_logistic(train, task.targets["train"], task.num_labels, l2)
        m = classification_metrics(task.targets["dev"], (dev @ w + b).argmax(-1))
        print(
            f"L2 {l2:g}: dev MCC {100 * m['mcc']:.2f}, macro F1 {100 * m['f1']:.2f}, converged {converged}, "
            f"|w|₁ {np.abs(w).sum():.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
