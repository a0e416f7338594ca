import gzip

import pytest

from vqdna.alphabet import N_ID, SequenceError, canonical, reverse_complement, to_ids, to_text
from vqdna.seqio import read_fasta, read_labeled_csv, read_task


def test_case_u_and_iupac_follow_the_rule():
    assert to_ids("ACGTacgtUu").tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 3, 3]
    assert set(to_ids("NnRYSWKMBDHVrykm").tolist()) == {N_ID}
    assert canonical("acgRt") == "ACGNT"
    assert to_text(to_ids("ACGTN")) == "ACGTN"


def test_reverse_complement_is_the_other_strand():
    assert reverse_complement("AACGTN") == "NACGTT"
    assert reverse_complement("acgu") == "ACGT"  # lower case and U under the rule
    assert reverse_complement("GATTACARY") == "NNTGTAATC"  # IUPAC codes become N
    assert reverse_complement(reverse_complement("GGGATCCAN")) == "GGGATCCAN"
    with pytest.raises(SequenceError, match="invalid character '-'"):
        reverse_complement("AC-GT")


@pytest.mark.parametrize("bad", ["ACGX", "AC-GT", "ACG T", "AC1"])
def test_invalid_character_names_record_and_position(bad):
    with pytest.raises(SequenceError) as err:
        to_ids(bad, source="f.fa", record="chr1")
    msg = str(err.value)
    assert (
        "f.fa" in msg
        and "record 'chr1'" in msg
        and f"position {next(i for i, c in enumerate(bad) if c not in 'ACGT') + 1}" in msg
    )


def _write(path, text):
    path.write_text(text)
    return path


def test_fasta_any_line_width_and_gzip_give_the_same_records(tmp_path, rng):
    seqs = {"r1": "".join(rng.choice(list("ACGT"), 250)), "r2": "".join(rng.choice(list("acgtn"), 97))}
    wide = _write(tmp_path / "wide.fa", "".join(f">{k} desc\n{v}\n" for k, v in seqs.items()))
    narrow = _write(
        tmp_path / "narrow.fa",
        "".join(
            f">{k}\r\n" + "\r\n".join(v[i : i + 7] for i in range(0, len(v), 7)) + "\r\n\n" for k, v in seqs.items()
        ),
    )
    gz = tmp_path / "wide.fa.gz"
    gz.write_bytes(gzip.compress(wide.read_bytes()))
    for path in (wide, narrow, gz):
        records = read_fasta(path)
        assert [r.name for r in records] == ["r1", "r2"]
        assert [r.sequence for r in records] == [canonical(v) for v in seqs.values()]
    assert read_fasta(wide)[0].description == "r1 desc"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty FASTA file"),
        ("ACGT\n>r1\nACGT\n", "line 1: sequence text before the first '>' header"),
        (">r1\nACGT\n>\nACGT\n", "line 3: malformed header"),
        (">r1\nACGT\n>r2\n>r3\nAC\n", "record 'r2' (line 3): empty record"),
        (">r1\nACGT\n>r2\nACGTXACGT\n", "record 'r2': invalid character 'X' at position 5"),
    ],
)
def test_bad_fasta_names_file_record_and_problem(tmp_path, text, expected):
    path = _write(tmp_path / "bad.fa", text)
    with pytest.raises(SequenceError) as err:
        read_fasta(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_and_corrupt_gzip_fasta(tmp_path):
    with pytest.raises(SequenceError, match="no such FASTA file"):
        read_fasta(tmp_path / "nope.fa")
    bad = tmp_path / "bad.fa.gz"
    bad.write_bytes(gzip.compress(b">r1\nACGTACGT\n")[:-12])
    with pytest.raises(SequenceError, match="bad.fa.gz: cannot read"):
        read_fasta(bad)


def test_csv_reads_sequences_and_labels(tmp_path):
    path = _write(tmp_path / "train.csv", "sequence,label\nACGTn,1\nacgt,0\n")
    data = read_labeled_csv(path)
    assert data.sequences == ["ACGTN", "ACGT"] and data.labels == ["1", "0"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty file"),
        ("seq,label\nACGT,1\n", "line 1: header is 'seq,label'"),
        ("sequence,label\nACGT,1,3\n", "line 2: 3 columns"),
        ("sequence,label\n,1\n", "line 2: empty sequence"),
        ("sequence,label\nACGT,\n", "line 2: empty label"),
        ("sequence,label\nACGT,1\nACZT,0\n", "record 'line 3': invalid character 'Z' at position 3"),
        ("sequence,label\n", "no rows after the header"),
    ],
)
def test_bad_csv_names_file_line_and_problem(tmp_path, text, expected):
    path = _write(tmp_path / "train.csv", text)
    with pytest.raises(SequenceError) as err:
        read_labeled_csv(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_task_folder_needs_all_splits(tmp_path):
    for split in ("train", "dev"):
        _write(tmp_path / f"{split}.csv", "sequence,label\nACGT,1\n")
    with pytest.raises(SequenceError, match="lacks test.csv"):
        read_task(tmp_path)
    _write(tmp_path / "test.csv", "sequence,label\nACGT,0\n")
    assert {k: len(v) for k, v in read_task(tmp_path).items()} == {"train": 1, "dev": 1, "test": 1}
