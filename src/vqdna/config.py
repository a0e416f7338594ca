"""Configs as dataclasses, and presets (JSON data files in vqdna/presets) that fill them.

Configs are saved as JSON beside every model and result; values that depend on each other are
derived (e.g. the receptive field from kernel sizes and stride), never entered twice.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import UserError

PRESETS = ("tiny", "fast", "base")
INPUT_MODES = ("ids", "quantized")  # the encoder's input; see vqdna.modeling.Embeddings
LR_SCHEDULES = ("cosine", "linear")  # both warm up linearly, then decay to 0 by max_steps
# "auto": bf16 where the GPU supports it, fp32 otherwise (the CPU); "bf16" on a CPU runs CPU autocast
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def fill_added_settings(cls: type, recorded: dict[str, Any]) -> dict[str, Any]:
    """`recorded` (a `cls` config as an older vqdna wrote it) with the settings added to `cls`
    since then filled in (`cls.ADDED`), so that a finished run is still recognised and reused."""
    return {**{k: v for k, v in cls.ADDED.items() if k not in recorded}, **recorded}


POOLINGS = ("mean", "max", "cls")  # the sequence classifier's; see vqdna.modeling.POOLING


class Config:
    """Base of every config dataclass: each value is checked where it enters, against its field's
    declared type (a JSON "false" string is not a bool, 0.5 is not an int) and against the class's
    `RANGES` (sizes, steps and windows >= 1, rates > 0, fractions in their interval), so that a bad
    value is an error naming the key, never a silently different run. `check()` adds the rules
    that tie several values together."""

    RANGES: dict[str, str] = {}
    # Settings added after runs were recorded without them, with the value those runs used (see
    # `fill_added_settings`): a new setting's default must reproduce what ran before it existed.
    ADDED: dict[str, Any] = {}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(
                self,
                f.name,
                check_value(
                    f.name, getattr(self, f.name), str(f.type), self.RANGES.get(f.name), owner=type(self).__name__
                ),
            )
        self.check()

    def check(self) -> None:
        """Rules between values (override)."""

    # the settings a training run hands to `training.engine.training_arguments` under the same names
    TRAINER_KEYS = (
        "max_steps",
        "batch_size",
        "learning_rate",
        "warmup_steps",
        "weight_decay",
        "save_steps",
        "logging_steps",
        "seed",
        "gradient_accumulation_steps",
        "lr_scheduler_type",
        "precision",
    )

    def trainer_kwargs(self) -> dict[str, Any]:
        """This config's values of `TRAINER_KEYS` (those it has), for `training_arguments`."""
        return {key: getattr(self, key) for key in self.TRAINER_KEYS if hasattr(self, key)}


_RULE_WORDS = {
    "seed": "an integer in 0..4294967295 (numpy's seed range)",
    ">=1": ">= 1",
    ">=0": ">= 0",
    ">0": "> 0",
    "[0,1)": "in [0, 1)",
    "(0,1)": "in (0, 1)",
    "[0,1]": "in [0, 1]",
    "(0,1]": "in (0, 1]",
}


def _in_range(v: float, rule: str) -> bool:
    return {
        "seed": 0 <= v < 2**32,
        ">=1": v >= 1,
        ">=0": v >= 0,
        ">0": v > 0,
        "[0,1)": 0 <= v < 1,
        "(0,1)": 0 < v < 1,
        "[0,1]": 0 <= v <= 1,
        "(0,1]": 0 < v <= 1,
    }[rule]


def check_value(name: str, value: Any, annotation: str, rule: str | None = None, *, owner: str = "config") -> Any:
    """One value checked as a config field is (`annotation` as in a dataclass, `rule` a key of
    `_RULE_WORDS`); also for settings that live outside the dataclasses, e.g. a model's config.json."""
    value = _typed(name, value, annotation, owner=owner)
    for v in value if isinstance(value, list) else [value]:
        if rule is not None and v is not None and not _in_range(v, rule):
            raise UserError(f"{name} must be {_RULE_WORDS[rule]}, got {value!r}")
    return value


