"""Configs as dataclasses, and presets (JSON data files in vqdna/presets) that fill them.

Configs are saved as JSON beside every model and result; values that depend on each other are
derived (e.g. the receptive field from kernel sizes and stride), never entered twice.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

PRESETS = ("tiny", "fast", "base")
INPUT_MODES = ("ids", "quantized")  # the encoder's input; see vqdna.modeling.Embeddings
POOLINGS = ("mean", "max")  # the sequence classifier's; see vqdna.modeling.POOLING


@dataclass
class VQVAEConfig:
    """The tokenizer network: ConvNeXt-style 1-D encoder, one codebook per level, mirrored decoder.

    One level (`codebook_sizes=[512]`) is the VQ-VAE; several levels are HRQ, level n tapped
    after encoder block `tap_blocks[n]` (1-based), coarse to fine."""

    stem_channels: int = 128
    width: int = 128
    depth: int = 4
    kernel_size: int = 7
    stride: int = 1  # bp per token; all of it is applied by the stem, before any block
    stem_kernel: int = 5
    mlp_ratio: int = 4
    layer_scale_init: float = 0.1
    code_dim: int = 64
    codebook_sizes: list[int] = field(default_factory=lambda: [512])
    tap_blocks: list[int] = field(default_factory=lambda: [4])
    ema_update: bool = True
    decay: float = 0.99
    commitment_weight: float = 0.5
    kmeans_init: bool = True
    threshold_ema_dead_code: float = 1.0

    def __post_init__(self) -> None:
        self.codebook_sizes = [int(k) for k in self.codebook_sizes]
        self.tap_blocks = [int(b) for b in self.tap_blocks]
        problems = []
        if self.stride < 1:
            problems.append(f"stride must be >= 1, got {self.stride}")
        if self.stem_kernel < self.stride or (self.stem_kernel - self.stride) % 2:
            problems.append(
                f"stem_kernel - stride must be even and >= 0 so that L bp give exactly L/stride tokens "
                f"(got stem_kernel={self.stem_kernel}, stride={self.stride})"
            )
        if self.kernel_size % 2 == 0:
            problems.append(f"kernel_size must be odd, got {self.kernel_size}")
        if not self.codebook_sizes or len(self.codebook_sizes) != len(self.tap_blocks):
            problems.append(f"need one tap block per codebook, got codebook_sizes={self.codebook_sizes}, tap_blocks={self.tap_blocks}")
        if sorted(set(self.tap_blocks)) != self.tap_blocks or any(not 1 <= b <= self.depth for b in self.tap_blocks):
            problems.append(f"tap_blocks must increase strictly within 1..depth={self.depth}, got {self.tap_blocks}")
        if problems:
            raise ValueError("invalid VQ-VAE config: " + "; ".join(problems))

    @property
    def num_levels(self) -> int:
        return len(self.codebook_sizes)

    def receptive_field_bp(self, level: int = -1) -> int:
        """bp of input that one code of `level` depends on (encoder side)."""
        blocks = self.tap_blocks[level]
        return self.stem_kernel + blocks * (self.kernel_size - 1) * self.stride


@dataclass
class TokenizerTrainingConfig:
    window_bp: int = 512
    batch_size: int = 32
    max_steps: int = 1200
    learning_rate: float = 2e-3
    warmup_steps: int = 50
    weight_decay: float = 0.0
    max_n_fraction: float = 0.1
    save_steps: int = 200
    logging_steps: int = 20
    seed: int = 0


@dataclass
class PretrainConfig:
    """Masked code modeling: the encoder's size and the training run."""

    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    hidden_dropout_prob: float = 0.1
    alibi_direction: float = 0.0  # see vqdna.modeling.attention_bias: 0 is symmetric ALiBi
    # "ids": a learned embedding per token id (every tokenizer); "quantized" (VQ/HRQ only): the
    # frozen codebook vectors, projected. ids is the default: fine-tuned on mouse_tf_0 from a random
    # start, quantized input stayed at chance (dev MCC 0.02) where ids reached 0.51 (benchmarks/README.md).
    input_mode: str = "ids"
    window_bp: int = 256
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    max_steps: int = 300
    learning_rate: float = 5e-4
    lr_scheduler_type: str = "cosine"  # "cosine" or "linear" decay to 0 after the warm-up
    warmup_steps: int = 30
    weight_decay: float = 0.01
    mask_ratio: float = 0.25
    span_tokens: int | None = None  # None: the leak-free default of vqdna.masking
    span_warmup_fraction: float = 0.0  # curriculum: spans grow from 1 token to span_tokens over this fraction of the steps
    heldout_fraction: float = 0.05
    eval_windows: int = 256
    max_n_fraction: float = 0.1
    save_steps: int = 100
    logging_steps: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("input_mode", self.input_mode, INPUT_MODES)


