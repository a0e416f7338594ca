"""Stage 3, fine-tuning: a pretrained encoder plus an MLP head on a labeled task (GUE contract).

One run trains one model per seed, each on the Trainer, for `num_train_epochs` (or `max_steps`):
dev evaluated at least once per epoch, training stopped once dev has not improved for
`early_stopping_patience` evaluations, and the best dev checkpoint tested. The frozen tokenizer
encodes each split once (cached on disk), so an epoch costs only the encoder. A scratch twin
(`from_scratch`) trains the same architecture from a random start with the same recipe. LoRA
(peft) adapts the encoder's query/key/value/dense layers and trains the head in full; the merged model of each seed is saved as an ordinary model folder.
Results follow DNABERT-2's `eval_results.json`: test metrics averaged over seeds, with the
per-seed values beside them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, EarlyStoppingCallback

from vqdna import alphabet
from vqdna.config import FinetuneConfig, fill_added_settings, resolve_sections
from vqdna.errors import UserError
from vqdna.evaluation.metrics import DNABERT2_KEYS, classification_metrics, improves, regression_metrics
from vqdna.inference import (
    is_vqdna,
    load_config,
    load_model,
    load_model_tokenizer,
    resolve_model_dir,
    save_model_folder,
    weights_files,
)
from vqdna.modeling import VQDNAForSequenceClassification, VQDNAModel
from vqdna.seqio import TASK_SPLITS, HFDataset, Task, load_task, task_files
from vqdna.storage import (
    RUN_MARKER,
    claim_folder,
    file_sha256,
    finish_folder,
    package_versions,
    read_json,
    write_json,
)
from vqdna.tokenizers import GenomeTokenizer
from vqdna.training.engine import (
    RunError,
    StatsTrainer,
    finish_distributed,
    is_main_process,
    last_checkpoint,
    training_arguments,
)
from vqdna.training.token_cache import TokenCache

TEST_METRICS = {
    "classification": ("mcc", "accuracy", "f1", "precision", "recall"),
    "regression": ("spearman", "pearson", "mse"),
}
PRIMARY = {"classification": "mcc", "regression": "spearman"}


def resolve_finetune_config(preset: str, overrides: Any = None, *, what: str = "--config", **flags) -> FinetuneConfig:
    """The preset's "finetune" section, then --config (`{"finetune": {...}}` or its keys), then flags."""
    return resolve_sections({"finetune": FinetuneConfig}, preset, overrides, what=what, **flags)["finetune"]


class SequenceDataset(torch.utils.data.Dataset):
    """Items of a split: a sequence (tokenized by the collator) or its cached token ids, and the target."""

    def __init__(self, items: Sequence, targets: np.ndarray, key: str = "sequence"):
        self.items, self.targets, self.key = items, targets, key

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return {self.key: self.items[i], "label": self.targets[i]}


class TokenizingCollator:
    """Pads cached token ids, or tokenizes raw sequences on the fly (`cache_tokens` off), with the
    tokenizer the encoder was pretrained on."""

    def __init__(self, tokenizer: GenomeTokenizer):
        self.genome_tokenizer = tokenizer  # not `tokenizer`: the Trainer would save it into checkpoints

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        if "ids" in features[0]:
            batch = self.genome_tokenizer.pad([f["ids"] for f in features])
        else:
            batch = self.genome_tokenizer([f["sequence"] for f in features])
        batch["labels"] = torch.as_tensor(np.array([f["label"] for f in features]))
        return batch


def split_examples(task: Task, split: str, reverse_complement: bool = False) -> tuple[list[str], np.ndarray]:
    """(sequences, targets) of a split; with `reverse_complement`, every sequence is followed by
    its other strand, with the same target."""
    sequences, targets = task.splits[split].sequences, task.targets[split]
    if not reverse_complement:
        return sequences, targets
    both = [s for seq in sequences for s in (seq, alphabet.reverse_complement(seq))]
    return both, np.repeat(targets, 2, axis=0)


