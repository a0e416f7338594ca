"""Stage 3: fine-tuning (LoRA and full), predict/embed round trips, probing, the benchmark runner,
and bad task folders. Models are tiny and untrained (or briefly trained) so the file runs in
seconds; the task is a unit-test fixture whose label is a base-composition shift, which any
working pipeline learns in a few dozen steps."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from helpers import SMALL, gc_regression_task, gc_task, random_sequences, write_task
from vqdna.alphabet import SequenceError, reverse_complement
from vqdna.cli import main
from vqdna.errors import UserError
from vqdna.evaluation.metrics import classification_metrics
from vqdna.evaluation.probe import probe
from vqdna.inference import embed, predict
from vqdna.seqio import load_task
from vqdna.storage import CheckpointError
from vqdna.tokenizers import KmerTokenizer, load_tokenizer
from vqdna.training.engine import RunError
from vqdna.training.finetune import build_classifier, finetune, resolve_finetune_config, task_datasets

# a 40-step LoRA budget sized for one strand (reverse-complement augmentation is tested on its own)
FAST = {
    "max_steps": 40,
    "eval_steps": 20,
    "logging_steps": 10,
    "warmup_steps": 0,
    "learning_rate": 3e-3,
    "batch_size": 16,
    "use_lora": True,
    "reverse_complement": False,
}


_sequences, _write_task, _gc_task = random_sequences, write_task, gc_task


@pytest.fixture(scope="module")
def gc_task(tmp_path_factory) -> Path:
    return _gc_task(tmp_path_factory.mktemp("task") / "gc")


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory, kmer_model, gc_task) -> Path:
    out = tmp_path_factory.mktemp("ft") / "run"
    finetune(kmer_model, gc_task, out, config=FAST, seeds=[1, 2], quiet=True)
    return out


def test_lora_finetuning_learns_and_reports_the_dnabert2_keys(finetuned):
    r = json.loads((finetuned / "eval_results.json").read_text())
    assert {
        "test_mcc",
        "test_accuracy",
        "test_f1",
        "test_mcc_std",
        "per_seed",
        "best_seed",
        "config",
        "versions",
    } <= set(r)
    assert [s["seed"] for s in r["per_seed"]] == [1, 2]
    # DNABERT-2's names for the same test scores (its script evaluates the test set as "eval")
    assert (r["eval_matthews_correlation"], r["eval_accuracy"], r["eval_f1"]) == (
        r["test_mcc"],
        r["test_accuracy"],
        r["test_f1"],
    )
    assert (r["eval_precision"], r["eval_recall"]) == (r["test_precision"], r["test_recall"])
    seed = json.loads((finetuned / "seed_1" / "eval_results.json").read_text())
    assert seed["eval_matthews_correlation"] == seed["test_mcc"] == r["per_seed"][0]["test_mcc"]
    assert r["test_mcc"] == pytest.approx(np.mean([s["test_mcc"] for s in r["per_seed"]]))
    assert r["test_mcc_std"] == pytest.approx(np.std([s["test_mcc"] for s in r["per_seed"]], ddof=1))
    assert r["test_mcc"] > 0.6, r  # composition is easy: a working pipeline separates the classes
    assert r["use_lora"] and all(s["trainable_parameters"] < s["total_parameters"] / 2 for s in r["per_seed"])
    config = json.loads((finetuned / "finetune_config.json").read_text())
    assert config["config"]["lora_r"] == 8 and config["config"]["seeds"] == [1, 2] and "torch" in config["versions"]
    assert not (finetuned / "seed_1" / "checkpoints").exists()  # the best model is kept, checkpoints removed


def test_lora_leaves_the_pretrained_weights_unchanged(kmer_model, gc_task):
    cfg = resolve_finetune_config("tiny", FAST)
    task = load_task(gc_task)
    model = build_classifier(kmer_model, task, cfg)
    before = load_file(str(kmer_model / "model.safetensors"))
    tok = KmerTokenizer(k=3)
    batch = tok(task.splits["train"].sequences[:16])
    labels = torch.as_tensor(task.targets["train"][:16])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    lora_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}
    for _ in range(3):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    state = model.state_dict()
    base = {
        k.replace("base_model.model.", "").replace(".base_layer", ""): v
        for k, v in state.items()
        if "lora_" not in k and "classifier" not in k
    }
    checked = 0
    for key, value in before.items():
        if key.startswith("heads."):
            continue  # the masked-code heads are not part of the classifier
        assert torch.equal(base[key], value), key
        checked += 1
    assert checked > 10
    assert any(not torch.equal(p, lora_before[n]) for n, p in model.named_parameters() if "lora_" in n)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "classifier" in n for n in trainable)


def test_lora_with_a_cls_head_trains_the_cls_row_and_no_other_embedding(tmp_path, kmer_model, gc_task):
    # Pretraining never saw [CLS]: under LoRA its embedding row must still learn (else the head
    # reads a random vector), while every other row keeps its pretrained value.
    finetune(
        kmer_model, gc_task, tmp_path / "run", config={**FAST, "max_steps": 6, "pooling": "cls"}, seeds=[1], quiet=True
    )
    key = "vqdna.embeddings.word_embeddings.0.weight"
    before = load_file(str(kmer_model / "model.safetensors"))[key]
    after = load_file(str(tmp_path / "run" / "seed_1" / "model" / "model.safetensors"))[key]
    changed = sorted({int(i) for i in (after != before).any(1).nonzero()})
    assert changed == [2]  # CLS_TOKEN_ID


def test_full_finetuning_and_quantized_input(tmp_path, hrq_model, gc_task):
    # mean pooling: GC content is a property of the whole sequence
    r = finetune(
        hrq_model,
        gc_task,
        tmp_path / "full",
        config={**FAST, "max_steps": 80, "pooling": "mean"},
        seeds=[3],
        use_lora=False,
        quiet=True,
    )
    s = r["per_seed"][0]
    assert not r["use_lora"] and s["trainable_parameters"] == s["total_parameters"]
    assert r["test_accuracy"] > 0.75, r
    saved = json.loads((tmp_path / "full" / "seed_3" / "model" / "config.json").read_text())
    assert (
        saved["pooling"] == "mean" and saved["input_mode"] == "quantized"
    )  # the saved classifier pools as it was trained


def test_reverse_complement_augments_the_training_split_only(tmp_path, gc_task):
    task = load_task(gc_task)
    tok = KmerTokenizer(k=3)
    plain = task_datasets(task, tok, tmp_path / "cache")
    both = task_datasets(task, tok, tmp_path / "cache", reverse_complement=True)
    train = task.splits["train"]
    assert len(both["train"]) == 2 * len(plain["train"]) == 2 * len(train)
    for i in (0, 7, len(train) - 1):
        forward, other = both["train"][2 * i], both["train"][2 * i + 1]
        assert (
            np.array_equal(forward["ids"], plain["train"][i]["ids"])
            and forward["label"] == other["label"] == task.targets["train"][i]
        )
        assert np.array_equal(
            other["ids"], tok.encode(reverse_complement(train.sequences[i])).ids.reshape(other["ids"].shape)
        )
    for split in ("dev", "test"):
        assert len(both[split]) == len(plain[split]) and all(
            np.array_equal(a["ids"], b["ids"]) for a, b in zip(both[split], plain[split])
        )
    # the augmented split is cached under its own key, beside the plain one
    assert len(list((tmp_path / "cache").rglob("train-*.safetensors"))) == 2


def test_predict_and_embed_round_trip(tmp_path, finetuned, gc_task):
    test = load_task(gc_task).splits["test"]
    results = json.loads((finetuned / "eval_results.json").read_text())
    p = predict(finetuned, test.sequences)
    assert p.label_names == ["0", "1"] and p.probabilities.shape == (len(test), 2)
    assert np.allclose(p.probabilities.sum(1), 1.0, atol=1e-5)
    # every seed's saved (LoRA-merged) model predicts exactly what was scored during fine-tuning,
    # pooled as in training (the fixture's preset pools by max)
    assert json.loads((finetuned / "seed_1" / "model" / "config.json").read_text())["pooling"] == "max"
    for s in results["per_seed"]:
        seed_p = predict(finetuned / f"seed_{s['seed']}" / "model", test.sequences)
        assert classification_metrics(np.array(test.labels), np.array(seed_p.predictions))["accuracy"] == pytest.approx(
            s["test_accuracy"]
        )

    out = tmp_path / "preds.csv"
    assert (
        main(["-q", "predict", "--model", str(finetuned), "--csv", str(gc_task / "test.csv"), "--output", str(out)])
        == 0
    )
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == len(test) and rows[0]["id"] == "line2" and rows[0]["label"] == test.labels[0]
    assert [r["predicted_label"] for r in rows] == p.predictions

    x = embed(finetuned, test.sequences[:5])
    assert x.shape == (5, SMALL["hidden_size"]) and x.dtype == np.float32
    assert np.allclose(x[:2], embed(finetuned, test.sequences[:2]), atol=1e-5)  # batch composition does not matter
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\n" + test.sequences[0] + test.sequences[1] + "\n")
    npy = tmp_path / "x.npy"
    assert (
        main(
            ["-q", "embed", "--model", str(finetuned), "--fasta", str(fasta), "--window-bp", "60", "--output", str(npy)]
        )
        == 0
    )
    assert np.allclose(np.load(npy), x[:2], atol=1e-5)
    assert (tmp_path / "x.ids.txt").read_text().split() == ["a:1-60", "a:61-120"]


@pytest.mark.slow
def test_regression_task(tmp_path, kmer_model):
    task = gc_regression_task(tmp_path / "reg", seed=1)
    r = finetune(kmer_model, task, tmp_path / "out", config={**FAST, "max_steps": 100}, seeds=[1], quiet=True)
    assert r["task_type"] == "regression" and {"test_spearman", "test_pearson", "test_mse"} <= set(r)
    assert r["test_spearman"] > 0.5, r
    p = predict(tmp_path / "out", load_task(task).splits["test"].sequences[:3])
    assert p.probabilities is None and all(isinstance(v, float) for v in p.predictions)


def test_probe_of_tokenizer_and_model(tmp_path, kmer_model, hrq_model, gc_task):
    r = probe(kmer_model / "tokenizer", gc_task, tmp_path / "p1", what="tokenizer")
    assert r["test_mcc"] > 0.8 and r["source_kind"] == "kmer" and r["feature_dim"] == KmerTokenizer(k=3).vocab_size
    assert json.loads((tmp_path / "p1" / "eval_results.json").read_text())["test_mcc"] == r["test_mcc"]
    r = probe(hrq_model / "tokenizer", gc_task, tmp_path / "p2", what="tokenizer")
    sizes = load_tokenizer(hrq_model / "tokenizer").vocab_size
    assert r["source_kind"] == "hrq" and r["features"] == "tokens" and r["feature_dim"] == sum(sizes)
    assert json.loads((tmp_path / "p2" / "run.json").read_text())["inputs"]["features"] == "tokens"
    assert r["test_mcc"] > 0.5  # code counts of a briefly trained HRQ already tell GC-rich from AT-rich
    r = probe(hrq_model / "tokenizer", gc_task, what="tokenizer", features="vectors")
    assert r["features"] == "vectors" and r["feature_dim"] == 8
    assert r["test_mcc"] > 0.5  # so do its mean code vectors (0.97 measured)
    with pytest.raises(UserError, match="a kmer tokenizer has no code vectors"):
        probe(kmer_model / "tokenizer", gc_task, tmp_path / "p3", what="tokenizer", features="vectors")
    assert not (tmp_path / "p3").exists()  # refused before the folder was claimed
    r = probe(kmer_model, gc_task, what="model")
    assert (
        r["feature_dim"] == SMALL["hidden_size"] and r["test_mcc"] > 0.3
    )  # random features of k-mer embeddings still carry GC


def test_probe_of_a_regression_task(tmp_path, kmer_model):
    """Fractional targets make a ridge probe scored by Spearman; integer-valued targets (here GC
    counts per 100 bp) are a regression only when said so, else the labels would be classes."""
    task = gc_regression_task(tmp_path / "gc", seed=4, sizes=(300, 80, 80))
    r = probe(kmer_model / "tokenizer", task, what="tokenizer")
    assert r["task_type"] == "regression" and r["primary_metric"] == "spearman" and r["test_spearman"] > 0.8, r
    counts = tmp_path / "counts"
    counts.mkdir()
    for split in ("train", "dev", "test"):
        rows = list(csv.reader(open(task / f"{split}.csv")))
        rows[1:] = [[seq, str(sum(b in "GC" for b in seq))] for seq, _ in rows[1:]]
        csv.writer(open(counts / f"{split}.csv", "w", newline="")).writerows(rows)
    r = probe(kmer_model / "tokenizer", counts, tmp_path / "p", what="tokenizer", task_type="regression")
    assert r["task_type"] == "regression" and r["test_spearman"] > 0.8, r
    assert json.loads((tmp_path / "p" / "run.json").read_text())["inputs"]["task_type"] == "regression"
    # read as classes, a GC count absent from train stops the probe with the way out
    with pytest.raises(
        SequenceError, match=r"dev.csv: line \d+: label '\d+' does not occur in .*probe: --task-type regression"
    ):
        probe(kmer_model / "tokenizer", counts, what="tokenizer")
    with pytest.raises(UserError, match="features apply to a tokenizer only"):
        probe(kmer_model, counts, what="model", features="tokens")


def test_probe_cli_features_only_with_a_tokenizer(tmp_path, kmer_model, gc_task, capsys):
    base = ["probe", "--data-path", str(gc_task)]
    assert main([*base, "--model", str(kmer_model), "--features", "tokens"]) == 2
    assert "--features applies to --tokenizer only" in capsys.readouterr().err
    assert main([*base, "--tokenizer", str(kmer_model / "tokenizer"), "--features", "vectors"]) == 2
    assert "a kmer tokenizer has no code vectors" in capsys.readouterr().err
    assert main([*base, "--tokenizer", str(kmer_model / "tokenizer"), "--output-dir", str(tmp_path / "p")]) == 0
    r = json.loads((tmp_path / "p" / "eval_results.json").read_text())
    assert r["features"] == "tokens" and r["l2"] in r["l2_tried"] and r["l2_tried"][:5] == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    out = capsys.readouterr().out
    assert f"(L2 {r['l2']:g} chosen on dev among {min(r['l2_tried']):g} … {max(r['l2_tried']):g}," in out


def test_bad_task_folders_give_clear_errors(tmp_path, kmer_model, gc_task):
    good = {s: list(csv.reader(open(gc_task / f"{s}.csv")))[1:] for s in ("train", "dev", "test")}
    missing = _write_task(tmp_path / "missing", {"train": good["train"], "dev": good["dev"]})
    with pytest.raises(SequenceError, match=r"lacks test\.csv"):
        load_task(missing)
    bad_header = _write_task(tmp_path / "header", good)
    (bad_header / "dev.csv").write_text("seq,target\nACGT,1\n")
    with pytest.raises(SequenceError, match=r"dev\.csv: line 1: header is 'seq,target'"):
        load_task(bad_header)
    unknown = _write_task(tmp_path / "unknown", {**good, "test": good["test"] + [["ACGTACGT", "7"]]})
    with pytest.raises(
        SequenceError, match=rf"test\.csv: line {len(good['test']) + 2}: label '7' does not occur in .*train\.csv"
    ):
        load_task(unknown)
    empty = _write_task(tmp_path / "empty", good)
    (empty / "train.csv").write_text("")
    with pytest.raises(SequenceError, match=r"train\.csv: empty file"):
        load_task(empty)
    long = _write_task(tmp_path / "long", {**good, "dev": [["A" * 3000, "1"]] + good["dev"]})
    with pytest.raises(
        SequenceError, match=r"dev\.csv: line 2: sequence of 3,000 bp is longer than the 2,048 bp allowed"
    ):
        finetune(kmer_model, long, tmp_path / "o1", config=FAST, seeds=[1], quiet=True)
    assert not (tmp_path / "o1" / "eval_results.json").exists()
    assert (
        main(
            [
                "-q",
                "finetune",
                "--model",
                str(kmer_model),
                "--data-path",
                str(unknown),
                "--output-dir",
                str(tmp_path / "o2"),
            ]
        )
        == 2
    )


def test_finished_runs_are_never_overwritten_and_corrupt_models_are_named(tmp_path, finetuned, kmer_model, gc_task):
    with pytest.raises(
        RunError, match="already holds finished `vqdna finetune` results for these inputs; pass --resume to reuse them"
    ):
        finetune(kmer_model, gc_task, finetuned, config=FAST, seeds=[1], quiet=True)
    # --resume with another task never reuses (and relabels) this task's results
    other = _gc_task(tmp_path / "other", seed=5)
    with pytest.raises(
        UserError, match=r"holds a `vqdna finetune` run with other inputs or settings \(task: .*/gc\" -> .*/other\""
    ):
        finetune(kmer_model, other, finetuned, config=FAST, seeds=[1], resume=True, quiet=True)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((kmer_model / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=str(broken)):
        embed(broken, ["ACGT"])
    with pytest.raises(CheckpointError, match="without a task head"):
        predict(kmer_model, ["ACGT"])


def test_a_run_is_reused_whether_its_task_was_named_relatively_or_absolutely(tmp_path, monkeypatch):
    from vqdna.training.finetune import check_same_run, run_record

    (tmp_path / "suite" / "task").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    cfg = resolve_finetune_config("tiny")
    record_path = tmp_path / "run" / "finetune_config.json"
    record_path.parent.mkdir()
    record_path.write_text(json.dumps(run_record("../models/vq", "../suite/task", False, cfg)))
    check_same_run(record_path, run_record(tmp_path / "models" / "vq", tmp_path / "suite" / "task", False, cfg))
    with pytest.raises(RunError, match=r"task: '.*/suite/task' then, '.*/suite/other' now"):
        check_same_run(record_path, run_record(tmp_path / "models" / "vq", tmp_path / "suite" / "other", False, cfg))
    with pytest.raises(RunError, match="config.step_budget: 3000 then, 100 now"):
        check_same_run(
            record_path,
            run_record("../models/vq", "../suite/task", False, resolve_finetune_config("tiny", {"step_budget": 100})),
        )


def test_a_task_that_does_not_name_its_strandedness_gets_both_strands_and_a_note_saying_how_to_stop_it(
    tmp_path, kmer_model, capsys
):
    task = gc_regression_task(tmp_path / "guides", seed=2, sizes=(40, 20, 20))
    recipe = {k: v for k, v in FAST.items() if k != "reverse_complement"} | {"max_steps": 4}
    r = finetune(kmer_model, task, tmp_path / "out", config=recipe, seeds=[1])
    assert r["config"]["reverse_complement"] is True
    out = capsys.readouterr().out
    assert "guides does not say whether its labels depend on the strand" in out
    assert 'pass --no-reverse-complement, or write {"strand_specific": true} to its task.json' in out
    finetune(kmer_model, task, tmp_path / "again", config=recipe, seeds=[1])  # a benchmark's next cell
    assert "does not say" not in capsys.readouterr().out  # said once per task folder, not once per run
    (task / "task.json").write_text(json.dumps({"strand_specific": False}))  # said: no note
    r = finetune(kmer_model, task, tmp_path / "out2", config=recipe, seeds=[1])
    assert r["config"]["reverse_complement"] is True
    assert "does not say" not in capsys.readouterr().out


def test_a_strand_specific_task_is_never_trained_on_reverse_complements(tmp_path, kmer_model, capsys):
    task = gc_regression_task(tmp_path / "guides", seed=2, sizes=(40, 20, 20))
    (task / "task.json").write_text(json.dumps({"kind": "test", "strand_specific": True}))
    recipe = {k: v for k, v in FAST.items() if k != "reverse_complement"} | {"max_steps": 4}
    assert resolve_finetune_config("tiny", recipe).reverse_complement  # the preset's default is on
    r = finetune(kmer_model, task, tmp_path / "out", config=recipe, seeds=[1])
    assert r["config"]["reverse_complement"] is False
    assert "is strand-specific (task.json); training without reverse-complement copies" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"--reverse-complement: .*guides/task.json declares the task strand_specific"):
        finetune(
            kmer_model, task, tmp_path / "out2", config={**recipe, "reverse_complement": True}, seeds=[1], quiet=True
        )
    assert not (tmp_path / "out2").exists()
    (task / "task.json").write_text(json.dumps({"strand_specific": "yes"}))
    with pytest.raises(SequenceError, match=r"task.json: \"strand_specific\" must be true or false, got 'yes'"):
        load_task(task)


@pytest.mark.slow
def test_two_process_torchrun_finetuning_writes_one_result(tmp_path, kmer_model, gc_task):
    """torchrun --nproc_per_node=2 (gloo on CPU): both ranks train and test, rank 0 alone writes
    the model, the results and the finished marker; then every rank exits cleanly."""
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29534",
        "-m",
        "vqdna.cli",
        "-q",
        "finetune",
        "--model",
        str(kmer_model),
        "--data-path",
        str(gc_task),
        "--output-dir",
        str(out),
        "--seeds",
        "1",
        "--config",
        json.dumps({**FAST, "max_steps": 6}),
    ]
    run = subprocess.run(
        command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((out / "eval_results.json").read_text())
    assert result["per_seed"][0]["steps"] == 6 and result["examples"] == {"train": 200, "dev": 60, "test": 60}
    seed = result["per_seed"][0]
    assert seed["threads"] == 1 and seed["processes"] == 2  # cpu_seconds: rank 0's
    assert 0 < seed["cpu_seconds"] and result["cpu_seconds"] == seed["cpu_seconds"]
    assert (out / "seed_1" / "model" / "model.safetensors").is_file() and not (out / "seed_1" / "checkpoints").exists()
    assert json.loads((out / "run.json").read_text())["finished"]


def test_a_seed_from_before_a_metric_existed_leaves_it_out_of_the_summary(tmp_path, gc_task):
    from vqdna.training.finetune import summarize

    task = load_task(gc_task)
    new = {
        "seed": 2,
        "test_mcc": 0.5,
        "test_accuracy": 0.8,
        "test_f1": 0.7,
        "test_precision": 0.7,
        "test_recall": 0.7,
        "dev_best": 0.4,
        "wall_seconds": 1.0,
    }
    old = {k: v for k, v in new.items() if k not in ("test_precision", "test_recall")} | {"seed": 1, "test_mcc": 0.3}
    r = summarize(task, [old, new])
    assert r["test_mcc"] == pytest.approx(0.4) and "test_precision" not in r and "eval_precision" not in r
    assert r["eval_matthews_correlation"] == r["test_mcc"]
    assert "cpu_seconds" not in r  # a seed without it: no sum pretending to cover both
    nan_first = summarize(task, [new | {"seed": 3, "dev_best": float("nan")}, new])
    assert nan_first["best_seed"] == 2  # a NaN dev score first in the list does not win


def test_trainer_options_come_from_flags_and_reach_the_trainer(tmp_path, kmer_model, gc_task):
    import math

    out = tmp_path / "o"
    args = [
        "-q", "finetune", "--model", str(kmer_model), "--data-path", str(gc_task), "--output-dir", str(out),
        "--seeds", "1", "--no-use-lora", "--no-reverse-complement", "--max-steps", "6", "--eval-steps", "3",
        "--logging-steps", "1", "--warmup-steps", "0", "--learning-rate", "0.001", "--batch-size", "10",
        "--gradient-accumulation-steps", "2", "--lr-scheduler-type", "cosine", "--eval-batch-size", "7",
        "--precision", "fp32",
    ]  # fmt: skip
    assert main(args) == 0
    result = json.loads((out / "eval_results.json").read_text())
    config = result["config"]
    assert (config["gradient_accumulation_steps"], config["lr_scheduler_type"]) == (2, "cosine")
    assert (config["eval_batch_size"], config["precision"]) == (7, "fp32")
    # 200 training rows, 10 per batch, 2 batches per optimizer step: 10 steps an epoch
    assert result["per_seed"][0]["epochs"] == 0.6
    log = json.loads((out / "seed_1" / "training_log.json").read_text())
    assert max(h["epoch"] for h in log) == pytest.approx(0.6)
    rates = [h["learning_rate"] for h in log if "learning_rate" in h]
    cosine = [1e-3 * 0.5 * (1 + math.cos(math.pi * n / 6)) for n in range(6)]
    assert rates == pytest.approx(cosine, rel=1e-4)  # the rate each step trained with, logged at that step


def test_a_run_recorded_before_the_trainer_options_existed_is_still_reused(tmp_path, kmer_model, gc_task):
    from vqdna.config import FinetuneConfig
    from vqdna.storage import fingerprint

    out = tmp_path / "o"
    args = [
        "-q", "finetune", "--model", str(kmer_model), "--data-path", str(gc_task), "--output-dir", str(out),
        "--seeds", "1", "--no-use-lora", "--no-reverse-complement", "--max-steps", "2",
    ]  # fmt: skip
    assert main(args) == 0
    marker = out / "run.json"
    run = json.loads(marker.read_text())
    old = {
        **run["inputs"],
        "config": {k: v for k, v in run["inputs"]["config"].items() if k not in FinetuneConfig.ADDED},
    }
    marker.write_text(json.dumps({**run, "inputs": old, "fingerprint": fingerprint(old)}))  # as an older vqdna wrote it
    finished = (out / "seed_1" / "eval_results.json").stat().st_mtime
    assert main([*args, "--gradient-accumulation-steps", "2", "--resume"]) == 2  # that run accumulated nothing
    assert main([*args, "--resume"]) == 0
    assert (out / "seed_1" / "eval_results.json").stat().st_mtime == finished  # reused, not trained again
    assert json.loads(marker.read_text())["inputs"]["config"]["precision"] == "auto"  # the record in today's form


def test_bad_trainer_options_are_named(capsys, tmp_path, kmer_model, gc_task, monkeypatch):
    base = ["-q", "finetune", "--model", str(kmer_model), "--data-path", str(gc_task), "--seeds", "1"]
    assert main([*base, "--output-dir", str(tmp_path / "a"), "--precision", "fp8"]) == 2
    assert "precision" in capsys.readouterr().err
    assert main([*base, "--output-dir", str(tmp_path / "b"), "--lr-scheduler-type", "warm"]) == 2
    assert "lr_scheduler_type" in capsys.readouterr().err
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([*base, "--output-dir", str(tmp_path / "c"), "--precision", "fp16", "--max-steps", "2"]) == 2
    assert "precision fp16 needs a CUDA GPU" in capsys.readouterr().err
