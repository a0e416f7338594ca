"""Fine-tuning time per epoch with the token cache (each split encoded once by the frozen tokenizer)
against tokenizing every batch on the fly, on one real task, measured in one run.

Without --model, the model is the `tiny` preset's VQ tokenizer (stride 1, K=512) and encoder
(4 × 256), with untrained weights: the cost of a step does not depend on the weights' values.

    python benchmarks/token_cache_speedup.py [--task ../shared/data/gue/mouse_tf_0] [--model DIR] [--steps 60] [--use-lora]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from vqdna.config import VQVAEConfig, load_preset
from vqdna.networks import VQVAE
from vqdna.seqio import load_task
from vqdna.tokenizers import VQTokenizer
from vqdna.training.finetune import finetune, resolve_finetune_config, schedule
from vqdna.training.pretrain import build_model, resolve_pretrain_config


def untrained_tiny_model(folder: Path) -> Path:
    preset = load_preset("tiny")
    torch.manual_seed(0)
    net = VQVAE(VQVAEConfig(**{**preset["vqvae"], **preset["levels"]["vq"]}))
    torch.nn.init.normal_(net.quantizer.levels[0].codebook)  # distinct codes (kmeans_init would set them in training)
    tokenizer = VQTokenizer(net)
    encoder, _ = resolve_pretrain_config("tiny")
    model = build_model(tokenizer, encoder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder / "tokenizer")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="../shared/data/gue/mouse_tf_0")
    ap.add_argument("--model", help="a model folder (default: an untrained tiny VQ model)")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--use-lora", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not Path(args.task, "train.csv").is_file():
        sys.exit(f"{args.task}: no task folder here (the development data lives in ../shared/data); pass --task")
    torch.set_num_threads(args.threads)
    train_rows = len(load_task(args.task).splits["train"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else untrained_tiny_model(tmp / "model")
        # dev is scored once, at the last step, so both runs do the same evaluation work
        config = {
            "max_steps": args.steps,
            "eval_steps": args.steps,
            "early_stopping_patience": None,
            "logging_steps": args.steps,
        }
        timings = {}
        for name, cache in (("on the fly", False), ("cache, first run (encodes)", True), ("cache, reused", True)):
            out = tmp / f"run_{len(timings)}"
            t0 = time.time()
            r = finetune(
                model,
                args.task,
                out,
                config={**config, "cache_tokens": cache},
                seeds=[1],
                use_lora=args.use_lora,
                cache_dir=tmp / "cache",
                quiet=True,
            )
            timings[name] = {
                "wall_seconds": round(time.time() - t0, 1),
                "train_seconds": r["per_seed"][0]["wall_seconds"],
            }
    cfg = resolve_finetune_config("tiny", config)
    per_epoch = schedule(cfg, train_rows)["steps_per_epoch"]
    base = timings["on the fly"]["train_seconds"]
    print(
        f"task {args.task} ({train_rows:,} training rows, {per_epoch} steps per epoch at batch {cfg.batch_size}), {args.steps} steps, "
        f"LoRA {args.use_lora}, {args.threads} threads"
    )
    print("| run | wall s (incl. loading, encoding) | training s | est. s per epoch | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, t in timings.items():
        epoch = t["train_seconds"] / args.steps * per_epoch
        print(
            f"| {name} | {t['wall_seconds']} | {t['train_seconds']} | {epoch:.0f} | {base / t['train_seconds']:.2f}× |"
        )
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
