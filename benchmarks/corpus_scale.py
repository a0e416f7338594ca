"""Does a prepared corpus scale? (issue 17)

Generates FASTA genomes on the fly (random bases with N runs, 80-column lines, records of 50 Mbp;
nothing is committed), prepares corpora of 10 Mbp, 200 Mbp and 2 Gbp from them with
`vqdna.corpus.prepare_corpus`, then, in a fresh process per corpus, loads it (checksums verified)
and draws 100,000 training windows of 512 bp with the training sampler. Prints, per size:

- preparation speed (Mbp/s; the target is >= 50 Mbp/s on 2 cores) and disk size;
- windows per second (the target: not falling as the corpus grows);
- the drawing process's memory (the target: < 500 MB resident): its peak resident set, and at the
  end its private (anonymous) memory and its file-backed pages (shared libraries such as torch's;
  windows are read with pread, so the corpus itself is never mapped into the process).

Usage: .venv/bin/python benchmarks/corpus_scale.py [WORK_DIR]   (default: a temporary folder;
about 4.5 GB of disk at the largest size)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {"10 Mbp": 10_000_000, "200 Mbp": 200_000_000, "2 Gbp": 2_000_000_000}
if "--smoke" in sys.argv:  # a quick check of the script itself
    sys.argv.remove("--smoke")
    SIZES = {"1 Mbp": 1_000_000, "3 Mbp": 3_000_000}
RECORD_BP = 50_000_000
WINDOWS, WINDOW_BP = 100_000, 512

DRAW = r"""
import json, resource, sys, time
from vqdna.corpus import WindowSampler, load_corpus
t0 = time.time()
genomes = load_corpus(sys.argv[1])
loaded = time.time() - t0
sampler = WindowSampler(genomes, int(sys.argv[3]), seed=0)
t0 = time.time()
total = 0
for i in range(int(sys.argv[2])):
    total += int(sampler.window(i)[0])
seconds = time.time() - t0
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
kb = lambda key: int(status[key].split()[0]) if key in status else -1
print(json.dumps({"load_seconds": loaded, "draw_seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_anon_mb": kb("RssAnon") / 1024, "rss_file_mb": kb("RssFile") / 1024}))
"""


def write_fasta(path: Path, bp: int, seed: int) -> None:
    """Random bases in records of RECORD_BP, 80 per line, with a run of N every ~5 Mbp."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        for n, start in enumerate(range(0, bp, RECORD_BP)):
            length = min(RECORD_BP, bp - start)
            fh.write(f">chr{n + 1} generated\n".encode())
            for block in range(0, length, 8_000_000):  # whole lines of 80 per block of 8 Mbp
                size = min(8_000_000, length - block)
                seq = letters[rng.integers(0, 4, size, dtype=np.uint8)]
                for at in range(0, size - 1000, 5_000_000):
                    seq[at : at + 1000] = ord("N")
                full = size // 80 * 80
                rows = np.concatenate([seq[:full].reshape(-1, 80), np.full((full // 80, 1), 10, np.uint8)], axis=1)
                fh.write(rows.tobytes())
                if size > full:
                    fh.write(seq[full:].tobytes() + b"\n")


def main() -> None:
    from vqdna.corpus import prepare_corpus

    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="corpus_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for label, bp in SIZES.items():
            fasta = work / f"genome_{bp}.fa"
            t0 = time.time()
            write_fasta(fasta, bp, seed=len(rows))
            generated = time.time() - t0
            folder = work / f"corpus_{bp}"
            t0 = time.time()
            prepare_corpus([fasta], folder, quiet=True)
            prepare = time.time() - t0
            fasta.unlink()  # disk: the FASTA is not needed once the corpus holds it
            draw = subprocess.run(
                [sys.executable, "-c", DRAW, str(folder), str(WINDOWS), str(WINDOW_BP)],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(draw.stdout.strip().splitlines()[-1])
            rows.append(
                {
                    "size": label,
                    "generate_s": round(generated, 1),
                    "prepare_s": round(prepare, 1),
                    "prepare_mbp_s": round(bp / 1e6 / prepare, 1),
                    "disk_mb": round((folder / "bases.u8").stat().st_size / 1e6, 1),
                    "load_verify_s": round(m["load_seconds"], 2),
                    "windows_per_s": round(WINDOWS / m["draw_seconds"]),
                    "peak_rss_mb": round(m["peak_rss_mb"]),
                    "rss_anon_mb": round(m["rss_anon_mb"]),
                    "rss_file_mb": round(m["rss_file_mb"]),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            shutil.rmtree(folder)
    finally:
        if len(sys.argv) <= 1:
            shutil.rmtree(work, ignore_errors=True)
    print(
        "\n| corpus | prepare (Mbp/s) | disk (MB) | load + verify (s) | windows/s | private memory (MB) | mapped file pages (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']} | {r['prepare_mbp_s']} | {r['disk_mb']} | {r['load_verify_s']} | {r['windows_per_s']:,} "
            f"| {r['peak_rss_mb']} | {r['rss_anon_mb']} | {r['rss_file_mb']} |"
        )
    first, last = rows[0]["windows_per_s"], rows[-1]["windows_per_s"]
    print(f"\nwindows/s at {rows[-1]['size']} vs {rows[0]['size']}: {last / first:.2f}x")
    print(f"slowest preparation: {min(r['prepare_mbp_s'] for r in rows)} Mbp/s (target >= 50)")
    print(f"largest peak resident memory while drawing: {max(r['peak_rss_mb'] for r in rows)} MB (target < 500)")


if __name__ == "__main__":
    main()