def task_datasets(
    task: Task, tokenizer: GenomeTokenizer, cache_dir: Path | None, quiet: bool = True, reverse_complement: bool = False
) -> dict[str, SequenceDataset]:
    """One dataset per split: token ids from the cache in `cache_dir` (computed on first use), or
    raw sequences for the collator to tokenize when `cache_dir` is None. `reverse_complement`
    adds the other strand of every training sequence (dev and test stay as they are)."""
    examples = {s: split_examples(task, s, reverse_complement and s == "train") for s in TASK_SPLITS}
    if cache_dir is None:
        return {s: SequenceDataset(sequences, targets) for s, (sequences, targets) in examples.items()}
    cache = TokenCache(cache_dir, tokenizer)
    out = {}
    for s, (sequences, targets) in examples.items():
        t0 = time.time()
        ids, hit = cache.encode(s, sequences)
        if not quiet:
            print(
                f"  {s}: {len(ids):,} sequences "
                + ("read from the token cache" if hit else f"tokenized in {time.time() - t0:.1f} s and cached")
                + f" ({cache.folder})"
            )
        out[s] = SequenceDataset(ids, targets, key="ids")
    return out


def build_classifier(
    model_dir: Path, task: Task, cfg: FinetuneConfig, *, from_scratch: bool = False, trust_remote_code: bool = False
) -> torch.nn.Module:
    """The pretrained encoder with a new head; LoRA-wrapped when `cfg.use_lora`.

    `from_scratch`: the same architecture randomly initialised from the current torch seed, so
    that pretrained − scratch measures what pretraining adds. Only the frozen codebook copies
    (the tokenizer's vectors, which a `quantized`-input encoder reads) come from `model_dir`:
    they belong to the tokenizer, not to pretraining.

    Any other transformers model folder gets its own architecture's sequence-classification head
    (`AutoModelForSequenceClassification`); `cfg.pooling` is vqdna's head's and does not apply."""
    kwargs: dict[str, Any] = {
        "num_labels": task.num_labels,
        "problem_type": "regression" if task.task_type == "regression" else "single_label_classification",
    }
    if task.task_type == "classification":
        kwargs["id2label"] = dict(enumerate(task.label_names))
        kwargs["label2id"] = {n: i for i, n in enumerate(task.label_names)}
    config = load_config(model_dir, trust_remote_code=trust_remote_code)
    if not is_vqdna(config):
        if from_scratch:
            for key, value in kwargs.items():
                setattr(config, key, value)
            model = AutoModelForSequenceClassification.from_config(config, trust_remote_code=trust_remote_code)
        else:
            model = load_model(
                model_dir, AutoModelForSequenceClassification, trust_remote_code=trust_remote_code, **kwargs
            )
        model.config.max_length_bp = cfg.max_length_bp
        # its head is new (and BERT's pooler with it, missing from a masked-LM checkpoint): trained in full
        return _with_lora(model.train(), cfg, head=("classifier", "score", "pooler"))
    kwargs["pooling"] = cfg.pooling
    if from_scratch:
        for key, value in kwargs.items():
            setattr(config, key, value)
        config.architectures = None
        pretrained = load_model(model_dir, VQDNAModel)  # checked load; only its codebook buffers are used
        model = VQDNAForSequenceClassification(config)
        codebooks = {k: v for k, v in pretrained.state_dict().items() if k.startswith("embeddings.codebook_")}
        model.vqdna.load_state_dict(codebooks, strict=False)
    else:
        model = load_model(model_dir, VQDNAForSequenceClassification, **kwargs)
    model.config.max_length_bp = cfg.max_length_bp
    return _with_lora(model.train(), cfg)


def _with_lora(model: torch.nn.Module, cfg: FinetuneConfig, head: Sequence[str] = ("classifier",)) -> torch.nn.Module:
    if not cfg.use_lora:
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_target_modules),
        # the modules of `head` this model has (peft refuses a name that matches nothing)
        modules_to_save=[h for h in head if any(n.split(".")[-1] == h for n, _ in model.named_modules())],
        # the [CLS] row of a "cls" head (the encoder never saw the token): trained, the rest frozen
        trainable_token_indices=(
            (model.cls_embedding_rows() or None) if isinstance(model, VQDNAForSequenceClassification) else None
        ),
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:  # e.g. a target module name that matches nothing
        raise RunError(f"lora_target_modules (--lora-target-modules) {list(cfg.lora_target_modules)}: {exc}") from exc