def _typed(name: str, value: Any, annotation: str, *, owner: str) -> Any:
    """`value` as the annotated type (int, float, bool, str, list[...] and `X | None`), or a UserError
    naming the key. Integral floats pass as ints (JSON writes 1e3 for 1000); nothing else is coerced."""
    if annotation.endswith(" | None"):
        return None if value is None else _typed(name, value, annotation[: -len(" | None")], owner=owner)
    if annotation.startswith("list["):
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{name} must be a list of {annotation[5:-1]}, got {value!r}")
        return [_typed(f"{name}[{i}]", v, annotation[5:-1], owner=owner) for i, v in enumerate(value)]
    if annotation == "bool":
        if not isinstance(value, bool):
            raise UserError(f"{name} must be true or false, got {value!r}")
        return value
    if annotation == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise UserError(f"{name} must be an integer, got {value!r}")
        return value
    if annotation == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise UserError(f"{name} must be a finite number, got {value!r}")
        return float(value)
    if annotation == "str":
        if not isinstance(value, str):
            raise UserError(f"{name} must be a string, got {value!r}")
        return value
    raise TypeError(
        f"{owner}.{name}: no check for the annotation {annotation!r}"
    )  # a new field type: teach _typed about it


# the ranges of the training-length settings shared by fine-tuning and the CNN baseline (null, where
# allowed, means: train by epochs / no cap / once per epoch / never stop early)
SCHEDULE_RANGES = {
    **dict.fromkeys(
        (
            "batch_size",
            "max_steps",
            "step_budget",
            "eval_steps",
            "early_stopping_patience",
            "logging_steps",
            "max_length_bp",
            "eval_batch_size",
            "gradient_accumulation_steps",
        ),
        ">=1",
    ),
    "learning_rate": ">0",
    "num_train_epochs": ">0",
    "warmup_steps": ">=0",
    "weight_decay": ">=0",
    "seeds": "seed",
}


@dataclass
class VQVAEConfig(Config):
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

    RANGES = {
        **dict.fromkeys(
            (
                "stem_channels",
                "width",
                "depth",
                "kernel_size",
                "stride",
                "stem_kernel",
                "mlp_ratio",
                "code_dim",
                "codebook_sizes",
                "tap_blocks",
            ),
            ">=1",
        ),
        "layer_scale_init": ">0",
        "decay": "[0,1)",
        "commitment_weight": ">=0",
        "threshold_ema_dead_code": ">=0",
    }

    def check(self) -> None:
        problems = []
        if any(k < 2 for k in self.codebook_sizes):
            problems.append(
                f"every codebook needs at least 2 codes (one code carries no information), got codebook_sizes={self.codebook_sizes}"
            )
        if self.stem_kernel < self.stride or (self.stem_kernel - self.stride) % 2:
            problems.append(
                f"stem_kernel - stride must be even and >= 0 so that L bp give exactly L/stride tokens "
                f"(got stem_kernel={self.stem_kernel}, stride={self.stride})"
            )
        if self.kernel_size % 2 == 0:
            problems.append(f"kernel_size must be odd, got {self.kernel_size}")
        if not self.codebook_sizes or len(self.codebook_sizes) != len(self.tap_blocks):
            problems.append(
                f"need one tap block per codebook, got codebook_sizes={self.codebook_sizes}, tap_blocks={self.tap_blocks}"
            )
        if sorted(set(self.tap_blocks)) != self.tap_blocks or any(not 1 <= b <= self.depth for b in self.tap_blocks):
            problems.append(f"tap_blocks must increase strictly within 1..depth={self.depth}, got {self.tap_blocks}")
        if problems:
            raise UserError("invalid VQ-VAE config: " + "; ".join(problems))

    @property
    def num_levels(self) -> int:
        return len(self.codebook_sizes)

    def receptive_field_bp(self, level: int = -1) -> int:
        """bp of input that one code of `level` depends on (encoder side)."""
        blocks = self.tap_blocks[level]
        return self.stem_kernel + blocks * (self.kernel_size - 1) * self.stride


@dataclass
class TokenizerTrainingConfig(Config):
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
    gradient_accumulation_steps: int = 1
    lr_scheduler_type: str = "cosine"  # after the warm-up: "cosine" or "linear" decay to 0
    precision: str = "auto"  # one of PRECISIONS

    ADDED = {"gradient_accumulation_steps": 1, "lr_scheduler_type": "cosine", "precision": "auto"}
    RANGES = {
        **dict.fromkeys(
            ("window_bp", "batch_size", "max_steps", "save_steps", "logging_steps", "gradient_accumulation_steps"),
            ">=1",
        ),
        "learning_rate": ">0",
        "warmup_steps": ">=0",
        "weight_decay": ">=0",
        "max_n_fraction": "[0,1)",
        "seed": "seed",
    }

    def check(self) -> None:
        check_trainer_choices(self)


