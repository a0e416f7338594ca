#!/usr/bin/env bash
# The long measurements still open, in the order they are wanted, one after the other (never two
# heavy jobs at once on 2 cores). Every step reuses what is finished and resumes an interrupted
# seed from its checkpoint, so a session starts this again and it goes on where the last one
# stopped:
#
#   nohup bash benchmarks/backlog.sh > runs/backlog.log 2>&1 &
#
# It runs in a process group of its own, whose id it writes to runs/backlog.pid. Pause it for the
# tests with `kill -STOP -- -$(cat runs/backlog.pid)` (and -CONT after), which stops this script and
# every command it started, nothing else: a paused seed's wall time then counts the pause; say so
# where it is published.
# Needs the development data beside the checkout (../shared/data). Results: benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${BACKLOG_GROUP:-} ]]; then  # once: start again as the leader of a new process group
    BACKLOG_GROUP=1 exec setsid --wait bash "$0" "$@"
fi
mkdir -p runs && echo $$ > runs/backlog.pid
BIN=${BIN:-.venv/bin}
GUE=${GUE:-../shared/data/gue}
EEP=${EEP:-../shared/data/eep}
SARS=${SARS:-../shared/data/sars_cov_2}
step() { echo "=== $(date -u '+%F %T') $*"; }

# The finished steps (issue 11's four tasks, the pretraining ablation, mouse_tf_3, the head and LoRA's
# rank, the remeasured cells, the corpus size) left this script; each one's command is beside its
# table in benchmarks/README.md.

# The suite's tokenizers and encoders (runs/suite/models) are rebuilt when a session's runs/ is gone,
# then checked against the committed records: the five tasks' cells are reused only where the rebuilt
# encoder has the weights (sha256) the cell recorded, so this step fails loudly if the rebuild differs.
step "the suite's encoders, rebuilt and checked against benchmarks/results/gue_tiny"
[[ -f runs/suite/run.json ]] || bash benchmarks/suite_records.sh restore benchmarks/results/gue_tiny runs/suite
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer --tasks emp_H3,prom_300_notata,mouse_tf_0,mouse_tf_3,human_tf_1

# Issue 13: guide-RNA editing efficiency (regression, Spearman; strand-specific: one strand).
# wang2019_wt first; then wang2019_esp's 6-mer rows, which never ran; then its other rows, which ran
# in session 16 (published in benchmarks/README.md) but whose records were lost with that
# session's runs/ (the same encoders, rebuilt bit for bit), so they run again.
step "issue 13: Wang 2019 regression"
wang() {
    "$BIN/vqdna" benchmark --suite "$EEP" --output-dir runs/eep --preset tiny --seeds 1,2,3 \
        --models-dir runs/suite/models --no-reverse-complement "$@"
}
wang --tasks wang2019_wt --tokenizers vq,hrq,bpe,kmer
wang --tasks wang2019_esp --tokenizers kmer --baselines none
wang --tasks wang2019_esp --tokenizers vq,hrq,bpe,kmer

# Issue 13: linear probes on the whole SARS-CoV-2 variant task (all 1 kbp fragments, split by
# genome), as the paper's COVID probe: each frozen tokenizer and each pretrained encoder. The probe's
# L2 search now extends past a grid edge that wins on dev (several probes of session 17 chose the
# grid's smallest L2), so they run again into runs/probes13_l2search; the k-mer baseline (its own
# C grid, C=0.1 chosen inside it) stays in runs/probes13.
step "issue 13: SARS-CoV-2 variant probes, the L2 search extended"
# train.csv is written last by make-task: without it the folder is unfinished, and make-task resumes it
if [[ ! -f runs/tasks13/variants_all/train.csv ]]; then
    "$BIN/vqdna" make-task variants --fasta "$SARS/nextclade_example_genomes.fasta.gz" \
        --labels "$SARS/nextclade_example_genomes.labels.tsv" --label-column who_variant --output-dir runs/tasks13/variants_all
