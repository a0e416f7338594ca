"""The pretraining curves of `benchmarks/pretrain_ablation.sh`'s encoders beside the downstream
test MCC each one led to, in one figure (issue 12: "report pretraining curves next to the
downstream MCC they lead to").

Left: the masked-code accuracy logged during pretraining, per encoder (on its own training
batches, so under its own masking: a leak-free span variant and an isolated-token variant are
not on the same footing), with the held-out accuracy at the end as a dot (the same evaluation
spans for every encoder: comparable) and the frequency baseline as a dashed line. Right: the
fine-tuned test MCC, mean ± std over seeds, per task, from the ablation's `bench/results.csv`
(encoders still fine-tuning are left out of that panel).

    python benchmarks/ablation_curves.py runs/ablation runs/suite/models/vq    # -> runs/ablation/pretraining_curves.png
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vqdna.storage import atomic_path  # noqa: E402


def encoders(out: Path, control: Path) -> dict[str, Path]:
    """The control and every variant whose pretraining finished (its eval_results.json written)."""
    found = {"control": control}
    for folder in sorted((out / "models").glob("*")):
        if (folder / "eval_results.json").is_file():
            found[folder.name] = folder
    return found


def downstream(out: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """{task: {encoder: (mean, std)}} test MCC ×100 from the ablation's benchmark, if it has run."""
    table = out / "bench" / "results.csv"
    if not table.is_file():
        return {}
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    with open(table, newline="") as fh:
        for row in csv.DictReader(fh):
            scores.setdefault(row["task"], {})[row["model"]] = (100 * float(row["mean"]), 100 * float(row["std"]))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the ablation's output folder (pretrain_ablation.sh's OUT)")
    parser.add_argument("control", type=Path, help="the control encoder's folder")
    parser.add_argument("--output", type=Path, help="the PNG to write (default: OUT/pretraining_curves.png)")
    args = parser.parse_args(argv)
    found = encoders(args.out, args.control)
    missing = [name for name, folder in found.items() if not (folder / "training_log.json").is_file()]
    if missing:
        print(f"{', '.join(missing)}: no training_log.json (not a finished pretraining folder)", file=sys.stderr)
        return 2
    scores = downstream(args.out)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1.1, 1]})
    for n, (name, folder) in enumerate(found.items()):
        log = [r for r in json.loads((folder / "training_log.json").read_text()) if "masked_accuracy_level0" in r]
        result = json.loads((folder / "eval_results.json").read_text())
        colour = f"C{n % 10}"
        left.plot(
            [r["step"] for r in log],
            [100 * r["masked_accuracy_level0"] for r in log],
            color=colour,
            alpha=0.8,
            label=name,
        )
        left.plot(result["steps"], 100 * result["masked_accuracy"][0], "o", color=colour, markersize=6)
        left.axhline(100 * result["baseline_accuracy"][0], color=colour, linestyle=":", linewidth=0.8)
    left.set_xscale("log")
    left.set_xlabel("pretraining step")
    left.set_ylabel("masked-code accuracy (%)")
    left.set_title("pretraining: training batches (line), held-out spans at the end (dot), frequency baseline (dotted)")
    left.title.set_fontsize(8)
    left.grid(alpha=0.3)
    left.legend(fontsize=7)
    tasks = sorted(scores)
    names = [name for name in found if any(name in scores[t] for t in tasks)]
    width = 0.8 / max(1, len(names))
    for n, name in enumerate(names):
        means = [scores[t].get(name, (float("nan"), 0.0))[0] for t in tasks]
        stds = [scores[t].get(name, (0.0, 0.0))[1] for t in tasks]
        right.bar(
            [x + (n - (len(names) - 1) / 2) * width for x in range(len(tasks))],
            means,
            width,
            yerr=stds,
            capsize=3,
            color=f"C{list(found).index(name) % 10}",
            label=name,
        )
    right.set_xticks(range(len(tasks)), tasks)
    right.set_ylabel("fine-tuned test MCC ×100 (mean ± std over seeds)")
    right.set_title("downstream" if tasks else "downstream: not run yet")
    right.grid(axis="y", alpha=0.3)
    if names:
        low = min(scores[t][m][0] - scores[t][m][1] for t in tasks for m in names if m in scores[t])
        right.set_ylim(max(0.0, low - 5), None)
        right.legend(fontsize=7)
    output = args.output or args.out / "pretraining_curves.png"
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    print(f"-> {output} ({len(found)} encoders, downstream for {len(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
