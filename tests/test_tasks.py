"""Task folders built from small synthetic genomes. The genomes are random ACGT, so every 40 bp
window occurs once (a repeat has probability ~4^-40): a row's text locates its source exactly."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import SHARED_DATA
from vqdna.alphabet import SequenceError
from vqdna.seqio import declared_strand_specific, read_task
from vqdna.tasks import make_labeled_task, make_species_task, make_variant_task

SPLITS = ("train", "dev", "test")


def _random_dna(rng, length: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=length))


def _write_fasta(path: Path, records: dict[str, str]) -> Path:
    text = "".join(
        f">{name} synthetic\n" + "\n".join(s[i : i + 60] for i in range(0, len(s), 60)) + "\n"
        for name, s in records.items()
    )
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def _locate(window: str, records: dict[str, str]) -> tuple[str, int]:
    """(record, 0-based start) of the only occurrence of a window."""
    hits = [(name, seq.find(window)) for name, seq in records.items() if window in seq]
    assert len(hits) == 1 and records[hits[0][0]].count(window) == 1, f"window found {len(hits)} times"
    return hits[0]


@pytest.fixture
def genomes(tmp_path):
    """Three 'species': a (two records), b (one), c (two, gzipped, named c.fa.gz)."""
    rng = np.random.default_rng(7)
    seqs = {
        "a": {"a1": _random_dna(rng, 3000), "a2": _random_dna(rng, 1500)},
        "b": {"b1": _random_dna(rng, 2500)},
        "c": {"c1": _random_dna(rng, 2000), "c2": _random_dna(rng, 1200)},
    }
    paths = [
        _write_fasta(tmp_path / "a.fasta", seqs["a"]),
        _write_fasta(tmp_path / "b.fna", seqs["b"]),
        _write_fasta(tmp_path / "c.fa.gz", seqs["c"]),
    ]
    return paths, seqs


SPECIES_ARGS = dict(
    window_bp=40, train_per_species=30, dev_per_species=8, test_per_species=8, dev_fraction=0.1, test_fraction=0.2
)


def test_species_windows_lie_inside_disjoint_regions(genomes, tmp_path):
    paths, seqs = genomes
    out = tmp_path / "task"
    task = make_species_task(paths, out, seed=1, **SPECIES_ARGS)

    assert task["labels"] == ["a", "b", "c"]  # file names without .fasta / .fna / .fa.gz
    assert task["counts"] == {s: {"0": n, "1": n, "2": n} for s, n in (("train", 30), ("dev", 8), ("test", 8))}
    assert json.loads((out / "task.json").read_text()) == task
    labels = json.loads((out / "labels.json").read_text())
    assert [labels[str(i)]["name"] for i in range(3)] == ["a", "b", "c"]
    # record a1 (3000 bp): train [0, 2100), dev [2100, 2400), test [2400, 3000)
    assert [(r["start"], r["end"]) for s in SPLITS for r in labels["0"]["splits"][s] if r["record"] == "a1"] == [
        (0, 2100),
        (2100, 2400),
        (2400, 3000),
    ]

    loaded = read_task(out)
    for split in SPLITS:
        rows = loaded[split]
        assert sorted(set(rows.labels)) == ["0", "1", "2"]
        starts = set()
        for seq, label in zip(rows.sequences, rows.labels):
            assert len(seq) == 40
            info = labels[label]
            record, start = _locate(seq, seqs[info["name"]])
            region = next(r for r in info["splits"][split] if r["record"] == record)
            # the whole window is inside this split's region, so no base is shared with another split
            assert region["start"] <= start and start + 40 <= region["end"]
            starts.add((label, record, start))
        assert len(starts) == len(rows)  # distinct start positions
    # rows are shuffled: the labels are not in blocks
    assert loaded["train"].labels[:30] != ["0"] * 30


def test_species_task_is_deterministic(genomes, tmp_path):
    paths, _ = genomes
    make_species_task(paths, tmp_path / "one", seed=3, **SPECIES_ARGS)
    make_species_task(paths, tmp_path / "two", seed=3, **SPECIES_ARGS)
    make_species_task(paths, tmp_path / "other", seed=4, **SPECIES_ARGS)
    for name in ("train.csv", "dev.csv", "test.csv", "labels.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert (tmp_path / "one" / "train.csv").read_bytes() != (tmp_path / "other" / "train.csv").read_bytes()


def test_species_names_and_record_weights(tmp_path):
    rng = np.random.default_rng(0)
    # train regions of 8000 and 1600 bp hold 7951 and 1551 starts of a 50 bp window:
    # the long record should get 7951 / 9502 ≈ 0.84 of the windows
    big = {"long": _random_dna(rng, 10_000), "short": _random_dna(rng, 2000)}
    p1 = _write_fasta(tmp_path / "x.fa", big)
    p2 = _write_fasta(tmp_path / "y.fa", {"y1": _random_dna(rng, 3000)})
    out = tmp_path / "task"
    task = make_species_task(
        [p1, p2], out, window_bp=50, train_per_species=400, dev_per_species=5, test_per_species=5, names=["Homo", "Mus"]
    )
    assert task["labels"] == ["Homo", "Mus"]
    rows = read_task(out)["train"]
    hits = [_locate(s, big)[0] for s, label in zip(rows.sequences, rows.labels) if label == "0"]
    assert len(hits) == 400
    assert 0.78 < hits.count("long") / 400 < 0.89


def test_windows_with_too_many_n_are_redrawn(tmp_path):
    rng = np.random.default_rng(1)
    seq = list(_random_dna(rng, 2000))
    seq[:800] = "N" * 800  # half of the train region [0, 1600)
    p1 = _write_fasta(tmp_path / "n.fa", {"n1": "".join(seq)})
    p2 = _write_fasta(tmp_path / "ok.fa", {"ok1": _random_dna(rng, 2000)})
    make_species_task(
        [p1, p2],
        tmp_path / "task",
        window_bp=40,
        train_per_species=50,
        dev_per_species=5,
        test_per_species=5,
        max_n_fraction=0.05,
    )
    for split in read_task(tmp_path / "task").values():
        assert all(s.count("N") <= 2 for s in split.sequences)  # 5% of 40 bp

    # a test region made only of N cannot give a single window
    seq = _random_dna(rng, 1800) + "N" * 200
    p3 = _write_fasta(tmp_path / "ntail.fa", {"t1": seq})
    with pytest.raises(SequenceError, match="species 'ntail': found only 0 of 5 test windows with at most 5% N"):
        make_species_task(
            [p3, p2], tmp_path / "task2", window_bp=40, train_per_species=5, dev_per_species=5, test_per_species=5
        )
    assert not (tmp_path / "task2").exists()  # nothing written on failure


def test_species_task_errors(genomes, tmp_path):
    paths, _ = genomes
    with pytest.raises(ValueError, match="at least 2 FASTA files"):
        make_species_task(paths[:1], tmp_path / "t", window_bp=40)

    # c2 is 1200 bp: its test region (20%) is 240 bp, c1's 400 bp; neither holds a 500 bp window
    with pytest.raises(
        SequenceError,
        match=r"species 'c': the test region of every record is shorter than a 500 bp window \(c1: 400 bp, c2: 240 bp\)",
    ):
        make_species_task(
            paths,
            tmp_path / "t",
            window_bp=500,
            train_per_species=1,
            dev_per_species=1,
            test_per_species=1,
            dev_fraction=0.5,
            test_fraction=0.2,
        )

    # b's dev region is 250 bp: 211 distinct starts for a 40 bp window
    with pytest.raises(
        SequenceError,
        match="species 'b': the dev region has only 211 distinct 40 bp windows, fewer than the 300 asked; ask for fewer dev windows",
    ):
        make_species_task(
            paths, tmp_path / "t", window_bp=40, train_per_species=10, dev_per_species=300, test_per_species=10
        )
    assert not (tmp_path / "t").exists()

    with pytest.raises(ValueError, match="must be unique"):
        make_species_task(paths[:2], tmp_path / "t", window_bp=40, names=["x", "x"])
    with pytest.raises(ValueError, match="sum to less than 1"):
        make_species_task(paths, tmp_path / "t", window_bp=40, dev_fraction=0.5, test_fraction=0.5)


def test_existing_task_folder_is_never_overwritten(genomes, tmp_path):
    paths, _ = genomes
    out = tmp_path / "task"
    out.mkdir()
    (out / "train.csv").write_text("sequence,label\nACGT,0\n")
    with pytest.raises(ValueError, match="already holds files \\(train.csv\\); refusing to overwrite them"):
        make_species_task(paths, out, seed=1, **SPECIES_ARGS)
    with pytest.raises(ValueError, match="already holds files"):
        make_labeled_task(paths, out)
    assert (out / "train.csv").read_text() == "sequence,label\nACGT,0\n"
    # a finished task is never rewritten, nor continued by another make-task; an interrupted one is redone
    done = tmp_path / "done"
    make_species_task(paths, done, seed=1, **SPECIES_ARGS)
    before = {f.name: f.read_bytes() for f in done.iterdir()}
    for build in (
        lambda: make_species_task(paths, done, seed=1, **SPECIES_ARGS),
        lambda: make_species_task(paths, done, seed=2, **SPECIES_ARGS),
    ):
        with pytest.raises(ValueError, match="already holds files"):
            build()
    assert {f.name: f.read_bytes() for f in done.iterdir()} == before
    cut = tmp_path / "cut"
    shutil.copytree(done, cut)
    (cut / "train.csv").unlink()
    marker = json.loads((cut / "run.json").read_text())
    (cut / "run.json").write_text(json.dumps({**marker, "finished": False}))
    make_species_task(paths, cut, seed=1, **SPECIES_ARGS)
    assert {f.name: f.read_bytes() for f in cut.iterdir() if f.name != "run.json"} == {
        k: v for k, v in before.items() if k != "run.json"
    }
    (cut / "train.csv").unlink()
    (cut / "run.json").write_text(json.dumps({**marker, "finished": False}))
    with pytest.raises(ValueError, match="holds a `vqdna make-task` run with other inputs or settings"):
        make_species_task(paths, cut, seed=2, **SPECIES_ARGS)
    assert sorted(p.name for p in out.iterdir()) == ["train.csv"]


# ---------------------------------------------------------------- labeled task


@pytest.fixture
def clades(tmp_path):
    """Two classes of records with lengths that are not multiples of 100."""
    rng = np.random.default_rng(3)
    seqs = {
        "alpha": {f"alpha{i}": _random_dna(rng, int(rng.integers(250, 480))) for i in range(10)},
        "beta": {f"beta{i}": _random_dna(rng, int(rng.integers(250, 480))) for i in range(5)},
    }
    paths = [_write_fasta(tmp_path / f"{name}.fasta", recs) for name, recs in seqs.items()]
    return paths, seqs


def test_labeled_task_keeps_each_record_in_one_split(clades, tmp_path):
    paths, seqs = clades
    out = tmp_path / "task"
    task = make_labeled_task(paths, out, window_bp=100, dev_fraction=0.2, test_fraction=0.2, seed=5)
    labels = json.loads((out / "labels.json").read_text())
    assert task["labels"] == ["alpha", "beta"]
    # every class has at least one record per split, and the splits partition its records
    for lid, name in (("0", "alpha"), ("1", "beta")):
        parts = labels[lid]["splits"]
        assert all(len(parts[s]) >= 1 for s in SPLITS)
        assert sorted(sum((parts[s] for s in SPLITS), [])) == sorted(seqs[name])
    assert [len(labels["0"]["splits"][s]) for s in SPLITS] == [6, 2, 2]  # 10 records: 20% → 2 each

    loaded = read_task(out)
    split_of = {}
    for split in SPLITS:
        for seq, label in zip(loaded[split].sequences, loaded[split].labels):
            name = task["labels"][int(label)]
            record, start = _locate(seq, seqs[name])
            assert start % 100 == 0 and len(seq) == 100  # consecutive tiles
            assert record in labels[label]["splits"][split]
            assert split_of.setdefault(record, split) == split  # all windows of a record in one split
    # every full window is present; the tails are dropped and counted
    all_recs = {k: v for recs in seqs.values() for k, v in recs.items()}
    assert sum(len(v) for v in loaded.values()) == sum(len(s) // 100 for s in all_recs.values())
    assert task["dropped_tail_bp"] == sum(len(s) % 100 for s in all_recs.values())
    assert task["dropped_n_rows"] == 0
    assert sum(task["counts"]["train"].values()) == len(loaded["train"])


def test_labeled_task_without_window_uses_whole_records(clades, tmp_path):
    paths, seqs = clades
    out = tmp_path / "task"
    task = make_labeled_task(paths, out, seed=0)
    loaded = read_task(out)
    # 10 records at 10%: 1 dev, 1 test, 8 train; 5 records: 1, 1, 3
    assert task["counts"] == {"train": {"0": 8, "1": 3}, "dev": {"0": 1, "1": 1}, "test": {"0": 1, "1": 1}}
    all_recs = {k: v for recs in seqs.values() for k, v in recs.items()}
    assert sorted(s for split in loaded.values() for s in split.sequences) == sorted(all_recs.values())
    assert task["dropped_tail_bp"] == 0


def test_labeled_task_is_deterministic_and_drops_n_windows(tmp_path):
    rng = np.random.default_rng(4)
    recs = {f"r{i}": _random_dna(rng, 300) for i in range(4)}
    recs["r0"] = "N" * 100 + recs["r0"][100:]  # one of its three windows is all N
    p1 = _write_fasta(tmp_path / "one.fa", recs)
    p2 = _write_fasta(tmp_path / "two.fa", {f"s{i}": _random_dna(rng, 300) for i in range(3)})
    t1 = make_labeled_task([p1, p2], tmp_path / "a", window_bp=100, seed=9)
    t2 = make_labeled_task([p1, p2], tmp_path / "b", window_bp=100, seed=9)
    assert t1["dropped_n_rows"] == 1
    assert t1["counts"] == t2["counts"]
    for name in ("train.csv", "dev.csv", "test.csv", "labels.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert all("N" not in s for split in read_task(tmp_path / "a").values() for s in split.sequences)


def test_labeled_task_errors(clades, tmp_path):
    paths, _ = clades
    rng = np.random.default_rng(5)
    small = _write_fasta(tmp_path / "small.fa", {"s1": _random_dna(rng, 300), "s2": _random_dna(rng, 300)})
    with pytest.raises(SequenceError, match=r"small.fa: class 'small' has 2 record\(s\); it needs at least 3"):
        make_labeled_task([paths[0], small], tmp_path / "t")
    with pytest.raises(ValueError, match="at least 2 FASTA files"):
        make_labeled_task([paths[0]], tmp_path / "t")
    # windows longer than every record: a split ends up empty, which is an error, not an empty CSV
    with pytest.raises(SequenceError, match="class 'alpha' has no train rows"):
        make_labeled_task(paths, tmp_path / "t", window_bp=1000)
    assert not (tmp_path / "t").exists()


def test_cli_make_task_species_on_real_genomes(tmp_path, small_genomes):
    from vqdna.cli import main

    out = tmp_path / "species"
    args = [
        "-q",
        "make-task",
        "species",
        "--fasta",
        *map(str, small_genomes),
        "--window-bp",
        "200",
        "--train",
        "50",
        "--dev",
        "10",
        "--test",
        "10",
        "--output-dir",
        str(out),
    ]
    assert main(args) == 0
    task = read_task(out)
    assert [len(task[s]) for s in SPLITS] == [100, 20, 20]
    assert sorted(set(task["train"].labels)) == ["0", "1"] and all(len(s) == 200 for s in task["test"].sequences)
    assert main(args) == 2  # an existing task is never overwritten


# ---------------------------------------------------------------- variant task (one FASTA + label table)


@pytest.fixture
def variant_genomes(tmp_path):
    """Genomes of four lineages in one gzipped FASTA, labelled by a Nextclade-style table: A (8
    genomes), B (5), C (2, below the default --min-genomes 3), D (2). The table also lists a
    genome that is not in the FASTA."""
    rng = np.random.default_rng(11)
    counts = {"A": 8, "B": 5, "C": 2, "D": 2}
    genomes = {
        f"{lin}/{i}/2021": _random_dna(rng, int(rng.integers(520, 760))) for lin, n in counts.items() for i in range(n)
    }
    lineage = {name: name.split("/")[0] for name in genomes}
    fasta = _write_fasta(tmp_path / "genomes.fasta.gz", genomes)
    table = tmp_path / "labels.tsv"
    rows = [f"{name}\t{len(seq)}\t{lineage[name]}" for name, seq in genomes.items()] + ["Z/0/2020\t29903\tA"]
    table.write_text("name\tlength\tvariant\n" + "\n".join(rows) + "\n")
    return fasta, table, genomes, lineage


def test_variant_task_splits_by_genome(variant_genomes, tmp_path):
    fasta, table, genomes, lineage = variant_genomes
    out = tmp_path / "task"
    task = make_variant_task(
        fasta, table, out, label_column="variant", fragment_bp=100, dev_fraction=0.2, test_fraction=0.2, seed=3
    )
    assert task["labels"] == ["A", "B"]
    assert declared_strand_specific(out) is False  # fine-tuning may read either strand, unasked
    assert task["dropped_classes"] == {"C": 2, "D": 2} and task["merged_classes"] == []
    assert task["table_rows_without_genome"] == 1
    labels = json.loads((out / "labels.json").read_text())
    loaded = read_task(out)
    split_of: dict[str, str] = {}
    for split in SPLITS:
        for seq, label in zip(loaded[split].sequences, loaded[split].labels):
            genome, start = _locate(seq, genomes)
            assert lineage[genome] == task["labels"][int(label)]
            assert start % 100 == 0 and len(seq) == 100  # consecutive fragments from the start
            assert genome in labels[label]["splits"][split]
            assert split_of.setdefault(genome, split) == split  # no genome in two splits
    kept = [g for g in genomes if lineage[g] in ("A", "B")]
    assert sorted(split_of) == sorted(kept)  # every genome of a kept class is used
    assert sum(len(s) for s in loaded.values()) == sum(len(genomes[g]) // 100 for g in kept)
    assert task["dropped_tail_bp"] == sum(len(genomes[g]) % 100 for g in kept)
    assert {s: sum(task["genomes"][s].values()) for s in SPLITS} == {
        "train": 7,
        "dev": 3,
        "test": 3,
    }  # A 8 → 4/2/2, B 5 → 3/1/1


def test_variant_task_merges_rare_classes_and_subsamples(variant_genomes, tmp_path):
    fasta, table, genomes, lineage = variant_genomes
    out = tmp_path / "task"
    task = make_variant_task(
        fasta, table, out, label_column="variant", fragment_bp=100, rare="merge", fragments_per_genome=2, seed=1
    )
    assert (
        task["labels"] == ["A", "B", "other"] and task["merged_classes"] == ["C", "D"] and task["dropped_classes"] == {}
    )
    labels = json.loads((out / "labels.json").read_text())
    assert labels["2"]["merged_from"] == ["C", "D"]
    loaded = read_task(out)
    per_genome: dict[str, int] = {}
    for split in SPLITS:
        for seq, label in zip(loaded[split].sequences, loaded[split].labels):
            genome, _ = _locate(seq, genomes)
            assert (lineage[genome] if lineage[genome] in ("A", "B") else "other") == task["labels"][int(label)]
            per_genome[genome] = per_genome.get(genome, 0) + 1
    assert len(per_genome) == 17 and set(per_genome.values()) == {2}
    assert task["subsampled_fragments"] == sum(len(genomes[g]) // 100 - 2 for g in genomes)
    # the same arguments give byte-identical files
    make_variant_task(
        fasta,
        table,
        tmp_path / "again",
        label_column="variant",
        fragment_bp=100,
        rare="merge",
        fragments_per_genome=2,
        seed=1,
    )
    for name in ("train.csv", "dev.csv", "test.csv", "labels.json"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_variant_task_skips_n_heavy_fragments(tmp_path):
    rng = np.random.default_rng(2)
    genomes = {f"g{i}": _random_dna(rng, 300) for i in range(6)}
    genomes["g0"] = genomes["g0"][:100] + "N" * 6 + genomes["g0"][106:]  # 6% N in its second fragment
    fasta = _write_fasta(tmp_path / "g.fa", genomes)
    table = tmp_path / "t.tsv"
    table.write_text("id\tclade\n" + "".join(f"g{i}\t{'x' if i < 3 else 'y'}\n" for i in range(6)))
    task = make_variant_task(fasta, table, tmp_path / "task", label_column="clade", fragment_bp=100)
    assert task["dropped_n_fragments"] == 1
    assert sum(len(s) for s in read_task(tmp_path / "task").values()) == 17


def test_a_genome_without_a_usable_fragment_is_left_out_before_classes_are_counted(tmp_path, capsys):
    from vqdna.cli import main

    rng = np.random.default_rng(5)
    genomes = {f"g{i}": _random_dna(rng, 300) for i in range(11)}
    genomes["g5"] = "N" * 300  # no fragment under the N limit
    genomes["g6"] = genomes["g6"][:80]  # shorter than one fragment
    fasta = _write_fasta(tmp_path / "g.fa", genomes)
    table = tmp_path / "t.tsv"
    table.write_text("id\tclade\n" + "".join(f"g{i}\t{'x' if i < 4 else 'y' if i < 8 else 'w'}\n" for i in range(11)))
    # y has 4 genomes but only g4 and g7 give fragments: counted before, y was kept with 4 and one of
    # its splits could end up with only an unusable genome (an error); now y has 2 and is dropped
    for seed in range(4):
        task = make_variant_task(fasta, table, tmp_path / f"t{seed}", label_column="clade", fragment_bp=100, seed=seed)
        assert task["unusable_genomes"] == {
            "g5": "every 100 bp fragment has more than 5% N",
            "g6": "80 bp, shorter than one 100 bp fragment",
        }
        assert task["dropped_classes"] == {"y": 2} and task["labels"] == ["w", "x"]
    # with 3 usable genomes left the class is kept, one genome per split, and no split is empty
    table.write_text("id\tclade\n" + "".join(f"g{i}\t{'x' if i < 3 else 'y' if i < 8 else 'w'}\n" for i in range(11)))
    out = tmp_path / "kept"
    args = ["make-task", "variants", "--fasta", str(tmp_path / "g.fa"), "--labels", str(table)]
    args += ["--label-column", "clade", "--fragment-bp", "100", "--output-dir", str(out)]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert (
        "note: 2 genome(s) left out, no usable fragment: 'g5': every 100 bp fragment has more than 5% N; "
        "'g6': 80 bp, shorter than one 100 bp fragment\n" in said
    )
    labels = json.loads((out / "labels.json").read_text())
    assert sorted(g for split in labels["2"]["splits"].values() for g in split) == ["g3", "g4", "g7"]
    # --max-n-fraction 1 accepts the all-N genome (the short one still gives nothing)
    assert main(args[:-1] + [str(tmp_path / "all_n"), "--max-n-fraction", "1"]) == 0
    assert "1 genome(s) left out, no usable fragment: 'g6'" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(args[:-1] + [str(tmp_path / "bad"), "--max-n-fraction", "1.5"])
    assert exit_.value.code == 2
    assert "--max-n-fraction: expected a number in [0, 1], got '1.5'" in capsys.readouterr().err


def test_variant_task_errors_name_the_file_line_and_option(variant_genomes, tmp_path):
    fasta, table, genomes, _ = variant_genomes
    out = tmp_path / "task"
    with pytest.raises(
        SequenceError,
        match=r"labels.tsv: --label-column 'clade' is not a column of the header line \(columns: name, length, variant\)",
    ):
        make_variant_task(fasta, table, out, label_column="clade")
    missing = tmp_path / "missing.tsv"
    missing.write_text("\n".join(table.read_text().splitlines()[:-3]) + "\n")  # drops two genomes and Z
    with pytest.raises(
        SequenceError, match=r"genomes.fasta.gz: 2 genome\(s\) have no row in .*missing.tsv .*'D/0/2021', 'D/1/2021'"
    ):
        make_variant_task(fasta, missing, out, label_column="variant")
    twice = tmp_path / "twice.tsv"
    lines = table.read_text().splitlines()
    twice.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(
        SequenceError, match=rf"twice.tsv: line {len(lines) + 1}: record 'A/0/2021' is listed twice \(first on line 2\)"
    ):
        make_variant_task(fasta, twice, out, label_column="variant")
    empty = tmp_path / "empty.tsv"
    empty.write_text("name\tlength\tvariant\nA/0/2021\t600\t\n")
    with pytest.raises(SequenceError, match=r"empty.tsv: line 2: record 'A/0/2021' has an empty 'variant'"):
        make_variant_task(fasta, empty, out, label_column="variant")
    with pytest.raises(SequenceError, match=r"only 1 class\(es\) of 'variant' have at least 6 genomes \(A: 8\); a"):
        make_variant_task(fasta, table, out, label_column="variant", fragment_bp=100, min_genomes=6)
    with pytest.raises(
        SequenceError,
        match=r"only 0 class\(es\) .*; 17 of 17 genomes gave no usable fragment \(e.g. 'A/0/2021': \d+ bp, shorter "
        r"than one 1000 bp fragment\): see --fragment-bp and --max-n-fraction",
    ):
        make_variant_task(fasta, table, out, label_column="variant")  # 520-760 bp genomes, 1,000 bp fragments
    with pytest.raises(ValueError, match="--min-genomes must be an integer of at least 3"):
        make_variant_task(fasta, table, out, label_column="variant", min_genomes=2)
    assert not out.exists()


def test_cli_make_task_variants(variant_genomes, tmp_path, capsys):
    from vqdna.cli import main

    fasta, table, _, _ = variant_genomes
    out = tmp_path / "task"
    args = [
        "make-task",
        "variants",
        "--fasta",
        str(fasta),
        "--labels",
        str(table),
        "--label-column",
        "variant",
        "--fragment-bp",
        "100",
        "--output-dir",
        str(out),
    ]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "note: class 'C' dropped: 2 genome(s), fewer than --min-genomes 3" in said
    assert "variants task, 2 classes (A, B)" in said
    assert main(args) == 2  # never overwritten
    assert main(["make-task", "variants", "--fasta", str(fasta), "--output-dir", str(tmp_path / "x")]) == 2
    assert "--labels TABLE.tsv and --label-column COLUMN are required" in capsys.readouterr().err
    assert (
        main(
            [
                "make-task",
                "labeled",
                "--fasta",
                str(fasta),
                str(fasta),
                "--labels",
                str(table),
                "--output-dir",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    assert (
        "make-task labeled: --labels does not apply; it takes --fasta, --window-bp, --names, --max-n-fraction"
        in capsys.readouterr().err
    )


@pytest.mark.skipif(
    not (SHARED_DATA / "sars_cov_2").is_dir(),
    reason=f"{SHARED_DATA / 'sars_cov_2'} (real SARS-CoV-2 genomes with variant labels) is absent",
)
def test_variant_task_on_real_sars_cov_2_genomes(tmp_path):
    data = SHARED_DATA / "sars_cov_2"
    task = make_variant_task(
        data / "nextclade_example_genomes.fasta.gz",
        data / "nextclade_example_genomes.labels.tsv",
        tmp_path / "t",
        label_column="who_variant",
        fragments_per_genome=3,
        seed=0,
    )
    assert len(task["labels"]) == 14 and "Omicron" in task["labels"]
    labels = json.loads((tmp_path / "t" / "labels.json").read_text())
    genomes = [set(sum((labels[k]["splits"][s] for k in labels), [])) for s in SPLITS]
    assert not (genomes[0] & genomes[1] or genomes[0] & genomes[2] or genomes[1] & genomes[2])
    assert sum(len(g) for g in genomes) == 360


def test_label_table_lines_quotes_and_byte_order_mark(variant_genomes, tmp_path):
    from vqdna.tasks import read_label_table

    table = tmp_path / "t.tsv"
    # a spreadsheet's byte-order mark, and a stray quote that must not swallow the next line
    table.write_bytes(
        '\ufeffname\tvariant\nA/0/2021\t"Alpha\nA/1/2021\tAlpha"\nA/2/2021\tBeta\nA/0/2021\tBeta\n'.encode("utf-8")
    )
    with pytest.raises(SequenceError, match=r"t.tsv: line 5: record 'A/0/2021' is listed twice \(first on line 2\)"):
        read_label_table(table, label_column="variant", id_column="name")
    table.write_text('name\tvariant\nA/0/2021\t"Alpha\nA/1/2021\tAlpha"\n')
    labels, _ = read_label_table(table, label_column="variant", id_column="name")
    assert labels == {"A/0/2021": '"Alpha', "A/1/2021": 'Alpha"'}
    table.write_text("name\tvariant\tname\nA\tB\tC\n")
    with pytest.raises(SequenceError, match=r"t.tsv: line 1: column name\(s\) 'name' occur more than once"):
        read_label_table(table, label_column="variant")
    packed = tmp_path / "t.tsv.gz"  # compressed tables (as Nextstrain ships metadata) read as they are
    packed.write_bytes(gzip.compress("name\tvariant\nA/0/2021\tAlpha\n".encode()))
    assert read_label_table(packed, label_column="variant") == ({"A/0/2021": "Alpha"}, "name")
    packed.write_bytes(gzip.compress("name\tvariant\nA/0/2021\tAlpha\n".encode())[:-12])
    with pytest.raises(SequenceError, match=r"t.tsv.gz: cannot read: Compressed file ended before"):
        read_label_table(packed, label_column="variant")


def test_rare_classes_too_few_to_merge_are_dropped(variant_genomes, tmp_path):
    fasta, table, _, _ = variant_genomes
    # C (2) and D (2) pool to 4 genomes, fewer than --min-genomes 5: dropped, even with --rare merge
    task = make_variant_task(
        fasta, table, tmp_path / "t", label_column="variant", fragment_bp=100, min_genomes=5, rare="merge"
    )
    assert task["labels"] == ["A", "B"] and task["merged_classes"] == [] and task["dropped_classes"] == {"C": 2, "D": 2}


def test_cli_make_task_refuses_options_of_other_kinds(variant_genomes, tmp_path, capsys):
    from vqdna.cli import main

    fasta, table, _, _ = variant_genomes
    out = str(tmp_path / "x")
    cases = [
        (
            ["make-task", "doench2016", "--fasta", str(fasta), "--output-dir", out],
            "make-task doench2016: --fasta does not apply; it takes only --output-dir and --seed",
        ),
        (
            ["make-task", "oct4-mafk", "--train", "10", "--output-dir", out],
            "make-task oct4-mafk: --train does not apply",
        ),
        (
            [
                "make-task",
                "species",
                "--fasta",
                str(fasta),
                "--window-bp",
                "50",
                "--rare",
                "merge",
                "--output-dir",
                out,
            ],
            "make-task species: --rare does not apply",
        ),
        (
            [
                "make-task",
                "variants",
                "--fasta",
                str(fasta),
                "--labels",
                str(table),
                "--label-column",
                "variant",
                "--train",
                "5",
                "--output-dir",
                out,
            ],
            "make-task variants: --train does not apply",
        ),
        (
            [
                "make-task",
                "variants",
                "--fasta",
                str(fasta),
                "--labels",
                str(table),
                "--label-column",
                "variant",
                "--fragment-bp",
                "0",
                "--output-dir",
                out,
            ],
            "argument --fragment-bp: expected an integer >= 1, got '0'",
        ),
    ]
    for args, message in cases:
        try:
            rc = main(args)
        except SystemExit as exc:  # argparse's own refusals
            rc = exc.code
        assert rc == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_task_json_that_is_not_an_object_is_named(tmp_path):
    (tmp_path / "task.json").write_text("[1, 2]")
    with pytest.raises(SequenceError, match=r"task.json: expected a JSON object"):
        declared_strand_specific(tmp_path)
    (tmp_path / "task.json").write_text("{not json")
    with pytest.raises(SequenceError, match=r"task.json: not valid JSON"):
        declared_strand_specific(tmp_path)
    (tmp_path / "task.json").write_text('{"kind": "species"}')
    assert declared_strand_specific(tmp_path) is None  # not said, which is not the same as "no"
    (tmp_path / "task.json").write_text('{"strand_specific": false}')
    assert declared_strand_specific(tmp_path) is False
    (tmp_path / "task.json").unlink()
    assert declared_strand_specific(tmp_path) is None
