"""Training tokenizers on real genomes (small slices of pyrodigal's C. diphtheriae and E. coli)."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from vqdna.cli import main
from vqdna.corpus import Genome
from vqdna.errors import UserError
from vqdna.evaluation.tokenizer import evaluate_tokenizer
from vqdna.tokenizers import load_tokenizer
from vqdna.training.tokenizer import RunError, train_tokenizer

SMALL = {
    "vqvae": {"stem_channels": 32, "width": 32, "depth": 2, "code_dim": 16, "codebook_sizes": [64], "tap_blocks": [2]},
    "training": {"window_bp": 128, "batch_size": 8, "save_steps": 4, "logging_steps": 2, "warmup_steps": 2},
}
SMALL_HRQ = {**SMALL, "vqvae": {**SMALL["vqvae"], "codebook_sizes": [32, 64], "tap_blocks": [1, 2]}}


@pytest.mark.slow
def test_vq_training_learns_to_reconstruct_real_dna(tmp_path, small_genomes):
    train_fa, unseen_fa = small_genomes
    tok = train_tokenizer("vq", [train_fa], tmp_path / "vq", config=SMALL, max_steps=40, quiet=True)
    log = json.loads((tmp_path / "vq" / "training_log.json").read_text())
    losses = [h["loss"] for h in log if "loss" in h]
    assert losses[-1] < 0.5 * losses[0]
    assert (tmp_path / "vq" / "training_curves.png").stat().st_size > 1000
    result = evaluate_tokenizer(tok, [Genome.from_fasta(unseen_fa)], window_bp=512)
    assert result["reconstruction_accuracy"] > 0.9  # another species, never seen in training
    assert 0.3 < result["code_usage"] <= 1.0 and result["tokens_per_bp"] == 1.0
    meta = json.loads((tmp_path / "vq" / "config.json").read_text())["metadata"]
    assert meta["seed"] == 0 and meta["steps"] == 40 and meta["corpus"][0]["bp"] == 200_000
    assert "torch" in meta["trained_with"]


@pytest.mark.slow
def test_resume_after_interruption_gives_the_uninterrupted_weights(tmp_path, small_genomes):
    train_fa, _ = small_genomes
    full = tmp_path / "full"
    train_tokenizer("hrq", [train_fa], full, config=SMALL_HRQ, max_steps=8, quiet=True)
    # An interrupted run: the same command, killed after its step-4 checkpoint.
    cut = tmp_path / "cut"
    shutil.copytree(full / "checkpoints" / "checkpoint-4", cut / "checkpoints" / "checkpoint-4")
    shutil.copy(full / "run.json", cut / "run.json")
    (cut / "run.json").write_text((cut / "run.json").read_text().replace('"finished": true', '"finished": false'))
    with pytest.raises(
        UserError, match="holds an interrupted `vqdna train-tokenizer` run with these inputs: pass --resume"
    ):
        train_tokenizer("hrq", [train_fa], cut, config=SMALL_HRQ, max_steps=8, quiet=True)
    train_tokenizer("hrq", [train_fa], cut, config=SMALL_HRQ, max_steps=8, quiet=True, resume=True)
    a, b = load_file(full / "model.safetensors"), load_file(cut / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)


def test_finished_output_is_never_overwritten(tmp_path, small_genomes):
    out = tmp_path / "k"
    train_tokenizer("kmer", [small_genomes[0]], out)
    before = (out / "config.json").read_text()
    with pytest.raises(
        UserError, match=r"holds a `vqdna train-tokenizer` run with other inputs or settings \(config.k: 6 -> 3\)"
    ):
        train_tokenizer("kmer", [small_genomes[0]], out, config={"kmer": {"k": 3}})
    for resume in (False, True):  # the same run again, resumed or not: nothing to do, nothing touched
        with pytest.raises(RunError, match="already holds this kmer tokenizer"):
            train_tokenizer("kmer", [small_genomes[0]], out, resume=resume)
    with pytest.raises(
        UserError, match='holds a `vqdna train-tokenizer` run with other inputs or settings \\(kind: "kmer" -> "bpe"'
    ):
        train_tokenizer("bpe", [small_genomes[0]], out, resume=True)
    assert (out / "config.json").read_text() == before


@pytest.mark.slow
def test_cli_trains_evaluates_and_tokenizes_every_kind(tmp_path, small_genomes, capsys):
    train_fa, unseen_fa = small_genomes
    csv = tmp_path / "task.csv"
    csv.write_text("sequence,label\nACGTACGTAA,1\nacgtnnacgt,0\n")
    for kind in ("vq", "hrq", "bpe", "kmer"):
        out = tmp_path / kind
        cfg = json.dumps(SMALL_HRQ if kind == "hrq" else SMALL if kind == "vq" else {"bpe": {"vocab_size": 256}})
        assert (
            main(
                [
                    "-q",
                    "train-tokenizer",
                    "--kind",
                    kind,
                    "--fasta",
                    str(train_fa),
                    "--output-dir",
                    str(out),
                    "--max-steps",
                    "6",
                    "--config",
                    cfg,
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "-q",
                    "eval-tokenizer",
                    "--tokenizer",
                    str(out),
                    "--fasta",
                    str(unseen_fa),
                    "--json",
                    str(out / "eval.json"),
                    "--plot",
                    str(out / "usage.png"),
                ]
            )
            == 0
        )
        result = json.loads((out / "eval.json").read_text())
        for key in ("reconstruction_accuracy", "code_usage", "perplexity", "tokens_per_bp", "bp_per_second"):
            assert key in result
        levels = 2 if kind == "hrq" else 1
        assert (
            (isinstance(result["code_usage"], list) and len(result["code_usage"]) == 2)
            if levels == 2
            else isinstance(result["code_usage"], float)
        )
        if kind in ("bpe", "kmer"):
            assert result["reconstruction_accuracy"] == 1.0
        assert (out / "usage.png").stat().st_size > 1000
        assert (
            main(["-q", "tokenize", "--tokenizer", str(out), "--csv", str(csv), "--output", str(out / "tok.jsonl")])
            == 0
        )
        rows = [json.loads(line) for line in (out / "tok.jsonl").read_text().splitlines()]
        tok = load_tokenizer(out)
        assert [r["input_ids"] for r in rows] == [e.tolist() for e in tok.encode_batch(["ACGTACGTAA", "acgtnnacgt"])]
        assert [r["label"] for r in rows] == ["1", "0"]


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.fa"
    bad.write_text(">chr1\nACGTACGT\n>chr2\nACGT*ACGT\n")
    assert (
        main(["-q", "train-tokenizer", "--kind", "bpe", "--fasta", str(bad), "--output-dir", str(tmp_path / "o")]) == 2
    )
    err = capsys.readouterr().err
    assert "bad.fa: record 'chr2': invalid character '*' at position 5" in err and "Traceback" not in err
    assert main(["-q", "eval-tokenizer", "--tokenizer", str(tmp_path / "none"), "--fasta", str(bad)]) == 2
    assert "no such tokenizer folder" in capsys.readouterr().err
    assert (
        main(
            [
                "-q",
                "train-tokenizer",
                "--kind",
                "vq",
                "--fasta",
                str(bad),
                "--output-dir",
                str(tmp_path / "o"),
                "--config",
                '{"vqvae": {"widht": 3}}',
            ]
        )
        == 2
    )
    assert "unknown keys ['widht']" in capsys.readouterr().err
    assert (
        main(
            [
                "-q",
                "train-tokenizer",
                "--kind",
                "vq",
                "--fasta",
                str(bad),
                "--output-dir",
                str(tmp_path / "o"),
                "--config",
                "{model",
            ]
        )
        == 2
    )
    assert "--config: '{model' is neither a JSON file nor valid JSON" in capsys.readouterr().err


def test_a_tokenizer_run_recorded_before_the_trainer_options_existed_is_still_recognised(
    tmp_path, capsys, small_genomes
):
    from vqdna.config import TokenizerTrainingConfig
    from vqdna.storage import fingerprint

    out = tmp_path / "k"
    args = ["train-tokenizer", "--kind", "kmer", "--fasta", str(small_genomes[0]), "--output-dir", str(out)]
    assert main(["-q", *args]) == 0
    marker = out / "run.json"
    run = json.loads(marker.read_text())
    training = {k: v for k, v in run["inputs"]["training"].items() if k not in TokenizerTrainingConfig.ADDED}
    old = {**run["inputs"], "training": training}
    marker.write_text(json.dumps({**run, "inputs": old, "fingerprint": fingerprint(old)}))  # as an older vqdna wrote it
    assert main(["-q", *args, "--lr-scheduler-type", "linear"]) == 2  # that run's schedule was cosine
    assert "other inputs or settings" in capsys.readouterr().err
    assert main(["-q", *args]) == 2
    assert "already holds this kmer tokenizer" in capsys.readouterr().err  # the same run: recognised, kept
