"""What one fine-tuning step of the `tiny` classifier costs on this machine, and whether bf16
autocast or torch.compile makes it cheaper, measured in one run (random ids and labels: the cost
of a step does not depend on the data).

Each row: the `tiny` preset's encoder (its "encoder" section over the defaults; vocab of the tiny VQ) with a max-pooled head,
AdamW, batch 32, sequence length L tokens; after 3 warm-up steps each (the compiled model's
include its compilation), the modes take turns, `--steps` steps each, for `--rounds` rounds, and
each mode's median round is reported.

    python benchmarks/finetune_step_cost.py [--lengths 101,500] [--rounds 8] [--steps 4] [--threads 2] [--no-compile]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

import torch

from vqdna.config import EncoderConfig, load_preset
from vqdna.modeling import VQDNAConfig, VQDNAForSequenceClassification
from vqdna.tokenizers import NUM_SPECIAL


def make_step(length: int, mode: str, batch: int = 32):
    """A function doing one training step of a fresh `tiny` classifier in mode "fp32", "bf16" or
    "compile"."""
    encoder = dataclasses.asdict(EncoderConfig(**load_preset("tiny")["encoder"]))  # the preset over the defaults
    vocab = load_preset("tiny")["levels"]["vq"]["codebook_sizes"][0] + NUM_SPECIAL
    torch.manual_seed(0)
    config = VQDNAConfig(level_vocab_sizes=[vocab], **encoder, pooling="max", num_labels=2)
    model = VQDNAForSequenceClassification(config)
    forward = torch.compile(model) if mode == "compile" else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    ids = torch.randint(NUM_SPECIAL, vocab, (batch, length))
    labels = torch.randint(0, 2, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
            loss = forward(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def step_seconds(length: int, modes: list[str], rounds: int, steps: int) -> dict[str, tuple[float, float]]:
    """{mode: (median seconds per step, seconds of warm-up)}. The modes take turns, `steps` steps
    each per round: a load that comes and goes on the machine then falls on every mode alike,
    where timing one mode after the other let it decide the comparison (two earlier runs of this
    script disagreed on torch.compile by 0.87x against 1.48x)."""
    fns, warmup = {}, {}
    for m in modes:
        fns[m] = make_step(length, m)
        t0 = time.perf_counter()
        for _ in range(3):  # the compiled model's first steps include its compilation
            fns[m]()
        warmup[m] = time.perf_counter() - t0
    per_step: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(rounds):
        for m in modes:
            t0 = time.perf_counter()
            for _ in range(steps):
                fns[m]()
            per_step[m].append((time.perf_counter() - t0) / steps)
    return {m: (statistics.median(per_step[m]), warmup[m]) for m in modes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", default="101,500", help="comma-separated sequence lengths in tokens")
    ap.add_argument("--rounds", type=int, default=8, help="rounds in which every mode takes its turn")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per mode and round")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    modes = ["fp32", "bf16"] + (["compile"] if args.compile else [])
    print(
        f"torch {torch.__version__}, {args.threads} threads, batch 32, median of {args.rounds} rounds of "
        f"{args.steps} steps per mode, modes taking turns"
    )
    print(
        "| tokens | "
        + " | ".join(f"{m} ms/step" for m in modes)
        + " | "
        + " | ".join(f"{m} speed-up" for m in modes[1:])
        + " |"
    )
    print("|---:|" + "---:|" * (2 * len(modes) - 1))
    results = {}
    for length in (int(x) for x in args.lengths.split(",")):
        times = step_seconds(length, modes, args.rounds, args.steps)
        results[length] = {
            m: {"ms_per_step": round(t * 1000, 1), "warmup_s": round(w, 1)} for m, (t, w) in times.items()
        }
        row = [f"{times[m][0] * 1000:.0f}" for m in modes] + [
            f"{times['fp32'][0] / times[m][0]:.2f}×" for m in modes[1:]
        ]
        print(f"| {length} | " + " | ".join(row) + " |", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
