"""The baselines that every benchmark table stands beside, run on exactly the same splits.

* ``kmer-lr``: overlapping k-mer frequencies and a logistic regression (scikit-learn; ridge for
  regression tasks), with k and the L2 strength chosen together on dev. It is what a careful
  analyst would try first, and a learned vocabulary has to beat it to be worth using.
* ``cnn``: a small 1-D CNN on one-hot bases (convolution, batch norm, max pooling, global max
  pool, dropout), trained on the same engine as our models: epochs, dev evaluation, early
  stopping, the best dev checkpoint tested, one run per seed.

Both write ``eval_results.json`` with the same keys as ``vqdna finetune``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from vqdna.alphabet import BASE_PAD_ID, N_ID, to_ids
from vqdna.config import CNNBaselineConfig, KmerLRBaselineConfig, resolve_sections
from vqdna.errors import UserError
from vqdna.evaluation.metrics import improves
from vqdna.evaluation.probe import fit_converged
from vqdna.seqio import TASK_SPLITS, Task, load_task
from vqdna.storage import finish_folder, package_versions, read_json, save_tensors, usual_permissions, write_json
from vqdna.training.engine import finish_distributed, is_main_process
from vqdna.training.finetune import (
    PRIMARY,
    SequenceDataset,
    claim_results,
    dnabert2_keys,
    run_seeds,
    summarize,
    task_metrics,
    train_and_test,
)

KINDS = ("kmer-lr", "cnn")
DETERMINISTIC = ("kmer-lr",)  # fitted once: the same model for every seed


# ---------------------------------------------------------------- k-mer frequencies + logistic regression


def kmer_frequencies(sequences: Sequence[str], k: int):
    """(sequences, 4^k) sparse matrix: each sequence's overlapping k-mer counts divided by its
    number of k-mers. k-mers holding an N are skipped (they name no k-mer)."""
    from scipy.sparse import csr_matrix

    powers = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
    rows, cols = [], []
    for i, seq in enumerate(sequences):
        ids = to_ids(seq)
        if len(ids) < k:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(ids, k)
        windows = windows[(windows != N_ID).all(1)]
        cols.append(windows.astype(np.int64) @ powers)
        rows.append(np.full(len(windows), i, dtype=np.int64))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    counts = csr_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(len(sequences), 4**k))
    counts.sum_duplicates()
    totals = np.asarray(counts.sum(1)).ravel()
    return csr_matrix(counts.multiply(1.0 / np.maximum(totals, 1.0)[:, None]))


def _fit_kmer_model(x, y: np.ndarray, task_type: str, c: float, max_iter: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # with_mean=False keeps the matrix sparse; unit variance puts rare and common k-mers on one L2 scale.
    if task_type == "regression":
        estimator = Ridge(alpha=1.0 / c)
    else:
        estimator = LogisticRegression(C=c, max_iter=max_iter)
    model = make_pipeline(StandardScaler(with_mean=False), estimator)
    return model, fit_converged(model, x, y)


def run_kmer_lr(task: Task, cfg: KmerLRBaselineConfig, output_dir: Path, *, quiet: bool = False) -> dict[str, Any]:
    """Fit every (k, C) of the grid on train, keep the best on dev, test it once."""
    started, cpu_started = time.time(), time.process_time()
    primary = PRIMARY[task.task_type]
    best = None
    grid = []
    for k in cfg.ks:
        x = {s: kmer_frequencies(task.splits[s].sequences, k) for s in TASK_SPLITS}
        for c in cfg.c_grid:
            model, converged = _fit_kmer_model(x["train"], task.targets["train"], task.task_type, c, cfg.max_iter)
            dev = task_metrics(task.task_type, task.targets["dev"], model.predict(x["dev"]))
            grid.append({"k": k, "C": c, f"dev_{primary}": dev[primary], "converged": converged})
            if not quiet:
                print(
                    f"  kmer-lr k={k} C={c:g}: dev {primary} {dev[primary]:.4f}"
                    + ("" if converged else " (not converged)"),
                    flush=True,
                )
            if improves(dev[primary], None if best is None else best[0]):
                best = (dev[primary], k, c, dev, model, x["test"])
    score, k, c, dev, model, x_test = best
    test = task_metrics(task.task_type, task.targets["test"], model.predict(x_test))
    scaler, estimator = model[0], model[-1]
    coef = np.atleast_2d(estimator.coef_)
    save_tensors(
        output_dir / "model" / "model.safetensors",
        {
            "scale": torch.from_numpy(np.asarray(scaler.scale_, dtype=np.float32)),
            "coef": torch.from_numpy(coef.astype(np.float32)),
            "intercept": torch.from_numpy(np.atleast_1d(estimator.intercept_).astype(np.float32)),
        },
    )
    write_json(
        output_dir / "model" / "config.json",
        {
            "kind": "kmer-lr",
            "k": k,
            "C": c,
            "task_type": task.task_type,
            "label_names": task.label_names,
            "features": f"overlapping {k}-mer frequencies / scale, then coef·x + intercept",
        },
    )
    scores = {f"test_{m}": float(v) for m, v in test.items()}
    return {
        "seed": cfg.seeds[0],
        **scores,
        **dnabert2_keys(scores),
        "dev_best": float(score),
        "dev_metrics": dev,
        "k": k,
        "C": c,
        "grid": grid,
        "wall_seconds": round(time.time() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),  # as the fine-tuning runs record it
        "threads": torch.get_num_threads(),
    }


# ---------------------------------------------------------------- one-hot CNN


class OneHotCNNConfig(PretrainedConfig):
    model_type = "vqdna_onehot_cnn"

    def __init__(
        self,
        channels: int = 128,
        kernel_size: int = 9,
        num_layers: int = 3,
        pool_size: int = 2,
        dropout: float = 0.2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.channels, self.kernel_size, self.num_layers, self.pool_size, self.dropout = (
            channels,
            kernel_size,
            num_layers,
            pool_size,
            dropout,
        )


class OneHotCNNForSequenceClassification(PreTrainedModel):
    """Input: base ids (0-3 ACGT, 4 N, 5 padding) and an attention mask. N is the uniform one-hot
    row (0.25 each) as everywhere in vqdna; padding is a zero row and never wins the global max."""

    config_class = OneHotCNNConfig
    base_model_prefix = "cnn"
    accepts_loss_kwargs = False  # the loss is a micro-batch mean (see vqdna.modeling)

    def __init__(self, config: OneHotCNNConfig):
        super().__init__(config)
        config.problem_type = config.problem_type or "single_label_classification"
        layers, width = [], 4
        for _ in range(config.num_layers):
            layers.append(
                nn.ModuleDict(
                    {
                        "conv": nn.Conv1d(width, config.channels, config.kernel_size, padding=config.kernel_size // 2),
                        "norm": nn.BatchNorm1d(config.channels),
                    }
                )
            )
            width = config.channels
        self.blocks = nn.ModuleList(layers)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.channels, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.Linear, nn.BatchNorm1d)):
            module.reset_parameters()  # PyTorch's (Kaiming-uniform) defaults suit ReLU convolutions

    def forward(
        self, input_ids: Tensor, attention_mask: Tensor | None = None, labels: Tensor | None = None, **_
    ) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = (input_ids != BASE_PAD_ID).long()
        x = F.one_hot(input_ids.clamp(0, 3), 4).float()
        x = torch.where((input_ids == N_ID)[..., None], torch.full_like(x, 0.25), x) * attention_mask[..., None]
        x, mask = x.transpose(1, 2), attention_mask[:, None, :].float()
        pool = self.config.pool_size
        for block in self.blocks:
            x = F.relu(block["norm"](block["conv"](x))) * mask
            if pool > 1:
                x = F.max_pool1d(x, pool, ceil_mode=True)
                mask = F.max_pool1d(mask, pool, ceil_mode=True)
        pooled = x.masked_fill(mask == 0, float("-inf")).amax(-1)
        pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))  # an empty sequence pools to 0
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = (
                F.mse_loss(logits.squeeze(-1), labels.float())
                if self.config.problem_type == "regression"
                else F.cross_entropy(logits, labels.long())
            )
        return SequenceClassifierOutput(loss=loss, logits=logits)


class BaseIdsCollator:
    """Right-padded base ids, the attention mask and the targets."""

    def __call__(self, features: list[dict]) -> dict[str, Tensor]:
        ids = [to_ids(f["sequence"]) for f in features]
        length = max((len(x) for x in ids), default=0)
        input_ids = torch.full((len(ids), length), BASE_PAD_ID, dtype=torch.long)
        mask = torch.zeros(len(ids), length, dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.from_numpy(x.astype(np.int64))
            mask[i, : len(x)] = 1
        return {
            "input_ids": input_ids,
            "attention_mask": mask,
            "labels": torch.as_tensor(np.array([f["label"] for f in features])),
        }


def build_cnn(task: Task, cfg: CNNBaselineConfig) -> OneHotCNNForSequenceClassification:
    config = OneHotCNNConfig(
        channels=cfg.channels,
        kernel_size=cfg.kernel_size,
        num_layers=cfg.num_layers,
        pool_size=cfg.pool_size,
        dropout=cfg.dropout,
        num_labels=task.num_labels,
        problem_type="regression" if task.task_type == "regression" else "single_label_classification",
    )
    if task.task_type == "classification":
        config.id2label = dict(enumerate(task.label_names))
        config.label2id = {n: i for i, n in enumerate(task.label_names)}
    return OneHotCNNForSequenceClassification(config)


# ---------------------------------------------------------------- running a baseline on a task folder


def resolve_baseline_config(
    kind: str, preset: str, config: Any, seeds: Sequence[int] | None, *, what: str = "--config"
):
    """The baseline's section ("kmer_lr" or "cnn"), then --config (that section or its keys), then --seeds."""
    cls, section = (KmerLRBaselineConfig, "kmer_lr") if kind == "kmer-lr" else (CNNBaselineConfig, "cnn")
    return resolve_sections({section: cls}, preset, config, what=what, seeds=list(seeds) if seeds else None)[section]


