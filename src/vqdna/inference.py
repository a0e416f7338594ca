"""Using trained models: load a model folder, embed sequences, predict labels.

A model folder is what `vqdna pretrain` or `vqdna finetune` wrote: `config.json` +
`model.safetensors`, `tokenizer/`, and what transformers needs to load both on its own
(`tokenizer_config.json`, `auto_map`, a copy of the code; see `save_model_folder`). A fine-tuning run's top folder works too: it points to the
model of its best seed (by the dev metric). Weights are only ever read from safetensors.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from safetensors import SafetensorError
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification
from transformers.utils import logging as hf_logging

from vqdna.errors import UserError
from vqdna.hf_tokenizer import VQDNATokenizer
from vqdna.modeling import VQDNAConfig, VQDNAForSequenceClassification, VQDNAModel, mean_pool
from vqdna.seqio import check_lengths, nth_sequence
from vqdna.storage import CheckpointError, read_json, usual_permissions
from vqdna.tokenizers import GenomeTokenizer, TransformersTokenizer, load_tokenizer

CLASSIFIER = "VQDNAForSequenceClassification"


def resolve_model_dir(path: str | Path) -> Path:
    """The folder holding config.json + model.safetensors: `path` itself, or for a fine-tuning
    run's top folder, the model of its best seed."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such model folder")
    if (path / "config.json").is_file():
        return path
    results = path / "eval_results.json"
    if results.is_file():
        summary = read_json(results, what="fine-tuning results")
        best = summary.get("best_seed") if isinstance(summary, dict) else None
        candidate = path / f"seed_{best}" / "model"
        if best is not None and (candidate / "config.json").is_file():
            return candidate
    raise CheckpointError(
        f"{path}: not a vqdna model folder (no config.json, and no fine-tuning results naming a best seed's model)"
    )


TRUST_ADVICE = "pass --trust-remote-code (trust_remote_code=True) if you trust the code it ships"


def load_config(model_dir: str | Path, *, trust_remote_code: bool = False):
    """The model's config: a `VQDNAConfig` for a vqdna folder, transformers' own for any other
    transformers model folder (BERT, DNABERT-2, Nucleotide Transformer, …)."""
    model_dir = resolve_model_dir(model_dir)
    data = read_json(model_dir / "config.json", what="model config")
    if isinstance(data, dict) and "kind" in data and "model_type" not in data:
        raise CheckpointError(
            f"{model_dir}: a {data['kind']} tokenizer folder, not a model folder (pretrain a model on it: vqdna pretrain)"
        )
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise CheckpointError(
            f"{model_dir / 'config.json'}: not a model config (model_type {data.get('model_type') if isinstance(data, dict) else None!r})"
        )
    if data["model_type"] != "vqdna":
        return _transformers_call(AutoConfig.from_pretrained, model_dir, trust_remote_code)
    try:
        return VQDNAConfig.from_pretrained(model_dir)
    except (TypeError, ValueError, KeyError) as exc:  # e.g. a size written as text: the file is named, not a traceback
        raise CheckpointError(f"{model_dir / 'config.json'}: invalid model config: {exc}") from exc


