"""One configuration path: presets written as differences from the config defaults, a --config
with the presets' shape (or flat keys, routed to the section that has them), and run records
from before the encoder had its own section still read as the same run."""

import dataclasses
import json

import pytest

from vqdna.config import (
    BPEConfig,
    EncoderConfig,
    FinetuneConfig,
    KmerConfig,
    PretrainConfig,
    TokenizerTrainingConfig,
    VQVAEConfig,
    config_sections,
    load_preset,
)
from vqdna.errors import UserError
from vqdna.storage import RUN_MARKER, claim_folder, fingerprint
from vqdna.training.pretrain import resolve_pretrain_config, upgrade_inputs
from vqdna.training.tokenizer import resolve_configs

SECTION_CLASSES = {
    "vqvae": VQVAEConfig,
    "training": TokenizerTrainingConfig,
    "bpe": BPEConfig,
    "kmer": KmerConfig,
    "encoder": EncoderConfig,
    "pretrain": PretrainConfig,
    "finetune": FinetuneConfig,
}


@pytest.mark.parametrize("preset", ["tiny", "fast", "base"])
def test_presets_hold_only_what_differs_from_the_defaults(preset):
    p = load_preset(preset)
    for section, cls in SECTION_CLASSES.items():
        defaults = dataclasses.asdict(cls())
        for key, value in p.get(section, {}).items():
            assert key in defaults, (preset, section, key)
            assert value != defaults[key], f"{preset}.{section}.{key} repeats the default {value!r}"


def test_the_tiny_recipe_resolves_to_the_measured_numbers():
    encoder, pretrain = resolve_pretrain_config("tiny")
    assert (encoder.hidden_size, encoder.num_hidden_layers, encoder.intermediate_size, encoder.input_mode) == (
        128,
        4,
        512,
        "ids",
    )
    assert (pretrain.window_bp, pretrain.batch_size, pretrain.max_steps, pretrain.span_tokens) == (100, 32, 800, 1)
    vq, training = resolve_configs("vq", "tiny")
    assert (vq.codebook_sizes, vq.stride, training.max_steps) == ([512], 1, 300)


def test_config_sections_take_the_presets_shape_or_flat_keys():
    sections = {"encoder": EncoderConfig, "pretrain": PretrainConfig}
    flat = config_sections(sections, {"hidden_size": 64, "max_steps": 5})
    assert flat == {"encoder": {"hidden_size": 64}, "pretrain": {"max_steps": 5}}
    assert config_sections(sections, {"encoder": {"hidden_size": 64}, "max_steps": 5}) == flat
    with pytest.raises(UserError, match=r"--config: unknown key 'hiden_size'; the sections are encoder, pretrain"):
        config_sections(sections, {"hiden_size": 64})
    with pytest.raises(UserError, match=r"encoder config: unknown keys \['max_steps'\]"):
        config_sections(sections, {"encoder": {"max_steps": 5}})
    tokenizer = {"training": TokenizerTrainingConfig, "bpe": BPEConfig}
    with pytest.raises(UserError, match=r"'seed' is a setting of training and bpe; put it in one section"):
        config_sections(tokenizer, {"seed": 3})
    assert config_sections(tokenizer, {"seed": 3}, primary="training") == {"training": {"seed": 3}, "bpe": {}}


def test_pretrain_flags_and_flat_config_reach_both_sections():
    encoder, pretrain = resolve_pretrain_config(
        "tiny", {"hidden_size": 64, "num_attention_heads": 2, "layer_norm_eps": 1e-6}, max_steps=7
    )
    assert (encoder.hidden_size, encoder.num_attention_heads, encoder.layer_norm_eps) == (64, 2, 1e-6)
    assert pretrain.max_steps == 7 and pretrain.window_bp == 100  # the rest from the preset


def test_the_old_tokenizer_section_name_is_still_read(caplog):
    vq, _ = resolve_configs("vq", "tiny", {"model": {"stride": 2, "stem_kernel": 6}})
    assert (vq.stride, vq.stem_kernel) == (2, 6)
    assert 'the "model" section is now called "vqvae"' in caplog.text


