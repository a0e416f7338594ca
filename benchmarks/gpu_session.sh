#!/usr/bin/env bash
# One lent GPU session, prepared here and run there in one call (issues 12 and 18): the GPU check
# (every stage at the `base` preset in bf16, throughput and MFU) and then the one-command benchmark
# at the `base` preset on one development task for a few minutes (tokenizer, pretraining, the
# fine-tuned model, its scratch twin and both baselines), whose curves come back.
#
#   bash benchmarks/gpu_session.sh prepare .gpu TASK_DIR   # here: data the machine cannot download
#   PYTHONPATH=src:.gpu/site bash benchmarks/gpu_session.sh run .gpu OUT [PRESET] [STEPS] [SECONDS]
#
# `prepare` copies the built-in genomes and janggu's peaks into .gpu/site/<package>/... (the
# layout `vqdna.builtin_data` finds with importlib.util.find_spec, so nothing is installed
# there) and one task folder into .gpu/task/. `run` gives each stage a hard time limit and packs
# every small result file (JSON, CSV, Markdown, PNG, logs; no weights) into OUT/gpu_session.tar.gz
# after each stage, so a stage cut short still returns what the earlier ones measured.
# A CPU smoke run (tests/test_benchmark_scripts.py): `run .gpu OUT tiny 3 120` with CUDA absent.
set -euo pipefail

mode=${1:?usage: gpu_session.sh prepare|run DIR ...}
dir=${2:?a folder for the carried data, e.g. .gpu}

if [[ $mode == prepare ]]; then
    task=${3:?prepare needs a task folder (train/dev/test.csv), e.g. ../shared/data/gue/mouse_tf_0}
    python=${PYTHON:-.venv/bin/python}
    "$python" - "$dir/site" <<'EOF'
import shutil, sys
from pathlib import Path
from vqdna.builtin_data import DATASETS, PRETRAINING_CORPUS
site = Path(sys.argv[1])
for name in [*PRETRAINING_CORPUS, "oct4_peaks", "mafk_peaks", "oct4_peaks_test", "mafk_peaks_test"]:
    dataset = DATASETS[name]
    target = site / dataset.package / dataset.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dataset.path(), target)
    (site / dataset.package / "__init__.py").touch()  # a regular package: found before any installed copy
    print(f"{name}: {target} ({target.stat().st_size / 1e6:.1f} MB)")
EOF
    rm -rf "$dir/task" && mkdir -p "$dir/task" && cp -r "$task" "$dir/task/"
    du -sh "$dir"
    exit 0
fi

[[ $mode == run ]] || { echo "gpu_session.sh: unknown mode $mode (prepare or run)" >&2; exit 2; }
out=${3:?run needs an output folder}
preset=${4:-base}
steps=${5:-200}     # training steps of each stage of the GPU check, and of tokenizer and pretraining below
seconds=${6:-240}   # the time limit of each of the two stages
python=${PYTHON:-python3}
work=$out/work
mkdir -p "$work"
vqdna() { "$python" -c 'import sys; from vqdna.cli import main; sys.argv[0] = "vqdna"; sys.exit(main())' "$@"; }
pack() {  # every small result file into one archive (the tool returns 8 files at most); never stops the script
    (cd "$work" && find . -type f \( -name '*.json' -o -name '*.csv' -o -name '*.md' -o -name '*.png' -o -name '*.log' \) \
        -size -4096k -print0 | tar -czf ../gpu_session.tar.gz --null -T -) || echo "pack: exit $?"
}
device=cuda
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || device=cpu
{
    "$python" -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)' || true
    if [[ $device == cuda ]]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true; fi
} 2>&1 | tee "$work/versions.log"

# 1. every stage at the preset, bf16 where the GPU has it (gpu_check.py prints one table)
check=(--output-dir "$work/check" --preset "$preset" --steps "$steps" --device "$device")
[[ $device == cpu ]] && check+=(--quick)
timeout -k 30 "$seconds" "$python" benchmarks/gpu_check.py "${check[@]}" 2>&1 | tee "$work/check.log" || echo "gpu check: exit $?"
pack

# 2. the one-command benchmark at the preset: what is missing is trained into OUT/models, with
# the tokenizer and pretraining cut to $steps steps (the preset's own budget is days), and the
# fine-tuning cut to $steps steps per seed; one seed: this measures throughput and the first points
# of the curves, not a result.
suite=$dir/task
limits="{\"max_steps\": $steps, \"save_steps\": $steps, \"warmup_steps\": $((steps / 10)), \"logging_steps\": $(((steps + 9) / 10))}"
export python  # the arguments travel as arguments, not pasted into code: any path works
timeout -k 30 "$seconds" bash -c "$(declare -f vqdna); vqdna \"\$@\"" _ -q benchmark --suite "$suite" \
    --output-dir "$work/bench" --preset "$preset" --tokenizers vq --tokenizer-config "$limits" --pretrain-config "$limits" \
    --step-budget "$steps" --eval-steps "$(((steps + 3) / 4))" --seeds 1 2>&1 | tee "$work/bench.log" || echo "benchmark: exit $?"
pack
ls -la "$out"