def _transformers_call(load, model_dir: Path, trust_remote_code: bool, **kwargs):
    try:
        return load(str(model_dir), trust_remote_code=trust_remote_code, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        if "trust_remote_code" in str(exc):
            raise CheckpointError(
                f"{model_dir}: this model ships its own code (auto_map in config.json); {TRUST_ADVICE}"
            ) from exc
        raise CheckpointError(f"{model_dir}: cannot load it with transformers: {exc}") from exc


def is_vqdna(config) -> bool:
    return isinstance(config, VQDNAConfig)


def load_model(
    model_dir: str | Path, cls=None, *, trust_remote_code: bool = False, **config_overrides
) -> torch.nn.Module:
    """Load weights from safetensors only (never a pickle). `cls` defaults to the classifier for a
    fine-tuned folder and the bare encoder otherwise; a masked-code model loads into either. Any
    other transformers model folder loads through its Auto classes."""
    model_dir = resolve_model_dir(model_dir)
    config = load_config(model_dir, trust_remote_code=trust_remote_code)
    classifier = any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))
    if cls is None:
        if is_vqdna(config):
            cls = VQDNAForSequenceClassification if classifier else VQDNAModel
        else:
            cls = AutoModelForSequenceClassification if classifier else AutoModel
    missing_files = [p.name for p in weights_files(model_dir) if not p.is_file()]
    if missing_files:
        pickles = [p.name for p in model_dir.glob("*.bin")] + [p.name for p in model_dir.glob("*.pt")]
        raise CheckpointError(
            f"{model_dir}: missing {', '.join(missing_files)} (vqdna reads weights from safetensors only, never from a "
            f"pickle{f'; convert {pickles[0]} with transformers save_pretrained(safe_serialization=True)' if pickles else ''})"
        )
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its load report lists the new task head as "missing": expected
    hf_logging.disable_progress_bar()  # a bar for loading a few MB only clutters the output (and -q)
    try:
        # mismatched shapes are reported by us, by name, rather than by transformers' "see the above report"
        load = functools.partial(
            cls.from_pretrained, use_safetensors=True, output_loading_info=True, ignore_mismatched_sizes=True
        )
        if is_vqdna(config):
            try:
                model, info = load(model_dir, **config_overrides)
            except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
                raise CheckpointError(f"{model_dir}: cannot load the model: {exc}") from exc
        else:
            model, info = _transformers_call(load, model_dir, trust_remote_code, **config_overrides)
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()
    weights = model_dir / "model.safetensors"
    # A task head may be new (a pretrained encoder fine-tuned) or resized (another task's labels), and
    # the masked-code heads (and the auxiliary base head) are not used by the encoder or a classifier;
    # every other weight must fit.
    # Other transformers models name their heads in their own ways (BERT's pooler comes with its
    # classification head): only their encoder's weights are checked.
    head = ("classifier.",) if is_vqdna(config) else ("classifier", "pooler", "score")
    missing = [k for k in info["missing_keys"] if not any(h in k for h in head)]
    if missing:
        raise CheckpointError(f"{weights}: encoder weights missing: {', '.join(sorted(missing)[:5])}")
    unexpected = (
        [k for k in info["unexpected_keys"] if not k.startswith(("heads.", "base_head."))] if is_vqdna(config) else []
    )
    if unexpected:
        raise CheckpointError(
            f"{weights}: weights that config.json has no place for (does it match the weights?): {', '.join(sorted(unexpected)[:5])}"
        )
    mismatched = [m[0] if isinstance(m, (tuple, list)) else m for m in info.get("mismatched_keys", [])]
    mismatched = [k for k in mismatched if not any(h in str(k) for h in head)]
    if mismatched:
        raise CheckpointError(
            f"{weights}: weights whose shape differs from config.json's: {', '.join(sorted(map(str, mismatched))[:5])}"
        )
    return model.eval()


def load_model_tokenizer(model_dir: str | Path, *, trust_remote_code: bool = False) -> GenomeTokenizer:
    """The tokenizer saved beside a model, refused if it is not the one the model was trained on
    (its fingerprint, recorded in the model's config.json, differs). For another transformers
    model, its own tokenizer through AutoTokenizer."""
    model_dir = resolve_model_dir(model_dir)
    config = load_config(model_dir, trust_remote_code=trust_remote_code)
    if not is_vqdna(config):
        return TransformersTokenizer._load(model_dir, trust_remote_code=trust_remote_code)
    if not (model_dir / "tokenizer").is_dir():
        raise CheckpointError(f"{model_dir}: no tokenizer/ folder beside the model")
    tokenizer = load_tokenizer(model_dir / "tokenizer")
    expected = getattr(config, "tokenizer_fingerprint", "")
    if expected and tokenizer.fingerprint() != expected:
        raise CheckpointError(
            f"{model_dir / 'tokenizer'}: not the tokenizer this model was trained on (fingerprint {tokenizer.fingerprint()[:12]}, "
            f"the model's config.json records {expected[:12]}); put the model's own tokenizer back"
        )
    return tokenizer


