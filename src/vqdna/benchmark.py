"""`vqdna benchmark`: every task of a suite, every model, beside the baselines and scratch twins.

For each task folder the runner trains, with the same preset, seeds and training rules:
- the baselines (`kmer-lr`, `cnn`; see vqdna.baselines);
- each pretrained model given (`vq`, `hrq`, ...: fine-tuned, see vqdna.training.finetune);
- its scratch twin (`vq-scratch`, ...): the same tokenizer and architecture, randomly initialised,
  fine-tuned with the identical recipe. Pretrained − scratch is the pretraining gain.
The run is resumable: a finished cell is reused, an interrupted one continues from its checkpoint.
Token ids are cached once per (tokenizer, split) in OUTPUT_DIR/token_cache and shared by the
pretrained model, its twin and every seed.

Outputs: results.csv (one row per task × model), results.md (scores, the margin of every model
over the best baseline, the pretraining gain, average ranks, wall times) and results.png.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vqdna.baselines import DETERMINISTIC, baseline_record, resolve_baseline_config, run_baseline
from vqdna.baselines import KINDS as BASELINES
from vqdna.config import TokenizerTrainingConfig, fill_added_settings
from vqdna.evaluation.metrics import average_ranks
from vqdna.inference import load_config, resolve_model_dir
from vqdna.seqio import declared_strand_specific
from vqdna.storage import claim_folder, package_versions, read_json, write_json, write_text
from vqdna.tokenizers import KINDS as TOKENIZER_KINDS
from vqdna.training.engine import RunError
from vqdna.training.finetune import (
    check_same_run,
    claim_results,
    finetune,
    resolve_finetune_config,
    run_record,
    strand_rule,
)

RESULT_COLUMNS = (
    "task",
    "model",
    "metric",
    "mean",
    "std",
    "seeds",
    "wall_seconds",
    "cpu_seconds",
    "kind",
    "tokenizer",
    "per_seed",
    "seed_ids",
    "test_accuracy",
    "deterministic",
    "source",
)
SCRATCH = "-scratch"


def find_tasks(suite: str | Path, names: Sequence[str] | None = None) -> list[Path]:
    """Task folders under `suite` (folders holding train.csv), or `suite` itself if it is one;
    `names` picks some of them, in that order."""
    suite = Path(suite)
    if not suite.is_dir():
        raise RunError(f"{suite}: no such suite folder")
    if (suite / "train.csv").is_file():
        tasks = [suite]
    else:
        tasks = sorted(p for p in suite.iterdir() if p.is_dir() and (p / "train.csv").is_file())
    if not tasks:
        raise RunError(f"{suite}: no task folders (folders with train.csv, dev.csv, test.csv) inside")
    if names:
        if len(set(names)) != len(names):
            raise RunError(f"--tasks: {', '.join(sorted({n for n in names if list(names).count(n) > 1}))} given twice")
        by_name = {t.name: t for t in tasks}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise RunError(f"--tasks: {', '.join(missing)} not in {suite} (its tasks: {', '.join(by_name)})")
        tasks = [by_name[n] for n in names]
    return tasks


def parse_models(
    spec: str | None, models_dir: str | Path | None, *, trust_remote_code: bool = False
) -> dict[str, Path | None]:
    """'vq,hrq' with --models-dir M → {vq: M/vq, hrq: M/hrq}; 'vq=path,...' names folders directly
    (a vqdna model folder, or any transformers model folder with its tokenizer, such as
    DNABERT-2's); a tokenizer kind with neither → None: the benchmark trains that model (see
    `train_models`)."""
    models: dict[str, Path | None] = {}
    for item in (s.strip() for s in (spec or "").split(",") if s.strip()):
        name, eq, path = item.partition("=")
        if not name or (eq and not path):
            raise RunError(f"--tokenizers {item!r}: expected NAME (a tokenizer kind to train) or NAME=MODEL_DIR")
        if name in models:
            raise RunError(f"--tokenizers: {name!r} is given twice; each row needs its own name")
        if name in BASELINES or name.endswith(SCRATCH):
            raise RunError(
                f"--tokenizers {name!r}: that name is taken by a baseline or a scratch twin; name the model otherwise"
            )
        if not path and models_dir is None:
            if name not in TOKENIZER_KINDS:
                raise RunError(
                    f"--tokenizers {name!r}: not a tokenizer kind ({', '.join(TOKENIZER_KINDS)}) the benchmark can train; "
                    f"give --models-dir (holding {name}/) or write {name}=MODEL_DIR"
                )
            models[name] = None
            continue
        if not path:
            path = str(Path(models_dir) / name)
        if not Path(path).is_dir():
            raise RunError(f"--tokenizers {name}: no model folder {path}")
        load_config(
            path, trust_remote_code=trust_remote_code
        )  # a tokenizer folder, or a folder that is no model, is named now, not after the first tasks
        models[name] = Path(path)
    return models


def train_models(
    names: Sequence[str],
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    fasta: Sequence[str | Path] | None = None,
    corpus: str | Path | None = None,
    tokenizer_config: dict[str, Any] | None = None,
    pretrain_config: dict[str, Any] | None = None,
    quiet: bool = False,
) -> dict[str, Path]:
    """The models a benchmark was not given: for each tokenizer kind in `names`, the tokenizer
    (OUTPUT_DIR/tokenizers/NAME) and then the encoder pretrained on it (OUTPUT_DIR/models/NAME),
    on `fasta` (one species per file), a prepared `corpus` or the built-in corpus, with the
    preset's budget.
    `tokenizer_config` / `pretrain_config` override the preset as `train-tokenizer --config` /
    `pretrain --config` do. A finished step is reused, an interrupted one resumed, and a folder
    trained with other settings is an error (nothing is overwritten)."""
    from vqdna.builtin_data import PRETRAINING_CORPUS, pretraining_genomes
    from vqdna.tokenizers import load_tokenizer
    from vqdna.training.pretrain import pretrain_on_genomes, resolve_pretrain_config
    from vqdna.training.tokenizer import load_genomes, resolve_configs, train_tokenizer_on_genomes

    output_dir = Path(output_dir)
    if fasta and corpus:
        raise RunError("--pretrain-fasta and --pretrain-corpus: give one")
    sources = (
        [str(f) for f in fasta]
        if fasta
        else [f"corpus: {Path(corpus).resolve()}"]
        if corpus
        else [f"built-in: {key}" for key in PRETRAINING_CORPUS]
    )
    encoder, pre_cfg = resolve_pretrain_config(preset, pretrain_config, what="--pretrain-config")
    records = {}
    for name in names:  # every setting is checked before anything trains
        tok_cfg, tok_training = resolve_configs(name, preset, tokenizer_config, what="--tokenizer-config")
        record = {
            "tokenizer": name,
            "corpus": sources,
            "config": {
                "tokenizer": dataclasses.asdict(tok_cfg),
                "tokenizer_training": dataclasses.asdict(tok_training),
                "encoder": dataclasses.asdict(encoder),
                "pretrain": dataclasses.asdict(pre_cfg),
            },
        }
        check_same_run(output_dir / "models" / name / "recipe.json", record, upgrade=_upgrade_recipe)
        records[name] = record
    genomes = None
    models = {}
    for n, name in enumerate(names, 1):
        record = records[name]
        tok_dir, model_dir = output_dir / "tokenizers" / name, output_dir / "models" / name
        models[name] = model_dir
        if (model_dir / "eval_results.json").is_file():
            continue
        if genomes is None:
            genomes = load_genomes(fasta, corpus=corpus) if fasta or corpus else pretraining_genomes()
        t0 = time.time()
        if (tok_dir / "config.json").is_file():
            tokenizer = load_tokenizer(tok_dir)
        else:
            if not quiet:
                print(
                    f"models [{n}/{len(names)}]: training the {name} tokenizer on {', '.join(g.name for g in genomes)} -> {tok_dir}",
                    flush=True,
                )
            tokenizer = train_tokenizer_on_genomes(
                name, genomes, tok_dir, preset=preset, config=tokenizer_config, resume=True, quiet=quiet
            )  # the folder's run marker ensures the same inputs
        if not quiet:
            print(
                f"models [{n}/{len(names)}]: pretraining the encoder on {name} tokens ({pre_cfg.max_steps} steps) -> {model_dir}",
                flush=True,
            )
        pretrain_on_genomes(
            tokenizer, genomes, model_dir, encoder, pre_cfg, resume=True, quiet=quiet, tokenizer_dir=str(tok_dir)
        )
        write_json(model_dir / "recipe.json", {**record, "preset": preset, "versions": package_versions()})
        if not quiet:
            print(f"models [{n}/{len(names)}]: {name} ready in {(time.time() - t0) / 60:.1f} min", flush=True)
    return models


def _upgrade_recipe(old: dict[str, Any]) -> dict[str, Any]:
    """A models/NAME/recipe.json written by an older vqdna, read today (see `pretrain.upgrade_inputs`
    and `config.fill_added_settings`)."""
    from vqdna.training.pretrain import upgrade_inputs

    config = old.get("config") or {}
    if not isinstance(config.get("pretrain"), dict):
        return old
    pretrain = upgrade_inputs(
        {"config": config["pretrain"], **({"encoder": config["encoder"]} if "encoder" in config else {})}
    )
    upgraded = {**config, "encoder": pretrain["encoder"], "pretrain": pretrain["config"]}
    if isinstance(config.get("tokenizer_training"), dict):
        upgraded["tokenizer_training"] = fill_added_settings(TokenizerTrainingConfig, config["tokenizer_training"])
    return {**old, "config": upgraded}


def parse_baselines(spec: str | None) -> list[str]:
    """'kmer-lr,cnn' → the list; 'none' or '' → no baselines."""
    names = [s.strip() for s in (spec or "").split(",") if s.strip()]
    if "none" in names and len(names) > 1:
        raise RunError(f"--baselines {spec!r}: 'none' cannot go with baselines")
    names = [n for n in names if n != "none"]
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise RunError(f"--baselines: unknown {', '.join(unknown)}; choose from {', '.join(BASELINES)} (or none)")
    if len(set(names)) != len(names):
        raise RunError(f"--baselines {spec!r}: a baseline is given twice")
    return names


def run_benchmark(
    suite: str | Path,
    models: dict[str, Path | None],
    output_dir: str | Path,
    *,
    pretrain_fasta: Sequence[str | Path] | None = None,
    pretrain_corpus: str | Path | None = None,
    tokenizer_config: dict[str, Any] | None = None,
    pretrain_config: dict[str, Any] | None = None,
    tasks: Sequence[str] | None = None,
    baselines: Sequence[str] = BASELINES,
    scratch: bool = True,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    baseline_config: dict[str, dict[str, Any]] | None = None,
    seeds: Sequence[int] | None = None,
    use_lora: bool | None = None,
    quiet: bool = False,
    trust_remote_code: bool = False,
) -> list[dict[str, Any]]:
    """`models` maps a row name to a pretrained model folder, or to None for a tokenizer kind to
    train first into OUTPUT_DIR/models (`train_models`, on `pretrain_fasta` or the built-in
    corpus). `config` overrides the fine-tuning recipe (models and twins); `baseline_config` maps a
    baseline kind to overrides of its own section."""
    output_dir = Path(output_dir)
    task_dirs = find_tasks(suite, tasks)
    if not models and not baselines:
        raise RunError("nothing to benchmark: give --tokenizers and/or --baselines")
    # A benchmark folder grows (more tasks, models or seeds in later runs): each cell checks its own
    # inputs; here only a folder of another command, or of unknown files, is refused.
    claim_folder(
        output_dir,
        "benchmark",
        {"suite": os.path.realpath(suite)},
        resume=True,
        legacy=("benchmark.json", "results.csv", "models", "tokenizers", "*/*/eval_results.json"),
    )
    if models and config and config.get("reverse_complement"):  # refused now, not after hours of other tasks
        for task in task_dirs:
            strand_rule(resolve_finetune_config(preset, config), task, declared_strand_specific(task), explicit=True)
    missing = [name for name, folder in models.items() if folder is None]
    if (pretrain_fasta or pretrain_corpus) and not missing:
        raise RunError(
            f"--pretrain-{'fasta' if pretrain_fasta else 'corpus'}: every model was given (--models-dir or NAME=DIR), "
            "so nothing would be pretrained on it"
        )
    if missing:
        trained = train_models(
            missing,
            output_dir,
            preset=preset,
            fasta=pretrain_fasta,
            corpus=pretrain_corpus,
            tokenizer_config=tokenizer_config,
            pretrain_config=pretrain_config,
            quiet=quiet,
        )
        models = {name: folder or trained[name] for name, folder in models.items()}
    cells: list[tuple[str, str, str, Path | None]] = [(b, "baseline", "", None) for b in baselines]
    for name, model in models.items():
        cells.append((name, "pretrained", name, model))
        if scratch:
            cells.append((name + SCRATCH, "scratch", name, model))
    order = [c[0] for c in cells]
    # The settings every cell must have been run with: a finished cell from other settings is an error, not a row.
    finetune_settings = resolve_finetune_config(preset, config, seeds=list(seeds) if seeds else None, use_lora=use_lora)
    baseline_settings = {
        b: resolve_baseline_config(b, preset, (baseline_config or {}).get(b), seeds, what=f"--baseline-config {b}")
        for b in baselines
    }
    rows: list[dict[str, Any]] = []
    started = time.time()
    total, done_count = len(task_dirs) * len(cells), 0
    # The time left is estimated from training runs (one seed of one cell), model and baseline runs
    # apart: their costs differ tenfold, and a cell resumed with one seed left costs a third of one.
    pending = {
        (task.name, name): _pending_runs(
            output_dir / task.name / name,
            (baseline_settings[name] if kind == "baseline" else finetune_settings).seeds,
            deterministic=name in DETERMINISTIC,
        )
        for task in task_dirs
        for name, kind, _, _ in cells
    }
    spent_on = {"baseline": [0.0, 0], "model": [0.0, 0]}  # seconds, runs
    for task in task_dirs:
        for name, kind, tokenizer, model in cells:
            cell = output_dir / task.name / name
            done_count += 1
            runs = pending.pop((task.name, name))
            finished = cell / "eval_results.json"
            result = None
            if finished.is_file():
                # a finished cell is reused only if it was run with these inputs (its task files and model weights included)
                if kind == "baseline":
                    record = baseline_record(name, task, baseline_settings[name])
                    claim_results(cell, "baseline", record, resume=True)
                else:
                    settings = strand_rule(
                        finetune_settings,
                        task,
                        declared_strand_specific(task),
                        explicit=bool(config and config.get("reverse_complement")),
                        quiet=True,
                    )
                    record = run_record(resolve_model_dir(model), task, kind == "scratch", settings)
                    claim_results(cell, "finetune", record, resume=True, model_dir=resolve_model_dir(model))
                result = read_json(finished, what="benchmark cell results")
                wanted = (baseline_settings[name] if kind == "baseline" else finetune_settings).seeds
                if not result.get("deterministic") and not set(wanted) <= {r["seed"] for r in result["per_seed"]}:
                    result = None  # more seeds asked for than the cell holds: its finished seeds are reused, the others trained
            if result is None:
                if not quiet:
                    left = _seconds_left(runs, kind, pending, cells, spent_on)
                    eta = f", about {left / 60:.0f} min left" if left is not None else ""
                    print(f"benchmark [{done_count}/{total}{eta}]: {task.name} × {name}", flush=True)
                t0 = time.time()
                if kind == "baseline":
                    result = run_baseline(
                        name,
                        task,
                        cell,
                        preset=preset,
                        config=(baseline_config or {}).get(name),
                        seeds=seeds,
                        resume=cell.exists(),
                        quiet=quiet,
                    )
                else:
                    result = finetune(
                        model,
                        task,
                        cell,
                        preset=preset,
                        config=config,
                        seeds=seeds,
                        use_lora=use_lora,
                        from_scratch=kind == "scratch",
                        cache_dir=output_dir / "token_cache",
                        resume=cell.exists(),
                        quiet=quiet,
                        trust_remote_code=trust_remote_code,
                    )
                if runs:  # a cell that only gathered finished seeds says nothing of the cost of one
                    account = spent_on["baseline" if kind == "baseline" else "model"]
                    account[0] += time.time() - t0
                    account[1] += runs
            rows.append(_row(task.name, name, kind, tokenizer, model, result))
            write_results(output_dir, rows, order)  # after every cell, so a partial run shows its table
    write_json(
        output_dir / "benchmark.json",
        {
            "suite": str(suite),
            "tasks": [t.name for t in task_dirs],
            "models": {k: str(v) for k, v in models.items()},
            "trained_models": missing,
            "pretrain_fasta": [str(f) for f in pretrain_fasta or []],
            "pretrain_corpus": str(pretrain_corpus) if pretrain_corpus else None,
            "tokenizer_config": tokenizer_config or {},
            "pretrain_config": pretrain_config or {},
            "baselines": list(baselines),
            "scratch": scratch,
            "preset": preset,
            "config": config or {},
            "baseline_config": baseline_config or {},
            "seeds": list(seeds) if seeds else None,
            "use_lora": use_lora,
            "wall_seconds": round(time.time() - started, 1),
            "versions": package_versions(),
        },
    )
    return rows


def _pending_runs(cell: Path, seeds: Sequence[int], *, deterministic: bool) -> int:
    """Training runs a cell still needs: its seeds without a finished `seed_N/eval_results.json`, or
    for a deterministic baseline its one fit."""
    if deterministic:
        return 0 if (cell / "eval_results.json").is_file() else 1
    return sum(not (cell / f"seed_{seed}" / "eval_results.json").is_file() for seed in seeds)


def _seconds_left(
    runs: int,
    kind: str,
    pending: dict[tuple[str, str], int],
    cells: list[tuple[str, str, str, Any]],
    spent_on: dict[str, list],
) -> float | None:
    """The estimated time of this cell's `runs` and every later cell's, at the mean time per run of
    the model and baseline runs so far; None before any model run has been timed."""
    if not spent_on["model"][1]:
        return None
    per_run = {k: seconds / n for k, (seconds, n) in spent_on.items() if n}
    per_run.setdefault("baseline", per_run["model"])
    kinds = {name: "baseline" if k == "baseline" else "model" for name, k, _, _ in cells}
    group = "baseline" if kind == "baseline" else "model"
    return runs * per_run[group] + sum(n * per_run[kinds[name]] for (_, name), n in pending.items())


def _row(task: str, name: str, kind: str, tokenizer: str, model: Path | None, result: dict[str, Any]) -> dict[str, Any]:
    metric = result["primary_metric"]
    per_seed = [r[f"test_{metric}"] for r in result["per_seed"]]
    return {
        "task": task,
        "model": name,
        "metric": metric,
        "mean": result[f"test_{metric}"],
        "std": result[f"test_{metric}_std"],
        "seeds": len(per_seed),
        "wall_seconds": result["wall_seconds"],
        "cpu_seconds": result.get("cpu_seconds", float("nan")),  # absent from cells run before it was recorded
        "kind": kind,
        "tokenizer": tokenizer,
        "per_seed": per_seed,
        "seed_ids": [r["seed"] for r in result["per_seed"]],
        "test_accuracy": result.get("test_accuracy", float("nan")),
        "deterministic": bool(result.get("deterministic")),
        "source": str(model) if model else result.get("baseline", name),
    }


# ---------------------------------------------------------------- tables


def complete_tasks(rows: list[dict[str, Any]], models: list[str]) -> list[str]:
    """The tasks on which every model of the table has a result. Cross-task rows (average rank, mean
    margin, mean gain, wall time) use only these: a model missing on a hard task would otherwise
    look better than one that ran it, and two models' means would cover different tasks."""
    cells = {(r["task"], r["model"]) for r in rows}
    return [t for t in dict.fromkeys(r["task"] for r in rows) if all((t, m) in cells for m in models)]


