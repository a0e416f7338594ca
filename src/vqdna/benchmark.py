"""`vqdna benchmark`: every task of a suite fine-tuned on every tokenizer's model, side by side.

All models are fine-tuned with the same preset, seeds and training budget. The run is resumable:
a (task, tokenizer) cell with results is reused, an interrupted one continues from its checkpoint.
Outputs: results.csv (one row per cell), results.md (task × tokenizer table of mean ± std of the
primary metric, ×100 as in the GUE papers, with an average-rank row) and results.png.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vqdna.evaluation.metrics import average_ranks
from vqdna.storage import package_versions, read_json, write_json, write_text
from vqdna.training.engine import RunError
from vqdna.training.finetune import finetune

RESULT_COLUMNS = ("task", "tokenizer", "metric", "mean", "std", "seeds", "per_seed", "test_accuracy", "wall_seconds", "model")


def find_tasks(suite: str | Path) -> list[Path]:
    """Task folders under `suite` (folders holding train.csv), or `suite` itself if it is one."""
    suite = Path(suite)
    if not suite.is_dir():
        raise RunError(f"{suite}: no such suite folder")
    if (suite / "train.csv").is_file():
        return [suite]
    tasks = sorted(p for p in suite.iterdir() if p.is_dir() and (p / "train.csv").is_file())
    if not tasks:
        raise RunError(f"{suite}: no task folders (folders with train.csv, dev.csv, test.csv) inside")
    return tasks


def parse_models(spec: str, models_dir: str | Path | None) -> dict[str, Path]:
    """'vq,hrq' with --models-dir M → {vq: M/vq, hrq: M/hrq}; 'vq=path,...' names folders directly."""
    models: dict[str, Path] = {}
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        name, _, path = item.partition("=")
        if not path:
            if models_dir is None:
                raise RunError(f"--tokenizers {item!r}: give --models-dir (holding {item}/) or write {item}=MODEL_DIR")
            path = str(Path(models_dir) / name)
        if not Path(path).is_dir():
            raise RunError(f"--tokenizers {name}: no model folder {path}")
        models[name] = Path(path)
    if not models:
        raise RunError("--tokenizers: no tokenizers given")
    return models


def run_benchmark(
    suite: str | Path,
    models: dict[str, Path],
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    use_lora: bool | None = None,
    quiet: bool = False,
) -> list[dict[str, Any]]:
    output_dir = Path(output_dir)
    tasks = find_tasks(suite)
    rows = []
    started = time.time()
    for task in tasks:
        for name, model in models.items():
            cell = output_dir / task.name / name
            done = cell / "eval_results.json"
            if done.is_file():
                result = read_json(done, what="fine-tuning results")
            else:
                if not quiet:
                    print(f"benchmark: {task.name} × {name}")
                result = finetune(model, task, cell, preset=preset, config=config, seeds=seeds, use_lora=use_lora,
                                  resume=cell.exists(), quiet=quiet)
            rows.append(_row(task.name, name, model, result))
            write_results(output_dir, rows, list(models))  # after every cell, so a partial run shows its table
    write_json(output_dir / "benchmark.json", {"suite": str(suite), "tasks": [t.name for t in tasks], "models": {k: str(v) for k, v in models.items()},
                                               "preset": preset, "config": config or {}, "seeds": list(seeds) if seeds else None,
                                               "use_lora": use_lora, "wall_seconds": round(time.time() - started, 1), "versions": package_versions()})
    return rows


def _row(task: str, tokenizer: str, model: Path, result: dict[str, Any]) -> dict[str, Any]:
    metric = result["primary_metric"]
    per_seed = [r[f"test_{metric}"] for r in result["per_seed"]]
    return {"task": task, "tokenizer": tokenizer, "metric": metric, "mean": result[f"test_{metric}"], "std": result[f"test_{metric}_std"],
            "seeds": len(per_seed), "per_seed": per_seed, "test_accuracy": result.get("test_accuracy", float("nan")),
            "wall_seconds": result["wall_seconds"], "model": str(model)}


def rank_table(rows: list[dict[str, Any]], tokenizers: list[str]) -> tuple[list[str], dict[tuple[str, str], dict[str, Any]], dict[str, float]]:
    """Tasks in order, cells by (task, tokenizer), and each tokenizer's average rank over the tasks
    where every tokenizer has a result (1 = best; ties share the average rank)."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cells = {(r["task"], r["tokenizer"]): r for r in rows}
    ranks: dict[str, list[float]] = {t: [] for t in tokenizers}
    for task in tasks:
        if all((task, t) in cells for t in tokenizers):
            means = np.array([cells[(task, t)]["mean"] for t in tokenizers], dtype=float)
            for t, r in zip(tokenizers, average_ranks(-means)):
                ranks[t].append(float(r))
    return tasks, cells, {t: float(np.mean(v)) if v else float("nan") for t, v in ranks.items()}


def write_results(output_dir: Path, rows: list[dict[str, Any]], tokenizers: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "per_seed": " ".join(f"{v:.4f}" for v in r["per_seed"])})
    write_text(output_dir / "results.csv", buf.getvalue())

    tasks, cells, avg_rank = rank_table(rows, tokenizers)
    lines = ["| task | metric | " + " | ".join(tokenizers) + " |", "|---|---|" + "---:|" * len(tokenizers)]
    for task in tasks:
        metric = next(r["metric"] for r in rows if r["task"] == task)
        vals = [cells.get((task, t)) for t in tokenizers]
        lines.append(f"| {task} | {metric} ×100 | " + " | ".join(f"{100 * c['mean']:.2f} ± {100 * c['std']:.2f}" if c else "–" for c in vals) + " |")
    lines.append("| average rank | | " + " | ".join("–" if np.isnan(avg_rank[t]) else f"{avg_rank[t]:.2f}" for t in tokenizers) + " |")
    seconds = {t: sum(r["wall_seconds"] for r in rows if r["tokenizer"] == t) for t in tokenizers}
    lines.append("| fine-tuning wall time (s) | | " + " | ".join(f"{seconds[t]:.0f}" for t in tokenizers) + " |")
    write_text(output_dir / "results.md", "\n".join(lines) + "\n")

    from vqdna.plots import grouped_bar_plot

    series = {t: ([100 * cells[(k, t)]["mean"] if (k, t) in cells else np.nan for k in tasks],
                  [100 * cells[(k, t)]["std"] if (k, t) in cells else 0.0 for k in tasks]) for t in tokenizers}
    grouped_bar_plot(output_dir / "results.png", tasks, series, title="Fine-tuned test score (mean ± std over seeds)", ylabel="primary metric ×100")
