"""Fault injection: every bad option, config value, file and folder gets exit status 2 and a
message that names it (never a traceback); only a genuine bug shows a traceback, and says so."""

import gzip
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vqdna import cli
from vqdna.cli import main
from vqdna.config import (
    CNNBaselineConfig,
    EncoderConfig,
    FinetuneConfig,
    KmerConfig,
    PretrainConfig,
    TokenizerTrainingConfig,
    VQVAEConfig,
    from_dict,
)
from vqdna.errors import UserError


def run_cli(capsys, argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of one command; argparse's own refusals exit through SystemExit."""
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    return rc, err


def assert_user_error(rc: int, err: str, *expected: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err, err
    for text in expected:
        assert text in err, (text, err)


# -- command-line options: refused by name before any work starts ---------------------------------

BAD_OPTIONS = [
    (
        ["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--max-steps", "0"],
        "argument --max-steps: expected an integer >= 1, got '0'",
    ),
    (
        ["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--seed", "-1"],
        "argument --seed: expected an integer in 0..4294967295, got '-1'",
    ),
    (
        ["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--species-weights", "1,x"],
        "--species-weights: expected comma-separated",
    ),
    (
        ["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--species-weights", "0,0"],
        "not all zero",
    ),
    (
        ["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--window-bp", "0"],
        "argument --window-bp: expected an integer >= 1, got '0'",
    ),
    (
        ["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--device", "gpu"],
        "argument --device: expected a device such as cpu, cuda or cuda:0, got 'gpu'",
    ),
    (
        ["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--device", "cuda:7"],
        "argument --device: 'cuda:7': this machine has",
    ),
    (
        ["tokenize", "--tokenizer", "t", "--fasta", "g.fa", "--output", "o.jsonl", "--device", "tpu"],
        "argument --device",
    ),
    (
        ["pretrain", "--tokenizer", "t", "--fasta", "g.fa", "--output-dir", "o", "--mask-ratio", "1.5"],
        "argument --mask-ratio: expected a number in (0, 1), got '1.5'",
    ),
    (
        ["pretrain", "--tokenizer", "t", "--fasta", "g.fa", "--output-dir", "o", "--mask-ratio", "nan"],
        "argument --mask-ratio: expected a number in (0, 1), got 'nan'",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--learning-rate=-1e-4"],
        "argument --learning-rate: expected a number > 0",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--num-train-epochs", "0"],
        "argument --num-train-epochs: expected a number > 0",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--lora-r", "0"],
        "argument --lora-r: expected an integer >= 1",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--seeds", "1,a"],
        "--seeds: expected comma-separated integers in 0..4294967295",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--seeds", "-1"],
        "--seeds: expected comma-separated integers in 0..4294967295",
    ),
    (
        ["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--seeds", "1,99999999999"],
        "--seeds: expected comma-separated integers in 0..4294967295",
    ),
    (
        ["pretrain", "--tokenizer", "t", "--fasta", "g.fa", "--output-dir", "o", "--seed", "4294967296"],
        "argument --seed: expected an integer in 0..4294967295",
    ),
    (
        ["predict", "--model", "m", "--fasta", "g.fa", "--output", "p.csv", "--batch-size", "-4"],
        "argument --batch-size: expected an integer >= 1, got '-4'",
    ),
    (
        ["embed", "--model", "m", "--fasta", "g.fa", "--output", "e.npy", "--window-bp", "0"],
        "argument --window-bp: expected an integer >= 1, got '0'",
    ),
    (
        ["make-task", "species", "--fasta", "g.fa", "--output-dir", "o", "--window-bp", "-5"],
        "argument --window-bp: expected an integer >= 1, got '-5'",
    ),
    (
        ["make-task", "variants", "--fasta", "g.fa", "--output-dir", "o", "--fragment-bp", "0"],
        "argument --fragment-bp: expected an integer >= 1, got '0'",
    ),
    (
        ["diff", "--tokenizer", "t", "--fasta", "a.fa", "b.fa", "--flank", "-1"],
        "argument --flank: expected an integer >= 0, got '-1'",
    ),
]


@pytest.mark.parametrize("argv,expected", BAD_OPTIONS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD_OPTIONS])
def test_bad_options_are_refused_by_name(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    rc, err = run_cli(capsys, argv)
    assert_user_error(rc, err, expected)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


# -- config values: types and ranges, named, from --config and from a saved config.json ------------

BAD_VALUES = [
    (KmerConfig, {"overlapping": "false"}, "overlapping must be true or false, got 'false'"),
    (KmerConfig, {"k": "6"}, "k must be an integer, got '6'"),
    (KmerConfig, {"k": 0}, "k must be >= 1, got 0"),
    (FinetuneConfig, {"batch_size": -1}, "batch_size must be >= 1, got -1"),
    (FinetuneConfig, {"max_length_bp": 0}, "max_length_bp must be >= 1, got 0"),
    (FinetuneConfig, {"use_lora": 1}, "use_lora must be true or false, got 1"),
    (FinetuneConfig, {"learning_rate": "1e-4"}, "learning_rate must be a finite number, got '1e-4'"),
    (FinetuneConfig, {"seeds": [1, 2.5]}, "seeds[1] must be an integer, got 2.5"),
    (FinetuneConfig, {"seeds": []}, "seeds: need at least one seed"),
    (
        FinetuneConfig,
        {"seeds": [2**40]},
        "seeds must be an integer in 0..4294967295 (numpy's seed range), got [1099511627776]",
    ),
    (FinetuneConfig, {"lora_target_modules": "query"}, "lora_target_modules must be a list of str, got 'query'"),
    (CNNBaselineConfig, {"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
    (CNNBaselineConfig, {"kernel_size": 4}, "kernel_size must be odd, got 4"),
    (PretrainConfig, {"mask_ratio": 0}, "mask_ratio must be in (0, 1), got 0.0"),
    (PretrainConfig, {"window_bp": 0}, "window_bp must be >= 1, got 0"),
    (
        EncoderConfig,
        {"hidden_size": 100, "num_attention_heads": 3},
        "hidden_size 100 is not a multiple of num_attention_heads 3",
    ),
    (TokenizerTrainingConfig, {"max_n_fraction": 1.0}, "max_n_fraction must be in [0, 1), got 1.0"),
    (TokenizerTrainingConfig, {"window_bp": -512}, "window_bp must be >= 1, got -512"),
    (VQVAEConfig, {"codebook_sizes": [512, 0], "tap_blocks": [2, 4]}, "codebook_sizes must be >= 1, got [512, 0]"),
    (VQVAEConfig, {"decay": 1.5}, "decay must be in [0, 1), got 1.5"),
    (
        VQVAEConfig,
        {"codebook_sizes": [1]},
        "invalid VQ-VAE config: every codebook needs at least 2 codes (one code carries no information), got codebook_sizes=[1]",
    ),
]


@pytest.mark.parametrize(
    "cls,values,expected", BAD_VALUES, ids=[f"{c.__name__}-{next(iter(v))}" for c, v, _ in BAD_VALUES]
)
def test_bad_config_values_are_refused_with_their_key(cls, values, expected):
    with pytest.raises(UserError) as info:
        from_dict(cls, values, what="the config")
    assert str(info.value) == f"the config: {expected}"


def test_integral_floats_pass_as_integers_and_ints_as_floats():
    cfg = from_dict(FinetuneConfig, {"batch_size": 32.0, "learning_rate": 1, "seeds": [1.0, 2]})
    assert (cfg.batch_size, cfg.learning_rate, cfg.seeds) == (32, 1.0, [1, 2])
    assert isinstance(cfg.batch_size, int) and isinstance(cfg.learning_rate, float)


@pytest.mark.parametrize(
    "config,expected",
    [
        ('{"kmer": {"overlapping": "false"}}', "kmer config: overlapping must be true or false, got 'false'"),
        ('{"training": {"batch_size": 0}}', "training config: batch_size must be >= 1, got 0"),
        ('{"training": 5}', "--config: section 'training' must be an object of settings, got 5"),
        ("[1, 2]", "--config: expected a JSON object of settings, got list [1, 2]"),
        ('{"widht": 3}', "--config: unknown key 'widht'; the sections are vqvae, training, bpe, kmer and their keys"),
        ('{"vqvae": {"widht": 3}}', "vqvae config: unknown keys ['widht']"),
        ('{"kmer": {"k": 3}, ' + '"training": {"seed": 1}, ' * 0 + '"bpe": {"vocab_size": 64}' + " " * 300 + "}", None),
    ],
)
def test_train_tokenizer_config_errors_name_section_and_key(capsys, tmp_path, small_genomes, config, expected):
    """Also an inline --config longer than a file name may be (255 bytes) is read as JSON."""
    out = tmp_path / "tok"
    rc, err = run_cli(
        capsys,
        [
            "-q",
            "train-tokenizer",
            "--kind",
            "kmer",
            "--fasta",
            str(small_genomes[1]),
            "--output-dir",
            str(out),
            "--config",
            config,
        ],
    )
    if expected is None:
        assert rc == 0, err
        assert json.loads((out / "config.json").read_text())["k"] == 3
    else:
        assert_user_error(rc, err, expected)
        assert not out.exists()


def test_long_config_that_is_neither_file_nor_json_is_named(capsys, tmp_path):
    text = "x" * 400  # too long for a file name: the check must not raise 'File name too long'
    rc, err = run_cli(
        capsys,
        [
            "finetune",
            "--model",
            str(tmp_path),
            "--data-path",
            str(tmp_path),
            "--output-dir",
            str(tmp_path / "o"),
            "--config",
            text,
        ],
    )
    assert_user_error(rc, err, "--config: 'xxxx", "is neither a JSON file nor valid JSON")


# -- the line between a user's mistake and a bug ----------------------------------------------------


def test_a_bug_shows_its_traceback_and_asks_for_a_report(capsys, monkeypatch):
    def broken(args):
        raise KeyError("internal")

    monkeypatch.setattr(cli, "_data", broken)
    rc, err = run_cli(capsys, ["data"])
    assert rc == 1
    assert "Traceback" in err and "KeyError: 'internal'" in err
    assert "vqdna data: internal error: this is a bug in vqdna, not a problem with your input" in err


def test_unreadable_paths_are_user_errors_naming_the_path(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, err = run_cli(capsys, ["eval-tokenizer", "--tokenizer", str(blocker / "sub"), "--fasta", str(blocker)])
    assert_user_error(rc, err, str(blocker / "sub"))


# -- nothing lost: folders say what wrote them; outputs never replace inputs ------------------------


def test_no_command_writes_into_another_commands_folder(capsys, tmp_path, small_genomes):
    tok = tmp_path / "tok"
    assert (
        main(["-q", "train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(tok)])
        == 0
    )
    before = {f.name: f.read_bytes() for f in tok.iterdir()}
    for argv in (
        ["pretrain", "--tokenizer", str(tok), "--fasta", str(small_genomes[1]), "--output-dir", str(tok), "--resume"],
        [
            "make-task",
            "labeled",
            "--fasta",
            str(small_genomes[0]),
            str(small_genomes[1]),
            "--window-bp",
            "100",
            "--output-dir",
            str(tok),
        ],
        [
            "diff",
            "--tokenizer",
            str(tok),
            "--fasta",
            str(small_genomes[0]),
            str(small_genomes[1]),
            "--output-dir",
            str(tok),
        ],
    ):
        rc, err = run_cli(capsys, argv)
        assert_user_error(rc, err, str(tok))
        assert "train-tokenizer" in err or "already holds files" in err, err
    rc, err = run_cli(
        capsys,
        ["train-tokenizer", "--kind", "bpe", "--fasta", str(small_genomes[1]), "--output-dir", str(tok), "--resume"],
    )
    assert_user_error(
        rc, err, 'holds a `vqdna train-tokenizer` run with other inputs or settings (kind: "kmer" -> "bpe"'
    )
    assert {f.name: f.read_bytes() for f in tok.iterdir()} == before


def test_a_folder_of_unknown_files_is_never_written_into(capsys, tmp_path, small_genomes):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    rc, err = run_cli(
        capsys, ["train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(mine)]
    )
    assert_user_error(rc, err, f"{mine} is not empty (notes.txt) and holds no run.json of `vqdna train-tokenizer`")
    assert [f.name for f in mine.iterdir()] == ["notes.txt"]


def test_a_model_refuses_a_tokenizer_it_was_not_trained_on(tmp_path, kmer_model, capsys):
    import shutil

    from vqdna.inference import embed
    from vqdna.storage import CheckpointError
    from vqdna.tokenizers import KmerTokenizer

    assert embed(kmer_model, ["ACGTACGTAC"]).shape[0] == 1
    swapped = tmp_path / "model"
    shutil.copytree(kmer_model, swapped)
    shutil.rmtree(swapped / "tokenizer")
    KmerTokenizer(k=3, overlapping=True).save_pretrained(swapped / "tokenizer")  # same vocabulary size, other tokens
    with pytest.raises(CheckpointError, match=r"model/tokenizer: not the tokenizer this model was trained on"):
        embed(swapped, ["ACGTACGTAC"])
    fasta = tmp_path / "x.fa"
    fasta.write_text(">x\nACGTACGTAC\n")
    rc, err = run_cli(
        capsys, ["embed", "--model", str(swapped), "--fasta", str(fasta), "--output", str(tmp_path / "e.npy")]
    )
    assert_user_error(rc, err, "not the tokenizer this model was trained on")
    assert not (tmp_path / "e.npy").exists()


def test_fingerprints_follow_what_a_tokenizer_does(tmp_path, small_genomes):
    from vqdna.tokenizers import KmerTokenizer, load_tokenizer
    from vqdna.training.tokenizer import train_tokenizer

    assert KmerTokenizer(k=3).fingerprint() == KmerTokenizer(k=3, metadata={"note": "other metadata"}).fingerprint()
    assert KmerTokenizer(k=3).fingerprint() != KmerTokenizer(k=3, overlapping=True).fingerprint()
    bpe = train_tokenizer("bpe", [small_genomes[1]], tmp_path / "bpe", config={"bpe": {"vocab_size": 40}}, quiet=True)
    assert load_tokenizer(tmp_path / "bpe").fingerprint() == bpe.fingerprint()  # survives a save and a load


@pytest.mark.parametrize("command", ["tokenize", "predict", "embed"])
def test_outputs_never_replace_inputs_or_earlier_results(capsys, tmp_path, command):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">x\nACGTACGTAC\n")
    model_option = ["--tokenizer", str(tmp_path)] if command == "tokenize" else ["--model", str(tmp_path)]
    rc, err = run_cli(capsys, [command, *model_option, "--fasta", str(fasta), "--output", str(fasta)])
    assert_user_error(rc, err, f"--output {fasta}: is also the input file")
    earlier = tmp_path / "earlier.out"
    earlier.write_text("an earlier result")
    rc, err = run_cli(capsys, [command, *model_option, "--fasta", str(fasta), "--output", str(earlier)])
    assert_user_error(rc, err, f"--output {earlier}: already exists")
    assert fasta.read_text() == ">x\nACGTACGTAC\n" and earlier.read_text() == "an earlier result"


# -- labels and degenerate data --------------------------------------------------------------------


def _task(folder, train: str, dev: str = "sequence,label\nACGTAC,0\nTTGACA,1\n", test: str | None = None):
    folder.mkdir()
    for name, text in (("train", train), ("dev", dev), ("test", test or dev)):
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_numeric_labels_are_classes_by_value(tmp_path):
    from vqdna.seqio import load_task

    task = load_task(
        _task(
            tmp_path / "t",
            "sequence,label\nACGTAC,1\nACGTAA,1.0\nTTGACA,0\nTTGACC,00\n",
            "sequence,label\nACGTAC,1.0\nTTGACA,0\n",
        )
    )
    assert task.task_type == "classification" and task.label_names == ["0", "1"]
    assert task.targets["train"].tolist() == [1, 1, 0, 0] and task.targets["dev"].tolist() == [1, 0]


@pytest.mark.parametrize("label", ["nan", "NaN", "NA", "inf", "null"])
def test_missing_labels_are_refused_with_file_and_line(tmp_path, label):
    from vqdna.alphabet import SequenceError
    from vqdna.seqio import load_task

    folder = _task(tmp_path / "t", f"sequence,label\nACGTAC,1\nACGTAA,{label}\nTTGACA,0\n")
    with pytest.raises(SequenceError, match=rf"train.csv: line 3: label '{label}' marks a missing value"):
        load_task(folder)


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path):
    from vqdna.seqio import read_labeled_csv

    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsequence,label\nACGT,1\n".encode("utf-8"))
    data = read_labeled_csv(path)
    assert data.sequences == ["ACGT"] and data.labels == ["1"]


def test_a_single_class_task_is_refused(tmp_path):
    from vqdna.alphabet import SequenceError
    from vqdna.seqio import load_task

    with pytest.raises(SequenceError, match=r"train.csv: only one label \('1'\) in the training set"):
        load_task(_task(tmp_path / "t", "sequence,label\nACGTAC,1\nACGTAA,1.0\n"))


@pytest.mark.parametrize("kind", ["vq", "bpe", "kmer"])
def test_a_genome_without_bases_is_refused_before_training(capsys, tmp_path, kind):
    fasta = tmp_path / "blank.fa"
    fasta.write_text(">all_n\n" + "N" * 5000 + "\n")
    out = tmp_path / "tok"
    rc, err = run_cli(capsys, ["train-tokenizer", "--kind", kind, "--fasta", str(fasta), "--output-dir", str(out)])
    assert_user_error(rc, err, f"blank ({fasta}): no A, C, G or T in its 5,000 bp (all N): nothing to learn from")
    assert not out.exists()


def test_bpe_that_learns_no_merge_is_refused(tmp_path):
    from vqdna.corpus import Genome
    from vqdna.training.engine import RunError
    from vqdna.training.tokenizer import train_tokenizer_on_genomes

    one_base = Genome("poly_a", [np.zeros(3000, dtype=np.uint8)])  # learns the merges of A-runs: fine
    assert (
        train_tokenizer_on_genomes(
            "bpe", [one_base], tmp_path / "a", config={"bpe": {"vocab_size": 30}}, quiet=True
        ).vocab_size
        > 10
    )
    mostly_n = Genome("mostly_n", [np.array([4] * 990 + [0] * 10, dtype=np.uint8)])  # every chunk is 99% N
    with pytest.raises(RunError, match="no 1000 bp chunk of mostly_n has at most 10% N: nothing for BPE to learn from"):
        train_tokenizer_on_genomes("bpe", [mostly_n], tmp_path / "b", quiet=True)


def test_a_run_that_diverges_stops_with_advice_and_saves_nothing(capsys, tmp_path, small_genomes):
    from helpers import SMALL_HRQ
    from vqdna.storage import RUN_MARKER

    config = {
        "vqvae": SMALL_HRQ["vqvae"],
        "training": {**SMALL_HRQ["training"], "learning_rate": 1e4, "warmup_steps": 0},
    }
    out = tmp_path / "tok"
    rc, err = run_cli(
        capsys,
        [
            "--quiet",
            "train-tokenizer",
            "--kind",
            "hrq",
            "--fasta",
            str(small_genomes[1]),
            "--output-dir",
            str(out),
            "--max-steps",
            "30",
            "--config",
            json.dumps(config),
        ],
    )
    assert_user_error(
        rc,
        err,
        "training diverged: the loss is nan at step",
        "lower learning_rate (now 10000)",
        'warmup_steps, now 0) in the "training" section of --config',
    )
    assert not (out / "config.json").exists()
    assert json.loads((out / RUN_MARKER).read_text())["finished"] is False


def test_a_codebook_that_collapsed_is_not_saved_as_a_tokenizer(tmp_path, small_genomes):
    import torch

    from vqdna.config import VQVAEConfig
    from vqdna.corpus import Genome, WindowSampler
    from vqdna.networks import VQVAE
    from vqdna.tokenizers import VQTokenizer
    from vqdna.training.engine import RunError
    from vqdna.training.tokenizer import _check_learned

    sampler = WindowSampler([Genome.from_fasta(small_genomes[0])], 256, seed=0)
    model = VQVAE(VQVAEConfig(stem_channels=16, width=16, depth=2, code_dim=8, codebook_sizes=[32], tap_blocks=[2]))
    # Untrained but alive: random weights already give positions different codes.
    healthy = _check_learned(VQTokenizer(model), sampler, 0, tmp_path)
    assert not healthy["collapsed"] and healthy["perplexity"][0] > 2
    assert 0.2 < healthy["most_common_base_fraction"] < 0.4
    with torch.no_grad():  # an encoder that outputs the same vector everywhere: one code for every position
        for name, p in model.named_parameters():
            if not name.startswith(("quantizer", "decoder")):
                p.zero_()
    with pytest.raises(
        RunError,
        match=r"the vq tokenizer learned nothing: on 64 windows .*level 1: 3.1% of 32 codes used, perplexity 1.00",
    ):
        _check_learned(VQTokenizer(model), sampler, 0, tmp_path)


# -- fuzzing the readers: any file gives a result or a named refusal, never a traceback ------------

FASTA_PIECES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                ">",
                ">rec",
                "> ",
                ";comment",
                "",
                "ACGT",
                "acgtn",
                "NNNN",
                "RYKM",
                "ACGX",
                "AC-GT",
                "\x00",
                "é",
                "\t",
                "ACGT ACGT",
                ">a b c",
            ]
        ),
        st.text(alphabet='>;ACGTNacgtnRYX-. \t\x00é,"', max_size=20),
    ),
    max_size=10,
).map("\n".join)
CSV_PIECES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "sequence,label",
                "\ufeffsequence,label",
                "sequence",
                "seq,label",
                "ACGT,1",
                "ACGT,",
                ",1",
                "ACGT,1,2",
                '"ACGT","0"',
                "ACGT,nan",
                "acgtn,0",
                "ACGU,1",
                "ACGT,1.0",
                '"AC,GT",1',
            ]
        ),
        st.text(alphabet='ACGTN,"01 \t\x00é\r', max_size=20),
    ),
    max_size=8,
).map("\n".join)