def _finite_or_worst(means) -> np.ndarray:
    """Means for ranking and choosing: a NaN (e.g. Spearman of constant predictions) ranks below
    every number, never above, whatever the order of the rows."""
    means = np.asarray(means, dtype=float)
    return np.where(np.isnan(means), -np.inf, means)


def average_rank(rows: list[dict[str, Any]], models: list[str]) -> dict[str, float]:
    """Each model's rank averaged over the tasks where every model has a result (1 = best; ties,
    NaN scores among them, share the average rank)."""
    cells = {(r["task"], r["model"]): r for r in rows}
    ranks: dict[str, list[float]] = {m: [] for m in models}
    for task in complete_tasks(rows, models):
        means = _finite_or_worst([cells[(task, m)]["mean"] for m in models])
        for m, rank in zip(models, average_ranks(-means)):
            ranks[m].append(float(rank))
    return {m: float(np.mean(v)) if v else float("nan") for m, v in ranks.items()}


def _best_baseline(base: list[dict[str, Any]]) -> dict[str, Any]:
    """The baseline row of one task with the highest mean (a NaN never, the first of a tie)."""
    return base[int(np.argmax(_finite_or_worst([r["mean"] for r in base])))]


def margins(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, str]]:
    """(task, model) → (model mean − best baseline mean, best baseline's name), for non-baselines,
    on the tasks where every baseline of the table has a result (with one missing, "best" would
    mean best of those that ran, and a positive margin would not mean "beats every baseline")."""
    baselines = list(dict.fromkeys(r["model"] for r in rows if r["kind"] == "baseline"))
    out = {}
    for task in dict.fromkeys(r["task"] for r in rows):
        base = [r for r in rows if r["task"] == task and r["kind"] == "baseline"]
        if not base or len(base) < len(baselines):
            continue
        best = _best_baseline(base)
        for r in rows:
            if r["task"] == task and r["kind"] != "baseline":
                out[(task, r["model"])] = (r["mean"] - best["mean"], best["model"])
    return out


