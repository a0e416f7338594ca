"""Masking for masked code modeling: which tokens to hide, and the batch collator.

A learned code sees tens of bp around its position, so its unmasked neighbours already encode a
masked position and the model could copy the answer. By default every masked span is therefore at
least as long as the tokenizer's receptive field requires: no unmasked code's receptive field
reaches the centre of any masked span (`mask_span_tokens`). For k-mer and BPE the usual target:
overlapping k-mers are masked k at a time (every k-mer holding the centre base is hidden), the
rest token by token.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from vqdna.alphabet import N_ID
from vqdna.config import check_value
from vqdna.tokenizers import MASK_TOKEN_ID, GenomeTokenizer


def mask_span_tokens(tokenizer: GenomeTokenizer) -> int:
    """The shortest span length (in tokens) such that, for a span masked anywhere, the receptive
    fields of the unmasked tokens just outside it do not reach the span's centre base. (For k-mers
    this gives k when they overlap and 1 when not; for BPE, 1.)"""
    for length in range(1, 10_000):
        start = 1_000  # any position away from the edges: fields are translation-invariant
        centre = tokenizer.span_centre_bp(start, length)
        left, right = tokenizer.receptive_field(start - 1), tokenizer.receptive_field(start + length)
        # a half-integer centre falls between two bases: both must be hidden
        if left[1] < math.floor(centre) and right[0] > math.ceil(centre):
            return length
    raise AssertionError("unreachable: receptive fields are finite")


def span_mask(num_tokens: int, ratio: float, span: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask over `num_tokens` real tokens: round(ratio·n / span) non-overlapping spans of
    `span` tokens at random places (at least one span; a sequence shorter than a span is masked in
    one contiguous run of round(ratio·n) tokens, at least one)."""
    mask = np.zeros(num_tokens, dtype=bool)
    if num_tokens == 0 or ratio <= 0:
        return mask
    if num_tokens < span:
        k = max(1, int(round(ratio * num_tokens)))
        start = int(rng.integers(num_tokens - k + 1))
        mask[start : start + k] = True
        return mask
    spans = max(1, min(int(round(ratio * num_tokens / span)), num_tokens // span))
    free = num_tokens - spans * span
    # Random composition of the free tokens into spans + 1 gaps (stars and bars).
    cuts = np.sort(rng.choice(free + spans, size=spans, replace=False)) if free + spans > 0 else np.arange(spans)
    gaps = np.diff(np.concatenate([[-1], cuts])) - 1
    pos = 0
    for g in gaps:
        pos += int(g)
        mask[pos : pos + span] = True
        pos += span
    return mask


class MaskedCodeCollator:
    """Turns windows of base ids into a masked batch: tokenizes them, masks spans of real tokens
    (never padding), and sets labels to the hidden ids (−100 elsewhere). The mask of window i is a
    function of (seed, i), so a resumed run masks exactly as an uninterrupted one.

    `span_warmup_windows` > 0 is a curriculum for training: window i < span_warmup_windows gets
    spans of 1 + (span_tokens − 1)·i/span_warmup_windows tokens, so the model first learns to read
    its neighbours, then meets leak-free spans for the rest of the run. Evaluation never warms up.

    `base_labels=True` adds "base_labels": for each masked token, the base (0-3) at the centre of
    the bp it covers (its offsets), −100 elsewhere and where that base is N: the target of the
    model's auxiliary base head (`VQDNAConfig.base_loss_weight`)."""

    def __init__(
        self,
        tokenizer: GenomeTokenizer,
        mask_ratio: float = 0.25,
        span_tokens: int | None = None,
        seed: int = 0,
        span_warmup_windows: int = 0,
        base_labels: bool = False,
    ):
        check_value("mask_ratio", mask_ratio, "float", "(0,1)")  # the rule PretrainConfig applies
        # Not called `tokenizer`: the Trainer saves a collator's `tokenizer` into every checkpoint
        # folder, where it would overwrite the model's own files.
        self.genome_tokenizer, self.mask_ratio, self.seed = tokenizer, mask_ratio, seed
        self.span_tokens = span_tokens if span_tokens is not None else mask_span_tokens(tokenizer)
        self.span_warmup_windows = span_warmup_windows
        self.base_labels = base_labels

    def span_for(self, index: int) -> int:
        if index < self.span_warmup_windows:
            return 1 + (self.span_tokens - 1) * index // self.span_warmup_windows
        return self.span_tokens

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        encodings = self.genome_tokenizer.encode_base_ids([np.asarray(f["bp_ids"], dtype=np.uint8) for f in features])
        batch = self.genome_tokenizer.pad([e.ids for e in encodings])
        input_ids = batch["input_ids"]
        labels = torch.full_like(input_ids, -100)
        base_labels = torch.full(input_ids.shape[:2], -100, dtype=torch.long)
        for i, (f, e) in enumerate(zip(features, encodings)):
            rng = np.random.default_rng((self.seed, int(f["index"]), 7))
            m = torch.from_numpy(span_mask(len(e), self.mask_ratio, self.span_for(int(f["index"])), rng))
            labels[i, : len(e)][m] = input_ids[i, : len(e)][m]
            input_ids[i, : len(e)][m] = MASK_TOKEN_ID
            if self.base_labels:
                bases = np.asarray(f["bp_ids"], dtype=np.int64)
                for j in np.flatnonzero(m.numpy()):
                    start, end = e.offsets[j]
                    base = (
                        bases[(start + end - 1) // 2] if end > start else N_ID
                    )  # a token of no bp: nothing to predict
                    base_labels[i, j] = base if base < N_ID else -100
        out = {"input_ids": input_ids, "attention_mask": batch["attention_mask"], "labels": labels}
        if self.base_labels:
            out["base_labels"] = base_labels
        return out
