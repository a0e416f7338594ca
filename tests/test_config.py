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
