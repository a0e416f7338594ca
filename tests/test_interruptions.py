"""A real `kill -9` in the middle of a checkpoint save, for every training stage: the rerun without
--resume is refused with the command that recovers, and --resume drops the half-written checkpoint,
continues from the one before and finishes."""

import json
import os
import subprocess
import sys

import pytest

from helpers import SMALL, SMALL_HRQ, gc_task

pytestmark = pytest.mark.slow  # the whole file trains for longer than a few seconds

# Runs the vqdna command line in this process, but SIGKILLs it half-way through writing the
# second checkpoint: after the weights and optimizer state, while rng_state.pth is being written
# and before trainer_state.json (the Trainer's last file).
KILLER = """
import os, signal, sys
import transformers
calls = []
original = transformers.Trainer._save_rng_state

def dying(self, output_dir):
    calls.append(output_dir)
    if len(calls) == 2:
        with open(os.path.join(output_dir, "rng_state.pth"), "wb") as fh:
            fh.write(b"PK\\x03\\x04 half-written")
            fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, output_dir)

transformers.Trainer._save_rng_state = dying
from vqdna.cli import main
sys.exit(main(sys.argv[1:]))
"""

MCM = {
    **SMALL,
    "window_bp": 128,
    "batch_size": 8,
    "save_steps": 3,
    "logging_steps": 3,
    "warmup_steps": 1,
    "eval_windows": 16,
}
TUNE = {
    "max_steps": 9,
    "eval_steps": 3,
    "logging_steps": 3,
    "warmup_steps": 0,
    "batch_size": 16,
    "use_lora": False,
    "reverse_complement": False,
}


def stages(tmp_path, small_genomes, kmer_model):
    task = gc_task(tmp_path / "task", sizes=(96, 32, 32))
    hrq = {**SMALL_HRQ, "training": {**SMALL_HRQ["training"], "save_steps": 3}}
    return {
        "train-tokenizer": (
            [
                "train-tokenizer",
                "--kind",
                "hrq",
                "--fasta",
                str(small_genomes[1]),
                "--max-steps",
                "9",
                "--config",
                json.dumps(hrq),
            ],
            "checkpoints",
        ),
        "pretrain": (
            [
                "pretrain",
                "--tokenizer",
                str(kmer_model / "tokenizer"),
                "--fasta",
                str(small_genomes[1]),
                "--max-steps",
                "9",
                "--config",
                json.dumps(MCM),
            ],
            "checkpoints",
        ),
        "finetune": (
            [
                "finetune",
                "--model",
                str(kmer_model),
                "--data-path",
                str(task),
                "--seeds",
                "1",
                "--config",
                json.dumps(TUNE),
            ],
            "seed_1/checkpoints",
        ),
        "baseline": (
            [
                "baseline",
                "--kind",
                "cnn",
                "--data-path",
                str(task),
                "--seeds",
                "1",
                "--config",
                json.dumps({"channels": 16, "max_steps": 9, "eval_steps": 3, "batch_size": 16}),
            ],
            "seed_1/checkpoints",
        ),
    }


def run(argv, *, kill: bool = False):
    code = KILLER if kill else "import sys; from vqdna.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "-q", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


@pytest.mark.parametrize("stage", ["train-tokenizer", "pretrain", "finetune", "baseline"])
def test_kill_during_a_checkpoint_save_then_resume(tmp_path, small_genomes, kmer_model, stage):
    argv, checkpoints = stages(tmp_path, small_genomes, kmer_model)[stage]
    out = tmp_path / "out"
    argv = argv + ["--output-dir", str(out)]
    killed = run(argv, kill=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    half = out / checkpoints / "checkpoint-6"
    assert (half / "rng_state.pth").is_file() and not (half / "trainer_state.json").exists()  # killed inside the save
    assert not json.loads((out / "run.json").read_text())["finished"]

    again = run(argv)  # a plain rerun is refused, and says how to recover
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "holds an interrupted" in again.stderr and "pass --resume to continue it" in again.stderr

    resumed = run(argv + ["--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "checkpoint-6: incomplete checkpoint (trainer_state.json unreadable" in resumed.stderr
    assert json.loads((out / "run.json").read_text())["finished"]
    results = out / ("config.json" if stage == "train-tokenizer" else "eval_results.json")
    assert results.is_file()
    if stage == "pretrain":
        assert json.loads(results.read_text())["steps"] == 9
    if stage in ("finetune", "baseline"):
        assert json.loads((out / "seed_1" / "eval_results.json").read_text())["steps"] == 9
