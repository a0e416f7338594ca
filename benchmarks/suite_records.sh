#!/usr/bin/env bash
# The records of a `vqdna benchmark` folder without its weights: every cell's run marker, settings
# and per-seed results, and the tables. They are what the published tables were made from, small
# enough to commit (benchmarks/results/), and they let a later run on another machine reuse the
# finished cells: put them back, let the benchmark retrain its tokenizers and encoders, and it reuses
# a cell only where the rebuilt encoder's weights and the task files have the sha256 the cell
# recorded (anything else is refused with an error naming the cell, nothing is overwritten).
#
#   bash benchmarks/suite_records.sh save runs/suite benchmarks/results/gue_tiny
#   bash benchmarks/suite_records.sh restore benchmarks/results/gue_tiny runs/suite
set -euo pipefail

usage() { echo "usage: $0 save RUN_DIR RECORDS_DIR | restore RECORDS_DIR RUN_DIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
mode=$1 src=$2 dest=$3
[ -d "$src" ] || { echo "$0: $src: no such folder" >&2; exit 1; }
case $mode in
save)
    [ -f "$src/run.json" ] || { echo "$0: $src is not a benchmark folder (no run.json)" >&2; exit 1; }
    mkdir -p "$dest"
    # models/ and tokenizers/ are rebuilt, token_cache/ is recomputed; checkpoints, fine-tuned models and
    # the step-by-step training logs (27 kB a seed) stay behind
    (cd "$src" && find . \( -path ./models -o -path ./tokenizers -o -path ./token_cache -o -name checkpoints -o -name model \) -prune \
        -o -type f \( -name '*.json' -o -name 'results.csv' -o -name 'results.md' -o -name 'results.png' \) \
        ! -name training_log.json -print |
        LC_ALL=C sort | tar -cf - -T -) | tar -xf - -C "$dest"
    echo "saved the records of $src to $dest ($(find "$dest" -type f | wc -l) files)"
    ;;
restore)
    mkdir -p "$dest"
    # a cell folder already in the run folder, finished or not, is kept as it is: restoring a record's
    # run marker over an unfinished run, or beside stray seeds of another run, would mix two runs
    clash=$(cd "$src" && find . -mindepth 3 -maxdepth 3 -type f -name run.json | while read -r f; do
        d=$(dirname "$f"); if [ -e "$dest/$d" ]; then echo "$d/"; fi; done)
    if [ -n "$clash" ]; then
        echo "$0: $dest already holds these cells (finished or not); nothing was restored:" >&2
        echo "$clash" >&2
        exit 1
    fi
    # the folder's own files (run.json, benchmark.json) are never overwritten either
    (cd "$src" && find . -type f -name '*.json' -print | LC_ALL=C sort | tar -cf - -T -) | tar -xf - --skip-old-files -C "$dest"
    echo "restored the records of $src into $dest; rerun the benchmark command to reuse them"
    ;;
*) usage ;;
esac