def _tokenize_file(capsys, folder, name: str, content: bytes, tokenizer) -> None:
    source = folder / name
    source.write_bytes(content)
    out = folder / "tokens.jsonl"
    option = "--csv" if name.endswith(".csv") else "--fasta"
    rc, err = run_cli(
        capsys, ["-q", "tokenize", "--tokenizer", str(tokenizer), option, str(source), "--output", str(out)]
    )
    try:
        if rc == 0:
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            assert rows and all(len(r["input_ids"]) == r["length_bp"] for r in rows)  # 1-mers: one token per base
        else:
            assert_user_error(rc, err, str(source))
            assert not out.exists()  # nothing that looks finished
    finally:
        out.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def one_mer(tmp_path_factory):
    from vqdna.tokenizers import KmerTokenizer

    folder = tmp_path_factory.mktemp("one_mer")
    KmerTokenizer(k=1).save_pretrained(folder)
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=FASTA_PIECES, gz=st.booleans())
def test_fuzzed_fasta(capsys, tmp_path, one_mer, text, gz):
    content = text.encode("utf-8")
    _tokenize_file(capsys, tmp_path, "in.fa.gz" if gz else "in.fa", gzip.compress(content) if gz else content, one_mer)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=CSV_PIECES)
def test_fuzzed_csv(capsys, tmp_path, one_mer, text):
    _tokenize_file(capsys, tmp_path, "in.csv", text.encode("utf-8"), one_mer)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200), name=st.sampled_from(["in.fa", "in.fa.gz", "in.csv"]))
