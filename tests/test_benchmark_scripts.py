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