def save_model_folder(model: torch.nn.Module, tokenizer: GenomeTokenizer, folder: str | Path) -> None:
    """Write a model folder: config.json + model.safetensors, the tokenizer in vqdna's format
    (`tokenizer/`) and in transformers' (`tokenizer_config.json`), and the code that loads both
    with `trust_remote_code=True` where vqdna is not installed."""
    folder = Path(folder)
    model.save_pretrained(folder)
    if isinstance(tokenizer, TransformersTokenizer):  # another transformers model: its own tokenizer files
        tokenizer.save_pretrained(folder)
    else:
        VQDNATokenizer(tokenizer).save_pretrained(folder)
    usual_permissions(folder)


# models whose learned positions start after the padding id (RoBERTa's scheme): pad_token_id + 1 fewer
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "esm", "longformer")


def position_limit(config) -> int | None:
    """The most tokens a model's learned position table takes, or None where positions are
    relative (ALiBi, rotary: vqdna's own encoder, DNABERT-2, Nucleotide Transformer v2)."""
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None or getattr(config, "position_embedding_type", "absolute") not in ("absolute", None):
        return None
    if getattr(config, "model_type", "") in _OFFSET_POSITIONS:
        limit -= (getattr(config, "pad_token_id", None) or 0) + 1
    return limit


def weights_files(model_dir: Path) -> list[Path]:
    """A model folder's safetensors weights: model.safetensors, or the shards its index names."""
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(read_json(index, what="weights index").get("weight_map", {}).values()))
        return [model_dir / name for name in shards]
    return [model_dir / "model.safetensors"]


def batches(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


@torch.no_grad()
def encode_hidden(
    model: torch.nn.Module,
    tokenizer: GenomeTokenizer,
    sequences: Sequence[str],
    batch_size: int = 64,
    where=nth_sequence,
):
    """Yields (slice, pooled embeddings, classifier logits or None) batch by batch: the mean of
    the last layer over real tokens, and the logits of the model's own head. `where(i)` names
    sequence i in an error (a streaming caller's batch is not the whole file)."""
    device = next(model.parameters()).device
    for sl in batches(len(sequences), batch_size):
        batch = tokenizer(list(sequences[sl]))
        ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        limit = position_limit(model.config)
        if limit is not None and ids.shape[1] > limit:
            longest = sl.start + int(mask.sum(1).argmax())
            raise UserError(
                f"{where(longest)}: {int(mask.sum(1).max())} tokens, more than the {limit} positions this model "
                "has; cut it into windows with --window-bp"
            )
        if isinstance(model, VQDNAForSequenceClassification):
            encoded, head_mask = model.encode(ids, mask)
            hidden = encoded.last_hidden_state
            logits = model.head(hidden, head_mask)  # pooled as in training
            hidden = hidden[:, model.prefix_tokens :]  # the sequence's own tokens
        elif isinstance(model, VQDNAModel):
            hidden, logits = model(ids, mask).last_hidden_state, None
        else:  # another transformers model: its last hidden layer and its own head
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, return_dict=True)
            if isinstance(out, tuple):  # remote code that returns plain tuples (DNABERT-2: hidden states first)
                hidden, logits = out[0], None
            else:
                hidden = out.hidden_states[-1] if out.get("hidden_states") else out.last_hidden_state
                logits = out.get("logits")
        pooled = mean_pool(hidden, mask)
        yield sl, pooled.float().cpu(), (None if logits is None else logits.float().cpu())