def test_fuzzed_bytes(capsys, tmp_path, one_mer, content, name):
    _tokenize_file(capsys, tmp_path, name, content, one_mer)


@pytest.mark.parametrize(
    "edit,expected",
    [
        ({"hidden_size": "32"}, "config.json: invalid model config"),
        # another architecture's name: loaded as that architecture, whose weights are not there
        ({"model_type": "bert"}, "model.safetensors: encoder weights missing"),
        ({"model_type": None}, "config.json: not a model config (model_type None)"),
        (
            {"num_hidden_layers": "2"},
            "config.json: invalid model config: num_hidden_layers must be an integer, got '2'",
        ),
        (
            {"intermediate_size": None},
            "config.json: invalid model config: intermediate_size must be an integer, got None",
        ),
        ({"num_hidden_layers": 1}, "model.safetensors: weights that config.json has no place for"),
        ({"level_vocab_sizes": [10]}, "model.safetensors: weights whose shape differs from config.json's"),
    ],
)
def test_a_model_config_with_wrong_values_is_named(capsys, tmp_path, kmer_model, edit, expected):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(kmer_model, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, **edit}))
    fasta = tmp_path / "x.fa"
    fasta.write_text(">x\nACGTACGTAC\n")
    rc, err = run_cli(
        capsys, ["embed", "--model", str(model), "--fasta", str(fasta), "--output", str(tmp_path / "e.npy")]
    )
    assert_user_error(rc, err, str(model), expected)


