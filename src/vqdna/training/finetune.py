"""Stage 3, fine-tuning: a pretrained encoder plus an MLP head on a labeled task (GUE contract).

One run trains one model per seed, each on the Trainer: dev evaluation every `eval_steps`, the
best dev checkpoint kept and tested. LoRA (peft) adapts the encoder's query/key/value/dense layers
and trains the head in full; the merged model of each seed is saved as an ordinary model folder.
Results follow DNABERT-2's `eval_results.json`: test metrics averaged over seeds, with the
per-seed values beside them.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from vqdna.config import FinetuneConfig, resolve_section
from vqdna.evaluation.metrics import classification_metrics, regression_metrics
from vqdna.inference import load_model, load_model_tokenizer, resolve_model_dir
from vqdna.modeling import VQDNAForSequenceClassification
from vqdna.seqio import TASK_SPLITS
from vqdna.storage import package_versions, read_json, write_json
from vqdna.tasks import Task, load_task
from vqdna.tokenizers import GenomeTokenizer, VQTokenizer
from vqdna.training.engine import RunError, StatsTrainer, last_checkpoint, training_arguments

TEST_METRICS = {"classification": ("mcc", "accuracy", "f1"), "regression": ("spearman", "pearson", "mse")}
PRIMARY = {"classification": "mcc", "regression": "spearman"}


def resolve_finetune_config(preset: str, overrides: dict[str, Any] | None = None, **flags) -> FinetuneConfig:
    return resolve_section(FinetuneConfig, preset, "finetune", overrides, **flags)


class SequenceDataset(torch.utils.data.Dataset):
    def __init__(self, sequences: Sequence[str], targets: np.ndarray):
        self.sequences, self.targets = sequences, targets

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> dict:
        return {"sequence": self.sequences[i], "label": self.targets[i]}


class TokenizingCollator:
    """Tokenizes a batch of sequences on the fly (the same tokenizer the encoder was pretrained on)."""

    def __init__(self, tokenizer: GenomeTokenizer):
        self.genome_tokenizer = tokenizer  # not `tokenizer`: the Trainer would save it into checkpoints

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.genome_tokenizer([f["sequence"] for f in features])
        batch["labels"] = torch.as_tensor(np.array([f["label"] for f in features]))
        return batch


def build_classifier(model_dir: Path, task: Task, cfg: FinetuneConfig) -> torch.nn.Module:
    """The pretrained encoder with a new head; LoRA-wrapped when `cfg.use_lora`."""
    kwargs: dict[str, Any] = {"num_labels": task.num_labels, "problem_type": "regression" if task.task_type == "regression" else "single_label_classification"}
    if task.task_type == "classification":
        kwargs["id2label"] = dict(enumerate(task.label_names))
        kwargs["label2id"] = {n: i for i, n in enumerate(task.label_names)}
    model = load_model(model_dir, VQDNAForSequenceClassification, **kwargs)
    model.config.max_length_bp = cfg.max_length_bp
    model.train()
    if not cfg.use_lora:
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(cfg.lora_target_modules), modules_to_save=["classifier"])
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:  # e.g. a target module name that matches nothing
        raise RunError(f"LoRA: {exc}") from exc


def _metrics_fn(task_type: str):
    def compute(pred) -> dict[str, float]:
        logits, labels = pred.predictions, pred.label_ids
        logits = logits[0] if isinstance(logits, tuple) else logits
        if task_type == "regression":
            return regression_metrics(labels, logits.reshape(-1))
        return classification_metrics(labels, logits.argmax(-1))

    return compute


def finetune(
    model_dir: str | Path,
    data_path: str | Path,
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    use_lora: bool | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Fine-tune `model_dir` on the task folder `data_path`, once per seed; returns (and writes)
    eval_results.json's content."""
    output_dir = Path(output_dir)
    cfg = resolve_finetune_config(preset, config, seeds=list(seeds) if seeds else None, use_lora=use_lora)
    if not resume and output_dir.exists() and any(output_dir.iterdir()):
        raise RunError(f"{output_dir} is not empty (an earlier run?); choose another --output-dir, or pass --resume to continue it (nothing was overwritten)")
    model_dir = resolve_model_dir(model_dir)
    task = load_task(data_path, cfg.task_type, cfg.max_length_bp)
    tokenizer = load_model_tokenizer(model_dir)
    write_json(output_dir / "finetune_config.json", {"model": str(model_dir), "task": str(data_path), "preset": preset,
                                                     "config": dataclasses.asdict(cfg), "versions": package_versions()})
    per_seed = []
    for seed in cfg.seeds:
        seed_dir = output_dir / f"seed_{seed}"
        done = seed_dir / "eval_results.json"
        if resume and done.is_file():
            per_seed.append(read_json(done, what="seed results"))
            continue
        per_seed.append(_finetune_seed(model_dir, task, tokenizer, cfg, seed, seed_dir, resume=resume, quiet=quiet))

    result = summarize(task, per_seed)
    result.update(task=str(data_path), model=str(model_dir), task_type=task.task_type, label_names=task.label_names,
                  examples={s: len(task.splits[s]) for s in TASK_SPLITS}, use_lora=cfg.use_lora,
                  config=dataclasses.asdict(cfg), versions=package_versions())
    write_json(output_dir / "eval_results.json", result)
    return result


