import numpy as np
import pytest

from vqdna.alphabet import N_ID, SequenceError
from vqdna.corpus import Genome, WindowSampler
from vqdna.errors import UserError


def _genome(name, length, seed, weight=1.0):
    return Genome(name, [np.random.default_rng(seed).integers(0, 4, length).astype(np.uint8)], weight)


def test_windows_are_a_function_of_seed_and_index():
    g = [_genome("a", 5000, 0), _genome("b", 3000, 1)]
    s1, s2 = WindowSampler(g, 100, seed=3), WindowSampler(g, 100, seed=3)
    for i in (0, 7, 12345):
        assert np.array_equal(s1.window(i), s2.window(i))
    assert not np.array_equal(s1.window(0), WindowSampler(g, 100, seed=4).window(0))
    assert all(len(s1.window(i)) == 100 for i in range(50))


def test_species_weights_set_sampling_frequencies():
    g = [_genome("a", 5000, 0, weight=3.0), _genome("b", 5000, 1, weight=1.0)]
    s = WindowSampler(g, 50, seed=0)
    a = g[0].records[0].tobytes()  # 50 random bases occur in the other genome by chance with p ~ 1e-27
    share = np.mean([s.window(i).tobytes() in a for i in range(2000)])
    assert 0.72 < share < 0.78


def test_windows_with_too_many_n_are_skipped():
    rec = np.random.default_rng(0).integers(0, 4, 2000).astype(np.uint8)
    rec[:1000] = N_ID
    s = WindowSampler([Genome("a", [rec])], 100, seed=0, max_n_fraction=0.1)
    for i in range(200):
        assert np.count_nonzero(s.window(i) == N_ID) <= 10
    mostly_n = np.full(500, N_ID, np.uint8)
    mostly_n[::5] = 0  # 80% N in every window
    with pytest.raises(SequenceError, match="more than 10% N"):
        WindowSampler([Genome("n", [mostly_n])], 100).window(0)
    with pytest.raises(SequenceError, match=r"^n: no A, C, G or T in its 500 bp \(all N\): nothing to learn from"):
        WindowSampler([Genome("n", [np.full(500, N_ID, np.uint8)])], 100)


def test_short_genome_is_an_error():
    with pytest.raises(SequenceError, match="no record is as long as a 100 bp window"):
        WindowSampler([_genome("tiny", 50, 0)], 100)


def test_split_of_many_short_reads_holds_out_whole_reads():
    g = Genome("reads", [np.full(100, i % 4, np.uint8) for i in range(50)])
    train, held = g.split(0.1)
    assert [len(r) for r in train.records] == [100] * 45 and [len(r) for r in held.records] == [100] * 5
    assert [int(r[0]) for r in held.records] == [i % 4 for i in range(45, 50)]


def test_split_is_disjoint_and_tile_covers_every_base():
    g = Genome("a", [np.arange(1000, dtype=np.uint8) % 4, np.arange(333, dtype=np.uint8) % 4])
    train, held = g.split(0.2)
    assert [len(r) for r in train.records] == [1000, 66] and [len(r) for r in held.records] == [267]
    assert np.array_equal(np.concatenate(train.records + held.records), np.concatenate(g.records))
    tiles = list(g.tile(128))
    assert sum(len(t) for t in tiles) == g.num_bp
    assert np.array_equal(np.concatenate(tiles[:8]), g.records[0])


# ---------------------------------------------------------------- prepared corpora