def baseline_record(kind: str, data_path: str | Path, cfg) -> dict[str, Any]:
    """What decides a baseline run's results: kept in baseline_config.json, compared on reuse."""
    return {"kind": kind, "task": str(data_path), "config": dataclasses.asdict(cfg)}


def run_baseline(
    kind: str,
    data_path: str | Path,
    output_dir: str | Path,
    *,
    preset: str = "tiny",
    config: dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run baseline `kind` on a task folder; returns (and writes) eval_results.json's content."""
    if kind not in KINDS:
        raise UserError(f"unknown baseline {kind!r}; choose one of {', '.join(KINDS)}")
    output_dir = Path(output_dir)
    cfg = resolve_baseline_config(kind, preset, config, seeds)
    record = baseline_record(kind, data_path, cfg)
    claim_results(output_dir, "baseline", record, resume=resume)
    task = load_task(data_path, cfg.task_type, cfg.max_length_bp)
    if is_main_process() and not (output_dir / "baseline_config.json").is_file():
        write_json(output_dir / "baseline_config.json", {**record, "preset": preset, "versions": package_versions()})
    if kind == "kmer-lr" and not is_main_process():  # one scikit-learn fit, on rank 0 of a torchrun run
        finish_distributed()
        return {}
    if kind == "kmer-lr":
        done = output_dir / "seed_results.json"
        per_seed = (
            [read_json(done, what="k-mer baseline results")]
            if resume and done.is_file()
            else [run_kmer_lr(task, cfg, output_dir, quiet=quiet)]
        )
        write_json(done, per_seed[0])
    else:
        datasets = {s: SequenceDataset(task.splits[s].sequences, task.targets[s]) for s in TASK_SPLITS}

        def train(seed: int, seed_dir: Path) -> dict[str, Any]:
            torch.manual_seed(seed)
            return train_and_test(
                build_cnn(task, cfg),
                datasets,
                BaseIdsCollator(),
                task,
                cfg,
                seed,
                seed_dir,
                save=lambda m, folder: (m.save_pretrained(folder), usual_permissions(folder)),
                resume=resume,
                quiet=quiet,
            )

        per_seed = run_seeds(output_dir, cfg.seeds, resume, train)
    result = summarize(task, per_seed)
    result.update(
        baseline=kind,
        deterministic=kind in DETERMINISTIC,
        task=str(data_path),
        task_type=task.task_type,
        label_names=task.label_names,
        examples={s: len(task.splits[s]) for s in TASK_SPLITS},
        config=dataclasses.asdict(cfg),
        versions=package_versions(),
    )
    if is_main_process():  # the CNN can train under torchrun; rank 0 writes
        write_json(output_dir / "eval_results.json", result)
        finish_folder(output_dir)
    finish_distributed()
    return result
