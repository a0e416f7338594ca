"""What every stage's training shares: the Trainer's arguments, output-folder rules, resume, and
batch statistics in the logs."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file
from transformers import PrinterCallback, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging

from vqdna.corpus import Genome, WindowSampler
from vqdna.errors import UserError
from vqdna.storage import claim_folder, file_identity

logger = logging.getLogger(__name__)


class RunError(UserError):
    """A run that cannot start as asked (e.g. an output folder that holds an earlier run)."""


def claim_run(
    output_dir: Path,
    command: str,
    inputs: dict[str, Any],
    *,
    resume: bool,
    legacy: Sequence[str] = (),
    legacy_finished: str | None = None,
    upgrade=None,
) -> str:
    """`storage.claim_folder` on the main process only: the other ranks of a torchrun run write
    nothing and follow it. Returns "new", "resumed" or "finished"."""
    if not is_main_process():
        return "resumed" if resume else "new"
    return claim_folder(
        output_dir, command, inputs, resume=resume, legacy=legacy, legacy_finished=legacy_finished, upgrade=upgrade
    )


def genome_inputs(genomes: Sequence[Genome]) -> list[dict[str, Any]]:
    """How a run records its genomes: species, files (path, size, sha256) or the prepared corpus
    (its checksums), bp and sampling weight."""
    return [
        {
            "species": g.name,
            **({"corpus": g.identity} if g.identity else {"files": [file_identity(s) for s in g.sources]}),
            "bp": g.num_bp,
            "weight": g.weight,
        }
        for g in genomes
    ]


def is_main_process() -> bool:
    """Rank 0 of a torchrun run, or the only process: the one that writes outputs."""
    return int(os.environ.get("RANK", "0")) == 0


def finish_distributed() -> None:
    """End a multi-process (torchrun) run cleanly: every rank waits here until rank 0 has written
    the outputs, then the process group is torn down. A rank that simply exits while gloo's
    threads are alive aborts, and torchrun then kills rank 0 in the middle of saving."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def last_checkpoint(output_dir: Path, resume: bool) -> str | None:
    """The newest complete checkpoint under OUTPUT_DIR/checkpoints when resuming. A checkpoint left
    incomplete by a kill in the middle of its save (the Trainer writes trainer_state.json last) is
    removed, with a message, and the one before it is used: a crash while saving never blocks
    --resume."""
    if not resume:
        return None
    folder = output_dir / "checkpoints"
    found = (
        sorted(
            (
                (int(m.group(1)), p)
                for p in folder.glob("checkpoint-*")
                if p.is_dir() and (m := _CHECKPOINT.fullmatch(p.name))
            ),
            reverse=True,
        )
        if folder.is_dir()
        else []
    )
    for _, path in found:
        problem = checkpoint_problem(path)
        if problem is None:
            return str(path)
        logger.warning(
            "%s: incomplete checkpoint (%s; interrupted while saving?): removed, resuming from the one before",
            path,
            problem,
        )
        shutil.rmtree(path)
    logger.warning("--resume: no complete checkpoint in %s, starting from the beginning", folder)
    return None


_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


def checkpoint_problem(path: Path) -> str | None:
    """Why a Trainer checkpoint folder cannot be resumed from, or None if it is complete: its
    trainer_state.json (written last) parses, and every weights and state file in it is whole
    (safetensors headers and sizes, torch zip archives)."""
    state = path / "trainer_state.json"
    try:
        if not isinstance(json.loads(state.read_text()).get("global_step"), int):
            return "trainer_state.json has no global_step"
    except (OSError, ValueError, AttributeError) as exc:
        return f"trainer_state.json unreadable: {exc.__class__.__name__}"
    for f in path.iterdir():
        if f.suffix == ".safetensors":
            try:
                load_file(str(f))
            except Exception as exc:  # safetensors raises several types for a damaged file
                return f"{f.name} damaged: {exc.__class__.__name__}"
        elif f.suffix in (".pt", ".pth", ".bin"):
            try:
                with zipfile.ZipFile(f) as archive:
                    if archive.testzip() is not None:
                        return f"{f.name} damaged"
            except (OSError, zipfile.BadZipFile) as exc:
                return f"{f.name} damaged: {exc.__class__.__name__}"
    return None