def test_a_tokenizer_config_with_a_text_boolean_is_named(capsys, tmp_path):
    from vqdna.tokenizers import KmerTokenizer

    KmerTokenizer(k=3).save_pretrained(tmp_path / "tok")
    config = json.loads((tmp_path / "tok" / "config.json").read_text())
    (tmp_path / "tok" / "config.json").write_text(json.dumps({**config, "overlapping": "false"}))
    fasta = tmp_path / "x.fa"
    fasta.write_text(">x\nACGTACGTAC\n")
    rc, err = run_cli(
        capsys,
        [
            "tokenize",
            "--tokenizer",
            str(tmp_path / "tok"),
            "--fasta",
            str(fasta),
            "--output",
            str(tmp_path / "t.jsonl"),
        ],
    )
    assert_user_error(
        rc, err, "tok/config.json: invalid k-mer config: k-mer settings: overlapping must be true or false, got 'false'"
    )


def test_a_sequence_too_long_for_the_model_names_its_record(capsys, tmp_path, kmer_model):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">short\nACGTACGTAC\n>long one\n" + "ACGT" * 30_000 + "\n")
    rc, err = run_cli(
        capsys, ["embed", "--model", str(kmer_model), "--fasta", str(fasta), "--output", str(tmp_path / "e.npy")]
    )
    assert_user_error(
        rc,
        err,
        f"{fasta}: record 'long': sequence of 120,000 bp is longer than the 100,000 bp this model takes; cut it into windows",
    )
    assert not (tmp_path / "e.npy").exists() and not (tmp_path / "e.ids.txt").exists()


