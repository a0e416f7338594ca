"""Training tokenizers: VQ-VAE / HRQ with the Hugging Face Trainer (so a CPU run, one GPU and
`torchrun` multi-GPU runs are the same code, with checkpoints and resume), BPE with the
`tokenizers` library, k-mer by configuration alone."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from vqdna.alphabet import n_fraction, to_text
from vqdna.config import (
    BPEConfig,
    KmerConfig,
    TokenizerTrainingConfig,
    VQVAEConfig,
    config_sections,
    fill_added_settings,
    from_dict,
    json_option,
    load_preset,
)
from vqdna.corpus import Genome, WindowSampler, check_usable, check_weights, load_corpus
from vqdna.evaluation.tokenizer import COLLAPSED_PERPLEXITY, learning_check
from vqdna.networks import VQVAE
from vqdna.seqio import check_distinct_files
from vqdna.storage import finish_folder, package_versions, write_json
from vqdna.tokenizers import (
    KINDS,
    NUM_SPECIAL,
    BPETokenizer,
    GenomeTokenizer,
    HRQTokenizer,
    KmerTokenizer,
    VQTokenizer,
)
from vqdna.training.engine import (
    RunError,
    StatsTrainer,
    WindowDataset,
    claim_run,
    finish_distributed,
    genome_inputs,
    last_checkpoint,
    training_arguments,
)

logger = logging.getLogger(__name__)


def _config(config: str | dict | None) -> Any:
    """--config as given: a JSON file or inline JSON (text), or already parsed."""
    return json_option(config) if isinstance(config, str) else config


# the preset sections train-tokenizer reads; a --config has the same shape (see config.config_sections)
SECTIONS = {"vqvae": VQVAEConfig, "training": TokenizerTrainingConfig, "bpe": BPEConfig, "kmer": KmerConfig}


_OLD_SECTION_NOTED = []  # the note on the old section name, once per process


def upgrade_inputs(old: dict[str, Any]) -> dict[str, Any]:
    """A tokenizer run's inputs as an older vqdna recorded them, with the training settings added
    since at the values that run used."""
    if not isinstance(old.get("training"), dict):
        return old
    return {**old, "training": fill_added_settings(TokenizerTrainingConfig, old["training"])}


def resolve_configs(
    kind: str,
    preset: str,
    overrides: Any = None,
    max_steps: int | None = None,
    seed: int | None = None,
    *,
    what: str = "--config",
):
    """(model or tokenizer config, training config) for a kind: the preset (its "vqvae" section
    with the kind's "levels"), then --config, then flags."""
    p = load_preset(preset)
    if isinstance(overrides, dict) and "model" in overrides and "vqvae" not in overrides:
        # the section's name before --config took the presets' shape; still read, with a note
        if not _OLD_SECTION_NOTED:
            logger.warning(
                '%s: the "model" section is now called "vqvae", as in the presets; reading it as "vqvae"', what
            )
            _OLD_SECTION_NOTED.append(True)
        overrides = {("vqvae" if k == "model" else k): v for k, v in overrides.items()}
    parts = config_sections(SECTIONS, overrides, what, primary="training")
    if "seed" in parts["bpe"]:
        raise RunError(f'{what}: a BPE tokenizer is seeded by the run\'s seed: set "seed" in the "training" section')
    flags = {key: value for key, value in (("max_steps", max_steps), ("seed", seed)) if value is not None}
    training = from_dict(
        TokenizerTrainingConfig, {**p["training"], **parts["training"], **flags}, what="training config"
    )
    if kind in ("vq", "hrq"):
        model = from_dict(VQVAEConfig, {**p["vqvae"], **p["levels"][kind], **parts["vqvae"]}, what="vqvae config")
        if kind == "vq" and model.num_levels != 1:
            raise RunError(
                f"a vq tokenizer has one codebook; got codebook_sizes={model.codebook_sizes} (use --kind hrq)"
            )
        if kind == "hrq" and model.num_levels < 2:
            raise RunError(f"an hrq tokenizer needs two or more levels; got codebook_sizes={model.codebook_sizes}")
        return model, training
    if kind == "bpe":
        bpe = from_dict(BPEConfig, {**p["bpe"], **parts["bpe"], "seed": training.seed}, what="bpe config")
        return bpe, training
    if kind == "kmer":
        return from_dict(KmerConfig, {**p["kmer"], **parts["kmer"]}, what="kmer config"), training
    raise RunError(f"unknown tokenizer kind {kind!r}; choose one of {', '.join(KINDS)}")


def load_genomes(
    fasta: Sequence[str | Path] | None, weights: Sequence[float] | None = None, *, corpus: str | Path | None = None
) -> list[Genome]:
    """One species per FASTA file, read into memory; or the species of a prepared `corpus`
    (`vqdna prepare-corpus`), read window by window, with `weights` over its own."""
    if corpus is not None:
        if fasta:
            raise RunError("give FASTA files or a prepared corpus, not both")
        return load_corpus(corpus, weights=weights)
    if not fasta:
        raise RunError("no FASTA files given")
    if weights is not None:
        check_weights(weights, len(fasta), "FASTA files")
    check_distinct_files(fasta)
    return [Genome.from_fasta(f, weight=weights[i] if weights else 1.0) for i, f in enumerate(fasta)]


class _VQVAETrainer(StatsTrainer):
    """Logs reconstruction accuracy and per-level code usage of the training batches."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        bp_ids = inputs["bp_ids"]
        out = model(bp_ids)
        with torch.no_grad():
            known = bp_ids < 4
            levels = getattr(model, "module", model).quantizer.levels
            self.record(
                reconstruction_loss=out.reconstruction_loss.item(),
                quantizer_loss=out.quantizer_loss.item(),
                reconstruction_accuracy=(out.logits.argmax(-1)[known] == bp_ids[known]).float().mean().item(),
                **{
                    f"batch_code_usage_level{n}": len(torch.unique(out.indices[..., n][out.token_mask]))
                    / q.codebook_size
                    for n, q in enumerate(levels)
                },
            )
        return (out.loss, out) if return_outputs else out.loss


def train_tokenizer(
    kind: str,
    fasta: Sequence[str | Path],
    output_dir: str | Path,
    *,
    species_weights: Sequence[float] | None = None,
    corpus: str | Path | None = None,
    **options,
) -> GenomeTokenizer:
    """Train a tokenizer of `kind` on FASTA files (one species per file) or a prepared `corpus`
    and save it to `output_dir`, with its config, seed, corpus and package versions. Options as
    in `train_tokenizer_on_genomes`."""
    if kind not in KINDS:
        raise RunError(f"unknown tokenizer kind {kind!r}; choose one of {', '.join(KINDS)}")
    # a bad --config or preset fails before the genomes are read
    resolve_configs(kind, options.get("preset", "tiny"), _config(options.get("config")))
    return train_tokenizer_on_genomes(kind, load_genomes(fasta, species_weights, corpus=corpus), output_dir, **options)


def train_tokenizer_on_genomes(
    kind: str,
    genomes: Sequence[Genome],
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: str | dict | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> GenomeTokenizer | None:
    """Train on genomes already in memory (their weights set the sampling). Returns None on the
    non-zero ranks of a multi-process (torchrun) run, where rank 0 saves."""
    if kind not in KINDS:
        raise RunError(f"unknown tokenizer kind {kind!r}; choose one of {', '.join(KINDS)}")
    output_dir = Path(output_dir)
    model_config, training = resolve_configs(kind, preset, _config(config), max_steps, seed)
    for g in genomes:
        check_usable(g)
    inputs = {
        "kind": kind,
        "config": dataclasses.asdict(model_config),
        "training": dataclasses.asdict(training),
        "genomes": genome_inputs(genomes),
    }
    state = claim_run(
        output_dir,
        "train-tokenizer",
        inputs,
        resume=resume,
        legacy=("checkpoints",),
        legacy_finished="config.json",
        upgrade=upgrade_inputs,
    )
    if state == "finished":
        raise RunError(
            f"{output_dir} already holds this {kind} tokenizer, trained on these genomes with these settings; "
            "nothing to do (choose another --output-dir to train another)"
        )
    started = time.time()
    metadata: dict[str, Any] = {
        "kind": kind,
        "preset": preset,
        "seed": training.seed,
        "corpus": [{"species": g.name, "files": g.sources, "bp": g.num_bp, "weight": g.weight} for g in genomes],
    }
    if kind in ("vq", "hrq"):
        tokenizer = _train_vqvae(kind, model_config, training, genomes, output_dir, state == "resumed", quiet, metadata)
        if tokenizer is None:  # a non-zero rank of a multi-process run: rank 0 saves
            return None
    elif kind == "bpe":
        tokenizer = _train_bpe(model_config, genomes, training.max_n_fraction, metadata)
    else:
        tokenizer = KmerTokenizer(model_config.k, model_config.overlapping, metadata)
    metadata["wall_seconds"] = round(time.time() - started, 1)
    metadata["trained_with"] = package_versions()
    tokenizer.metadata = metadata
    tokenizer.save_pretrained(output_dir)
    finish_folder(output_dir)
    finish_distributed()
    return tokenizer


def _train_bpe(
    config: BPEConfig, genomes: list[Genome], max_n_fraction: float, metadata: dict[str, Any]
) -> BPETokenizer:
    """BPE learns from chunks of every genome, the same share of each (at most max_train_bp in
    all), skipping chunks with more N than training windows may have."""

    per_genome = config.max_train_bp // len(genomes)
    texts = []
    for g in genomes:
        taken = 0
        for chunk in g.tile(config.chunk_bp):
            if taken >= per_genome:
                break
            if n_fraction(chunk) <= max_n_fraction:
                texts.append(to_text(chunk))
                taken += len(chunk)
    if not texts:
        raise RunError(
            f"no {config.chunk_bp} bp chunk of {', '.join(g.name for g in genomes)} has at most {100 * max_n_fraction:g}% N: "
            "nothing for BPE to learn from"
        )
    metadata["bpe"] = dataclasses.asdict(config) | {"train_bp": sum(len(t) for t in texts)}
    tokenizer = BPETokenizer.train(texts, config, metadata)
    if tokenizer.vocab_size <= NUM_SPECIAL + 5:  # the special tokens and A C G T N: not one merge learned
        raise RunError(
            f"BPE learned no merges from {metadata['bpe']['train_bp']:,} bp; give it more sequence (or check the genomes)"
        )
    return tokenizer


def _train_vqvae(
    kind,
    model_config: VQVAEConfig,
    training: TokenizerTrainingConfig,
    genomes,
    output_dir: Path,
    resume,
    quiet,
    metadata,
) -> VQTokenizer | None:
    torch.manual_seed(training.seed)
    model = VQVAE(model_config)
    sampler = WindowSampler(genomes, training.window_bp, seed=training.seed, max_n_fraction=training.max_n_fraction)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dataset = WindowDataset(sampler, training.max_steps * training.batch_size * world)
    args = training_arguments(output_dir, **training.trainer_kwargs(), quiet=quiet)
    trainer = _VQVAETrainer(
        model=model, args=args, train_dataset=dataset, quiet=quiet, settings='the "training" section of --config'
    )
    checkpoint = last_checkpoint(output_dir, resume)
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        finish_distributed()
        return None
    metadata["model"] = dataclasses.asdict(model_config)
    metadata["training"] = dataclasses.asdict(training)
    metadata["steps"] = trainer.state.global_step
    write_json(output_dir / "training_log.json", trainer.state.log_history)
    _plot_training(trainer.state.log_history, output_dir / "training_curves.png", model_config.num_levels)
    cls = HRQTokenizer if kind == "hrq" else VQTokenizer
    tokenizer = cls(trainer.model.cpu(), metadata)
    metadata["learning_check"] = _check_learned(tokenizer, sampler, len(dataset), output_dir)
    return tokenizer


CHECK_WINDOWS = 64


def _check_learned(
    tokenizer: VQTokenizer, sampler: WindowSampler, first_unused: int, output_dir: Path
) -> dict[str, Any]:
    """Refuse to save a tokenizer whose codes say nothing about the sequence (a codebook that
    collapsed onto one word); warn when the decoder does no better than the most common base
    (too few steps). Scored on windows the run never drew (indices past its dataset)."""
    windows = [sampler.window(first_unused + i) for i in range(CHECK_WINDOWS)]
    check = learning_check(tokenizer, windows)
    levels = ", ".join(
        f"level {n + 1}: {u:.1%} of {k} codes used, perplexity {p:.2f}"
        for n, (u, p, k) in enumerate(zip(check["code_usage"], check["perplexity"], tokenizer.config.codebook_sizes))
    )
    if check["collapsed"]:
        raise RunError(
            f"the {tokenizer.kind} tokenizer learned nothing: on {check['windows']} windows of its training genomes nearly "
            f"every position gets the same code ({levels}; fewer than {COLLAPSED_PERPLEXITY} effective codes), so its tokens "
            f"cannot tell sequences apart. Nothing was saved as a tokenizer (the checkpoints stay in {output_dir}). "
            'Train again in a new --output-dir with a lower learning_rate or more warmup_steps in the "training" section '
            "of --config, and check that the genomes are not one repeated base"
        )
    if check["reconstruction_accuracy"] <= check["most_common_base_fraction"] + 0.01:
        logger.warning(
            "the %s tokenizer reconstructs %.1f%% of bases, no better than always guessing the most common base (%.1f%%): "
            "it has barely started to learn; train it longer (--max-steps) before relying on it",
            tokenizer.kind,
            100 * check["reconstruction_accuracy"],
            100 * check["most_common_base_fraction"],
        )
    return check


def _plot_training(history: list[dict[str, Any]], path: Path, levels: int) -> None:
    from vqdna.plots import line_plot

    rows = [h for h in history if "reconstruction_accuracy" in h]
    if not rows:
        return
    steps = [h["step"] for h in rows]
    series = {"reconstruction accuracy": [h["reconstruction_accuracy"] for h in rows]}
    for n in range(levels):
        series[f"batch code usage, level {n}"] = [h.get(f"batch_code_usage_level{n}", math.nan) for h in rows]
    losses = {"loss": [h["loss"] for h in rows], "reconstruction loss": [h["reconstruction_loss"] for h in rows]}
    line_plot(path, steps, [("loss", losses), ("accuracy / usage", series)], title="Tokenizer training", xlabel="step")
