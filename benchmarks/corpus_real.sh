#!/bin/bash
# Issue 17: the built-in plant corpus (A. thaliana chr1, A. lyrata chr1-2, A. arenosa chr1-2) plus
# the two bacteria, prepared once, then the same 30-step pretraining from the FASTA files and from
# the prepared corpus: preparation speed, disk, and each run's peak resident memory.
set -e
# usage: bash benchmarks/corpus_real.sh [WORK_DIR] [TOKENIZER_DIR]  (any tokenizer folder; the recorded run used the suite's VQ)
TOK=${2:-runs/suite/tokenizers/vq}
V=.venv/bin/vqdna
F=$(.venv/bin/python -c "
from vqdna.builtin_data import get_dataset
print(' '.join(str(get_dataset(k).path()) for k in ('a_thaliana_chr1','a_lyrata_chr1_chr2','a_arenosa_chr1_chr2','c_diphtheriae','e_coli')))")
W=${1:-runs/corpus_real}
rm -rf $W; mkdir -p $W
/usr/bin/time -v $V prepare-corpus --fasta $F --output-dir $W/corpus 2> $W/prepare.time
du -sb $W/corpus/bases.u8
CFG='{"eval_windows": 64, "save_steps": 30, "logging_steps": 10}'
/usr/bin/time -v $V -q pretrain --tokenizer $TOK --fasta $F --output-dir $W/from_fasta --max-steps 30 --config "$CFG" 2> $W/fasta.time
/usr/bin/time -v $V -q pretrain --tokenizer $TOK --corpus $W/corpus --output-dir $W/from_corpus --max-steps 30 --config "$CFG" 2> $W/corpus.time
for f in prepare fasta corpus; do echo "$f: $(grep -E 'Maximum resident|Elapsed' $W/$f.time | tr -s ' ' | tr '\n' ' ')"; done
.venv/bin/python - "$W" <<'PY'
import json, sys
W = sys.argv[1]
from safetensors.numpy import load_file
a = load_file(f"{W}/from_fasta/model.safetensors"); b = load_file(f"{W}/from_corpus/model.safetensors")
print("same weights:", all((a[k] == b[k]).all() for k in a))
for n in ("from_fasta", "from_corpus"):
    r = json.load(open(f"{W}/{n}/eval_results.json"))
    print(n, r["masked_accuracy"], r["wall_seconds"])
PY