@pytest.mark.parametrize(
    "train,expected",
    [
        (
            "sequence,label\nACGTAC,1\nACGTAA,cat\nTTGACA,0\n",
            r"train.csv: labels mix numbers \('1' at line 2\) and names \('cat' at line 3\)",
        ),
        (
            "sequence,label\n" + "ACGTAC,1\nTTGACA,0\n" * 20 + "ACGTAA,0.5\n",
            r"train.csv: line 42: label '0.5' is not an integer while 40 of 41 labels are",
        ),
        (
            "sequence,label\nACGTAC,1\nACGTAA,1\x00\nTTGACA,0\n",
            r"train.csv: line 3: label '1\\x00' holds a control character",
        ),
    ],
)
def test_labels_that_are_most_likely_typos_are_refused(tmp_path, train, expected):
    from vqdna.alphabet import SequenceError
    from vqdna.seqio import load_task

    with pytest.raises(SequenceError, match=expected):
        load_task(_task(tmp_path / "t", train))


def test_a_regression_split_of_one_row_is_refused(tmp_path):
    from vqdna.alphabet import SequenceError
    from vqdna.seqio import load_task

    folder = _task(tmp_path / "t", "sequence,label\nACGTAC,0.1\nTTGACA,0.7\n", dev="sequence,label\nACGTAC,0.2\n")
    with pytest.raises(
        SequenceError, match=r"dev.csv: a regression split needs at least 2 rows to be scored; it has 1"
    ):
        load_task(folder)


