"""`vqdna diff`: codes of two aligned sequences compared around each mutation."""

import json

import numpy as np
import pytest
import torch

from vqdna.alphabet import SequenceError, to_ids
from vqdna.cli import main
from vqdna.config import VQVAEConfig
from vqdna.evaluation.mutations import diff_codes, load_pair
from vqdna.networks import VQVAE
from vqdna.seqio import FastaRecord, read_fasta
from vqdna.tokenizers import HRQTokenizer, KmerTokenizer


@pytest.fixture(scope="module")
def hrq():
    cfg = VQVAEConfig(
        stem_channels=16,
        width=16,
        depth=2,
        kernel_size=7,
        stride=1,
        stem_kernel=5,
        code_dim=8,
        codebook_sizes=[32, 64],
        tap_blocks=[1, 2],
    )
    torch.manual_seed(0)
    model = VQVAE(cfg).train()
    model(torch.randint(0, 4, (8, 256)))  # k-means init of the codebooks
    return HRQTokenizer(model.eval())


@pytest.fixture(scope="module")
def window(small_genomes) -> str:
    return read_fasta(small_genomes[0])[0].sequence[5_000:7_000]


def _record(name, text):
    gaps = np.array([c == "-" for c in text])
    return FastaRecord(name, name, to_ids(text.replace("-", "")), gaps)


def test_identical_sequences_have_identical_codes(hrq, window):
    r = diff_codes(hrq, _record("a", window), _record("b", window))
    assert r["mutations"] == [] and r["summary"]["differing_codes"] == [0, 0]


def test_a_point_mutation_changes_codes_only_within_the_receptive_field(hrq, window):
    pos = 1000
    mutated = window[:pos] + ("A" if window[pos] != "A" else "C") + window[pos + 1 :]
    r = diff_codes(hrq, _record("a", window), _record("b", mutated), flank=50)
    (m,) = r["mutations"]
    assert m["kind"] == "substitution" and m["start"] == pos and m["ref"] == window[pos]
    fields = r["summary"]["receptive_field_bp"]
    assert fields == [hrq.config.receptive_field_bp(0), hrq.config.receptive_field_bp(1)]
    where = r["track_position"]
    for level, field in enumerate(fields):
        changed = where[r["track"][level]]
        assert len(changed) >= 1, "the mutated base's own code must change"
        assert np.all(np.abs(changed - pos) <= field // 2), (level, changed)
        assert m["changed_codes"][level] == len(changed)


def test_gapped_alignment_and_difflib_agree_on_a_deletion(hrq, window, tmp_path):
    deleted = window[:500] + window[503:]
    aligned = window[:500] + "---" + window[503:]
    via_gaps = diff_codes(hrq, _record("a", window), _record("b", aligned))
    plain = diff_codes(hrq, _record("a", window), _record("b", deleted))
    for r in (via_gaps, plain):
        (m,) = r["mutations"]
        assert m["kind"] == "deletion" and len(m["ref"]) == 3 and m["alt"] == ""
    assert via_gaps["summary"]["differing_codes"] == plain["summary"]["differing_codes"]

    fa = tmp_path / "pair.fa"
    fa.write_text(f">ref\n{window}\n>del\n{aligned}\n")
    tok_dir = tmp_path / "tok"
    hrq.save_pretrained(tok_dir)
    out = tmp_path / "diff"
    assert main(["-q", "diff", "--tokenizer", str(tok_dir), "--fasta", str(fa), "--output-dir", str(out)]) == 0
    saved = json.loads((out / "diff.json").read_text())
    assert saved["sequences"] == ["ref", "del"] and saved["summary"]["mutations"]["deletion"] == 1
    assert (out / "code_diff.png").stat().st_size > 1000


def test_diff_errors(hrq, window, tmp_path):
    one = tmp_path / "one.fa"
    one.write_text(f">only\n{window}\n")
    with pytest.raises(SequenceError, match=r"one.fa: 1 record\(s\); give one file with exactly two records"):
        load_pair([one])
    three = tmp_path / "three.fa"
    three.write_text(f">a\n{window}\n>b\n{window}\n>c\n{window}\n")
    with pytest.raises(SequenceError, match=r"three.fa: 3 record\(s\)"):
        load_pair([three])
    with pytest.raises(SequenceError, match="three.fa: 3 records; with two files, each holds one sequence"):
        load_pair([one, three])
    gaps = tmp_path / "gaps.fa"
    gaps.write_text(f">a\n{window}\n>b\n{'-' * len(window)}\n")
    with pytest.raises(SequenceError, match="gaps.fa: record 'b': only alignment gaps"):
        load_pair([gaps])
    with pytest.raises(ValueError, match="needs a VQ or HRQ tokenizer"):
        diff_codes(KmerTokenizer(3), _record("a", window), _record("b", window))