def task_metrics(task_type: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The test metrics of a task type, from predicted values (regression) or classes."""
    return regression_metrics(y_true, y_pred) if task_type == "regression" else classification_metrics(y_true, y_pred)


def _metrics_fn(task_type: str):
    def compute(pred) -> dict[str, float]:
        logits, labels = pred.predictions, pred.label_ids
        logits = logits[0] if isinstance(logits, tuple) else logits
        return task_metrics(task_type, labels, logits.reshape(-1) if task_type == "regression" else logits.argmax(-1))

    return compute


def finetune(
    model_dir: str | Path,
    data_path: str | Path | HFDataset,
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    use_lora: bool | None = None,
    from_scratch: bool = False,
    cache_dir: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    trust_remote_code: bool = False,
) -> dict[str, Any]:
    """Fine-tune `model_dir` on the task folder `data_path` (or a `datasets` task), once per seed; returns (and writes)
    eval_results.json's content. `from_scratch`: the same architecture randomly initialised (the
    scratch twin). Token ids are cached in `cache_dir` (default OUTPUT_DIR/token_cache).

    `model_dir` is a vqdna model folder or any transformers model folder with a tokenizer
    (`trust_remote_code` for one that ships its own code, such as DNABERT-2)."""
    output_dir = Path(output_dir)
    cfg = resolve_finetune_config(preset, config, seeds=list(seeds) if seeds else None, use_lora=use_lora)
    model_dir = resolve_model_dir(model_dir)
    task = load_task(data_path, cfg.task_type, cfg.max_length_bp)
    cfg = strand_rule(
        cfg, data_path, task.strand_specific, explicit=bool(config and config.get("reverse_complement")), quiet=quiet
    )
    if config and "pooling" in config and not is_vqdna(load_config(model_dir, trust_remote_code=trust_remote_code)):
        raise UserError(
            f"pooling: {model_dir} is not a vqdna model; its own sequence-classification head decides how it "
            "pools, so pooling would be ignored (leave it out)"
        )
    record = run_record(model_dir, data_path, from_scratch, cfg)
    claim_results(
        output_dir,
        "finetune",
        record,
        resume=resume,
        model_dir=model_dir,
        task_source=data_path if isinstance(data_path, HFDataset) else None,
    )
    tokenizer = load_model_tokenizer(model_dir, trust_remote_code=trust_remote_code)
    if torch.cuda.is_available():
        tokenizer.to(torch.device("cuda", torch.cuda.current_device()))  # a learned tokenizer encodes on the GPU
    if is_main_process() and not (output_dir / "finetune_config.json").is_file():
        write_json(output_dir / "finetune_config.json", {**record, "preset": preset, "versions": package_versions()})
    cache = Path(cache_dir) if cache_dir is not None else output_dir / "token_cache"
    datasets = task_datasets(
        task, tokenizer, cache if cfg.cache_tokens else None, quiet=quiet, reverse_complement=cfg.reverse_complement
    )
    collator = TokenizingCollator(tokenizer)

    def build(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return build_classifier(model_dir, task, cfg, from_scratch=from_scratch, trust_remote_code=trust_remote_code)

    def save(model: torch.nn.Module, folder: Path) -> None:
        if cfg.use_lora:
            model = model.merge_and_unload()  # an ordinary model folder: LoRA folded into the weights
        save_model_folder(model, tokenizer, folder)

    per_seed = run_seeds(
        output_dir,
        cfg.seeds,
        resume,
        lambda seed, seed_dir: train_and_test(
            build(seed), datasets, collator, task, cfg, seed, seed_dir, save=save, resume=resume, quiet=quiet
        ),
    )
    result = summarize(task, per_seed)
    result.update(
        task=str(data_path),
        model=str(model_dir),
        from_scratch=from_scratch,
        task_type=task.task_type,
        label_names=task.label_names,
        examples={s: len(task.splits[s]) for s in TASK_SPLITS},
        use_lora=cfg.use_lora,
        config=dataclasses.asdict(cfg),
        versions=package_versions(),
    )
    if is_main_process():
        write_json(output_dir / "eval_results.json", result)
        finish_folder(output_dir)
    finish_distributed()
    return result


_UNDECLARED_SAID: set[str] = set()  # task folders whose "does not say" note this process has printed


def strand_rule(
    cfg: FinetuneConfig, data_path: str | Path, strand_specific: bool | None, *, explicit: bool, quiet: bool = False
) -> FinetuneConfig:
    """Reverse-complement copies are wrong for a task whose task.json declares it strand_specific:
    a preset's default is switched off (with a note), an explicit request is refused. A task that
    does not say is trained on both strands, as the preset asks, with a note saying how to stop it."""
    if not cfg.reverse_complement or strand_specific is False:
        return cfg
    if strand_specific is None:
        # once per task folder and process (a benchmark fine-tunes many cells on one task), by the
        # process that writes; a `datasets` task has no task.json to point to
        folder = isinstance(data_path, (str, Path)) and Path(data_path).is_dir()
        if folder and not (explicit or quiet) and is_main_process() and str(data_path) not in _UNDECLARED_SAID:
            _UNDECLARED_SAID.add(str(data_path))
            print(
                f'note: {data_path} does not say whether its labels depend on the strand (no "strand_specific" in '
                "task.json): training on both strands, the preset's default. For a strand-specific task (guide RNAs, "
                'oriented promoters) pass --no-reverse-complement, or write {"strand_specific": true} to its task.json'
            )
        return cfg
    if explicit:
        raise UserError(
            f"--reverse-complement: {data_path}/task.json declares the task strand_specific (its label depends on the "
            "strand read), so a reverse complement is not an example of the same label; drop --reverse-complement"
        )
    if not quiet:
        print(f"note: {data_path} is strand-specific (task.json); training without reverse-complement copies")
    return dataclasses.replace(cfg, reverse_complement=False)


def claim_results(
    output_dir: Path,
    command: str,
    record: dict[str, Any],
    *,
    resume: bool,
    model_dir: Path | None = None,
    task_source: HFDataset | None = None,
) -> None:
    """Claim `output_dir` for a fine-tuning or baseline run (storage.claim_folder): its inputs are
    the run record (seeds left out: a resumed run may add seeds), the task's files and the model's
    weights. A finished run is reused only with --resume. The other ranks of a torchrun run
    write nothing and follow rank 0 (which stops them all if it refuses)."""
    if not is_main_process():
        return
    inputs = {
        **record,
        "config": {k: v for k, v in record["config"].items() if k != "seeds"},
        # a task folder by its real path and files; a `datasets` task by its name and content
        "task": str(task_source) if task_source is not None else os.path.realpath(record["task"]),
        "task_files": task_files(task_source if task_source is not None else record["task"]),
    }
    if model_dir is not None:
        inputs.update(model=os.path.realpath(model_dir), model_weights_sha256=_weights_sha256(Path(model_dir)))
    legacy = ("finetune_config.json",) if command == "finetune" else ("baseline_config.json",)

    def upgrade(old: dict[str, Any]) -> dict[str, Any]:  # settings added since: the values that run used
        added = fill_added_settings(FinetuneConfig, old.get("config") or {})  # the CNN baseline's ADDED are the same
        return {**old, "config": {k: v for k, v in added.items() if k in record["config"] or k in old["config"]}}

    if not (output_dir / RUN_MARKER).is_file():  # a folder from before run markers: compare what it recorded
        check_same_run(output_dir / legacy[0], record, upgrade=upgrade)
    if (
        claim_folder(
            output_dir,
            command,
            inputs,
            resume=resume,
            legacy=legacy,
            legacy_finished="eval_results.json",
            upgrade=upgrade,
        )
        == "finished"
        and not resume
    ):
        raise RunError(
            f"{output_dir} already holds finished `vqdna {command}` results for these inputs; pass --resume to reuse them "
            "(new seeds are trained), or choose another --output-dir (nothing was overwritten)"
        )


def _weights_sha256(model_dir: Path) -> str | list[str | None] | None:
    """The model's weights by content: one file's sha256, or each shard's (None for a missing file,
    which loading the model then names)."""
    shas = [file_sha256(p) if p.is_file() else None for p in weights_files(model_dir)]
    return shas[0] if len(shas) == 1 else shas


def run_record(model_dir: str | Path, data_path: str | Path, from_scratch: bool, cfg: FinetuneConfig) -> dict[str, Any]:
    """What decides a fine-tuning run's results: kept in finetune_config.json, compared on reuse."""
    return {
        "model": str(model_dir),
        "task": str(data_path),
        "from_scratch": from_scratch,
        "config": dataclasses.asdict(cfg),
    }