def test_an_input_edited_in_place_is_another_input(capsys, tmp_path, small_genomes):
    genome = tmp_path / "g.fa"
    text = small_genomes[1].read_text()
    genome.write_text(text)
    out = tmp_path / "tok"
    assert (
        main(
            [
                "-q",
                "train-tokenizer",
                "--kind",
                "bpe",
                "--fasta",
                str(genome),
                "--output-dir",
                str(out),
                "--config",
                '{"bpe": {"vocab_size": 40}}',
            ]
        )
        == 0
    )
    genome.write_text(text.replace("ACGT", "TGCA"))  # same size, other sequence
    rc, err = run_cli(
        capsys,
        [
            "train-tokenizer",
            "--kind",
            "bpe",
            "--fasta",
            str(genome),
            "--output-dir",
            str(out),
            "--config",
            '{"bpe": {"vocab_size": 40}}',
            "--resume",
        ],
    )
    assert_user_error(rc, err, "holds a `vqdna train-tokenizer` run with other inputs or settings", "sha256")


def test_a_run_that_failed_before_writing_anything_leaves_its_folder_free(capsys, tmp_path, small_genomes):
    out = tmp_path / "tok"
    out.mkdir()
    (out / "run.json").write_text(
        json.dumps({"command": "pretrain", "fingerprint": "x", "finished": False, "inputs": {}})
    )
    assert (
        main(["-q", "train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(out)])
        == 0
    )
    assert json.loads((out / "run.json").read_text())["command"] == "train-tokenizer"


@pytest.mark.parametrize(
    "argv,expected",
    [
        (
            ["train-tokenizer", "--kind", "kmer", "--output-dir", "o", "--fasta", "{a}", "{a}"],
            "--fasta: {a} is given twice",
        ),
        (
            ["make-task", "labeled", "--window-bp", "100", "--output-dir", "o", "--fasta", "{a}", "{a}"],
            "--fasta: {a} is given twice",
        ),
        (
            ["tokenize", "--tokenizer", "t", "--csv", "{c}", "--window-bp", "10", "--output", "x.jsonl"],
            "--window-bp cuts the records of --fasta",
        ),
        (
            ["eval-tokenizer", "--tokenizer", "{k}", "--fasta", "{a}", "--json", "s.x", "--plot", "s.x"],
            "--json and --plot name the same file",
        ),
        (
            [
                "train-tokenizer",
                "--kind",
                "bpe",
                "--output-dir",
                "o",
                "--fasta",
                "{a}",
                "--config",
                '{{"bpe": {{"vocab_size": 3}}}}',
            ],
            "bpe config: vocab_size must be more than 10",
        ),
        (
            ["train-tokenizer", "--kind", "kmer", "--output-dir", "o", "--fasta", "{a}", "{copy}"],
            "--fasta: {copy} and {a} hold the same bytes (one file under two names?)",
        ),
        (
            ["tokenize", "--tokenizer", "{k}", "--csv", "{c}", "--output", "out/"],
            "argument --output: expected a file name, got the folder 'out/'",
        ),
        (
            ["tokenize", "--tokenizer", "{k}", "--csv", "{c}", "--output", "."],
            "argument --output: expected a file name, got the folder '.'",
        ),
        (
            ["tokenize", "--tokenizer", "{k}", "--csv", "{c}", "--output", "{k}"],
            "--output {k}: is a folder; give a file name, e.g. {k}/out.jsonl",
        ),
        (
            ["tokenize", "--tokenizer", "{k}", "--csv", "{c}", "--output", "x.csv"],
            "--output x.csv: the command writes JSON lines, not CSV; name the file x.jsonl",
        ),
        (
            ["predict", "--model", "{k}", "--csv", "{c}", "--output", "x.npy"],
            "--output x.npy: the command writes CSV, not a NumPy array; name the file x.csv",
        ),
        (
            ["embed", "--model", "{k}", "--csv", "{c}", "--output", "x.csv"],
            "--output x.csv: the command writes a NumPy array, not CSV; name the file x.npy",
        ),
        (
            ["eval-tokenizer", "--tokenizer", "{k}", "--fasta", "{a}", "--plot", "s.json"],
            "--plot s.json: the command writes a PNG image, not JSON; name the file s.png",
        ),
    ],
)
def test_inputs_that_cannot_mean_what_they_say(capsys, tmp_path, monkeypatch, small_genomes, argv, expected):
    from vqdna.tokenizers import KmerTokenizer

    monkeypatch.chdir(tmp_path)
    KmerTokenizer(k=3).save_pretrained(tmp_path / "k")
    (tmp_path / "c.csv").write_text("sequence\nACGTACGT\n")
    (tmp_path / "copy.fa").write_bytes(small_genomes[1].read_bytes())
    names = {
        "a": str(small_genomes[1]),
        "c": str(tmp_path / "c.csv"),
        "k": str(tmp_path / "k"),
        "copy": str(tmp_path / "copy.fa"),
    }
    rc, err = run_cli(capsys, [a.format(**names) for a in argv])
    assert_user_error(rc, err, expected.format(**names))
    written = {p.name for p in tmp_path.iterdir()} - {"k", "c.csv", "copy.fa"}
    assert not written, written


@pytest.mark.parametrize(
    "option,value,expected",
    [
        ("--tokenizers", "kmer=", "--tokenizers 'kmer=': expected NAME (a tokenizer kind to train) or NAME=MODEL_DIR"),
        ("--tokenizers", "=model", "--tokenizers '=model': expected NAME"),
        ("--tokenizers", "a={m},a={m}", "--tokenizers: 'a' is given twice"),
        ("--baselines", "kmer-lr,kmer-lr", "--baselines 'kmer-lr,kmer-lr': a baseline is given twice"),
        ("--baselines", "none,cnn", "'none' cannot go with baselines"),
        ("--tasks", "t,t", "--tasks: t given twice"),
    ],
)
def test_benchmark_rows_and_columns_are_named_once(capsys, tmp_path, kmer_model, option, value, expected):
    suite = tmp_path / "suite"
    _task(suite.mkdir() or suite / "t", "sequence,label\nACGTAC,1\nTTGACA,0\n")
    argv = [
        "benchmark",
        "--suite",
        str(suite),
        "--output-dir",
        str(tmp_path / "out"),
        option,
        value.format(m=kmer_model),
    ]
    if option != "--tokenizers":
        argv += ["--tokenizers", f"k={kmer_model}"]
    rc, err = run_cli(capsys, argv)
    assert_user_error(rc, err, expected)
    assert not (tmp_path / "out" / "results.csv").exists()


def test_model_weights_are_readable_by_others(tmp_path, small_genomes):
    from vqdna.training.pretrain import pretrain
    from vqdna.training.tokenizer import train_tokenizer

    train_tokenizer("kmer", [small_genomes[1]], tmp_path / "tok", quiet=True)
    pretrain(
        tmp_path / "tok",
        [small_genomes[1]],
        tmp_path / "model",
        max_steps=2,
        quiet=True,
        config={
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "window_bp": 128,
            "batch_size": 4,
            "eval_windows": 8,
        },
    )
    mode = (tmp_path / "model" / "model.safetensors").stat().st_mode & 0o777
    assert mode & 0o044 == 0o044, oct(mode)  # group and others may read (umask 022)
