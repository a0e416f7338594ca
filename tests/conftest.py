import gzip
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(2)


def pyrodigal_file(name: str) -> Path:
    """A real genome shipped inside the pyrodigal package (read in place, never copied)."""
    spec = importlib.util.find_spec("pyrodigal")
    if spec is None or spec.origin is None:
        pytest.skip("pyrodigal is not installed: `pip install pyrodigal==3.7.1` provides the real test genomes")
    path = Path(spec.origin).parent / "tests" / "data" / name
    if not path.is_file():
        pytest.skip(f"{path} not found in the installed pyrodigal")
    return path


@pytest.fixture(scope="session")
def diphtheriae_path() -> Path:
    return pyrodigal_file("GCF_001457455.1_NCTC11397_genomic.fna.gz")


@pytest.fixture(scope="session")
def ecoli_path() -> Path:
    return pyrodigal_file("MIIJ01000039.fna.gz")


def _slice(path: Path, out: Path, start: int, length: int, name: str) -> Path:
    with gzip.open(path, "rt") as fh:
        seq = "".join(line.strip() for line in fh if not line.startswith(">"))
    sub = seq[start : start + length]
    out.write_text(f">{name}\n" + "\n".join(sub[i : i + 80] for i in range(0, len(sub), 80)) + "\n")
    return out


@pytest.fixture(scope="session")
def small_genomes(tmp_path_factory, diphtheriae_path, ecoli_path) -> tuple[Path, Path]:
    """200 kbp of C. diphtheriae and 100 kbp of E. coli: real DNA, small enough for quick tests."""
    d = tmp_path_factory.mktemp("genomes")
    return (
        _slice(diphtheriae_path, d / "diphtheriae_200k.fa", 100_000, 200_000, "NZ_LN831026.1_slice"),
        _slice(ecoli_path, d / "ecoli_100k.fa", 0, 100_000, "MIIJ01000039_slice"),
    )


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def kmer_model(tmp_path_factory) -> Path:
    """An untrained small encoder on 3-mers (a model folder)."""
    from helpers import save_untrained_model
    from vqdna.tokenizers import KmerTokenizer

    return save_untrained_model(KmerTokenizer(k=3), tmp_path_factory.mktemp("kmer") / "model")


@pytest.fixture(scope="session")
def hrq_model(tmp_path_factory, small_genomes) -> Path:
    """A small encoder on a briefly trained two-level HRQ tokenizer (quantized input)."""
    from helpers import SMALL_HRQ, save_untrained_model
    from vqdna.training.tokenizer import train_tokenizer

    root = tmp_path_factory.mktemp("hrq")
    tok = train_tokenizer("hrq", [small_genomes[0]], root / "tok", config=SMALL_HRQ, max_steps=10, quiet=True)
    return save_untrained_model(tok, root / "model", input_mode="quantized")