def test_a_run_recorded_before_the_encoder_section_is_the_same_run(tmp_path):
    encoder, pretrain = resolve_pretrain_config("tiny")
    today = {"tokenizer": "f" * 64, "encoder": dataclasses.asdict(encoder), "config": dataclasses.asdict(pretrain)}
    old_config = {
        **dataclasses.asdict(pretrain),
        **{
            k: v
            for k, v in dataclasses.asdict(encoder).items()
            if k
            in (
                "hidden_size",
                "num_hidden_layers",
                "num_attention_heads",
                "intermediate_size",
                "hidden_dropout_prob",
                "alibi_direction",
                "input_mode",
            )
        },
    }
    before = {"tokenizer": "f" * 64, "config": old_config}
    assert upgrade_inputs(before) == today
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "weights").write_text("x")
    marker = {"command": "pretrain", "fingerprint": fingerprint(before), "finished": False, "inputs": before}
    (folder / RUN_MARKER).write_text(json.dumps(marker))
    with pytest.raises(UserError, match="other inputs or settings"):
        claim_folder(folder, "pretrain", today, resume=True)  # without the upgrade: refused
    assert claim_folder(folder, "pretrain", today, resume=True, upgrade=upgrade_inputs) == "resumed"
    assert json.loads((folder / RUN_MARKER).read_text())["inputs"] == today  # rewritten in today's form
    changed = {**before, "config": {**old_config, "hidden_size": 64}}
    (folder / RUN_MARKER).write_text(json.dumps({**marker, "fingerprint": fingerprint(changed), "inputs": changed}))
    with pytest.raises(UserError, match=r"encoder.hidden_size: 64 -> 128|other inputs"):
        claim_folder(folder, "pretrain", today, resume=True, upgrade=upgrade_inputs)  # another run stays another run


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ({"encoder": {"hidden_size": 64}, "hidden_size": 32}, "'hidden_size' is given twice"),
        ({"pretrain": {"max_steps": "5"}}, "pretrain config: max_steps must be an integer, got '5'"),
        (
            {"encoder": {"hidden_dropout_prob": 1.0}},
            r"encoder config: hidden_dropout_prob must be in \[0, 1\), got 1.0",
        ),
    ],
)
def test_config_values_are_checked_where_they_enter(overrides, expected):
    with pytest.raises(UserError, match=expected):
        resolve_pretrain_config("tiny", overrides)


def test_tokenizer_config_checks_unused_sections_and_refuses_a_bpe_seed():
    with pytest.raises(UserError, match=r"vqvae config: stride must be >= 1, got 0"):
        resolve_configs(
            "kmer", "tiny", {"vqvae": {"stride": 0}}
        )  # a k-mer run does not use vqvae, but a typo is a typo
    with pytest.raises(
        UserError, match=r'a BPE tokenizer is seeded by the run\'s seed: set "seed" in the "training" section'
    ):
        resolve_configs("bpe", "tiny", {"bpe": {"seed": 9}})
    with pytest.raises(UserError, match=r"kmer config: k must be in 1..12, got 13"):
        resolve_configs("kmer", "tiny", {"k": 13})
    with pytest.raises(UserError, match=r"--tokenizer-config: unknown key 'typo'"):
        resolve_configs("vq", "tiny", {"typo": 1}, what="--tokenizer-config")


def test_finetune_and_baseline_configs_take_their_section_or_its_keys(tmp_path, capsys):
    from vqdna.baselines import resolve_baseline_config
    from vqdna.cli import main
    from vqdna.config import json_option
    from vqdna.training.finetune import resolve_finetune_config

    assert resolve_finetune_config("tiny", {"finetune": {"max_steps": 2}}).max_steps == 2
    assert resolve_finetune_config("tiny", {"max_steps": 2}).max_steps == 2
    assert resolve_baseline_config("cnn", "tiny", {"cnn": {"channels": 8}}, None).channels == 8
    with pytest.raises(UserError, match=r"--config: expected a JSON object of settings, got list \[1\]"):
        resolve_finetune_config("tiny", [1])
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(UserError, match=r"--config: .*bad.json is not a UTF-8 text file of JSON"):
        json_option(str(bad))
    # the command line: a list as --config is a named error, not a traceback
    argv = [
        "-q",
        "finetune",
        "--model",
        str(tmp_path),
        "--data-path",
        str(tmp_path),
        "--output-dir",
        str(tmp_path / "o"),
    ]
    assert main(argv + ["--config", "[1]"]) == 2
    err = capsys.readouterr().err
    assert "--config: expected a JSON object of settings, got list [1]" in err and "Traceback" not in err


def test_generated_flags_reach_the_config_and_none_means_none():
    from vqdna.cli import _finetune_overrides, _flag_values, build_parser
    from vqdna.config import PretrainConfig

    parser = build_parser()
    args = parser.parse_args(
        [
            "finetune",
            "--model",
            "m",
            "--data-path",
            "d",
            "--output-dir",
            "o",
            "--eval-steps",
            "none",
            "--lora-dropout",
            "0.1",
        ]
    )
    assert _finetune_overrides(args) == {"eval_steps": None, "lora_dropout": 0.1}
    args = parser.parse_args(
        ["pretrain", "--tokenizer", "t", "--fasta", "x.fa", "--output-dir", "o", "--span-tokens", "3"]
    )
    assert _flag_values(args, PretrainConfig) == {"span_tokens": 3}
    args = parser.parse_args(["pretrain", "--tokenizer", "t", "--fasta", "x.fa", "--output-dir", "o"])
    assert _flag_values(args, PretrainConfig) == {}  # nothing given: nothing overridden