@dataclass
class FinetuneConfig:
    """Stage 3: fine-tuning on a labeled task (GUE protocol: LoRA r=8, alpha=16, dropout 0.05 on
    query/key/value/dense; training counted in epochs, dev evaluated at least once per epoch, the
    best dev checkpoint tested, early stopping when dev stops improving)."""

    use_lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    task_type: str = "auto"  # "classification", "regression", or "auto": float labels that are not all integers → regression
    pooling: str = "mean"  # how the head sees the sequence: "mean" or "max" over its tokens
    learning_rate: float = 1e-4
    batch_size: int = 32
    num_train_epochs: float = 3.0
    max_steps: int | None = None  # overrides num_train_epochs when given
    step_budget: int | None = None  # training by epochs stops here if the epochs would take longer (None: no cap)
    warmup_steps: int = 50
    weight_decay: float = 0.01
    eval_steps: int | None = None  # None: one dev evaluation per epoch (and at the last step of a shorter run)
    early_stopping_patience: int | None = 3  # dev evaluations without improvement before stopping; None: never stop early
    logging_steps: int = 50
    max_length_bp: int = 2048  # longer sequences are an error (no silent truncation)
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    eval_batch_size: int = 64
    cache_tokens: bool = True  # encode each split once with the frozen tokenizer, not every batch of every epoch
    # Train on every sequence and on its reverse complement, with the same label (an epoch is then
    # twice as many steps). Dev and test are left as they are.
    reverse_complement: bool = False

    def __post_init__(self) -> None:
        check_task_type(self.task_type)
        check_choice("pooling", self.pooling, POOLINGS)
        check_schedule(self)


@dataclass
class CNNBaselineConfig:
    """The one-hot CNN baseline: `num_layers` × (conv `channels`, kernel `kernel_size`, batch norm,
    ReLU, max pool `pool_size`), global max pool over real positions, dropout, a linear layer.
    Trained on the same engine and schedule rules as fine-tuning (epochs, dev early stopping)."""

    channels: int = 128
    kernel_size: int = 9
    num_layers: int = 3
    pool_size: int = 2
    dropout: float = 0.2
    task_type: str = "auto"
    learning_rate: float = 1e-3
    batch_size: int = 64
    num_train_epochs: float = 20.0
    max_steps: int | None = None
    step_budget: int | None = None
    warmup_steps: int = 0
    weight_decay: float = 0.01
    eval_steps: int | None = None
    early_stopping_patience: int | None = 6  # chosen on dev: emp_H3 dev MCC 0.564 vs 0.553 with 3 (benchmarks/README.md)
    logging_steps: int = 50
    max_length_bp: int = 100_000
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        check_task_type(self.task_type)
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {self.kernel_size}")
        for name in ("channels", "num_layers", "pool_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        check_schedule(self)


@dataclass
class KmerLRBaselineConfig:
    """The k-mer baseline: overlapping k-mer frequencies (k-mers holding an N are skipped), scaled
    to unit variance, and logistic regression (regression tasks: ridge); k and the L2 strength are
    chosen together on dev. Deterministic, so one fit stands for every seed."""

    ks: list[int] = field(default_factory=lambda: [3, 4, 5, 6])
    c_grid: list[float] = field(default_factory=lambda: [0.001, 0.01, 0.1, 1.0, 10.0])  # scikit-learn's C: inverse L2 strength
    task_type: str = "auto"
    max_iter: int = 2000
    max_length_bp: int = 100_000
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])

    def __post_init__(self) -> None:
        check_task_type(self.task_type)
        if not self.ks or any(not 1 <= int(k) <= 8 for k in self.ks):
            raise ValueError(f"ks must be a non-empty list of k-mer sizes in 1..8, got {self.ks}")
        if not self.c_grid or any(float(v) <= 0 for v in self.c_grid):
            raise ValueError(f"c_grid must be a non-empty list of positive numbers, got {self.c_grid}")
        self.ks, self.c_grid = [int(k) for k in self.ks], [float(v) for v in self.c_grid]
        if not self.seeds:
            raise ValueError("seeds: need at least one seed")
        self.seeds = [int(s) for s in self.seeds]


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be {' or '.join(repr(c) for c in choices)}, got {value!r}")