fi
for k in vq hrq bpe kmer; do
    [[ -f runs/probes13_l2search/tokenizer_$k/eval_results.json ]] || "$BIN/vqdna" -q probe \
        --tokenizer runs/suite/models/$k/tokenizer --data-path runs/tasks13/variants_all --output-dir runs/probes13_l2search/tokenizer_$k
    [[ -f runs/probes13_l2search/encoder_$k/eval_results.json ]] || "$BIN/vqdna" -q probe \
        --model runs/suite/models/$k --data-path runs/tasks13/variants_all --output-dir runs/probes13_l2search/encoder_$k
done
[[ -f runs/probes13/kmer-lr/eval_results.json ]] || "$BIN/vqdna" -q baseline --kind kmer-lr \
    --data-path runs/tasks13/variants_all --output-dir runs/probes13/kmer-lr
# The kmer-lr baseline counts every overlapping 6-mer; the 6-mer tokenizer's probe counts
# non-overlapping ones. An overlapping 6-mer tokenizer through the same probe tells which of the two
# differences between them (overlap, or the fits' features and grids) costs the probe its points.
# A k-mer tokenizer learns nothing from its FASTA (only recorded as its input).
KMER6_OVERLAPPING=runs/tasks13/kmer6_overlapping
grep -qs '"finished": true' $KMER6_OVERLAPPING/run.json || "$BIN/vqdna" -q train-tokenizer --kind kmer \
    --config '{"kmer": {"k": 6, "overlapping": true}}' --output-dir $KMER6_OVERLAPPING \
    --fasta "$("$BIN/python" -c 'import pyrodigal, pathlib; print(next(pathlib.Path(pyrodigal.__file__).parent.glob("tests/data/GCF_001457455.1*.fna.gz")))')"
[[ -f runs/probes13_l2search/tokenizer_kmer6_overlapping/eval_results.json ]] || "$BIN/vqdna" -q probe \
    --tokenizer $KMER6_OVERLAPPING --data-path runs/tasks13/variants_all --output-dir runs/probes13_l2search/tokenizer_kmer6_overlapping

# Issue 13: SARS-CoV-2 variants fine-tuned, on the whole task (7,035 training fragments of 1 kbp),
# one epoch, one strand (genomes are given in one orientation). The first plan, 4 fragments per
# genome for 8 epochs (1,008 training fragments, the same number of steps), left too few examples:
# the CNN baseline learned nothing there (dev MCC ≤ 5, test 4.2 ± 5.1), the VQ model still
# answered the largest class on dev after 2 epochs, and kmer-lr fell from 60 to 37 test MCC
# (records: benchmarks/results/variants_4_baselines). One pass over 7,035 distinct fragments costs
# what 8 passes over 1,008 do (220 against 256 steps).
step "issue 13: SARS-CoV-2 variants, fine-tuned"
"$BIN/vqdna" benchmark --suite runs/tasks13 --tasks variants_all --output-dir runs/variants_all --preset tiny \
    --seeds 1,2,3 --models-dir runs/suite/models --tokenizers vq,hrq,bpe,kmer --no-reverse-complement \
    --num-train-epochs 1

# Issue 12: the whole development suite, every row, 3 seeds (the 7 tasks still open: about 19 CPU hours).
step "issue 12: the 12 development tasks"
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer

# After both issues' measurements (it is none of issue 13's points): Wang 2019's training length.
# With the `tiny` recipe (5 epochs, at most 3,000 steps) the VQ model's dev Spearman was still
# rising at the cap (0.675 after epoch 1, 0.710 at step 3,000 = 2 epochs), while the CNN trains up to 20 epochs; a 23-nt step costs about a fifth of a
# 100 bp one, so 10 epochs (14,660 steps, early stopping on dev) fit about 11 minutes per seed.
step "Wang 2019, 10 epochs"
"$BIN/vqdna" benchmark --suite "$EEP" --tasks wang2019_esp --output-dir runs/eep_10epochs --preset tiny \
    --seeds 1,2,3 --models-dir runs/suite/models --tokenizers vq,hrq --baselines none --no-reverse-complement \
    --num-train-epochs 10 --step-budget 15000

step "backlog done"