def run_seeds(output_dir: Path, seeds: Sequence[int], resume: bool, train) -> list[dict[str, Any]]:
    """One result per seed: read back when a resumed run already finished that seed, else
    `train(seed, seed_dir)`."""
    results = []
    for seed in seeds:
        seed_dir = output_dir / f"seed_{seed}"
        done = seed_dir / "eval_results.json"
        results.append(read_json(done, what="seed results") if resume and done.is_file() else train(seed, seed_dir))
    return results


def check_same_run(record_path: Path, record: dict[str, Any], upgrade=None) -> None:
    """A run folder is only continued (or its results reused) with the inputs and settings it was
    started with: otherwise one table would mix recipes. Seeds may differ (finished seeds are
    reused, new ones trained). `upgrade` reads a record written by an older vqdna as today's."""
    if not record_path.is_file():
        return
    old = read_json(record_path, what="run settings")
    if upgrade is not None and isinstance(old, dict):
        old = upgrade(old)

    def flat(r: dict[str, Any]) -> dict[str, Any]:
        # a folder named relatively in one run and absolutely in the next is the same input
        out = {
            k: os.path.realpath(v) if k in ("task", "model") and isinstance(v, str) and v else v
            for k, v in r.items()
            if k not in ("config", "preset", "versions")
        }
        out.update({f"config.{k}": v for k, v in (r.get("config") or {}).items() if k != "seeds"})
        return out

    before, now = flat(old), flat(record)
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    if differ:
        details = "; ".join(f"{k}: {before.get(k)!r} then, {now.get(k)!r} now" for k in differ[:4])
        raise RunError(
            f"{record_path.parent} was run with other settings ({details}); choose another --output-dir "
            "(nothing was overwritten)"
        )


