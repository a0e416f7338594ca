"""Stage 2, masked code modeling: pretrain the encoder on a frozen tokenizer's output.

The same code trains on every tokenizer kind, on CPU, one GPU, or several through
`torchrun --nproc_per_node=N` (the Hugging Face Trainer does the distribution). Windows of
genome are drawn by (seed, index), tokenized and masked in the collator, so a resumed run sees the
same data and masks as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from vqdna.config import EncoderConfig, PretrainConfig, fill_added_settings, resolve_sections
from vqdna.corpus import Genome, WindowSampler
from vqdna.inference import save_model_folder
from vqdna.masking import MaskedCodeCollator
from vqdna.modeling import VQDNAConfig, VQDNAForMaskedCodeModeling, level_logits
from vqdna.storage import finish_folder, package_versions, write_json
from vqdna.tokenizers import GenomeTokenizer, load_tokenizer
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
from vqdna.training.tokenizer import load_genomes

# the preset sections pretrain reads; a --config has the same shape (see config.config_sections)
SECTIONS = {"encoder": EncoderConfig, "pretrain": PretrainConfig}


def resolve_pretrain_config(
    preset: str, overrides: Any = None, *, what: str = "--config", **flags
) -> tuple[EncoderConfig, PretrainConfig]:
    """(the encoder's shape, the pretraining run): the preset's sections, then --config, then flags."""
    configs = resolve_sections(SECTIONS, preset, overrides, what=what, **flags)
    return configs["encoder"], configs["pretrain"]


def upgrade_inputs(old: dict[str, Any]) -> dict[str, Any]:
    """A pretraining run's inputs as an older vqdna recorded them, read today: settings added since
    take the values those runs used (`fill_added_settings`), and a record from before the encoder's
    shape had its own section (one "config" held both) is split, its encoder's other settings at
    the defaults that `EncoderConfig` keeps, so the same run gets the same inputs."""
    if not isinstance(old.get("config"), dict):
        return old
    config = fill_added_settings(PretrainConfig, old["config"])
    if "encoder" in old:
        return {**old, "config": config}
    encoder = {**dataclasses.asdict(EncoderConfig())}
    encoder.update({name: config.pop(name) for name in list(config) if name in encoder})
    return {**old, "encoder": encoder, "config": config}


def build_model(
    tokenizer: GenomeTokenizer, encoder: EncoderConfig, base_loss_weight: float = 0.0
) -> VQDNAForMaskedCodeModeling:
    """An untrained masked-code model of `encoder`'s shape over `tokenizer`'s vocabulary (with the
    auxiliary base head when `base_loss_weight` > 0)."""
    vocab = tokenizer.vocab_size
    sizes = list(vocab) if isinstance(vocab, tuple) else [vocab]
    if encoder.input_mode == "quantized" and not tokenizer.learned:
        raise RunError(f"input_mode 'quantized' needs a VQ/HRQ tokenizer, not {tokenizer.kind}")
    config = VQDNAConfig(
        **dataclasses.asdict(encoder),
        level_vocab_sizes=sizes,
        code_dim=tokenizer.code_dim,
        tokenizer_kind=tokenizer.kind,
        bp_per_token=tokenizer.bp_per_token,
        tokenizer_fingerprint=tokenizer.fingerprint(),
        base_loss_weight=base_loss_weight,
    )
    model = VQDNAForMaskedCodeModeling(config)
    if encoder.input_mode == "quantized":
        model.vqdna.set_codebooks(tokenizer.code_vectors())
    return model


def _masked_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of positions with a label (not −100) whose argmax is it (nan where none has one)."""
    m = labels != -100
    return (logits.argmax(-1)[m] == labels[m]).float().mean().item() if m.any() else float("nan")


class _MCMTrainer(StatsTrainer):
    """Logs masked-code accuracy per level alongside the loss, and each level's loss for HRQ
    (which level the model is learning, when the total falls)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(**inputs)
        with torch.no_grad():
            labels = inputs["labels"] if inputs["labels"].dim() == 3 else inputs["labels"].unsqueeze(-1)
            for n, logits in enumerate(level_logits(out)):
                self.record(**{f"masked_accuracy_level{n}": _masked_accuracy(logits, labels[..., n])})
            if len(out.level_losses) > 1:
                self.record(**{f"masked_loss_level{n}": x.item() for n, x in enumerate(out.level_losses)})
            if out.base_loss is not None:
                acc = _masked_accuracy(out.base_logits, inputs["base_labels"])
                self.record(masked_base_loss=out.base_loss.item(), masked_base_accuracy=acc)
        return (out.loss, out) if return_outputs else out.loss


@torch.no_grad()
def evaluate_masked(
    model, collator: MaskedCodeCollator, windows: list[dict[str, Any]], baseline_ids: list[int], batch_size: int = 16
) -> dict[str, list[float]]:
    """Masked-code accuracy per level on held-out windows, and the accuracy of always predicting
    the most frequent training code of each level."""
    model.eval()
    device = next(model.parameters()).device
    correct = baseline = total = None
    base_correct = base_total = 0
    for i in range(0, len(windows), batch_size):
        batch = collator(windows[i : i + batch_size])
        labels = batch["labels"] if batch["labels"].dim() == 3 else batch["labels"].unsqueeze(-1)
        out = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
        if out.base_logits is not None and "base_labels" in batch:
            m = batch["base_labels"] != -100
            base_correct += int((out.base_logits.argmax(-1).cpu()[m] == batch["base_labels"][m]).sum())
            base_total += int(m.sum())
        levels = len(level_logits(out))
        if correct is None:
            correct, baseline, total = [0] * levels, [0] * levels, [0] * levels
        for n, logits in enumerate(level_logits(out)):
            m = labels[..., n] != -100
            target = labels[..., n][m]
            correct[n] += int((logits.argmax(-1).cpu()[m] == target).sum())
            baseline[n] += int((target == baseline_ids[n]).sum())
            total[n] += int(m.sum())
    result = {
        "masked_accuracy": [c / max(t, 1) for c, t in zip(correct, total)],
        "baseline_accuracy": [b / max(t, 1) for b, t in zip(baseline, total)],
        "masked_tokens": total,
    }
    if base_total:
        result["masked_base_accuracy"] = base_correct / base_total
    return result


def most_frequent_codes(collator: MaskedCodeCollator, sampler: WindowSampler, windows: int, levels: int) -> list[int]:
    """Per level, the most frequent token id on `windows` training windows (the frequency baseline)."""
    counts: list[dict[int, int]] = [dict() for _ in range(levels)]
    encs = collator.genome_tokenizer.encode_base_ids([sampler.window(i) for i in range(windows)])
    for e in encs:
        for n in range(levels):
            vals, cnt = np.unique(e.ids[:, n], return_counts=True)
            for v, c in zip(vals.tolist(), cnt.tolist()):
                counts[n][v] = counts[n].get(v, 0) + c
    return [max(c, key=c.get) for c in counts]


def pretrain(
    tokenizer_dir: str | Path,
    fasta: Sequence[str | Path],
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    max_steps: int | None = None,
    mask_ratio: float | None = None,
    seed: int | None = None,
    species_weights: Sequence[float] | None = None,
    corpus: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Pretrain a masked code model on FASTA files (one species per file) or a prepared `corpus`;
    returns (and writes) eval_results.json's content."""
    output_dir = Path(output_dir)
    encoder, cfg = resolve_pretrain_config(preset, config, max_steps=max_steps, mask_ratio=mask_ratio, seed=seed)
    tokenizer = load_tokenizer(tokenizer_dir)
    genomes = load_genomes(fasta, species_weights, corpus=corpus)
    return pretrain_on_genomes(
        tokenizer, genomes, output_dir, encoder, cfg, resume=resume, quiet=quiet, tokenizer_dir=str(tokenizer_dir)
    )


def pretrain_on_genomes(
    tokenizer: GenomeTokenizer,
    genomes: Sequence[Genome],
    output_dir: Path,
    encoder: EncoderConfig,
    cfg: PretrainConfig,
    *,
    resume: bool = False,
    quiet: bool = False,
    tokenizer_dir: str = "",
) -> dict[str, Any]:
    started = time.time()
    output_dir = Path(output_dir)
    splits = [g.split(cfg.heldout_fraction) for g in genomes]  # refused here, before the folder is claimed
    inputs = {
        "tokenizer": tokenizer.fingerprint(),
        "encoder": dataclasses.asdict(encoder),
        "config": dataclasses.asdict(cfg),
        "genomes": genome_inputs(genomes),
    }
    state = claim_run(
        output_dir,
        "pretrain",
        inputs,
        resume=resume,
        legacy=("checkpoints",),
        legacy_finished="eval_results.json",
        upgrade=upgrade_inputs,
    )
    if state == "finished":
        raise RunError(
            f"{output_dir} already holds this model, pretrained on these genomes with this tokenizer and settings; "
            "nothing to do (choose another --output-dir to pretrain another)"
        )
    train = WindowSampler([s[0] for s in splits], cfg.window_bp, seed=cfg.seed, max_n_fraction=cfg.max_n_fraction)
    held = WindowSampler(
        [s[1] for s in splits], cfg.window_bp, seed=cfg.seed + 10_000, max_n_fraction=cfg.max_n_fraction
    )
    if torch.cuda.is_available():
        tokenizer.to(
            torch.device("cuda", torch.cuda.current_device())
        )  # a learned tokenizer encodes batches on the GPU too
    world = int(os.environ.get("WORLD_SIZE", "1"))
    windows_per_step = cfg.batch_size * cfg.gradient_accumulation_steps * world
    # Windows are consumed in index order (see train_sampling_strategy below), so window i is
    # trained at step i // windows_per_step and the warm-up is a function of the index alone.
    warmup_windows = int(cfg.span_warmup_fraction * cfg.max_steps) * windows_per_step
    with_bases = cfg.base_loss_weight > 0
    collator = MaskedCodeCollator(
        tokenizer,
        cfg.mask_ratio,
        cfg.span_tokens,
        seed=cfg.seed,
        span_warmup_windows=warmup_windows,
        base_labels=with_bases,
    )
    # Evaluation always masks leak-free spans, whatever spans training used: with shorter ones a
    # visible neighbouring code would give the masked one away, and the accuracy would measure that.
    eval_collator = MaskedCodeCollator(tokenizer, cfg.mask_ratio, None, seed=cfg.seed, base_labels=with_bases)
    torch.manual_seed(cfg.seed)
    model = build_model(tokenizer, encoder, cfg.base_loss_weight)
    dataset = WindowDataset(train, cfg.max_steps * windows_per_step)
    args = training_arguments(
        output_dir,
        **cfg.trainer_kwargs(),
        quiet=quiet,
        train_sampling_strategy="sequential",  # windows are random draws already; in order, index ↔ step
        # named, not inferred from forward's arguments: base_labels is there only with the base head
        label_names=["labels", "base_labels"] if with_bases else ["labels"],
    )
    trainer = _MCMTrainer(model=model, args=args, train_dataset=dataset, data_collator=collator, quiet=quiet)
    checkpoint = last_checkpoint(output_dir, state == "resumed")
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        finish_distributed()
        return {}

    levels = model.config.num_levels
    baseline_ids = most_frequent_codes(eval_collator, train, min(cfg.eval_windows, 256), levels)
    eval_windows = [{"bp_ids": held.window(i), "index": 1_000_000 + i} for i in range(cfg.eval_windows)]
    result = evaluate_masked(trainer.model, eval_collator, eval_windows, baseline_ids)
    result.update(
        tokenizer=tokenizer_dir or tokenizer.kind,
        tokenizer_kind=tokenizer.kind,
        steps=trainer.state.global_step,
        span_tokens=collator.span_tokens,
        eval_span_tokens=eval_collator.span_tokens,
        mask_ratio=cfg.mask_ratio,
        eval_windows=cfg.eval_windows,
        window_bp=cfg.window_bp,
        parameters=sum(p.numel() for p in model.parameters()),
        wall_seconds=round(time.time() - started, 1),
        seed=cfg.seed,
        encoder=dataclasses.asdict(encoder),
        config=dataclasses.asdict(cfg),
        versions=package_versions(),
        corpus=[{"species": g.name, "files": g.sources, "bp": g.num_bp, "weight": g.weight} for g in genomes],
    )
    save_model_folder(trainer.model, tokenizer, output_dir)
    write_json(output_dir / "training_log.json", trainer.state.log_history)
    _plot(trainer.state.log_history, output_dir / "training_curves.png", levels, result)
    write_json(output_dir / "eval_results.json", result)
    finish_folder(output_dir)
    finish_distributed()
    return result


def _plot(history, path: Path, levels: int, result: dict[str, Any]) -> None:
    from vqdna.plots import line_plot

    rows = [h for h in history if "masked_accuracy_level0" in h]
    if not rows:
        return
    steps = [h["step"] for h in rows]
    acc = {f"masked accuracy, level {n}": [h[f"masked_accuracy_level{n}"] for h in rows] for n in range(levels)}
    for n, b in enumerate(result["baseline_accuracy"]):
        acc[f"frequency baseline, level {n}"] = [b] * len(steps)
    if all("masked_base_accuracy" in h for h in rows):
        acc["masked base accuracy (auxiliary head)"] = [h["masked_base_accuracy"] for h in rows]
    line_plot(
        path,
        steps,
        [("loss", {"loss": [h["loss"] for h in rows]}), ("accuracy (training batches)", acc)],
        title="Masked code modeling",
        xlabel="step",
    )
