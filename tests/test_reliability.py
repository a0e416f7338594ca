"""Fault injection: every bad option, config value, file and folder gets exit status 2 and a
message that names it (never a traceback); only a genuine bug shows a traceback, and says so."""

import json

import pytest

from vqdna import cli
from vqdna.cli import main
from vqdna.config import CNNBaselineConfig, FinetuneConfig, KmerConfig, PretrainConfig, TokenizerTrainingConfig, VQVAEConfig, from_dict
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
    (["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--max-steps", "0"], "argument --max-steps: expected an integer >= 1, got '0'"),
    (["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
    (["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--species-weights", "1,x"], "--species-weights: expected comma-separated"),
    (["train-tokenizer", "--kind", "vq", "--fasta", "g.fa", "--output-dir", "o", "--species-weights", "0,0"], "not all zero"),
    (["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--window-bp", "0"], "argument --window-bp: expected an integer >= 1, got '0'"),
    (["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--device", "gpu"], "argument --device: expected a device such as cpu, cuda or cuda:0, got 'gpu'"),
    (["eval-tokenizer", "--tokenizer", "t", "--fasta", "g.fa", "--device", "cuda:7"], "argument --device: 'cuda:7': this machine has"),
    (["tokenize", "--tokenizer", "t", "--fasta", "g.fa", "--output", "o.jsonl", "--device", "tpu"], "argument --device"),
    (["pretrain", "--tokenizer", "t", "--fasta", "g.fa", "--output-dir", "o", "--mask-ratio", "1.5"], "argument --mask-ratio: expected a number in (0, 1), got '1.5'"),
    (["pretrain", "--tokenizer", "t", "--fasta", "g.fa", "--output-dir", "o", "--mask-ratio", "nan"], "argument --mask-ratio: expected a number in (0, 1), got 'nan'"),
    (["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--learning-rate=-1e-4"], "argument --learning-rate: expected a number > 0"),
    (["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--num-train-epochs", "0"], "argument --num-train-epochs: expected a number > 0"),
    (["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--lora-r", "0"], "argument --lora-r: expected an integer >= 1"),
    (["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--seeds", "1,a"], "--seeds: expected comma-separated non-negative integers"),
    (["finetune", "--model", "m", "--data-path", "d", "--output-dir", "o", "--seeds", "-1"], "--seeds: expected comma-separated non-negative integers"),
    (["predict", "--model", "m", "--fasta", "g.fa", "--output", "p.csv", "--batch-size", "-4"], "argument --batch-size: expected an integer >= 1, got '-4'"),
    (["embed", "--model", "m", "--fasta", "g.fa", "--output", "e.npy", "--window-bp", "0"], "argument --window-bp: expected an integer >= 1, got '0'"),
    (["make-task", "species", "--fasta", "g.fa", "--output-dir", "o", "--window-bp", "-5"], "argument --window-bp: expected an integer >= 1, got '-5'"),
    (["make-task", "variants", "--fasta", "g.fa", "--output-dir", "o", "--fragment-bp", "0"], "argument --fragment-bp: expected an integer >= 1, got '0'"),
    (["diff", "--tokenizer", "t", "--fasta", "a.fa", "b.fa", "--flank", "-1"], "argument --flank: expected an integer >= 0, got '-1'"),
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
    (FinetuneConfig, {"lora_target_modules": "query"}, "lora_target_modules must be a list of str, got 'query'"),
    (CNNBaselineConfig, {"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
    (CNNBaselineConfig, {"kernel_size": 4}, "kernel_size must be odd, got 4"),
    (PretrainConfig, {"mask_ratio": 0}, "mask_ratio must be in (0, 1), got 0.0"),
    (PretrainConfig, {"window_bp": 0}, "window_bp must be >= 1, got 0"),
    (PretrainConfig, {"hidden_size": 100, "num_attention_heads": 3}, "hidden_size 100 is not a multiple of num_attention_heads 3"),
    (TokenizerTrainingConfig, {"max_n_fraction": 1.0}, "max_n_fraction must be in [0, 1), got 1.0"),
    (TokenizerTrainingConfig, {"window_bp": -512}, "window_bp must be >= 1, got -512"),
    (VQVAEConfig, {"codebook_sizes": [512, 0], "tap_blocks": [2, 4]}, "codebook_sizes must be >= 1, got [512, 0]"),
    (VQVAEConfig, {"decay": 1.5}, "decay must be in [0, 1), got 1.5"),
]


@pytest.mark.parametrize("cls,values,expected", BAD_VALUES, ids=[f"{c.__name__}-{next(iter(v))}" for c, v, _ in BAD_VALUES])
def test_bad_config_values_are_refused_with_their_key(cls, values, expected):
    with pytest.raises(UserError) as info:
        from_dict(cls, values, what="the config")
    assert str(info.value) == f"the config: {expected}"


def test_integral_floats_pass_as_integers_and_ints_as_floats():
    cfg = from_dict(FinetuneConfig, {"batch_size": 32.0, "learning_rate": 1, "seeds": [1.0, 2]})
    assert (cfg.batch_size, cfg.learning_rate, cfg.seeds) == (32, 1.0, [1, 2])
    assert isinstance(cfg.batch_size, int) and isinstance(cfg.learning_rate, float)


@pytest.mark.parametrize("config,expected", [
    ('{"kmer": {"overlapping": "false"}}', "kmer config: overlapping must be true or false, got 'false'"),
    ('{"training": {"batch_size": 0}}', "training config: batch_size must be >= 1, got 0"),
    ('{"training": 5}', "--config: section 'training' must be an object of settings, got 5"),
    ('[1, 2]', "--config: expected an object with sections model, training, bpe, kmer; got list"),
    ('{"kmer": {"k": 3}, ' + '"training": {"seed": 1}, ' * 0 + '"bpe": {"vocab_size": 64}' + " " * 300 + "}", None),
])
def test_train_tokenizer_config_errors_name_section_and_key(capsys, tmp_path, small_genomes, config, expected):
    """Also an inline --config longer than a file name may be (255 bytes) is read as JSON."""
    out = tmp_path / "tok"
    rc, err = run_cli(capsys, ["-q", "train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(out),
                               "--config", config])
    if expected is None:
        assert rc == 0, err
        assert json.loads((out / "config.json").read_text())["k"] == 3
    else:
        assert_user_error(rc, err, expected)
        assert not out.exists()


def test_long_config_that_is_neither_file_nor_json_is_named(capsys, tmp_path):
    text = "x" * 400  # too long for a file name: the check must not raise 'File name too long'
    rc, err = run_cli(capsys, ["finetune", "--model", str(tmp_path), "--data-path", str(tmp_path), "--output-dir", str(tmp_path / "o"),
                               "--config", text])
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
    assert main(["-q", "train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(tok)]) == 0
    before = {f.name: f.read_bytes() for f in tok.iterdir()}
    for argv in (["pretrain", "--tokenizer", str(tok), "--fasta", str(small_genomes[1]), "--output-dir", str(tok), "--resume"],
                 ["make-task", "labeled", "--fasta", str(small_genomes[0]), str(small_genomes[1]), "--window-bp", "100", "--output-dir", str(tok)],
                 ["diff", "--tokenizer", str(tok), "--fasta", str(small_genomes[0]), str(small_genomes[1]), "--output-dir", str(tok)]):
        rc, err = run_cli(capsys, argv)
        assert_user_error(rc, err, str(tok))
        assert "train-tokenizer" in err or "already holds files" in err, err
    rc, err = run_cli(capsys, ["train-tokenizer", "--kind", "bpe", "--fasta", str(small_genomes[1]), "--output-dir", str(tok), "--resume"])
    assert_user_error(rc, err, 'holds a `vqdna train-tokenizer` run with other inputs or settings (kind: "kmer" -> "bpe"')
    assert {f.name: f.read_bytes() for f in tok.iterdir()} == before


def test_a_folder_of_unknown_files_is_never_written_into(capsys, tmp_path, small_genomes):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    rc, err = run_cli(capsys, ["train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[1]), "--output-dir", str(mine)])
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
    rc, err = run_cli(capsys, ["embed", "--model", str(swapped), "--fasta", str(fasta), "--output", str(tmp_path / "e.npy")])
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