class LoadedModel:
    """A model folder loaded once (the model and its own tokenizer), to embed sequences or predict
    their labels batch by batch: a caller streaming a large input keeps one batch in memory."""

    def __init__(self, model_dir: str | Path, *, max_length_bp: int | None = None, trust_remote_code: bool = False):
        self.model_dir = resolve_model_dir(model_dir)
        self.model = load_model(self.model_dir, trust_remote_code=trust_remote_code)
        self.tokenizer = load_model_tokenizer(self.model_dir, trust_remote_code=trust_remote_code)
        self.is_classifier = type(self.model).__name__.endswith("ForSequenceClassification")
        self.max_length_bp = max_length_bp or getattr(self.model.config, "max_length_bp", None) or 100_000

    def check_lengths(self, sequences: Sequence[str], where=nth_sequence) -> None:
        """A sequence longer than the model takes is an error naming it (`where(i)`), never truncated."""
        check_lengths(
            sequences,
            self.max_length_bp,
            where,
            limit="this model takes",
            advice="cut it into windows with --window-bp",
        )

    def embed(self, sequences: Sequence[str], *, batch_size: int = 64, where=nth_sequence) -> np.ndarray:
        """Mean-pooled last-layer embeddings, (len(sequences), hidden_size) float32."""
        self.check_lengths(sequences, where)
        out = np.zeros((len(sequences), self.model.config.hidden_size), dtype=np.float32)
        for sl, pooled, _ in encode_hidden(self.model, self.tokenizer, sequences, batch_size, where):
            out[sl] = pooled.numpy()
        return out

    def predict(self, sequences: Sequence[str], *, batch_size: int = 64, where=nth_sequence) -> "Predictions":
        """Predicted label and class probabilities (or the regression value) of each sequence."""
        if not self.is_classifier:
            raise CheckpointError(
                f"{self.model_dir}: a pretrained encoder without a task head; fine-tune it first (vqdna finetune)"
            )
        self.check_lengths(sequences, where)
        config = self.model.config
        logits = torch.zeros(len(sequences), config.num_labels)
        for sl, _, lg in encode_hidden(self.model, self.tokenizer, sequences, batch_size, where):
            logits[sl] = lg
        if config.problem_type == "regression":
            return Predictions([], logits[:, 0].tolist(), None)
        names = [config.id2label[i] for i in range(config.num_labels)]
        probs = logits.softmax(-1).numpy()
        return Predictions(names, [names[i] for i in probs.argmax(-1)], probs)


def embed(
    model_dir: str | Path,
    sequences: Sequence[str],
    *,
    batch_size: int = 64,
    max_length_bp: int = 100_000,
    trust_remote_code: bool = False,
) -> np.ndarray:
    """Mean-pooled last-layer embeddings, (len(sequences), hidden_size) float32. Sequences up to
    `max_length_bp`, not the length a classifier was fine-tuned on (which `predict` keeps): an
    embedding uses the encoder, not the head trained at that length (as `vqdna embed`)."""
    loaded = LoadedModel(model_dir, max_length_bp=max_length_bp, trust_remote_code=trust_remote_code)
    return loaded.embed(sequences, batch_size=batch_size)


@dataclass
class Predictions:
    label_names: list[str]  # classification: one per class; regression: empty
    predictions: list  # a label name per sequence, or a float for regression
    probabilities: np.ndarray | None  # (n, classes) for classification


def predict(
    model_dir: str | Path,
    sequences: Sequence[str],
    *,
    batch_size: int = 64,
    max_length_bp: int | None = None,
    trust_remote_code: bool = False,
) -> Predictions:
    """Predicted label and class probabilities (or the regression value) of each sequence."""
    loaded = LoadedModel(model_dir, max_length_bp=max_length_bp, trust_remote_code=trust_remote_code)
    if not loaded.is_classifier:  # before any sequence is checked
        raise CheckpointError(
            f"{model_dir}: a pretrained encoder without a task head; fine-tune it first (vqdna finetune)"
        )
    return loaded.predict(sequences, batch_size=batch_size)
