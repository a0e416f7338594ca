"""Code profiles per genome and how well they separate labelled lineages (`vqdna code-usage`)."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import untrained_vq
from vqdna.alphabet import NUM_SPECIAL, SequenceError, to_ids
from vqdna.cli import main
from vqdna.config import BPEConfig
from vqdna.errors import UserError
from vqdna.evaluation.lineages import code_profiles, hellinger_distances, lineage_study, separation
from vqdna.seqio import FastaRecord
from vqdna.tokenizers import BPETokenizer, KmerTokenizer


def _record(name: str, sequence: str) -> FastaRecord:
    return FastaRecord(name, name, to_ids(sequence))


def test_profiles_count_codes_past_the_special_tokens_and_skip_tokens_over_an_n():
    tok = KmerTokenizer(2, overlapping=False)  # ids: 5 + base for a 1-base tail, 10 + 4a + b for a 2-mer
    (profile,) = code_profiles(tok, [_record("a", "ACGTA"), _record("b", "ANGTGT")])
    assert profile.shape == (2, tok.level_sizes[0])
    expected = np.zeros((2, tok.level_sizes[0]))
    # AC -> id 11 -> code 6; GT -> id 21 -> code 16; the tail A -> id 5 -> code 0
    expected[0, [6, 16, 0]] = 1 / 3
    expected[1, 16] = 1.0  # 'AN' holds an N: left out, so GT GT is all of b
    np.testing.assert_allclose(profile, expected)


def test_hrq_profiles_count_each_levels_codes(rng):
    tok = untrained_vq(levels=2)
    records = [_record(f"g{i}", "".join(rng.choice(list("ACGT"), 300))) for i in range(3)]
    profiles = code_profiles(tok, records)
    assert [p.shape for p in profiles] == [(3, k) for k in tok.level_sizes]
    for g, record in enumerate(records):
        codes = tok.encode(record.sequence).ids - NUM_SPECIAL  # ids are codes past the special tokens
        for n, size in enumerate(tok.level_sizes):
            np.testing.assert_allclose(profiles[n][g], np.bincount(codes[:, n], minlength=size) / len(codes))


def test_bpe_profiles_count_words_past_the_special_tokens_and_skip_words_with_an_n(rng):
    corpus = ["".join(rng.choice(list("ACGT"), 400)) + "ACGTTGCA" * 20 for _ in range(5)]
    tok = BPETokenizer.train(corpus, BPEConfig(vocab_size=60))
    sequence = "ACGTTGCA" * 6 + "ACGNTGCA" + "ACGTTGCA" * 6
    (profile,) = code_profiles(tok, [_record("g", sequence)])
    enc = tok.encode(sequence)
    words = [sequence[s:e] for s, e in enc.offsets]
    assert "".join(words) == sequence and max(len(w) for w in words) > 1  # offsets tile it; words merged
    kept = [int(i) - NUM_SPECIAL for i, w in zip(enc.ids[:, 0], words) if "N" not in w]
    assert 0 < len(kept) < len(words) and min(kept) >= 0
    np.testing.assert_allclose(profile[0], np.bincount(kept, minlength=tok.level_sizes[0]) / len(kept))


def test_a_learned_code_that_sees_an_n_is_left_out(rng):
    # tok.receptive_field itself is checked against the network in test_masking
    tok = untrained_vq()
    sequence = "".join(rng.choice(list("ACGT"), 200))
    sequence = sequence[:100] + "N" + sequence[101:]
    (profile,) = code_profiles(tok, [_record("g", sequence)])
    codes = tok.encode(sequence).ids[:, 0] - NUM_SPECIAL
    fields = [tok.receptive_field(t) for t in range(len(codes))]
    kept = [c for c, (first, last) in zip(codes, fields) if not first <= 100 <= last]
    assert 0 < len(kept) < len(codes) - 1  # more than the N's own token is left out
    np.testing.assert_allclose(profile[0], np.bincount(kept, minlength=tok.level_sizes[0]) / len(kept))


def test_a_transformers_tokenizer_is_refused():
    with pytest.raises(UserError, match="code-usage needs a vqdna tokenizer"):
        code_profiles(SimpleNamespace(kind="transformers"), [_record("g", "ACGT")])


def test_a_record_of_ns_only_is_named():
    with pytest.raises(SequenceError, match="record 'gap': no token free of N"):
        code_profiles(KmerTokenizer(2, overlapping=False), [_record("ok", "ACGT"), _record("gap", "NNNN")])


def test_hellinger_distance_is_the_distance_between_square_roots():
    p = np.array([[0.25, 0.75, 0.0], [0.5, 0.25, 0.25], [0.25, 0.75, 0.0]])
    d = hellinger_distances(p)
    assert d[0, 1] == pytest.approx(np.sqrt((0.5 - np.sqrt(0.5)) ** 2 + (np.sqrt(0.75) - 0.5) ** 2 + 0.25))
    assert d[0, 2] == pytest.approx(0.0, abs=1e-7) and d[1, 0] == pytest.approx(d[0, 1])


def test_separation_by_hand():
    # six genomes on a line; labels a a b a c b (c occurs once: left out)
    x = np.array([0.0, 1.0, 5.0, 6.5, 20.0, 5.5])
    d = np.abs(x[:, None] - x[None, :])
    s = separation(d, ["a", "a", "b", "a", "c", "b"])
    assert s["genomes"] == 5 and s["classes"] == 2 and s["left_out_single_genome_labels"] == 1
    # nearest: 0->1 (a), 1->0 (a), 5->5.5 (b), 6.5->5.5 (b: wrong), 5.5->5 (b): 4 of 5
    assert s["nearest_neighbour_accuracy"] == pytest.approx(0.8)
    # predicted a a b b b for a a b a b: a precision 1, recall 2/3; b precision 2/3, recall 1; F1 0.8 each
    assert s["nearest_neighbour_f1_macro"] == pytest.approx(0.8)
    assert s["majority_accuracy"] == pytest.approx(0.6)
    # within: a's pairs 1, 6.5, 5.5 and b's 0.5; between: 5, 5.5, 4, 4.5, 1.5, 1
    assert s["within_between_ratio"] == pytest.approx((13.5 / 4) / (21.5 / 6))
    # silhouette (b - a) / max(a, b) per genome, a = mean distance within its label, b = to the other label
    per_genome = [
        (5.25 - 3.75) / 5.25,
        (4.25 - 3.25) / 4.25,
        (1.25 - 6) / 6,
        (3.5 - 0.5) / 3.5,
        (11 / 3 - 0.5) / (11 / 3),
    ]
    assert s["silhouette"] == pytest.approx(np.mean(per_genome))


def test_a_genome_of_a_single_genome_label_is_not_scored_but_can_be_the_nearest():
    x = np.array([0.0, 3.0, 10.0, 11.0, 0.5])  # labels a a b b c: c is next to both a's
    s = separation(np.abs(x[:, None] - x[None, :]), ["a", "a", "b", "b", "c"])
    assert s["genomes"] == 4 and s["left_out_single_genome_labels"] == 1
    assert s["nearest_neighbour_accuracy"] == pytest.approx(0.5)  # both a's find c first
    # F1 over the scored labels a and b only: a is never predicted (F1 0), b always right (F1 1)
    assert s["nearest_neighbour_f1_macro"] == pytest.approx(0.5)
    # a second single-genome label that is some genome's nearest adds no class to the average
    x = np.array([0.0, 3.0, 10.0, 11.0, 0.5, 2.9])  # labels a a b b c e: 0 -> c, 3 -> e
    s = separation(np.abs(x[:, None] - x[None, :]), ["a", "a", "b", "b", "c", "e"])
    assert s["classes"] == 2 and s["nearest_neighbour_accuracy"] == pytest.approx(0.5)
    assert s["nearest_neighbour_f1_macro"] == pytest.approx(0.5)


def test_separation_needs_two_labels_with_two_genomes():
    d = np.abs(np.arange(3.0)[:, None] - np.arange(3.0)[None, :])
    with pytest.raises(SequenceError, match="clade: fewer than two labels held by at least two genomes each"):
        separation(d, ["x", "x", "y"], what="clade")


def test_a_label_set_that_cannot_be_scored_fails_before_any_genome_is_encoded(monkeypatch):
    import vqdna.evaluation.lineages as lineages

    def encode_nothing(*args, **kwargs):
        raise AssertionError("encoded before the labels were checked")

    monkeypatch.setattr(lineages, "code_profiles", encode_nothing)
    many = [f"clade{i}" for i in range(40)]
    with pytest.raises(SequenceError, match=r"clade: .*\(clade0: 1, .* and 35 more\)"):
        lineage_study(None, [], {"variant": ["a", "a", "b", "b"] * 10, "clade": many})


def test_a_level_that_tells_lineages_apart_scores_higher(rng):
    """Two 'lineages' of GC-rich and AT-rich genomes: their 2-mer profiles separate them perfectly,
    and a label that ignores them (alternating) is not separated."""
    gc = ["".join(rng.choice(list("ACGT"), 400, p=[0.1, 0.4, 0.4, 0.1])) for _ in range(6)]
    at = ["".join(rng.choice(list("ACGT"), 400, p=[0.4, 0.1, 0.1, 0.4])) for _ in range(6)]
    records = [_record(f"g{i}", s) for i, s in enumerate(gc + at)]
    study = lineage_study(
        KmerTokenizer(2, overlapping=True),
        records,
        {"lineage": ["gc"] * 6 + ["at"] * 6, "noise": ["x", "y"] * 6},
    )
    (level,) = study["levels"]
    assert level["separation"]["lineage"]["nearest_neighbour_accuracy"] == 1.0
    assert level["separation"]["lineage"]["silhouette"] > 0.3
    assert level["separation"]["noise"]["silhouette"] < 0.05
    assert level["separation"]["lineage"]["within_between_ratio"] < level["separation"]["noise"]["within_between_ratio"]


def _genomes(tmp_path, rng):
    fasta, labels = tmp_path / "genomes.fa", tmp_path / "labels.tsv"
    rows = ["name\tvariant\tclade"]
    with open(fasta, "w") as fh:
        for i in range(8):
            p = [0.1, 0.4, 0.4, 0.1] if i < 4 else [0.4, 0.1, 0.1, 0.4]
            fh.write(f">g{i} sample\n{''.join(rng.choice(list('ACGT'), 300, p=p))}\n")
            rows.append(f"g{i}\t{'A' if i < 4 else 'B'}\t{'c' + str(i // 2)}")
    labels.write_text("\n".join(rows) + "\n")
    return fasta, labels


def test_cli_writes_the_study_and_keeps_a_finished_one(tmp_path, rng):
    fasta, labels = _genomes(tmp_path, rng)
    tok = tmp_path / "kmer"
    KmerTokenizer(3, overlapping=True).save_pretrained(tok)
    out = tmp_path / "study"
    argv = ["-q", "code-usage", "--tokenizer", str(tok), "--fasta", str(fasta), "--labels", str(labels)]
    argv += ["--label-column", "variant", "clade", "--output-dir", str(out)]
    assert main(argv) == 0
    study = json.loads((out / "code_usage.json").read_text())
    assert study["genomes"] == 8 and study["labels"] == ["variant", "clade"]
    assert study["levels"][0]["separation"]["variant"]["nearest_neighbour_accuracy"] == 1.0
    assert (out / "genomes.tsv").read_text().splitlines()[:2] == ["name\tvariant\tclade", "g0\tA\tc0"]
    profile = np.load(out / "profiles_level0.npy", allow_pickle=False)
    assert profile.shape == (8, KmerTokenizer(3, overlapping=True).level_sizes[0])
    np.testing.assert_allclose(profile.sum(1), 1.0, rtol=1e-5)
    assert (out / "code_usage_pca.png").stat().st_size > 0
    before = (out / "code_usage.json").read_bytes()
    assert main(argv) == 2  # the same study again: refused, nothing overwritten
    assert (out / "code_usage.json").read_bytes() == before


def test_cli_names_the_genome_without_a_label_and_the_missing_column(tmp_path, rng, capsys):
    fasta, labels = _genomes(tmp_path, rng)
    tok = tmp_path / "kmer"
    KmerTokenizer(3, overlapping=True).save_pretrained(tok)
    argv = ["code-usage", "--tokenizer", str(tok), "--fasta", str(fasta), "--labels", str(labels)]
    assert main(argv + ["--label-column", "lineage"]) == 2
    assert "--label-column 'lineage' is not a column of the header line (columns: name, variant, clade)" in (
        capsys.readouterr().err
    )
    labels.write_text("\n".join(labels.read_text().splitlines()[:-1]) + "\n")  # g7's row gone
    assert main(argv + ["--label-column", "variant"]) == 2
    assert "1 genome(s) have no row in" in capsys.readouterr().err
    assert main(argv + ["--label-column", "variant", "variant"]) == 2
    assert "--label-column: a column is named twice" in capsys.readouterr().err


def test_the_table_printed_into_a_pipe_keeps_every_cell_whole(tmp_path, rng, capsys):
    fasta, labels = _genomes(tmp_path, rng)
    long_name = "who_variant_as_nextclade_assigned_it"
    labels.write_text(labels.read_text().replace("\tvariant\t", f"\t{long_name}\t", 1))
    tok = tmp_path / "kmer"
    KmerTokenizer(3, overlapping=True).save_pretrained(tok)
    argv = ["code-usage", "--tokenizer", str(tok), "--fasta", str(fasta), "--labels", str(labels)]
    assert main(argv + ["--label-column", long_name, "clade"]) == 0
    out = capsys.readouterr().out  # captured: not a terminal, as in a log file
    assert long_name in out and "…" not in out


def test_genomes_with_one_profile_have_no_within_between_ratio_and_the_table_says_so(tmp_path, capsys):
    fasta, labels = tmp_path / "same.fa", tmp_path / "labels.tsv"
    fasta.write_text("".join(f">g{i}\nACGTACGTAC\n" for i in range(4)))
    labels.write_text("name\tvariant\n" + "".join(f"g{i}\t{'AB'[i % 2]}\n" for i in range(4)))
    tok = tmp_path / "kmer"
    KmerTokenizer(2, overlapping=True).save_pretrained(tok)
    argv = ["code-usage", "--tokenizer", str(tok), "--fasta", str(fasta), "--labels", str(labels)]
    assert main(argv + ["--label-column", "variant", "--output-dir", str(tmp_path / "out")]) == 0
    study = json.loads((tmp_path / "out" / "code_usage.json").read_text())
    assert study["levels"][0]["separation"]["variant"]["within_between_ratio"] is None  # every profile alike
    assert re.search(r"│ +– │\n", capsys.readouterr().out)  # the last column of the row: no ratio