@dataclass
class EncoderConfig(Config):
    """The encoder's shape (the "encoder" section), passed as it is to `modeling.VQDNAConfig`."""

    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.0
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    alibi_direction: float = 0.0  # see vqdna.modeling.attention_bias: 0 is symmetric ALiBi
    # "ids": a learned embedding per token id (every tokenizer); "quantized" (VQ/HRQ only): the
    # frozen codebook vectors, projected. ids is the default: fine-tuned on mouse_tf_0 from a random
    # start, quantized input stayed at chance (dev MCC 0.02) where ids reached 0.51 (benchmarks/README.md).
    input_mode: str = "ids"

    RANGES = {
        **dict.fromkeys(("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"), ">=1"),
        "hidden_dropout_prob": "[0,1)",
        "attention_probs_dropout_prob": "[0,1)",
        "layer_norm_eps": ">0",
        "initializer_range": ">0",
        "alibi_direction": ">=0",
    }

    def check(self) -> None:
        check_choice("input_mode", self.input_mode, INPUT_MODES)
        if self.hidden_size % self.num_attention_heads:
            raise UserError(
                f"hidden_size {self.hidden_size} is not a multiple of num_attention_heads {self.num_attention_heads}"
            )


@dataclass
class PretrainConfig(Config):
    """Masked code modeling: the training run (the encoder's shape is `EncoderConfig`)."""

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
    # curriculum: spans grow from 1 token to span_tokens over this fraction of the steps
    span_warmup_fraction: float = 0.0
    heldout_fraction: float = 0.05
    eval_windows: int = 256
    max_n_fraction: float = 0.1
    save_steps: int = 100
    logging_steps: int = 10
    seed: int = 0
    precision: str = "auto"  # one of PRECISIONS
    # > 0: also predict the base under each masked token, this loss weighted by it (see
    # vqdna.modeling.VQDNAConfig.base_loss_weight); 0 trains on code ids alone
    base_loss_weight: float = 0.0

    ADDED = {"precision": "auto", "base_loss_weight": 0.0}
    RANGES = {
        "base_loss_weight": ">=0",
        **dict.fromkeys(
            (
                "window_bp",
                "batch_size",
                "gradient_accumulation_steps",
                "max_steps",
                "span_tokens",
                "eval_windows",
                "save_steps",
                "logging_steps",
            ),
            ">=1",
        ),
        "learning_rate": ">0",
        "warmup_steps": ">=0",
        "weight_decay": ">=0",
        "mask_ratio": "(0,1)",
        "span_warmup_fraction": "[0,1)",
        "heldout_fraction": "(0,1)",
        "max_n_fraction": "[0,1)",
        "seed": "seed",
    }

    def check(self) -> None:
        check_trainer_choices(self)


@dataclass
class FinetuneConfig(Config):
    """Stage 3: fine-tuning on a labeled task (GUE protocol: LoRA r=8, alpha=16, dropout 0.05 on
    query/key/value/dense; training counted in epochs, dev evaluated at least once per epoch, the
    best dev checkpoint tested, early stopping when dev stops improving)."""

    use_lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    task_type: str = (
        "auto"  # "classification", "regression", or "auto": float labels that are not all integers → regression
    )
    pooling: str = "mean"  # how the head sees the sequence: "mean" or "max" over its tokens, or a [CLS] token
    learning_rate: float = 1e-4
    batch_size: int = 32
    num_train_epochs: float = 3.0
    max_steps: int | None = None  # overrides num_train_epochs when given
    step_budget: int | None = None  # training by epochs stops here if the epochs would take longer (None: no cap)
    warmup_steps: int = 50
    weight_decay: float = 0.01
    eval_steps: int | None = None  # None: one dev evaluation per epoch (and at the last step of a shorter run)
    early_stopping_patience: int | None = (
        3  # dev evaluations without improvement before stopping; None: never stop early
    )
    logging_steps: int = 50
    max_length_bp: int = 2048  # longer sequences are an error (no silent truncation)
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    eval_batch_size: int = 64
    cache_tokens: bool = True  # encode each split once with the frozen tokenizer, not every batch of every epoch
    # Train on every sequence and on its reverse complement, with the same label (an epoch is then
    # twice as many steps). Dev and test are left as they are.
    reverse_complement: bool = False
    gradient_accumulation_steps: int = 1  # an optimizer step every N batches (batch_size × N examples)
    lr_scheduler_type: str = "linear"  # after the warm-up: "linear" or "cosine" decay to 0
    precision: str = "auto"  # one of PRECISIONS

    RANGES = {**SCHEDULE_RANGES, "lora_r": ">=1", "lora_alpha": ">=1", "lora_dropout": "[0,1)"}
    ADDED = {"gradient_accumulation_steps": 1, "lr_scheduler_type": "linear", "precision": "auto"}

    def check(self) -> None:
        check_task_type(self.task_type)
        check_choice("pooling", self.pooling, POOLINGS)
        check_schedule(self)
        check_trainer_choices(self)


