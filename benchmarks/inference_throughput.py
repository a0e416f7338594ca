"""Throughput and memory of `vqdna embed` and `vqdna predict` on a file of 100,000 real sequences
(issue 18).

The input is the first `--sequences` rows of the GUE development tasks' training files (the
100-101 bp transcription-factor tasks of ../shared/data/gue, labels kept), written to one CSV in
a temporary folder: nothing is committed. Each command runs in its own process, as a user runs it;
its wall time and peak resident memory (from wait4) are printed as sequences/s and bp/s.

    .venv/bin/python benchmarks/inference_throughput.py --model runs/suite/mouse_tf_0/vq [--sequences 100000]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GUE = Path(__file__).resolve().parents[2] / "shared" / "data" / "gue"
TASKS = ("human_tf_1", "human_tf_2", "human_tf_3", "human_tf_4", "mouse_tf_0", "mouse_tf_1", "mouse_tf_4")


def write_input(path: Path, count: int) -> int:
    """`count` rows of sequence,label from the TF tasks' train.csv files; returns their bp."""
    bp = n = 0
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sequence", "label"])
        for task in TASKS:
            with open(GUE / task / "train.csv", newline="") as fh:
                for row in csv.DictReader(fh):
                    writer.writerow([row["sequence"], row["label"]])
                    bp, n = bp + len(row["sequence"]), n + 1
                    if n == count:
                        return bp
    raise SystemExit(f"only {n} sequences in {GUE} ({', '.join(TASKS)}); ask for fewer with --sequences")


def run(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one command in its own process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a vqdna finetune output folder (or model folder)")
    ap.add_argument("--sequences", type=int, default=100_000)
    args = ap.parse_args()
    if not GUE.is_dir():
        raise SystemExit(f"{GUE} is not here: this benchmark reads the development tasks in place")
    vqdna = [sys.executable, "-m", "vqdna.cli", "-q"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "sequences.csv"
        bp = write_input(source, args.sequences)
        print(f"{args.sequences:,} sequences, {bp:,} bp ({source.stat().st_size / 1e6:.1f} MB); model {args.model}")
        print("\n| command | wall s | sequences/s | bp/s | peak resident MB |")
        print("|---|---:|---:|---:|---:|")
        for command, output in (("embed", "e.npy"), ("predict", "p.csv")):
            argv = [*vqdna, command, "--model", str(args.model), "--csv", str(source), "--output", str(tmp / output)]
            seconds, peak = run(argv)
            print(
                f"| `{command}` | {seconds:.1f} | {args.sequences / seconds:,.0f} | {bp / seconds:,.0f} | {peak:,.0f} |"
            )


if __name__ == "__main__":
    main()
