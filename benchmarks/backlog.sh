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

# Issue 11: the four development tasks with every row and 3 seeds (the encoders are trained into
# runs/suite/models by this command if they are missing; the saved records can be put back first
# with benchmarks/suite_records.sh restore).
step "issue 11: emp_H3 and prom_300_notata, every row"
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer --tasks emp_H3,prom_300_notata

# Issue 12: the pretraining levers against the suite's VQ encoder (mouse_tf_0 and mouse_tf_3).
step "issue 12: pretraining ablation"
bash benchmarks/pretrain_ablation.sh runs/suite/models/vq/tokenizer runs/suite/models/vq "$GUE" runs/ablation

# Issue 12: mouse_tf_3, every row (the suite's fifth task; the ablation's second task needs its
# baselines and scratch twin beside it).
step "issue 12: mouse_tf_3, every row"
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer --tasks mouse_tf_3

# Issue 12: the head and LoRA's rank, against the `tiny` recipe on mouse_tf_0 (max pooling, full
# fine-tuning: 60.45 ± 1.00 over these seeds, benchmarks/README.md "Reverse-complement augmentation").
step "issue 12: head and LoRA rank"
for pooling in mean cls; do
    "$BIN/vqdna" benchmark --suite "$GUE" --tasks mouse_tf_0 --tokenizers vq=runs/suite/models/vq --baselines none \
        --no-scratch --seeds 1,2,3 --preset tiny --pooling $pooling --output-dir runs/levers/pooling_$pooling
done
for r in 8 32; do
    "$BIN/vqdna" benchmark --suite "$GUE" --tasks mouse_tf_0 --tokenizers vq=runs/suite/models/vq --baselines none \
        --no-scratch --seeds 1,2,3 --preset tiny --use-lora --lora-r $r --lora-alpha $((2 * r)) --learning-rate 1e-3 \
        --output-dir runs/levers/lora_r$r
done

# Issue 12: the cells of the five-task summary that have no records, remeasured with records kept:
# mouse_tf_0 (every row) and human_tf_1's vq, vq-scratch and cnn ran before records were kept and
# were lost with an early session's runs/ (human_tf_1's other cells are reused in seconds).
step "issue 12: mouse_tf_0 and human_tf_1, the cells without records (remeasured)"
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer --tasks mouse_tf_0,human_tf_1

# Issue 12: the pretraining corpus's size (each built-in genome cut to its first 500 kbp or 50 kbp),
# beside the ablation's other encoders (all reused).
step "issue 12: pretraining corpus size"
bash benchmarks/pretrain_ablation.sh runs/suite/models/vq/tokenizer runs/suite/models/vq "$GUE" runs/ablation \
    mouse_tf_0,mouse_tf_3 1,2,3 bases_isolated,bases_spans,steps_200,steps_3200,layers_2,width_256,human_peaks,corpus_1mbp,corpus_100kbp

# Issue 13: guide-RNA editing efficiency (regression, Spearman; strand-specific: one strand).
step "issue 13: Wang 2019 regression"
"$BIN/vqdna" benchmark --suite "$EEP" --output-dir runs/eep --preset tiny --seeds 1,2,3 \
    --models-dir runs/suite/models --tokenizers vq,hrq,bpe,kmer --no-reverse-complement

# Issue 13: linear probes on the whole SARS-CoV-2 variant task (all 1 kbp fragments, split by
# genome), as the paper's COVID probe: each frozen tokenizer and each pretrained encoder, beside the
# k-mer baseline (deterministic: one fit).
step "issue 13: SARS-CoV-2 variant probes"
# train.csv is written last by make-task: without it the folder is unfinished, and make-task resumes it
if [[ ! -f runs/tasks13/variants_all/train.csv ]]; then
    "$BIN/vqdna" make-task variants --fasta "$SARS/nextclade_example_genomes.fasta.gz" \
        --labels "$SARS/nextclade_example_genomes.labels.tsv" --label-column who_variant --output-dir runs/tasks13/variants_all
fi
for k in vq hrq bpe kmer; do
    [[ -f runs/probes13/tokenizer_$k/eval_results.json ]] || "$BIN/vqdna" -q probe --tokenizer runs/suite/models/$k/tokenizer \
        --data-path runs/tasks13/variants_all --output-dir runs/probes13/tokenizer_$k
    [[ -f runs/probes13/encoder_$k/eval_results.json ]] || "$BIN/vqdna" -q probe --model runs/suite/models/$k \
        --data-path runs/tasks13/variants_all --output-dir runs/probes13/encoder_$k
done
[[ -f runs/probes13/kmer-lr/eval_results.json ]] || "$BIN/vqdna" -q baseline --kind kmer-lr \
    --data-path runs/tasks13/variants_all --output-dir runs/probes13/kmer-lr

# Issue 13: SARS-CoV-2 variants fine-tuned, 4 fragments of 1 kbp per genome (the full task's 7,035
# training fragments at 1,000 tokens each would cost about 10 CPU hours per row), 8 epochs as in
# GUE's covid task, one strand (genomes are given in one orientation).
step "issue 13: SARS-CoV-2 variants"
if [[ ! -f runs/tasks13/variants_4/train.csv ]]; then
    "$BIN/vqdna" make-task variants --fasta "$SARS/nextclade_example_genomes.fasta.gz" \
        --labels "$SARS/nextclade_example_genomes.labels.tsv" --label-column who_variant \
        --fragments-per-genome 4 --output-dir runs/tasks13/variants_4
fi
"$BIN/vqdna" benchmark --suite runs/tasks13 --tasks variants_4 --output-dir runs/variants --preset tiny \
    --seeds 1,2,3 --models-dir runs/suite/models --tokenizers vq,hrq,bpe,kmer --no-reverse-complement \
    --num-train-epochs 8

# Issue 13: Wang 2019's training length. With the `tiny` recipe (5 epochs, at most 3,000 steps)
# the VQ model's dev Spearman was still rising at the cap (0.675 after epoch 1, 0.710 at step
# 3,000 = 2 epochs), while the CNN trains up to 20 epochs; a 23-nt step costs about a fifth of a
# 100 bp one, so 10 epochs (14,660 steps, early stopping on dev) fit about 11 minutes per seed.
step "issue 13: Wang 2019, 10 epochs"
"$BIN/vqdna" benchmark --suite "$EEP" --tasks wang2019_esp --output-dir runs/eep_10epochs --preset tiny \
    --seeds 1,2,3 --models-dir runs/suite/models --tokenizers vq,hrq --baselines none --no-reverse-complement \
    --num-train-epochs 10 --step-budget 15000

# Issue 12: the whole development suite, every row, 3 seeds (about 35 CPU hours).
step "issue 12: the 12 development tasks"
"$BIN/vqdna" benchmark --suite "$GUE" --output-dir runs/suite --preset tiny --seeds 1,2,3 \
    --tokenizers vq,hrq,bpe,kmer
step "backlog done"
