"""The baselines (k-mer logistic regression, one-hot CNN), epoch-based training with early
stopping, the scratch twin, and the token cache."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from helpers import gc_regression_task, gc_task, motif_task, noise_task
from vqdna.baselines import BaseIdsCollator, build_cnn, kmer_frequencies, run_baseline
from vqdna.cli import main
from vqdna.config import CNNBaselineConfig, FinetuneConfig
from vqdna.inference import load_model_tokenizer
from vqdna.seqio import Task, load_task
from vqdna.training.finetune import build_classifier, finetune, schedule, split_examples
from vqdna.training.token_cache import TokenCache

SMALL_CNN = {"channels": 32, "num_train_epochs": 15, "batch_size": 32, "early_stopping_patience": 4}
SHORT = {"num_train_epochs": 2, "logging_steps": 5, "warmup_steps": 0, "learning_rate": 3e-3, "batch_size": 16}


@pytest.fixture(scope="module")
def motif(tmp_path_factory):
    return motif_task(tmp_path_factory.mktemp("motif") / "task", sizes=(800, 100, 100), length=60)


def test_kmer_frequencies_match_hand_counts():
    x = kmer_frequencies(["ACGTA", "AANAA", "AC"], 2).toarray()
    # ACGTA: AC CG GT TA, each 1/4; AANAA: AA, AA (the two k-mers with N skipped), so AA = 1; AC: one AC
    ac, cg, gt, ta, aa = 0 * 4 + 1, 1 * 4 + 2, 2 * 4 + 3, 3 * 4 + 0, 0
    assert x.shape == (3, 16)
    assert x[0, [ac, cg, gt, ta]].tolist() == [0.25] * 4 and x[0].sum() == pytest.approx(1.0)
    assert x[1, aa] == 1.0 and x[1].sum() == 1.0
    assert x[2, ac] == 1.0


def test_kmer_lr_finds_a_planted_motif_and_writes_finetune_keys(tmp_path, motif):
    out = tmp_path / "kmer"
    assert (
        main(
            [
                "-q",
                "baseline",
                "--kind",
                "kmer-lr",
                "--data-path",
                str(motif),
                "--output-dir",
                str(out),
                "--seeds",
                "1,2",
            ]
        )
        == 0
    )
    r = json.loads((out / "eval_results.json").read_text())
    assert {
        "test_mcc",
        "test_accuracy",
        "test_f1",
        "test_mcc_std",
        "per_seed",
        "best_seed",
        "primary_metric",
        "wall_seconds",
        "config",
        "versions",
    } <= set(r)
    assert r["test_mcc"] > 0.9, r
    assert r["deterministic"] and len(r["per_seed"]) == 1 and r["test_mcc_std"] == 0.0  # one fit stands for every seed
    chosen = r["per_seed"][0]
    assert chosen["k"] in (3, 4, 5, 6) and len(chosen["grid"]) == 4 * 5
    assert 0 < chosen["cpu_seconds"] == r["cpu_seconds"]
    assert chosen["dev_best"] == max(g["dev_mcc"] for g in chosen["grid"])  # the choice is made on dev
    assert (out / "model" / "model.safetensors").is_file() and json.loads((out / "model" / "config.json").read_text())[
        "k"
    ] == chosen["k"]
    # a finished baseline is never overwritten
    assert main(["-q", "baseline", "--kind", "kmer-lr", "--data-path", str(motif), "--output-dir", str(out)]) == 2


@pytest.mark.slow
def test_cnn_finds_a_planted_motif(tmp_path, motif):
    r = run_baseline("cnn", motif, tmp_path / "cnn", config=SMALL_CNN, seeds=[1], quiet=True)
    assert r["test_mcc"] > 0.9, r
    s = r["per_seed"][0]
    assert (
        s["dev_curve"]
        and s["best_checkpoint"]
        and (tmp_path / "cnn" / "seed_1" / "model" / "model.safetensors").is_file()
    )


def test_cnn_ignores_padding_and_reads_n_as_uniform():
    fake = Task("x", "classification", ["0", "1"], {}, {})
    torch.manual_seed(0)
    model = build_cnn(fake, CNNBaselineConfig(channels=8)).eval()
    collate = BaseIdsCollator()
    alone = collate([{"sequence": "ACGTNACGTA", "label": 0}])
    padded = collate([{"sequence": "ACGTNACGTA", "label": 0}, {"sequence": "ACGTACGTACGTACGTACGT" * 3, "label": 1}])
    assert padded["attention_mask"][0].sum() == 10 and padded["input_ids"][0, 10:].eq(5).all()
    with torch.no_grad():
        a = model(alone["input_ids"], alone["attention_mask"]).logits
        b = model(padded["input_ids"], padded["attention_mask"]).logits[:1]
    assert torch.allclose(a, b, atol=1e-5)


def test_schedule_counts_epochs_and_evaluates_once_per_epoch():
    cfg = FinetuneConfig(batch_size=32, num_train_epochs=3)
    assert schedule(cfg, 100) == {"max_steps": 12, "eval_steps": 4, "steps_per_epoch": 4}
    assert schedule(FinetuneConfig(batch_size=32, num_train_epochs=3, max_steps=5), 100)["max_steps"] == 5
    assert (
        schedule(FinetuneConfig(batch_size=32, max_steps=2), 100)["eval_steps"] == 2
    )  # a run shorter than an epoch is still evaluated
    assert schedule(FinetuneConfig(batch_size=32, eval_steps=3), 1000)["eval_steps"] == 3
    # the step budget caps a large task's epochs, leaves a small one's alone, and never caps an explicit max_steps
    assert schedule(FinetuneConfig(batch_size=32, num_train_epochs=10, step_budget=30), 1000)["max_steps"] == 30
    assert schedule(FinetuneConfig(batch_size=32, num_train_epochs=3, step_budget=30), 100)["max_steps"] == 12
    assert schedule(FinetuneConfig(batch_size=32, max_steps=50, step_budget=30), 100)["max_steps"] == 50
    with pytest.raises(ValueError, match="step_budget must be >= 1"):
        FinetuneConfig(step_budget=0)
    with pytest.raises(ValueError, match="num_train_epochs must be > 0"):
        FinetuneConfig(num_train_epochs=0)
    with pytest.raises(ValueError, match="early_stopping_patience must be >= 1"):
        FinetuneConfig(early_stopping_patience=0)


def test_training_stops_early_when_dev_stops_improving(tmp_path):
    task = noise_task(tmp_path / "noise")
    patience = 2
    r = run_baseline(
        "cnn",
        task,
        tmp_path / "out",
        config={**SMALL_CNN, "num_train_epochs": 40, "early_stopping_patience": patience, "batch_size": 40},
        seeds=[1],
        quiet=True,
    )
    s = r["per_seed"][0]
    curve = [p["mcc"] for p in s["dev_curve"]]
    assert [p["step"] for p in s["dev_curve"]] == [
        4 * (i + 1) for i in range(len(curve))
    ]  # one evaluation per epoch (160 rows / 40)
    assert s["stopped_early"] and s["steps"] < s["planned_steps"] == 160
    best = int(np.argmax(curve))  # the first best; later ties do not count as improvements
    assert len(curve) == best + 1 + patience
    assert s["dev_best"] == pytest.approx(curve[best])


def test_scratch_twin_shares_no_weights_with_its_pretrained_model(tmp_path, hrq_model):
    # Move every pretrained weight away from any value a fresh initialisation could give.
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    for f in ("config.json",):
        (pretrained / f).write_text((hrq_model / f).read_text())
    state = load_file(str(hrq_model / "model.safetensors"))
    save_file(
        {k: v + 0.37 if "codebook" not in k else v for k, v in state.items()}, str(pretrained / "model.safetensors")
    )
    task = load_task(gc_task(tmp_path / "gc"))
    cfg = FinetuneConfig(use_lora=False)
    torch.manual_seed(1)
    twin = build_classifier(pretrained, task, cfg, from_scratch=True)
    warm = build_classifier(pretrained, task, cfg)
    twin_state, warm_state = twin.state_dict(), warm.state_dict()
    encoder = [k for k in twin_state if k.startswith("vqdna.") and "codebook" not in k]
    assert len(encoder) > 10
    for key in encoder:
        assert not torch.isclose(twin_state[key], warm_state[key]).any(), key
    for key in (k for k in twin_state if "codebook" in k):  # the tokenizer's frozen vectors are the same
        assert torch.equal(twin_state[key], warm_state[key])
    torch.manual_seed(2)
    other = build_classifier(pretrained, task, cfg, from_scratch=True).state_dict()
    assert not torch.equal(
        other["vqdna.layers.0.attention.self.query.weight"], twin_state["vqdna.layers.0.attention.self.query.weight"]
    )


def test_token_cache_is_reused_and_rebuilt_when_the_tokenizer_changes(tmp_path, hrq_model, kmer_model):
    task_dir = gc_task(tmp_path / "gc", sizes=(60, 20, 20))
    cache_dir = tmp_path / "cache"
    r1 = finetune(
        hrq_model,
        task_dir,
        tmp_path / "a",
        config={**SHORT, "max_steps": 2},
        seeds=[1],
        cache_dir=cache_dir,
        quiet=True,
    )
    files = sorted(cache_dir.rglob("*.safetensors"))
    assert len(files) == 3  # one per split
    stamps = [f.stat().st_mtime_ns for f in files]
    tok = load_model_tokenizer(hrq_model)
    sequences, _ = split_examples(
        load_task(task_dir), "train", reverse_complement=True
    )  # the tiny preset trains on both strands
    ids, hit = TokenCache(cache_dir, tok).encode("train", sequences)
    assert hit and len(ids) == len(sequences)
    assert all(
        np.array_equal(a, e.ids.reshape(a.shape)) for a, e in zip(ids, tok.encode_batch(sequences))
    )  # cached ids = fresh ids
    r2 = finetune(
        hrq_model,
        task_dir,
        tmp_path / "b",
        config={**SHORT, "max_steps": 2},
        seeds=[1],
        cache_dir=cache_dir,
        quiet=True,
    )
    assert [f.stat().st_mtime_ns for f in files] == stamps and sorted(cache_dir.rglob("*.safetensors")) == files
    assert r2["test_mcc"] == r1["test_mcc"]
    # another tokenizer gets its own entries; the old ones stay
    finetune(
        kmer_model,
        task_dir,
        tmp_path / "c",
        config={**SHORT, "max_steps": 2},
        seeds=[1],
        cache_dir=cache_dir,
        quiet=True,
    )
    assert len(list(cache_dir.rglob("*.safetensors"))) == 6 and len([p for p in cache_dir.iterdir() if p.is_dir()]) == 2
    # a damaged file is rebuilt, never trusted
    files[0].write_bytes(b"garbage")
    ids, hit = TokenCache(cache_dir, tok).encode(
        files[0].name.split("-")[0], load_task(task_dir).splits[files[0].name.split("-")[0]].sequences
    )
    assert not hit and files[0].stat().st_size > 100


def test_training_with_and_without_the_cache_gives_the_same_model(tmp_path, kmer_model):
    task_dir = gc_task(tmp_path / "gc", sizes=(60, 20, 20))
    a = finetune(kmer_model, task_dir, tmp_path / "a", config={**SHORT, "max_steps": 4}, seeds=[1], quiet=True)
    b = finetune(
        kmer_model,
        task_dir,
        tmp_path / "b",
        config={**SHORT, "max_steps": 4, "cache_tokens": False},
        seeds=[1],
        quiet=True,
    )
    wa = load_file(str(tmp_path / "a" / "seed_1" / "model" / "model.safetensors"))
    wb = load_file(str(tmp_path / "b" / "seed_1" / "model" / "model.safetensors"))
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa) and a["test_mcc"] == b["test_mcc"]
    assert not (tmp_path / "b" / "token_cache").exists()


def test_baselines_have_regression_forms(tmp_path):
    task = gc_regression_task(tmp_path / "reg", seed=3, sizes=(300, 80, 80))
    r = run_baseline("kmer-lr", task, tmp_path / "k", config={"ks": [3], "c_grid": [0.1, 1.0]}, quiet=True)
    assert r["task_type"] == "regression" and r["primary_metric"] == "spearman" and r["test_spearman"] > 0.7, r
    r = run_baseline(
        "cnn",
        task,
        tmp_path / "c",
        config={"channels": 8, "num_train_epochs": 8, "batch_size": 32},
        seeds=[1],
        quiet=True,
    )
    assert {"test_spearman", "test_pearson", "test_mse"} <= set(r) and r["test_spearman"] > 0.3, r
