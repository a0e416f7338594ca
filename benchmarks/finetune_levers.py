"""Screening fine-tuning levers fast: one seed, a fixed short budget, the dev MCC of one task.

Not the fine-tuning command (no early stopping, no checkpoints, no test set): a plain loop over
cached token ids that trains every weight of a model folder's encoder plus a new head for
`--epochs` (AdamW, batch 32, warm-up 30 steps then linear decay, gradient clipping at 1) and
prints the dev MCC, so that many levers can be compared in a minute each. A lever that wins here
is then measured with `vqdna benchmark` (several seeds, early stopping, test set).

    python benchmarks/finetune_levers.py --model demo_output/models/vq --task ../shared/data/gue/mouse_tf_0 \
        --pooling mean --lr 1e-3 [--scratch] [--input-mode ids]

`--input-mode` rebuilds the encoder with that input (randomly initialised: a scratch model);
`--pooling meanmax` (the sum of mean and max pooling) exists only here, as an exploration.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vqdna.evaluation.metrics import classification_metrics
from vqdna.inference import load_model, load_model_tokenizer
from vqdna.modeling import VQDNAForSequenceClassification, max_pool, mean_pool
from vqdna.seqio import load_task
from vqdna.training.token_cache import TokenCache


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--task", required=True, type=Path)
    ap.add_argument("--pooling", choices=("mean", "max", "meanmax"), default="mean")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument(
        "--scratch", action="store_true", help="random encoder weights (the tokenizer's codebook buffers kept)"
    )
    ap.add_argument(
        "--input-mode", choices=("ids", "quantized"), help="rebuild the encoder with this input (random start)"
    )
    ap.add_argument("--cache", type=Path, default=Path("runs/finetune_levers_cache"))
    args = ap.parse_args()

    torch.manual_seed(0)
    task = load_task(args.task)
    tokenizer = load_model_tokenizer(args.model)
    cache = TokenCache(args.cache, tokenizer)
    ids = {s: cache.encode(s, task.splits[s].sequences)[0] for s in ("train", "dev")}
    model = load_model(args.model, VQDNAForSequenceClassification, num_labels=task.num_labels)
    scratch = args.scratch
    if args.input_mode and args.input_mode != model.config.input_mode:
        config = model.config
        config.input_mode = args.input_mode
        model, scratch = VQDNAForSequenceClassification(config), True
    elif scratch:
        codebooks = {k: v for k, v in model.state_dict().items() if "codebook" in k}
        model = VQDNAForSequenceClassification(model.config)
        model.load_state_dict(codebooks, strict=False)

    def forward(batch: dict) -> torch.Tensor:
        hidden = model.vqdna(batch["input_ids"], batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"]
        pooled = {
            "mean": lambda: mean_pool(hidden, mask),
            "max": lambda: max_pool(hidden, mask),
            "meanmax": lambda: mean_pool(hidden, mask) + max_pool(hidden, mask),
        }[args.pooling]()
        return model.classifier(pooled)

    def dev_mcc() -> float:
        model.eval()
        with torch.no_grad():
            preds = torch.cat(
                [forward(tokenizer.pad(ids["dev"][i : i + 256])).argmax(-1) for i in range(0, len(ids["dev"]), 256)]
            )
        model.train()
        return classification_metrics(task.targets["dev"], preds.numpy())["mcc"]

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    y = torch.as_tensor(task.targets["train"]).long()
    n, batch_size = len(y), 32
    steps = int(args.epochs * n / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1, (s + 1) / 30) * max(0.0, 1 - s / steps))
    generator = torch.Generator().manual_seed(1)
    order, losses, started = torch.randperm(n, generator=generator), [], time.time()
    for step in range(steps):
        rows = order[(step * batch_size) % n : (step * batch_size) % n + batch_size]
        if len(rows) < 2:  # the ragged end of an epoch: reshuffle
            order = torch.randperm(n, generator=generator)
            continue
        loss = F.cross_entropy(forward(tokenizer.pad([ids["train"][i] for i in rows])), y[rows])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 100 == 0:
            print(
                f"step {step + 1} train loss {np.mean(losses[-100:]):.4f} ({time.time() - started:.0f} s)", flush=True
            )
    print(
        f"{args.model} {'scratch' if scratch else 'pretrained'} input={model.config.input_mode} pooling={args.pooling} "
        f"lr={args.lr:g} epochs={args.epochs:g}: dev MCC {dev_mcc():.4f} ({time.time() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