def _records(stream):
    from vqdna.seqio import FastaHeader

    out, name = {}, None
    for piece in stream:
        if isinstance(piece, FastaHeader):
            name = piece.name
            out[name] = []
        else:
            out[name].append(piece)
    return {k: np.concatenate(v) for k, v in out.items()}


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_streamed_fasta_is_read_as_iter_fasta_reads_it(tmp_path, chunk):
    import gzip

    from vqdna.seqio import iter_fasta, stream_fasta

    text = (
        "; an old-style comment\n>r1 first record\nACGTacgtNN\r\nRYKM\n\n  ACGT  \n  >r2 indented\n"
        + "\n".join("ACGTTGCA" * 9 for _ in range(40))
        + "\n;inside\nGGGG\n>r3\nA"  # no newline at the end
    )
    for path in (tmp_path / "a.fa", tmp_path / "a.fa.gz"):
        data = text.encode()
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        want = {r.name: r.ids for r in iter_fasta(path)}
        got = _records(stream_fasta(path, chunk_bytes=chunk))
        assert list(got) == list(want) == ["r1", "r2", "r3"]
        assert all(np.array_equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize(
    "text,message",
    [
        ("ACGT\n>r\nACGT\n", "line 1: sequence text before the first '>' header"),
        (">r\nACGT\n>\nAC\n", "line 3: malformed header, '>' without a name"),
        (">r\nACGT\n>e\n>s\nAC\n", "record 'e' (line 3): empty record"),
        (">r\nACGT\n>e\n", "record 'e' (line 3): empty record"),
        (">r\n" + "ACGTACGTAC\n" * 30 + "ACXT\n", "record 'r': invalid character 'X' at position 303"),
        ("", "empty FASTA file, no records"),
        (";comment\nACGT\n>r\nAC\n", "line 2: sequence text before the first '>' header"),
    ],
)
def test_streamed_fasta_names_bad_input(tmp_path, text, message):
    from vqdna.seqio import stream_fasta

    path = tmp_path / "bad.fa"
    path.write_text(text)
    with pytest.raises(SequenceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(stream_fasta(path, chunk_bytes=16))


def test_a_prepared_corpus_gives_the_windows_of_its_fasta_files(tmp_path, small_genomes, ecoli_path):
    from vqdna.corpus import FileRecord, load_corpus, prepare_corpus

    files = [*small_genomes, ecoli_path]
    index = prepare_corpus(
        files, tmp_path / "c", weights=[1, 2, 0.5], heldout_fraction=0.1, quiet=True, chunk_bytes=1 << 12
    )
    assert index["bp"] == (tmp_path / "c" / "bases.u8").stat().st_size
    mapped = load_corpus(tmp_path / "c")
    read = [Genome.from_fasta(f, weight=w) for f, w in zip(files, [1, 2, 0.5])]
    assert [g.name for g in mapped] == [g.name for g in read]
    assert all(isinstance(g.records[0], FileRecord) for g in mapped)  # read window by window, not held
    a, b = WindowSampler(mapped, 300, seed=5), WindowSampler(read, 300, seed=5)
    assert all(np.array_equal(a.window(i), b.window(i)) for i in range(3000))
    (ta, ha), (tb, hb) = mapped[0].split(0.1), read[0].split(0.1)
    assert all(np.array_equal(np.asarray(x), y) for x, y in zip(ha.records + ta.records, hb.records + tb.records))
    # the index records where each species' held-out part starts; the corpus is cut there, and only there
    assert index["species"][0]["heldout"] == {"fraction": 0.1, "start_bp": 180_000, "record": 0, "offset": 180_000}
    assert [len(r) for r in mapped[0].split()[1].records] == [20_000]
    with pytest.raises(UserError, match=r"diphtheriae_200k: its prepared corpus holds out the last 0.1 .* not 0.05"):
        mapped[0].split(0.05)
    assert mapped[0].identity["sha256"] == index["sha256"]  # a run records the corpus by its checksums
    assert [g.weight for g in load_corpus(tmp_path / "c", weights=[3, 3, 3])] == [3, 3, 3]


def test_a_corpus_that_is_not_whole_is_refused_and_an_interrupted_one_redone(tmp_path, small_genomes):
    import json

    from vqdna.corpus import load_corpus, prepare_corpus
    from vqdna.storage import CheckpointError

    folder = tmp_path / "c"
    prepare_corpus(small_genomes, folder, quiet=True)
    bases = folder / "bases.u8"
    data = bytearray(bases.read_bytes())
    data[1000] = (data[1000] + 1) % 4
    bases.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="block 0 .* does not match its checksum"):
        load_corpus(folder)
    bases.write_bytes(bytes(data[:-10]))
    with pytest.raises(CheckpointError, match=r"bases.u8: 299,990 bytes, the index says 300,000 bases \(truncated"):
        load_corpus(folder)
    marker = folder / "run.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "finished": False}))  # as a kill leaves it
    with pytest.raises(CheckpointError, match="unfinished corpus"):
        load_corpus(folder)
    prepare_corpus(small_genomes, folder, quiet=True)  # the same inputs: prepared again from the start
    assert len(load_corpus(folder)[0].records[0]) == 200_000
    with pytest.raises(CheckpointError, match="not a prepared corpus"):
        load_corpus(tmp_path)
    from vqdna.errors import UserError

    with pytest.raises(UserError, match="other inputs"):
        prepare_corpus(small_genomes[:1], folder, quiet=True)


def test_the_index_records_where_the_held_out_part_of_many_short_records_starts(tmp_path):
    from vqdna.corpus import load_corpus, prepare_corpus

    reads = tmp_path / "reads.fa"
    rng = np.random.default_rng(0)
    reads.write_text("".join(f">r{n}\n{''.join(rng.choice(list('ACGT'), 100))}\n" for n in range(10)))
    index = prepare_corpus([reads], tmp_path / "c", heldout_fraction=0.25, quiet=True)
    # 1,000 bp: bases 750.. are held out, from base 50 of the eighth read on
    assert index["species"][0]["heldout"] == {"fraction": 0.25, "start_bp": 750, "record": 7, "offset": 50}
    train, held = load_corpus(tmp_path / "c")[0].split()
    assert [len(r) for r in train.records] == [100] * 7 + [50] and [len(r) for r in held.records] == [50, 100, 100]
    with pytest.raises(UserError, match=r"reads.fa: holding out 0.0001 of its 1,000 bp leaves no held-out base"):
        prepare_corpus([reads], tmp_path / "d", heldout_fraction=0.0001, quiet=True)


def test_train_tokenizer_and_pretrain_read_a_prepared_corpus(tmp_path, small_genomes, capsys):
    import json

    from vqdna.cli import main

    corpus = tmp_path / "corpus"
    assert main(["-q", "prepare-corpus", "--fasta", *map(str, small_genomes), "--output-dir", str(corpus)]) == 0
    tok = tmp_path / "tok"
    assert main(["-q", "train-tokenizer", "--kind", "kmer", "--corpus", str(corpus), "--output-dir", str(tok)]) == 0
    out = tmp_path / "pre"
    config = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}
    config |= {"window_bp": 64, "batch_size": 4, "eval_windows": 8, "save_steps": 2, "logging_steps": 1}
    args = ["-q", "pretrain", "--tokenizer", str(tok), "--corpus", str(corpus), "--output-dir", str(out)]
    assert main([*args, "--max-steps", "2", "--config", json.dumps(config)]) == 0
    recorded = json.loads((out / "run.json").read_text())["inputs"]["genomes"]
    assert [g["corpus"]["species"] for g in recorded] == ["diphtheriae_200k", "ecoli_100k"]
    # pretraining evaluates on the corpus's recorded held-out part: another fraction is refused by name
    other = ["-q", "pretrain", "--tokenizer", str(tok), "--corpus", str(corpus), "--output-dir", str(tmp_path / "p2")]
    assert main([*other, "--max-steps", "2", "--config", json.dumps({**config, "heldout_fraction": 0.1})]) == 2
    assert "holds out the last 0.05 of its bases, not 0.1 (heldout_fraction)" in capsys.readouterr().err
    assert not (tmp_path / "p2").exists()  # refused before anything was written
    with pytest.raises(SystemExit):  # argparse: --corpus not allowed with --fasta
        main(
            ["-q", "pretrain", "--tokenizer", str(tok), "--fasta", "x.fa", "--corpus", str(corpus), "--output-dir", "x"]
        )


