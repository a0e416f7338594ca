#!/usr/bin/env bash
# Issue 12's pretraining levers, judged by what they do downstream (test MCC of the fine-tuned
# model, the `tiny` recipe, several seeds), not by masked accuracy. Every variant pretrains an
# encoder on the SAME tokenizer, with the `tiny` preset's pretraining changed in one setting, then
# all of them are fine-tuned side by side by one `vqdna benchmark` (no baselines, no scratch
# twins: those rows are in the suite's table). The control is the suite's own encoder.
#
# Usage, from the repository root (after `make setup`; the suite's models trained by the
# benchmark of benchmarks/README.md, "Every row, 3 seeds"):
#   bash benchmarks/pretrain_ablation.sh TOKENIZER_DIR CONTROL_MODEL SUITE OUT [TASKS] [SEEDS] [VARIANTS]
#   bash benchmarks/pretrain_ablation.sh runs/suite/tokenizers/vq runs/suite/models/vq ../shared/data/gue runs/ablation
# A rerun reuses every finished encoder and fine-tuning cell (one can stop it at any point).
set -euo pipefail
TOK=$1 CONTROL=$2 SUITE=$3 OUT=$4
TASKS=${5:-mouse_tf_0,mouse_tf_3}
SEEDS=${6:-1,2,3}
VARIANTS=${7:-bases_isolated,bases_spans,steps_200,steps_3200,layers_2,width_256,human_peaks}
BIN=${BIN:-.venv/bin}
corpus() {  # the built-in pretraining corpus files (the suite's encoders were pretrained on them)
  "$BIN/python" -c "
from vqdna.builtin_data import PRETRAINING_CORPUS, get_dataset
print(' '.join(str(get_dataset(k).path()) for k in [*PRETRAINING_CORPUS, *'$1'.split()]))"
}
CORPUS=$(corpus "")
# name -> pretrain arguments beyond the preset (the control: the preset as it is)
declare -A ARGS=(
  [bases_isolated]="--base-loss-weight 1.0"                  # + the masked-base head, isolated tokens masked
  [bases_spans]="--base-loss-weight 1.0 --config '{\"span_tokens\": null}'"  # + the head, leak-free spans
  [steps_200]="--max-steps 200"                              # the pretraining curve: 200, 800 (control), 3200 steps
  [steps_3200]="--max-steps 3200"
  [layers_2]="--num-hidden-layers 2"                         # encoder size: 2 x 128, 4 x 128 (control), 4 x 256
  [width_256]="--hidden-size 256 --intermediate-size 1024"
  [default]=""  # the preset as it is, by this script's route: to check that it equals the control
)
# the corpus size: each built-in genome cut to its first N bp (species stay equally weighted, as in
# the control). 800 steps of 32 windows of 100 bp read 2.56 Mbp: the full corpus (32.5 Mbp) is seen
# once at most, 1 Mbp about 2.6 times, 100 kbp about 26 times.
declare -A CORPUS_BP=([corpus_1mbp]=500000 [corpus_100kbp]=50000)
first_bp() {  # first_bp OUT_DIR N FASTA...: each FASTA's first N bp (whole records, the last one cut)
  "$BIN/python" - "$@" <<'PY'
import sys
from pathlib import Path
from vqdna.alphabet import to_text
from vqdna.seqio import iter_fasta
from vqdna.storage import write_text
out, n, paths = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
for path in paths:
    target = out / (Path(path).name.split(".")[0] + f".first{n}.fa")
    if not target.is_file():
        left, lines = n, []
        for record in iter_fasta(path):
            text = to_text(record.ids[:left])
            lines += [f">{record.name} first {len(text)} bp", *(text[i : i + 80] for i in range(0, len(text), 80))]
            left -= len(text)
            if left == 0:
                break
        write_text(target, "\n".join(lines) + "\n")  # atomic: a cut file is never taken for a finished one
    print(target)
PY
}
MODELS="control=$CONTROL"
for v in ${VARIANTS//,/ }; do
  dir=$OUT/models/$v
  MODELS="$MODELS,$v=$dir"
  [[ -f $dir/eval_results.json ]] && continue
  if [[ -n ${CORPUS_BP[$v]+x} ]]; then
    # shellcheck disable=SC2086
    files=$(first_bp "$OUT/corpus" "${CORPUS_BP[$v]}" $CORPUS)  # its own statement, so set -e sees a failure
    # shellcheck disable=SC2086
    "$BIN/vqdna" pretrain --tokenizer "$TOK" --fasta $files --preset tiny --output-dir "$dir" --resume
  elif [[ $v == human_peaks ]]; then  # + janggu's 7,797 human ChIP-seq peaks (training sets only), a third of the windows
    # shellcheck disable=SC2046
    "$BIN/vqdna" pretrain --tokenizer "$TOK" --fasta $(corpus "oct4_peaks mafk_peaks") --species-weights 1,1,0.5,0.5 \
      --preset tiny --output-dir "$dir" --resume
  else
    [[ -n ${ARGS[$v]+x} ]] || { echo "unknown variant $v (choose from ${!ARGS[*]} ${!CORPUS_BP[*]} human_peaks)" >&2; exit 2; }
    eval "extra=(${ARGS[$v]})"  # the variant's arguments as words (its JSON stays one)
    # shellcheck disable=SC2086
    "$BIN/vqdna" pretrain --tokenizer "$TOK" --fasta $CORPUS --preset tiny --output-dir "$dir" --resume "${extra[@]}"
  fi
done
"$BIN/vqdna" benchmark --suite "$SUITE" --tasks "$TASKS" --tokenizers "$MODELS" --baselines none --no-scratch \
  --preset tiny --seeds "$SEEDS" --output-dir "$OUT/bench"
"$BIN/python" - "$OUT" "$CONTROL" "$VARIANTS" <<'PY'
import json, sys
from pathlib import Path
out, control, variants = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
print("\nencoder | steps | masked accuracy (evaluation spans) | frequency baseline | masked base accuracy | pretraining wall (s)")
for name, folder in [("control", control), *((v, out / "models" / v) for v in variants)]:
    r = json.loads((folder / "eval_results.json").read_text())
    base = r.get("masked_base_accuracy")
    print(f"{name} | {r['steps']} | {r['masked_accuracy'][0]:.4f} | {r['baseline_accuracy'][0]:.4f} | "
          f"{'' if base is None else f'{base:.4f}'} | {r['wall_seconds']}")
print(f"\nfine-tuned, test MCC: {out / 'bench' / 'results.md'}")
PY
# the pretraining curves beside the downstream MCC they led to: $OUT/pretraining_curves.png
"$BIN/python" "$(dirname "$0")/ablation_curves.py" "$OUT" "$CONTROL"
