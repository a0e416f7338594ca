"""The GPU check: every stage of vqdna on one GPU with bfloat16, a few hundred steps each, and the
throughput of each, in one table (issue 18). About 10 minutes on one H100 with the defaults.

1. tokenizer training (VQ, `--preset`, bf16 autocast through the Trainer's `precision: auto`);
2. tokenizing throughput of that tokenizer, float32 and bfloat16, on the built-in genomes;
3. masked code modeling (pretraining) on its codes: tokens/s and model FLOPs utilisation (MFU:
   6 × parameters × tokens/s over the GPU's dense bf16 peak, `--peak-tflops`; attention's own
   FLOPs left out, as in the usual 6N estimate);
4. fine-tuning on janggu's Oct4 vs Mafk peaks (a real 2-class task): sequences/s.

    .venv/bin/python benchmarks/gpu_check.py --output-dir runs/gpu_check           # on a GPU machine
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick --output-dir X    # a smoke run (tests)

Needs the built-in data (`vqdna data --install`). Writes OUTPUT_DIR/gpu_check.json and prints the
table; every stage's folder (tokenizer, model, fine-tuning) is kept under OUTPUT_DIR.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from vqdna.alphabet import to_text
from vqdna.builtin_data import PRETRAINING_CORPUS, get_dataset, make_oct4_mafk_task
from vqdna.corpus import Genome
from vqdna.storage import package_versions
from vqdna.tokenizers import load_tokenizer
from vqdna.training.finetune import finetune
from vqdna.training.pretrain import pretrain
from vqdna.training.tokenizer import train_tokenizer

# dense bfloat16 peaks (TFLOP/s, no sparsity) of the GPUs this project is lent; others: --peak-tflops
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def encode_rate(tokenizer, texts: list[str], precision: str) -> float:
    """bp/s of encoding `texts` (after one warm-up batch), synchronised with the GPU."""
    tokenizer.precision = precision
    tokenizer.encode_batch(texts[:16])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    tokenizer.encode_batch(texts)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    tokenizer.precision = "fp32"
    return sum(map(len, texts)) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output-dir", type=Path, required=True)
    ap.add_argument("--preset", default="base", help="the vqdna preset of every stage (default: base, the paper's)")
    ap.add_argument("--steps", type=int, default=300, help="training steps of each stage")
    ap.add_argument("--encode-mbp", type=float, default=8.0, help="bases tokenized for the throughput row")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, for MFU (known: H100, H200, A100)")
    ap.add_argument(
        "--quick", action="store_true", help="tiny preset, 3 steps, 20 kbp, 200 training peaks: checks the script runs"
    )
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA GPU here: run this on a GPU machine, or --device cpu --quick for a smoke run")
    if args.quick:
        args.preset, args.steps, args.encode_mbp = "tiny", 3, 0.02
    device = torch.device(args.device)
    out = args.output_dir
    fasta = [str(get_dataset(key).path()) for key in PRETRAINING_CORPUS]
    rows, record = (
        [],
        {"preset": args.preset, "steps": args.steps, "device": str(device), "versions": package_versions()},
    )
    if device.type == "cuda":
        record["gpu"] = torch.cuda.get_device_name(device)

    # 1. tokenizer training
    t0 = time.perf_counter()
    train_tokenizer("vq", fasta, out / "tokenizer", preset=args.preset, max_steps=args.steps, quiet=True)
    seconds = time.perf_counter() - t0
    training = json.loads((out / "tokenizer" / "config.json").read_text())
    window_bp, batch = training["metadata"]["training"]["window_bp"], training["metadata"]["training"]["batch_size"]
    rows.append(
        ("tokenizer training (VQ)", args.steps, seconds, f"{args.steps * batch * window_bp / seconds:,.0f} bp/s", "")
    )

    # 2. tokenizing
    tokenizer = load_tokenizer(out / "tokenizer", device=device)
    genome = Genome.from_fasta(fasta[0])
    texts = [to_text(w) for w in genome.tile(1000)][: max(int(args.encode_mbp * 1000), 16)]
    for precision in ("fp32", "bf16"):
        rate = encode_rate(tokenizer, texts, precision)
        rows.append((f"tokenizing, {precision}", "", sum(map(len, texts)) / rate, f"{rate:,.0f} bp/s", ""))
        record[f"encode_{precision}_bp_per_second"] = rate

    # 3. pretraining
    result = pretrain(out / "tokenizer", fasta, out / "model", preset=args.preset, max_steps=args.steps, quiet=True)
    config = result["config"]
    tokens = (
        args.steps
        * config["batch_size"]
        * config["gradient_accumulation_steps"]
        * tokenizer.num_tokens(config["window_bp"])
    )
    rate = tokens / result["wall_seconds"]  # evaluation and saving included: a lower bound
    peak = args.peak_tflops or peak_tflops(device)
    mfu = 6 * result["parameters"] * rate / (peak * 1e12) if peak else None
    rows.append(
        ("pretraining", args.steps, result["wall_seconds"], f"{rate:,.0f} tokens/s", f"{mfu:.1%}" if mfu else "–")
    )
    record["pretrain"] = {
        "tokens_per_second": rate,
        "mfu": mfu,
        "parameters": result["parameters"],
        "peak_tflops": peak,
    }

    # 4. fine-tuning
    task = out / "oct4_mafk"
    if not (task / "task.json").is_file():
        make_oct4_mafk_task(task, max_train=200 if args.quick else None)
    ft = finetune(
        out / "model",
        task,
        out / "finetune",
        preset=args.preset,
        config={"max_steps": args.steps, "eval_steps": args.steps, "batch_size": 32},
        seeds=[1],
        quiet=True,
    )
    seed = ft["per_seed"][0]
    rate = seed["steps"] * 32 / seed["wall_seconds"]  # evaluation and testing included: a lower bound
    rows.append(
        ("fine-tuning (Oct4 vs Mafk, 200 bp)", seed["steps"], seed["wall_seconds"], f"{rate:,.1f} sequences/s", "")
    )
    record["finetune"] = {"sequences_per_second": rate, "test_mcc": ft["test_mcc"]}

    record["rows"] = [dict(zip(("stage", "steps", "seconds", "throughput", "mfu"), r)) for r in rows]
    (out / "gpu_check.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"\n{record.get('gpu', device)}, preset {args.preset}, torch {torch.__version__}\n")
    print("| stage | steps | wall s | throughput | MFU |")
    print("|---|---:|---:|---:|---:|")
    for stage, steps, seconds, throughput, mfu in rows:
        print(f"| {stage} | {steps} | {seconds:.1f} | {throughput} | {mfu} |")


if __name__ == "__main__":
    main()