@dataclass
class CNNBaselineConfig(Config):
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
    early_stopping_patience: int | None = (
        6  # chosen on dev: emp_H3 dev MCC 0.564 vs 0.553 with 3 (benchmarks/README.md)
    )
    logging_steps: int = 50
    max_length_bp: int = 100_000
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    eval_batch_size: int = 256
    gradient_accumulation_steps: int = 1
    lr_scheduler_type: str = "linear"
    precision: str = "auto"

    ADDED = {"gradient_accumulation_steps": 1, "lr_scheduler_type": "linear", "precision": "auto"}
    RANGES = {
        **SCHEDULE_RANGES,
        "channels": ">=1",
        "kernel_size": ">=1",
        "num_layers": ">=1",
        "pool_size": ">=1",
        "dropout": "[0,1)",
    }

    def check(self) -> None:
        check_task_type(self.task_type)
        if self.kernel_size % 2 == 0:
            raise UserError(f"kernel_size must be odd, got {self.kernel_size}")
        check_schedule(self)
        check_trainer_choices(self)


@dataclass
class KmerLRBaselineConfig(Config):
    """The k-mer baseline: overlapping k-mer frequencies (k-mers holding an N are skipped), scaled
    to unit variance, and logistic regression (regression tasks: ridge); k and the L2 strength are
    chosen together on dev. Deterministic, so one fit stands for every seed."""

    ks: list[int] = field(default_factory=lambda: [3, 4, 5, 6])
    c_grid: list[float] = field(
        default_factory=lambda: [0.001, 0.01, 0.1, 1.0, 10.0]
    )  # scikit-learn's C: inverse L2 strength
    task_type: str = "auto"
    max_iter: int = 2000
    max_length_bp: int = 100_000
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])

    RANGES = {"ks": ">=1", "c_grid": ">0", "max_iter": ">=1", "max_length_bp": ">=1", "seeds": "seed"}

    def check(self) -> None:
        check_task_type(self.task_type)
        if not self.ks or any(k > 8 for k in self.ks):
            raise UserError(f"ks must be a non-empty list of k-mer sizes in 1..8, got {self.ks}")
        if not self.c_grid:
            raise UserError("c_grid must be a non-empty list of positive numbers, got []")
        if not self.seeds:
            raise UserError("seeds: need at least one seed")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be {' or '.join(repr(c) for c in choices)}, got {value!r}")


def check_task_type(value: str) -> None:
    if value not in ("auto", "classification", "regression"):
        raise UserError(f"task_type must be 'auto', 'classification' or 'regression', got {value!r}")


def check_trainer_choices(cfg) -> None:
    check_choice("lr_scheduler_type", cfg.lr_scheduler_type, LR_SCHEDULES)
    check_choice("precision", cfg.precision, PRECISIONS)


def check_schedule(cfg) -> None:
    """The training-length rules shared by fine-tuning and the CNN baseline."""
    if not cfg.seeds:
        raise UserError("seeds: need at least one seed")


@dataclass
class BPEConfig(Config):
    vocab_size: int = 4096
    chunk_bp: int = 1000  # training text is cut into chunks of this size (DNABERT-2 style)
    max_train_bp: int = 20_000_000
    seed: int = 0

    RANGES = {"vocab_size": ">=1", "chunk_bp": ">=1", "max_train_bp": ">=1", "seed": "seed"}

    def check(self) -> None:
        if self.vocab_size <= 10:  # the 5 special tokens and A, C, G, T, N come first (vqdna.tokenizers)
            raise UserError(
                f"vocab_size must be more than 10 (the 5 special tokens and A, C, G, T, N come first), got {self.vocab_size}"
            )


@dataclass
class KmerConfig(Config):
    k: int = 6
    overlapping: bool = False

    RANGES = {"k": ">=1"}

    def check(self) -> None:
        if self.k > 12:  # 4^12 = 16.8M k-mer ids: an embedding table beyond any use
            raise UserError(f"k must be in 1..12, got {self.k}")


def json_option(value: str, flag: str = "--config") -> Any:
    """A command-line JSON option: the path of a JSON file, or inline JSON."""
    text = value if value.lstrip().startswith(("{", "[")) else None  # inline JSON (too long a string for a path, too)
    if text is None:
        path = Path(value)
        try:
            is_file = path.is_file()
        except OSError:  # e.g. longer than a file name may be: then it is not a file
            is_file = False
        try:
            text = path.read_text() if is_file else value
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{flag}: {value} is not a UTF-8 text file of JSON ({exc.reason} at byte {exc.start})"
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{flag}: {value!r} is neither a JSON file nor valid JSON: {exc}") from exc