def test_the_benchmark_pretrains_its_missing_models_on_a_prepared_corpus(tmp_path, small_genomes):
    import json

    from helpers import SMALL
    from vqdna.benchmark import train_models
    from vqdna.corpus import prepare_corpus

    corpus = tmp_path / "corpus"
    prepare_corpus(small_genomes, corpus, quiet=True)
    pretrain = {**SMALL, "window_bp": 64, "batch_size": 4, "max_steps": 2, "warmup_steps": 0, "eval_windows": 4}
    models = train_models(
        ["kmer"],
        tmp_path / "out",
        corpus=corpus,
        pretrain_config=pretrain,
        tokenizer_config={"kmer": {"k": 3}},
        quiet=True,
    )
    recipe = json.loads((models["kmer"] / "recipe.json").read_text())
    assert recipe["corpus"] == [f"corpus: {corpus.resolve()}"]
    genomes = json.loads((models["kmer"] / "run.json").read_text())["inputs"]["genomes"]
    assert [g["corpus"]["species"] for g in genomes] == ["diphtheriae_200k", "ecoli_100k"]


def test_a_fasta_cut_mid_record_leaves_no_corpus_a_later_run_would_take(tmp_path, small_genomes):
    import gzip

    from vqdna.corpus import load_corpus, prepare_corpus
    from vqdna.storage import CheckpointError

    whole = gzip.compress(small_genomes[0].read_bytes())
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(whole[: len(whole) // 2])  # a download that stopped half way
    with pytest.raises(SequenceError, match="cut.fa.gz: cannot read"):
        prepare_corpus([cut], tmp_path / "c", quiet=True)
    assert not (tmp_path / "c" / "bases.u8").exists()
    with pytest.raises(CheckpointError, match="unfinished corpus|not a prepared corpus"):
        load_corpus(tmp_path / "c")


def test_the_demo_trains_on_a_prepared_corpus_when_given_one(tmp_path, small_genomes):
    from vqdna.corpus import load_corpus, prepare_corpus
    from vqdna.demo import training_genomes

    prepare_corpus(small_genomes, tmp_path / "c", quiet=True)  # holds out 5% (the default), recorded
    train, heldout = training_genomes({}, 5_000, load_corpus(tmp_path / "c"))
    assert [g.name for g in train] == ["diphtheriae_200k", "ecoli_100k"] and [g.num_bp for g in train] == [
        190_000,
        95_000,
    ]
    assert list(heldout) == ["diphtheriae_200k, held-out 5%", "ecoli_100k, held-out 5%"]
    assert [g.num_bp for g in heldout.values()] == [5_000, 5_000]  # cut to the evaluation budget
    # the held-out bases are the corpus's recorded last 5%, never a training base
    whole = np.asarray(load_corpus(tmp_path / "c")[0].records[0])
    assert np.array_equal(np.asarray(heldout["diphtheriae_200k, held-out 5%"].records[0]), whole[190_000:195_000])


def test_species_weights_are_checked_alike_wherever_they_are_given(tmp_path, small_genomes):
    from vqdna.corpus import load_corpus, prepare_corpus
    from vqdna.training.tokenizer import load_genomes

    with pytest.raises(UserError, match="^1 species weights for 2 FASTA files$"):
        prepare_corpus(small_genomes, tmp_path / "c", weights=[1], quiet=True)
    with pytest.raises(UserError, match="^1 species weights for 2 FASTA files$"):
        load_genomes(small_genomes, [1])
    with pytest.raises(UserError, match=r"non-negative and not all zero, got \[1, -1\]"):
        prepare_corpus(small_genomes, tmp_path / "c", weights=[1, -1], quiet=True)
    prepare_corpus(small_genomes, tmp_path / "c", quiet=True)
    with pytest.raises(UserError, match=r"^3 species weights for 2 species of .*c$"):
        load_corpus(tmp_path / "c", weights=[1, 1, 1])
    with pytest.raises(UserError, match=r"non-negative and not all zero, got \[0.0, 0.0\]"):
        WindowSampler([_genome("a", 1000, 0, 0.0), _genome("b", 1000, 1, 0.0)], 100)