def training_arguments(
    output_dir: Path,
    *,
    max_steps: int,
    batch_size: int,
    learning_rate: float,
    warmup_steps: int,
    weight_decay: float,
    save_steps: int,
    logging_steps: int,
    seed: int,
    quiet: bool,
    gradient_accumulation_steps: int = 1,
    lr_scheduler_type: str = "cosine",
    precision: str = "auto",
    **extra,
) -> TrainingArguments:
    """Linear warm-up then cosine (or `lr_scheduler_type`) decay, checkpoints under
    OUTPUT_DIR/checkpoints (the last two kept), on a GPU where there is one (`precision` "auto":
    bf16 where it supports it), the CPU otherwise; data order and RNG seeded so that resuming
    reproduces an uninterrupted run."""
    on_gpu = torch.cuda.is_available()
    if precision == "fp16" and not on_gpu:
        raise RunError("precision fp16 needs a CUDA GPU; on a CPU use fp32 or bf16")
    if precision == "bf16" and on_gpu and not torch.cuda.is_bf16_supported():
        raise RunError("precision bf16: this GPU does not support bf16; use fp16 or fp32")
    auto_bf16 = precision == "auto" and on_gpu and torch.cuda.is_bf16_supported()
    return TrainingArguments(
        output_dir=str(output_dir / "checkpoints"),
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        learning_rate=learning_rate,
        lr_scheduler_type=lr_scheduler_type,
        warmup_steps=warmup_steps,
        weight_decay=weight_decay,
        save_steps=save_steps,
        save_total_limit=2,
        logging_steps=logging_steps,
        seed=seed,
        data_seed=seed,
        report_to=[],
        disable_tqdm=quiet,
        log_level="warning" if quiet else "passive",
        use_cpu=not on_gpu,
        bf16=precision == "bf16" or auto_bf16,
        fp16=precision == "fp16",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        **extra,
    )


class WindowDataset(torch.utils.data.Dataset):
    """Map-style view of a WindowSampler: item i is window i (with its index, from which the
    masking collator seeds its mask), whatever process or worker asks for it."""

    def __init__(self, sampler: WindowSampler, length: int):
        self.sampler, self.length = sampler, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        ids = self.sampler.window(index)
        return {"bp_ids": torch.from_numpy(ids.astype(np.int64)), "index": index}


class StatsTrainer(Trainer):
    """A Trainer whose logs also hold the mean of per-batch statistics that `compute_loss`
    records with `self.record(name=value, ...)` since the previous log line."""

    def __init__(self, *args, quiet: bool = False, settings: str = "--config", **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = settings  # where a user sets the learning rate, for messages
        self._stats: dict[str, list[float]] = {}
        if quiet:  # with the progress bar off, the Trainer would print every log line instead
            self.remove_callback(PrinterCallback)
            hf_logging.disable_progress_bar()  # e.g. "Writing model shards" at each checkpoint

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        # The Trainer's logs replace a nan or inf loss by the mean of the others
        # (logging_nan_inf_filter), so a run that diverged would go on to its last step and save
        # nan weights as a finished model. One sync per step costs little beside the step itself.
        if not torch.isfinite(loss).all():
            raise RunError(
                f"training diverged: the loss is {loss.float().sum().item()} at step {self.state.global_step + 1}, "
                f"so the weights are no longer numbers. Start again in a new --output-dir with a lower learning_rate "
                f"(now {self.args.learning_rate:g}) or a longer warm-up (warmup_steps, now {self.args.warmup_steps}) in {self.settings}"
            )
        return loss

    def record(self, **values: float) -> None:
        for key, value in values.items():
            self._stats.setdefault(key, []).append(value)

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if self._stats and "loss" in logs:
            for key, values in self._stats.items():
                logs[key] = round(float(np.nanmean(values)), 5)
            self._stats = {}
        super().log(logs, *args, **kwargs)
