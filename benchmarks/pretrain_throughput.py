"""Masked code modeling training throughput: our encoder vs a plain transformers BertForMaskedLM
of the same size on the same batch, measured in one run.

Prints training tokens/s (forward, backward, AdamW step) for our model with code-id inputs and
with frozen quantized-codebook inputs (the VQ/HRQ default), and for BertForMaskedLM (sdpa
attention, learned positions), each as a ratio to BERT; bp/s for a stride-1 tokenizer (1 bp per
token) and for the `fast` preset (4 bp per token).

    python benchmarks/pretrain_throughput.py [--preset tiny] [--seq 256] [--batch 16] [--steps 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import BertConfig, BertForMaskedLM

from vqdna.config import load_preset
from vqdna.modeling import VQDNAConfig, VQDNAForMaskedCodeModeling
from vqdna.tokenizers import MASK_TOKEN_ID, NUM_SPECIAL


def batch(vocab: int, size: int, seq: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(NUM_SPECIAL, vocab, (size, seq), generator=g)
    masked = torch.rand(size, seq, generator=g) < 0.25
    labels = torch.where(masked, ids, torch.full_like(ids, -100))
    return {
        "input_ids": ids.masked_fill(masked, MASK_TOKEN_ID),
        "attention_mask": torch.ones_like(ids),
        "labels": labels,
    }


def time_training(model: torch.nn.Module, inputs: dict[str, torch.Tensor], steps: int, bf16: bool) -> float:
    """Median seconds per optimizer step."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**inputs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= 2:  # warm-up steps excluded
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--seq", type=int, default=256, help="tokens per sequence")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=NUM_SPECIAL + 512)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (CPU)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    p = load_preset(args.preset)["pretrain"]
    size = dict(
        hidden_size=p["hidden_size"],
        num_hidden_layers=p["num_hidden_layers"],
        num_attention_heads=p["num_attention_heads"],
        intermediate_size=p["intermediate_size"],
    )
    inputs = batch(args.vocab, args.batch, args.seq)

    torch.manual_seed(0)
    models = {
        "vqdna MCM, code-id inputs": VQDNAForMaskedCodeModeling(VQDNAConfig(level_vocab_sizes=[args.vocab], **size)),
        "vqdna MCM, quantized inputs (VQ default)": VQDNAForMaskedCodeModeling(
            VQDNAConfig(level_vocab_sizes=[args.vocab], input_mode="quantized", code_dim=64, **size)
        ),
        "transformers BertForMaskedLM (sdpa)": BertForMaskedLM(
            BertConfig(
                vocab_size=args.vocab, max_position_embeddings=max(512, args.seq), attn_implementation="sdpa", **size
            )
        ),
    }
    tokens = args.batch * args.seq
    print(
        f"preset {args.preset}: {size}, batch {args.batch} x {args.seq} tokens, {args.threads} threads, {'bf16' if args.bf16 else 'fp32'}, torch {torch.__version__}"
    )
    rates = {}
    for name, model in models.items():
        params = sum(q.numel() for q in model.parameters())
        rates[name] = tokens / time_training(model, inputs, args.steps, args.bf16)
        print(f"  timed {name} ({params / 1e6:.2f}M parameters): {rates[name]:,.0f} tokens/s", flush=True)
    bert = rates["transformers BertForMaskedLM (sdpa)"]
    print()
    print("| model | training tokens/s | × BERT | bp/s at 1 bp/token (tiny) | bp/s at 4 bp/token (fast) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rates.items():
        print(f"| {name} | {r:,.0f} | {r / bert:.2f} | {r:,.0f} | {4 * r:,.0f} |")


if __name__ == "__main__":
    main()