def check_task_type(value: str) -> None:
    if value not in ("auto", "classification", "regression"):
        raise ValueError(f"task_type must be 'auto', 'classification' or 'regression', got {value!r}")


def check_schedule(cfg) -> None:
    """The training-length rules shared by fine-tuning and the CNN baseline."""
    if not cfg.seeds:
        raise ValueError("seeds: need at least one seed")
    cfg.seeds = [int(s) for s in cfg.seeds]
    if cfg.max_steps is None and not cfg.num_train_epochs > 0:
        raise ValueError(f"num_train_epochs must be > 0, got {cfg.num_train_epochs}")
    if cfg.max_steps is not None and cfg.max_steps < 1:
        raise ValueError(f"max_steps must be >= 1 (or null to train by epochs), got {cfg.max_steps}")
    if cfg.step_budget is not None and cfg.step_budget < 1:
        raise ValueError(f"step_budget must be >= 1 (or null: no cap on training by epochs), got {cfg.step_budget}")
    if cfg.eval_steps is not None and cfg.eval_steps < 1:
        raise ValueError(f"eval_steps must be >= 1 (or null: once per epoch), got {cfg.eval_steps}")
    if cfg.early_stopping_patience is not None and cfg.early_stopping_patience < 1:
        raise ValueError(f"early_stopping_patience must be >= 1 (or null: never stop early), got {cfg.early_stopping_patience}")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")


@dataclass
class BPEConfig:
    vocab_size: int = 4096
    chunk_bp: int = 1000  # training text is cut into chunks of this size (DNABERT-2 style)
    max_train_bp: int = 20_000_000
    seed: int = 0


@dataclass
class KmerConfig:
    k: int = 6
    overlapping: bool = False


def json_option(value: str, flag: str = "--config") -> Any:
    """A command-line JSON option: the path of a JSON file, or inline JSON."""
    text = value if value.lstrip().startswith(("{", "[")) else None  # inline JSON (too long a string for a path, too)
    if text is None:
        path = Path(value)
        text = path.read_text() if path.is_file() else value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{flag}: {value!r} is neither a JSON file nor valid JSON: {exc}") from exc


def from_dict(cls, data: dict[str, Any], *, what: str = "config"):
    """Build a dataclass, rejecting unknown keys with a message that lists the known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{what}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**data)


def resolve_section(cls, preset: str, section: str, overrides: dict[str, Any] | None = None, **flags):
    """A preset's section as a config dataclass: the preset's values, then --config overrides, then
    command-line flags (a flag left at None was not given)."""
    if overrides is not None and not isinstance(overrides, dict):
        raise ValueError(f"{section} config: expected a JSON object of settings, got {type(overrides).__name__} {overrides!r}")
    data = {**load_preset(preset).get(section, {}), **(overrides or {})}
    data.update({key: value for key, value in flags.items() if value is not None})
    return from_dict(cls, data, what=f"{section} config")


def load_preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return json.loads(resources.files("vqdna.presets").joinpath(f"{name}.json").read_text())