def summarize(task: Task, per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of every test metric; the best seed by dev metric."""
    out: dict[str, Any] = {}
    for m in TEST_METRICS[task.task_type]:
        values = np.array([r[f"test_{m}"] for r in per_seed], dtype=np.float64)
        out[f"test_{m}"] = float(values.mean())
        out[f"test_{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    out["primary_metric"] = PRIMARY[task.task_type]
    out["best_seed"] = max(per_seed, key=lambda r: r["dev_best"])["seed"]
    out["wall_seconds"] = round(sum(r["wall_seconds"] for r in per_seed), 1)
    out["per_seed"] = per_seed
    return out


def _finetune_seed(model_dir: Path, task: Task, tokenizer: GenomeTokenizer, cfg: FinetuneConfig, seed: int, seed_dir: Path, *, resume: bool, quiet: bool) -> dict[str, Any]:
    started = time.time()
    if isinstance(tokenizer, VQTokenizer) and torch.cuda.is_available():
        tokenizer.to(torch.device("cuda", torch.cuda.current_device()))
    torch.manual_seed(seed)
    model = build_classifier(model_dir, task, cfg)
    primary = PRIMARY[task.task_type]
    args = training_arguments(
        seed_dir, max_steps=cfg.max_steps, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_steps, weight_decay=cfg.weight_decay, save_steps=cfg.eval_steps,
        logging_steps=cfg.logging_steps, seed=seed, quiet=quiet,
        eval_strategy="steps", eval_steps=cfg.eval_steps, per_device_eval_batch_size=cfg.eval_batch_size,
        load_best_model_at_end=True, metric_for_best_model=primary, greater_is_better=True,
        label_names=["labels"],  # a peft-wrapped model's forward(*args, **kwargs) hides them
    )
    datasets = {s: SequenceDataset(task.splits[s].sequences, task.targets[s]) for s in TASK_SPLITS}
    trainer = StatsTrainer(model=model, args=args, train_dataset=datasets["train"], eval_dataset=datasets["dev"],
                           data_collator=TokenizingCollator(tokenizer), compute_metrics=_metrics_fn(task.task_type), quiet=quiet)
    trainer.train(resume_from_checkpoint=last_checkpoint(seed_dir, resume))
    dev = {k.removeprefix("eval_"): v for k, v in trainer.evaluate().items()}
    test = trainer.predict(datasets["test"], metric_key_prefix="test").metrics

    model = trainer.model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    if cfg.use_lora:
        model = model.merge_and_unload()  # an ordinary model folder: LoRA folded into the weights
    model.save_pretrained(seed_dir / "model")
    tokenizer.save_pretrained(seed_dir / "model" / "tokenizer")
    write_json(seed_dir / "training_log.json", trainer.state.log_history)
    shutil.rmtree(seed_dir / "checkpoints", ignore_errors=True)  # the best model is saved; checkpoints were for resuming
    result = {
        "seed": seed,
        **{f"test_{m}": float(test[f"test_{m}"]) for m in TEST_METRICS[task.task_type]},
        "dev_best": float(dev[primary]), "dev_metrics": {k: v for k, v in dev.items() if k in TEST_METRICS[task.task_type]},
        "best_checkpoint": trainer.state.best_model_checkpoint and Path(trainer.state.best_model_checkpoint).name,
        "steps": trainer.state.global_step, "trainable_parameters": trainable, "total_parameters": total,
        "wall_seconds": round(time.time() - started, 1),
    }
    write_json(seed_dir / "eval_results.json", result)
    return result