def from_dict(cls, data: dict[str, Any], *, what: str = "config"):
    """Build a dataclass, rejecting unknown keys with a message that lists the known ones, and
    naming `what` (the option or file the values came from) in any error."""
    if not isinstance(data, dict):
        raise UserError(f"{what}: expected a JSON object of settings, got {type(data).__name__} {data!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(f"{what}: unknown keys {unknown}; known keys are {sorted(known)}")
    try:
        return cls(**data)
    except UserError as exc:
        raise UserError(f"{what}: {exc}") from None


def resolve_section(cls, preset: str, section: str, overrides: dict[str, Any] | None = None, **flags):
    """A preset's section as a config dataclass: the preset's values, then --config overrides, then
    command-line flags (a flag left at None was not given)."""
    if overrides is not None and not isinstance(overrides, dict):
        raise UserError(
            f"{section} config: expected a JSON object of settings, got {type(overrides).__name__} {overrides!r}"
        )
    data = {**load_preset(preset).get(section, {}), **(overrides or {})}
    data.update({key: value for key, value in flags.items() if value is not None})
    return from_dict(cls, data, what=f"{section} config")


def config_sections(
    sections: dict[str, type], overrides: Any, what: str = "--config", primary: str | None = None
) -> dict[str, dict[str, Any]]:
    """A --config split into the sections a command reads ({section name: its config class}, named
    as in the presets). A --config is a partial preset: an object of sections; as a shorthand, a
    key that is not a section name goes to the one section whose config has that field (to
    `primary` when several have it). Every value's type and range is checked here, as its config
    checks it, even in a section this run does not use."""
    parts: dict[str, dict[str, Any]] = {name: {} for name in sections}
    if overrides is None:
        return parts
    if not isinstance(overrides, dict):
        raise UserError(f"{what}: expected a JSON object of settings, got {type(overrides).__name__} {overrides!r}")

    def put(section: str, key: str, value: Any) -> None:
        if key in parts[section]:
            raise UserError(f"{what}: {key!r} is given twice, in the {section!r} section and outside it; give it once")
        field = next(f for f in dataclasses.fields(sections[section]) if f.name == key)
        try:
            parts[section][key] = check_value(key, value, str(field.type), sections[section].RANGES.get(key))
        except UserError as exc:
            raise UserError(f"{section} config: {exc}") from None

    for key, value in overrides.items():
        if key in sections:
            if not isinstance(value, dict):
                raise UserError(f"{what}: section {key!r} must be an object of settings, got {value!r}")
            known = {f.name for f in dataclasses.fields(sections[key])}
            if set(value) - known:
                raise UserError(
                    f"{key} config: unknown keys {sorted(set(value) - known)}; known keys are {sorted(known)}"
                )
            for k, v in value.items():
                put(key, k, v)
            continue
        owners = [name for name, cls in sections.items() if key in {f.name for f in dataclasses.fields(cls)}]
        if not owners:
            known = sorted({f.name for cls in sections.values() for f in dataclasses.fields(cls)})
            raise UserError(
                f"{what}: unknown key {key!r}; the sections are {', '.join(sections)} and their keys {known}"
            )
        if len(owners) > 1 and primary in owners:
            owners = [primary]
        if len(owners) > 1:
            raise UserError(
                f"{what}: {key!r} is a setting of {' and '.join(owners)}; put it in one section, "
                f'e.g. {{"{owners[0]}": {{"{key}": ...}}}}'
            )
        put(owners[0], key, value)
    return parts


def resolve_sections(
    sections: dict[str, type], preset: str, overrides: Any = None, *, what: str = "--config", **flags
) -> dict[str, Any]:
    """The configs of the sections a command reads: each from the preset's section, then its part
    of --config (`config_sections`), then command-line flags (a flag left at None was not given),
    which go to the section that has the field."""
    parts = config_sections(sections, overrides, what)
    for key, value in flags.items():
        if value is not None:
            parts[next(n for n, cls in sections.items() if key in {f.name for f in dataclasses.fields(cls)})][key] = (
                value
            )
    return {name: resolve_section(cls, preset, name, parts[name]) for name, cls in sections.items()}


def load_preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return json.loads(resources.files("vqdna.presets").joinpath(f"{name}.json").read_text())
