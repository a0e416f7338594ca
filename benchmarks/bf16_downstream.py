"""Does tokenizing in bfloat16 matter downstream? (issue 18)

For every fine-tuned VQ/HRQ model of a benchmark run (OUT/TASK/MODEL/seed_N/model, as
`vqdna benchmark` writes them), the task's test split is tokenized with the model's own tokenizer
in float32 and in bfloat16 (`--precision bf16`), then predicted by the same fine-tuned model
from each. Printed per model: the share of codes that change, of predictions that change, and the
test MCC from each. The models were fine-tuned on float32 codes; what is measured is the effect of
switching a trained model's tokenizing to bfloat16, the case a user meets with `--precision bf16`.

    .venv/bin/python benchmarks/bf16_downstream.py --run runs/suite --suite ../shared/data/gue \
        --tasks mouse_tf_0,human_tf_1 [--models vq,hrq] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from vqdna.evaluation.metrics import matthews_corrcoef
from vqdna.inference import LoadedModel
from vqdna.seqio import read_labeled_csv


def measure(model_dir: Path, sequences: list[str], labels: list[str]) -> dict:
    loaded = LoadedModel(model_dir)
    tok = loaded.tokenizer
    if not hasattr(tok, "precision"):
        raise SystemExit(f"{model_dir}: its tokenizer ({tok.kind}) runs no network; nothing to compare")
    out = {}
    for precision in ("fp32", "bf16"):
        tok.precision = precision
        codes = tok.encode_batch(sequences)
        pred = loaded.predict(sequences)
        out[precision] = (codes, pred.predictions)
    (c32, p32), (c16, p16) = out["fp32"], out["bf16"]
    n_codes = sum(c.ids.size for c in c32)
    changed_codes = sum(int(np.sum(a.ids != b.ids)) for a, b in zip(c32, c16))
    return {
        "model": str(model_dir),
        "codes": n_codes,
        "codes_changed": changed_codes,
        "predictions_changed": sum(a != b for a, b in zip(p32, p16)),
        "sequences": len(sequences),
        "mcc_fp32": matthews_corrcoef(labels, p32),
        "mcc_bf16": matthews_corrcoef(labels, p16),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="a vqdna benchmark output folder")
    ap.add_argument("--suite", type=Path, required=True, help="its task folders")
    ap.add_argument("--tasks", required=True, help="comma-separated task names")
    ap.add_argument("--models", default="vq,hrq")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for task in args.tasks.split(","):
        test = args.suite / task / "test.csv"
        if not test.is_file():
            sys.exit(f"{test}: no such file (--suite, --tasks)")
        split = read_labeled_csv(test)
        sequences, labels = split.sequences, split.labels
        for name in args.models.split(","):
            for seed_dir in sorted((args.run / task / name).glob("seed_*")):
                if not (seed_dir / "model").is_dir():
                    continue
                row = {
                    "task": task,
                    "row": name,
                    "seed": seed_dir.name,
                    **measure(seed_dir / "model", sequences, labels),
                }
                rows.append(row)
                print(
                    f"{task} {name} {seed_dir.name}: codes changed {row['codes_changed']}/{row['codes']} "
                    f"({row['codes_changed'] / row['codes']:.4%}), predictions changed "
                    f"{row['predictions_changed']}/{row['sequences']}, test MCC fp32 {row['mcc_fp32']:.4f} "
                    f"bf16 {row['mcc_bf16']:.4f}",
                    flush=True,
                )
    if not rows:
        sys.exit(f"no fine-tuned {args.models} models under {args.run} for {args.tasks}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