def summarize(task: Task, per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of every test metric; the best seed by dev metric."""
    out: dict[str, Any] = {}
    for m in TEST_METRICS[task.task_type]:
        if not all(f"test_{m}" in r for r in per_seed):  # a seed finished before vqdna reported this metric
            continue
        values = np.array([r[f"test_{m}"] for r in per_seed], dtype=np.float64)
        out[f"test_{m}"] = float(values.mean())
        out[f"test_{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    out.update(dnabert2_keys(out))
    out["primary_metric"] = PRIMARY[task.task_type]
    best = None  # chosen as every model selection chooses: a NaN dev score never wins, ties keep the first
    for r in per_seed:
        if improves(r["dev_best"], None if best is None else best["dev_best"]):
            best = r
    out["best_seed"] = best["seed"]
    out["wall_seconds"] = round(sum(r["wall_seconds"] for r in per_seed), 1)
    if all("cpu_seconds" in r for r in per_seed):  # seeds run before vqdna recorded it have none
        out["cpu_seconds"] = round(sum(r["cpu_seconds"] for r in per_seed), 1)
    out["per_seed"] = per_seed
    return out


def dnabert2_keys(result: dict[str, Any]) -> dict[str, float]:
    """DNABERT-2's names for the test scores in `result` (see metrics.DNABERT2_KEYS)."""
    return {key: result[f"test_{m}"] for m, key in DNABERT2_KEYS.items() if f"test_{m}" in result}


def schedule(cfg, train_size: int) -> dict[str, Any]:
    """The Trainer's length and evaluation settings in optimizer steps (one per
    `gradient_accumulation_steps` batches): epochs (or `max_steps`), capped at
    `step_budget` steps when training by epochs, so that a large task costs a bounded time while a
    small one still gets all its epochs; dev evaluated every `eval_steps` (at least once per
    epoch), and always at the last step of a run shorter than that. Counted for one process on one
    device (the fine-tuning commands' setting)."""
    steps_per_epoch = max(1, math.ceil(train_size / (cfg.batch_size * cfg.gradient_accumulation_steps)))
    by_epochs = max(1, math.ceil(cfg.num_train_epochs * steps_per_epoch))
    total = cfg.max_steps or min(by_epochs, cfg.step_budget or by_epochs)
    eval_steps = min(cfg.eval_steps or steps_per_epoch, steps_per_epoch, total)
    return {"max_steps": total, "eval_steps": eval_steps, "steps_per_epoch": steps_per_epoch}


def train_and_test(
    model: torch.nn.Module,
    datasets: dict[str, torch.utils.data.Dataset],
    collator,
    task: Task,
    cfg,
    seed: int,
    seed_dir: Path,
    *,
    save,
    resume: bool,
    quiet: bool,
) -> dict[str, Any]:
    """Train on train with dev evaluations and early stopping, reload the best dev checkpoint,
    test it once; `save(model, folder)` writes the model. Shared by fine-tuning and the CNN baseline."""
    started, cpu_started = time.time(), time.process_time()
    primary = PRIMARY[task.task_type]
    plan = schedule(cfg, len(datasets["train"]))
    args = training_arguments(
        seed_dir,
        **{
            **cfg.trainer_kwargs(),  # then what a run by epochs, with dev evaluations, sets itself:
            "max_steps": plan["max_steps"],
            "save_steps": plan["eval_steps"],
            "logging_steps": min(cfg.logging_steps, plan["max_steps"]),
            "seed": seed,
        },
        quiet=quiet,
        eval_strategy="steps",
        eval_steps=plan["eval_steps"],
        per_device_eval_batch_size=cfg.eval_batch_size,
        load_best_model_at_end=True,
        metric_for_best_model=primary,
        greater_is_better=True,
        label_names=["labels"],  # a peft-wrapped model's forward(*args, **kwargs) hides them
        restore_callback_states_from_checkpoint=True,  # a resumed run keeps its early-stopping count
    )
    callbacks = (
        [EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience)]
        if cfg.early_stopping_patience
        else []
    )
    trainer = StatsTrainer(
        model=model,
        args=args,
        train_dataset=datasets["train"],
        eval_dataset=datasets["dev"],
        data_collator=collator,
        compute_metrics=_metrics_fn(task.task_type),
        callbacks=callbacks,
        quiet=quiet,
    )
    trainer.train(resume_from_checkpoint=last_checkpoint(seed_dir, resume))
    curve = [
        {"step": h["step"], "epoch": round(h["epoch"], 3), primary: h[f"eval_{primary}"]}
        for h in trainer.state.log_history
        if f"eval_{primary}" in h
    ]
    dev = {k.removeprefix("eval_"): v for k, v in trainer.evaluate().items()}  # the best checkpoint, reloaded
    test = trainer.predict(datasets["test"], metric_key_prefix="test").metrics

    model = trainer.model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    steps = trainer.state.global_step
    result = {
        "seed": seed,
        **{f"test_{m}": float(test[f"test_{m}"]) for m in TEST_METRICS[task.task_type]},
        "dev_best": float(dev[primary]),
        "dev_metrics": {k: v for k, v in dev.items() if k in TEST_METRICS[task.task_type]},
        "best_checkpoint": trainer.state.best_model_checkpoint and Path(trainer.state.best_model_checkpoint).name,
        "dev_curve": curve,
        "steps": steps,
        "planned_steps": plan["max_steps"],
        "epochs": round(steps / plan["steps_per_epoch"], 3),
        "stopped_early": steps < plan["max_steps"],
        "trainable_parameters": trainable,
        "total_parameters": total,
        "wall_seconds": round(time.time() - started, 1),
        # CPU time of this process (rank 0 under torchrun), all its threads: unlike the wall time it
        # stops while the run is paused (measured: 770 CPU s for 388 s undisturbed on 2 threads);
        # sharing the cores still inflates it (waiting threads spin: 994 CPU s for 634 s shared)
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "threads": torch.get_num_threads(),
        "processes": int(os.environ.get("WORLD_SIZE", "1")),
    }
    result.update(dnabert2_keys(result))
    if is_main_process():  # every rank took part in training and testing; one writes
        save(model, seed_dir / "model")
        write_json(seed_dir / "training_log.json", trainer.state.log_history)
        write_json(seed_dir / "eval_results.json", result)
        # results and best model are saved; checkpoints were for resuming
        shutil.rmtree(seed_dir / "checkpoints", ignore_errors=True)
    return result
