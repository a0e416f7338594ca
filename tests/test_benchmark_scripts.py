"""The benchmark scripts that have no other test: each runs end to end in its smallest form, so
that the one a GPU session runs (its only chance) does not fail on a renamed key."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_every_stage_and_prints_one_table(tmp_path):
    out = tmp_path / "check"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu_check.py"),
            "--device",
            "cpu",
            "--quick",
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    table = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    stages = [line.split(" | ")[0][2:] for line in table[1:]]
    assert stages == [
        "tokenizer training (VQ)",
        "tokenizing, fp32",
        "tokenizing, bf16",
        "pretraining",
        "fine-tuning (Oct4 vs Mafk, 200 bp)",
    ]
    record = json.loads((out / "gpu_check.json").read_text())
    assert record["pretrain"]["tokens_per_second"] > 0 and record["pretrain"]["mfu"] is None  # no GPU peak on a CPU
    assert record["finetune"]["sequences_per_second"] > 0 and -1 <= record["finetune"]["test_mcc"] <= 1
    assert record["encode_fp32_bp_per_second"] > 0 and record["encode_bf16_bp_per_second"] > 0


def test_gpu_check_says_plainly_when_there_is_no_gpu(tmp_path):
    import os

    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},  # no GPU, wherever the tests run
    )
    assert run.returncode == 1 and "no CUDA GPU here" in run.stderr


@pytest.mark.slow
def test_gpu_session_packs_the_check_and_the_one_command_benchmark(tmp_path):
    """benchmarks/gpu_session.sh as a lent GPU runs it, on the CPU: `prepare` lays the built-in data
    out where vqdna finds it without installing anything, `run` returns one archive of results."""
    import os
    import tarfile

    from helpers import gc_task

    carried, out = tmp_path / "carried", tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}
    script = str(ROOT / "benchmarks" / "gpu_session.sh")
    task = gc_task(tmp_path / "gc")
    prepare = subprocess.run(
        ["bash", script, "prepare", str(carried), str(task)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert prepare.returncode == 0, prepare.stderr[-3000:]
    assert (carried / "site" / "pyrodigal" / "__init__.py").is_file() and (
        carried / "task" / "gc" / "train.csv"
    ).is_file()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(carried / "site")])
    run = subprocess.run(
        ["bash", script, "run", str(carried), str(out), "tiny", "3", "300"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with tarfile.open(out / "gpu_session.tar.gz") as archive:
        names = set(archive.getnames())
        assert {"./check/gpu_check.json", "./bench/results.csv", "./bench/models/vq/training_log.json"} <= names
        assert not [n for n in names if n.endswith(".safetensors")]  # results only, no weights
        table = archive.extractfile("./bench/results.csv").read().decode().splitlines()
    assert [row.split(",")[1] for row in table[1:]] == ["kmer-lr", "cnn", "vq", "vq-scratch"]


def _pretrained(folder: Path, steps: int, held_out: float) -> None:
    folder.mkdir(parents=True)
    log = [{"step": s, "loss": 6.0, "masked_accuracy_level0": s / 10_000} for s in range(20, steps + 1, 20)]
    (folder / "training_log.json").write_text(json.dumps(log))
    result = {"steps": steps, "masked_accuracy": [held_out], "baseline_accuracy": [0.004]}
    (folder / "eval_results.json").write_text(json.dumps(result))


def test_ablation_curves_draws_the_finished_encoders_and_their_downstream_scores(tmp_path):
    out, control = tmp_path / "ablation", tmp_path / "control"
    _pretrained(control, 800, 0.023)
    _pretrained(out / "models" / "steps_200", 200, 0.011)
    (out / "models" / "layers_2").mkdir(parents=True)  # still pretraining: left out
    (out / "bench").mkdir()
    (out / "bench" / "results.csv").write_text(
        "task,model,metric,mean,std\nmouse_tf_0,control,mcc,0.60,0.01\nmouse_tf_0,steps_200,mcc,0.55,0.02\n"
    )
    script = [sys.executable, str(ROOT / "benchmarks" / "ablation_curves.py"), str(out), str(control)]
    run = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "(2 encoders, downstream for 2)" in run.stdout
    assert (out / "pretraining_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (control / "training_log.json").unlink()
    run = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "control: no training_log.json" in run.stderr
