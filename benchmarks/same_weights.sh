#!/usr/bin/env bash
# Does a code change leave training unchanged? Runs the four training stages (a few steps each)
# with the vqdna source of an older commit and with this checkout's, then compares the saved
# weights (sha256 over every tensor) and scores. Usage, from the repository root:
#   bash benchmarks/same_weights.sh OLD_COMMIT MODEL_DIR TASK_DIR
# MODEL_DIR: a pretrained model folder to fine-tune; TASK_DIR: a small task folder (train/dev/test.csv).
set -euo pipefail
OLD=$1 MODEL=$2 TASK=$3
WORK=$(mktemp -d)
git worktree add -f "$WORK/src_old" "$OLD" -q
PY=$PWD/.venv/bin/python
GENOME=$($PY -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('pyrodigal').origin).parent / 'tests/data/MIIJ01000039.fna.gz')")
run() {  # $1 source folder, $2 output folder
  export PYTHONPATH=$1
  $PY -m vqdna.cli -q finetune --model "$MODEL" --data-path "$TASK" --output-dir "$2/ft" --seeds 1 --config '{"max_steps": 20, "eval_steps": 10}'
  $PY -m vqdna.cli -q train-tokenizer --kind hrq --fasta "$GENOME" --output-dir "$2/tok" --max-steps 12
  $PY -m vqdna.cli -q pretrain --tokenizer "$2/tok" --fasta "$GENOME" --output-dir "$2/pre" --max-steps 12 --config '{"eval_windows": 32}'
  $PY -m vqdna.cli -q baseline --kind cnn --data-path "$TASK" --output-dir "$2/cnn" --seeds 1 --config '{"max_steps": 20, "eval_steps": 10}'
}
run "$WORK/src_old/src" "$WORK/old"
run "$PWD/src" "$WORK/new"
git worktree remove --force "$WORK/src_old"
$PY - "$WORK" <<'PY'
import hashlib, json, sys
from pathlib import Path
from safetensors.numpy import load_file
work = Path(sys.argv[1])
def digest(path):
    tensors, h = load_file(path), hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode()); h.update(tensors[name].tobytes())
    return h.hexdigest()[:16]
same = True
for stage, weights in (("tok", "model.safetensors"), ("pre", "model.safetensors"), ("ft", "seed_1/model/model.safetensors"), ("cnn", "seed_1/model/model.safetensors")):
    a, b = digest(work / "old" / stage / weights), digest(work / "new" / stage / weights)
    same &= a == b
    print(f"{stage:4s} weights  old {a}  new {b}  {'same' if a == b else 'DIFFERENT'}")
for stage, key in (("ft", "test_mcc"), ("cnn", "test_mcc"), ("pre", "masked_accuracy")):
    a, b = (json.loads((work / v / stage / "eval_results.json").read_text())[key] for v in ("old", "new"))
    print(f"{stage:4s} {key}  old {a}  new {b}")
sys.exit(0 if same else 1)
PY