def pretraining_gains(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, float]]:
    """(task, tokenizer) → {seed: pretrained − scratch} over the seeds both have."""
    cells = {(r["task"], r["model"]): r for r in rows}
    out = {}
    for r in rows:
        twin = cells.get((r["task"], r["model"] + SCRATCH))
        if r["kind"] != "pretrained" or twin is None:
            continue
        scratch = dict(zip(twin["seed_ids"], twin["per_seed"]))
        paired = {s: v - scratch[s] for s, v in zip(r["seed_ids"], r["per_seed"]) if s in scratch}
        if paired:
            out[(r["task"], r["model"])] = paired
    return out


def _mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (n − 1), 0 for a single value (shown without a spread)."""
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def average_gain(
    gains: dict[tuple[str, str], dict[int, float]], tokenizer: str, tasks: list[str]
) -> tuple[float, float, int, int] | None:
    """The gain averaged over `tasks` (each task's mean over its paired seeds), its spread over
    seeds, the number of tasks and the fewest seeds of any of them; None unless every task has a
    gain. The spread is that of an average over the tasks with one seed each: sqrt(Σ s_t²) / T
    from each task's sample std s_t. Seeds of different tasks are independent runs, so pairing
    them by seed number across tasks would make the spread depend on how seeds happen to be named."""
    if not tasks or any((t, tokenizer) not in gains for t in tasks):
        return None
    per_task = [_mean_std(gains[(t, tokenizer)].values()) for t in tasks]
    seeds = min(len(gains[(t, tokenizer)]) for t in tasks)
    mean = float(np.mean([m for m, _ in per_task]))
    std = float(np.sqrt(sum(sd**2 for _, sd in per_task)) / len(tasks))
    return mean, std, len(tasks), seeds


def _pm(mean: float, std: float, n: int = 2) -> str:
    """×100, with the spread only where there is one (a single seed has none, not a spread of 0)."""
    return f"{100 * mean:.2f} ± {100 * std:.2f}" if n > 1 else f"{100 * mean:.2f}"


def _seed_notes(rows: list[dict[str, Any]], models: list[str]) -> list[str]:
    """Where cells of one model (or a model and its scratch twin) ran different seeds: said in the
    table, not only on the terminal, since means over different seeds are not quite comparable."""
    notes = []
    for m in models:
        cells = [r for r in rows if r["model"] == m and not r.get("deterministic")]
        if len({tuple(sorted(r["seed_ids"])) for r in cells}) > 1:
            notes.append(
                f"{m} ran different seeds on different tasks: "
                + "; ".join(f"{r['task']} {','.join(map(str, r['seed_ids']))}" for r in cells)
            )
    by_cell = {(r["task"], r["model"]): r for r in rows}
    for r in rows:
        twin = by_cell.get((r["task"], r["model"] + SCRATCH))
        if r["kind"] == "pretrained" and twin and set(twin["seed_ids"]) != set(r["seed_ids"]):
            notes.append(
                f"{r['task']}: {r['model']} ran seeds {','.join(map(str, r['seed_ids']))}, its scratch twin "
                f"{','.join(map(str, twin['seed_ids']))}; the gain pairs only the seeds both ran"
            )
    return notes


def write_results(output_dir: Path, rows: list[dict[str, Any]], models: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                **r,
                "per_seed": " ".join(f"{v:.4f}" for v in r["per_seed"]),
                "seed_ids": " ".join(str(s) for s in r["seed_ids"]),
            }
        )
    write_text(output_dir / "results.csv", buf.getvalue())
    write_text(output_dir / "results.md", results_markdown(rows, models))

    from vqdna.plots import benchmark_plot

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cells = {(r["task"], r["model"]): r for r in rows}
    present = [m for m in models if any(r["model"] == m for r in rows)]
    scores = {
        m: (
            [100 * cells[(t, m)]["mean"] if (t, m) in cells else np.nan for t in tasks],
            [100 * cells[(t, m)]["std"] if (t, m) in cells else 0.0 for t in tasks],
        )
        for m in present
    }
    gains = pretraining_gains(rows)
    tokenizers = list(dict.fromkeys(k for _, k in gains))
    stats = {key: _mean_std(g.values()) for key, g in gains.items()}
    gain_series = {
        k: (
            [100 * stats[(t, k)][0] if (t, k) in stats else np.nan for t in tasks],
            [100 * stats[(t, k)][1] if (t, k) in stats else 0.0 for t in tasks],
        )
        for k in tokenizers
    }
    metric = rows[0]["metric"] if rows and len({r["metric"] for r in rows}) == 1 else "primary metric"
    benchmark_plot(output_dir / "results.png", tasks, scores, gain_series, ylabel=f"test {metric} ×100")


def results_markdown(rows: list[dict[str, Any]], models: list[str]) -> str:
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cells = {(r["task"], r["model"]): r for r in rows}
    models = [m for m in models if any(r["model"] == m for r in rows)]
    kinds = {r["model"]: r["kind"] for r in rows}
    deterministic = [m for m in models if any(r["model"] == m and r.get("deterministic") for r in rows)]
    lines = [
        "## Test scores (×100, mean ± sample std over seeds)",
        "",
        "| task | metric | " + " | ".join(models) + " |",
        "|---|---|" + "---:|" * len(models),
    ]
    for task in tasks:
        metric = next(r["metric"] for r in rows if r["task"] == task)
        lines.append(
            f"| {task} | {metric} | "
            + " | ".join(
                _pm(cells[(task, m)]["mean"], cells[(task, m)]["std"], cells[(task, m)]["seeds"])
                if (task, m) in cells
                else "–"
                for m in models
            )
            + " |"
        )
    complete = complete_tasks(rows, models)
    over = f"over {len(complete)} task{'s' if len(complete) != 1 else ''}"
    ranks = average_rank(rows, models)
    lines.append(
        f"| average rank ({over}) | | "
        + " | ".join("–" if np.isnan(ranks[m]) else f"{ranks[m]:.2f}" for m in models)
        + " |"
    )

    def seed_range(m: str) -> str:
        counts = [cells[(t, m)]["seeds"] for t in tasks if (t, m) in cells]
        return str(min(counts)) if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"

    lines.append("| seeds | | " + " | ".join(seed_range(m) for m in models) + " |")
    seconds = {m: sum(cells[(t, m)]["wall_seconds"] for t in complete) for m in models}
    lines.append(
        f"| wall time {over}, all seeds (s) | | "
        + " | ".join(f"{seconds[m]:.0f}" if complete else "–" for m in models)
        + " |"
    )
    if deterministic:
        lines += ["", f"{', '.join(deterministic)}: deterministic, fitted once (the same for every seed)."]
    if len(complete) < len(tasks):
        lines += [
            "",
            f'Rows "{over}" (here and below) leave out the tasks where a model has no result yet: '
            + ", ".join(t for t in tasks if t not in complete)
            + ".",
        ]
    notes = _seed_notes(rows, models)
    if notes:  # after a blank line: Markdown would read lines right after a table as more rows
        lines += ["", *(f"Note: {n}." for n in notes)]
    # a mean of margins or gains over tasks, one per metric when the suite mixes them (an MCC and a
    # Spearman are both 0 for chance, but a point of one is not a point of the other)
    metric_of = {r["task"]: r["metric"] for r in rows}
    metrics = list(dict.fromkeys(metric_of[t] for t in complete))
    mean_groups = [
        (
            f"mean {over}"
            if len(metrics) == 1
            else f"mean over {len(group)} {metric} task{'s' if len(group) != 1 else ''}",
            group,
        )
        for metric in metrics
        for group in [[t for t in complete if metric_of[t] == metric]]
    ]

    margin = margins(rows)
    learned = [m for m in models if kinds[m] != "baseline"]
    if margin and learned:
        lines += [
            "",
            "## Margin over the best baseline (×100; > 0: the model beats every baseline)",
            "",
            "| task | best baseline | " + " | ".join(learned) + " | best model |",
            "|---|---|" + "---:|" * len(learned) + "---|",
        ]

        def best_model(task: str) -> tuple[str, float] | None:
            """The model with the largest margin on a task (the first of a tie; NaN never wins)."""
            ran = [m for m in learned if (task, m) in margin and not np.isnan(margin[(task, m)][0])]
            if not ran:
                return None
            m = max(ran, key=lambda m: margin[(task, m)][0])
            return m, margin[(task, m)][0]

        baselines = [m for m in models if kinds[m] == "baseline"]
        for task in tasks:
            best = next((b for (t, _), (_, b) in margin.items() if t == task), None)
            if best is None:
                missing = [b for b in baselines if (task, b) not in cells]
                said = (
                    f"– (no {', '.join(missing)} result yet)"
                    if missing
                    else _best_baseline([cells[(task, b)] for b in baselines])["model"]
                )
                lines.append(f"| {task} | {said} | " + " | ".join("–" for _ in learned) + " | – |")
                continue
            top = best_model(task)
            lines.append(
                f"| {task} | {best} | "
                + " | ".join(f"{100 * margin[(task, m)][0]:+.2f}" if (task, m) in margin else "–" for m in learned)
                + (f" | {top[0]} ({100 * top[1]:+.2f}) |" if top else " | – |")
            )
        for label, group in mean_groups:
            tops = [best_model(t) for t in group]
            lines.append(
                f"| {label} | | "
                + " | ".join(
                    f"{100 * np.mean([margin[(t, m)][0] for t in group]):+.2f}"
                    if all((t, m) in margin for t in group)
                    else "–"
                    for m in learned
                )
                + (f" | the best of each task: {100 * np.mean([v for _, v in tops]):+.2f} |" if all(tops) else " | – |")
            )

    gains = pretraining_gains(rows)
    tokenizers = [m for m in models if kinds[m] == "pretrained" and any(k == m for _, k in gains)]
    if tokenizers:
        lines += [
            "",
            "## Pretraining gain (pretrained − scratch, ×100, mean ± std over seeds, paired by seed)",
            "",
            "| task | " + " | ".join(tokenizers) + " |",
            "|---|" + "---:|" * len(tokenizers),
        ]
        for task in tasks:
            lines.append(
                f"| {task} | "
                + " | ".join(
                    _pm(*_mean_std(gains[(task, k)].values()), len(gains[(task, k)])) if (task, k) in gains else "–"
                    for k in tokenizers
                )
                + " |"
            )
        for label, group in mean_groups:
            averages = [average_gain(gains, k, group) for k in tokenizers]
            lines.append(f"| {label} | " + " | ".join(_pm(a[0], a[1], a[3]) if a else "–" for a in averages) + " |")
        if mean_groups:
            lines += [
                "",
                "The spread of a mean over tasks is that of one seed on each task: sqrt(Σ s²) / T from the tasks' "
                "sample std s (n − 1) over T tasks.",
            ]
    return "\n".join(lines) + "\n"
