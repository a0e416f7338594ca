"""Two benchmark cells side by side: per-seed test scores, mean ± sample std, the difference and
Welch's t-test (unequal variances, two-sided), and the difference paired by seed where both ran
the same seeds. The p-values in benchmarks/README.md's lever and ablation tables come from here.

A cell is a folder that holds a finished `vqdna finetune` or baseline run (its eval_results.json,
or, for a run still going, its seed_*/eval_results.json); the scores are read from the per-seed
files at full precision, not from the rounded tables.

    python benchmarks/compare_cells.py runs/ablation/bench/mouse_tf_0/control runs/levers/lora_r32/mouse_tf_0/vq
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats


def seed_scores(cell: Path) -> tuple[str, dict[int, float]]:
    """(primary metric, {seed: test score}) of a cell's finished seeds."""
    files = sorted(cell.glob("seed_*/eval_results.json"))
    whole = cell / "eval_results.json"
    if whole.is_file():
        result = json.loads(whole.read_text())
        metric = result["primary_metric"]
        return metric, {r["seed"]: r[f"test_{metric}"] for r in result["per_seed"]}
    if not files:
        raise SystemExit(f"{cell}: no finished seed (no eval_results.json in it or in a seed_* folder)")
    per_seed = [json.loads(f.read_text()) for f in files]
    metric = "mcc" if "test_mcc" in per_seed[0] else "spearman"
    return metric, {r["seed"]: r[f"test_{metric}"] for r in per_seed}


def compare(a: dict[int, float], b: dict[int, float]) -> dict[str, float]:
    """b − a: the difference of means, Welch's t and p, and the paired difference over shared seeds."""
    va, vb = np.array(list(a.values())), np.array(list(b.values()))
    out = {"difference": float(vb.mean() - va.mean())}
    if len(va) > 1 and len(vb) > 1:
        t, p = stats.ttest_ind(vb, va, equal_var=False)
        out |= {"welch_t": float(t), "welch_p": float(p)}
    shared = sorted(set(a) & set(b))
    if shared:
        paired = np.array([b[s] - a[s] for s in shared])
        out |= {
            "paired_mean": float(paired.mean()),
            "paired_std": float(paired.std(ddof=1)) if len(paired) > 1 else 0.0,
        }
        out["paired_seeds"] = len(shared)
    return out


def _line(name: str, scores: dict[int, float]) -> str:
    v = 100 * np.array(list(scores.values()))
    spread = f" ± {v.std(ddof=1):.2f}" if len(v) > 1 else ""
    seeds = ", ".join(f"{100 * scores[s]:.2f}" for s in sorted(scores))
    return f"{name}: {seeds} (seeds {', '.join(map(str, sorted(scores)))}) -> {v.mean():.2f}{spread}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("control", type=Path, help="the reference cell")
    parser.add_argument("other", type=Path, nargs="+", help="cells compared with it")
    args = parser.parse_args(argv)
    metric, control = seed_scores(args.control)
    print(f"test {metric} ×100, sample std (n − 1)")
    print(_line(str(args.control), control))
    for cell in args.other:
        other_metric, scores = seed_scores(cell)
        if other_metric != metric:
            print(f"{cell}: its metric is {other_metric}, the control's {metric}; not compared", file=sys.stderr)
            return 1
        c = compare(control, scores)
        text = f"{_line(str(cell), scores)}; − control {100 * c['difference']:+.2f}"
        if "welch_p" in c:
            text += f", Welch t {c['welch_t']:.2f}, p {c['welch_p']:.2f}"
        if "paired_mean" in c:
            text += f"; paired by seed ({c['paired_seeds']}) {100 * c['paired_mean']:+.2f}"
            text += f" ± {100 * c['paired_std']:.2f}" if c["paired_seeds"] > 1 else ""
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
