"""Tokenizer quality on genome windows: reconstruction accuracy, code usage and perplexity (per
level for HRQ), tokens per bp and encoding speed, measured the same way for every kind."""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import torch

from vqdna.alphabet import N_ID, to_text
from vqdna.corpus import Genome
from vqdna.tokenizers import NUM_SPECIAL, GenomeTokenizer, VQTokenizer


def _usage_and_perplexity(counts: np.ndarray) -> tuple[float, float]:
    total = counts.sum()
    if total == 0:
        return 0.0, float("nan")
    p = counts[counts > 0] / total
    return float(np.count_nonzero(counts)) / len(counts), float(np.exp(-(p * np.log(p)).sum()))


def _informative(window: np.ndarray, offsets: list[tuple[int, int]]) -> np.ndarray:
    """Per token: does its span hold at least one A/C/G/T (and not only N)?"""
    known = np.concatenate([[0], np.cumsum(window < 4)])
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2).clip(0, len(window))
    return known[spans[:, 1]] > known[spans[:, 0]]


def evaluate_tokenizer(
    tokenizer: GenomeTokenizer, genomes: Sequence[Genome], *, window_bp: int = 1024
) -> dict[str, Any]:
    """Tile every genome into consecutive windows of `window_bp` and score the tokenizer on all of them.

    Code usage and perplexity count only tokens that hold at least one A/C/G/T: runs of N
    (assembly gaps: half of pyrodigal's E. coli contig) would otherwise pile onto one code."""
    windows = [w for g in genomes for w in g.tile(window_bp)]
    texts = [to_text(w) for w in windows]
    total_bp = sum(len(w) for w in windows)
    levels = tokenizer.num_levels

    start = time.perf_counter()
    encodings = tokenizer.encode_batch(texts)
    seconds = time.perf_counter() - start
    num_tokens = sum(len(e) for e in encodings)

    sizes = tokenizer.level_sizes
    counts = [np.zeros(k, dtype=np.int64) for k in sizes]
    correct = known = 0
    for i in range(0, len(encodings), 64):  # decoded 64 windows at a time (a learned decoder runs batched)
        batch, batch_windows = encodings[i : i + 64], windows[i : i + 64]
        for e, w in zip(batch, batch_windows):
            codes = e.ids[_informative(w, e.offsets)] - NUM_SPECIAL
            for n in range(levels):
                level = codes[:, n]
                counts[n] += np.bincount(level[level >= 0], minlength=sizes[n])  # k-mer [UNK] is no code
        for text, w in zip(tokenizer.decode_batch([e.ids for e in batch]), batch_windows):
            got = np.frombuffer(text[: len(w)].encode(), dtype=np.uint8)
            want = np.frombuffer(to_text(w).encode(), dtype=np.uint8)
            mask = w < 4
            n = len(got)
            correct += int(np.count_nonzero((got == want[:n]) & mask[:n]))
            known += int(np.count_nonzero(mask))
    reconstruction = correct / max(known, 1)

    usage, perplexity = zip(*(_usage_and_perplexity(c) for c in counts))
    one = levels == 1
    return {
        "kind": tokenizer.kind,
        "species": [g.name for g in genomes],
        "bp": total_bp,
        "n_fraction": float(sum(int(np.count_nonzero(w == N_ID)) for w in windows)) / max(total_bp, 1),
        "windows": len(windows),
        "window_bp": window_bp,
        "reconstruction_accuracy": reconstruction,
        "lossless": tokenizer.lossless,
        "codebook_size": sizes[0] if one else list(sizes),
        "code_usage": usage[0] if one else list(usage),
        "perplexity": perplexity[0] if one else list(perplexity),
        "tokens_per_bp": num_tokens / max(total_bp, 1),
        "bp_per_second": total_bp / max(seconds, 1e-9),
        "device": str(tokenizer.device),
        "torch_threads": torch.get_num_threads(),
        "code_counts": [c.tolist() for c in counts],
    }


# Fewer effective codes than this (the perplexity of the code distribution) at every level means
# that every position gets nearly the same token: the codes say nothing about the sequence.
# Calibrated on 200 kbp of C. diphtheriae with a 32-word codebook: a healthy run shows a
# perplexity of 13 to 30 from its first step on (HRQ levels alike), a collapsed or diverged one 1.0.
COLLAPSED_PERPLEXITY = 1.5


def learning_check(tokenizer: VQTokenizer, windows: Sequence[np.ndarray]) -> dict[str, Any]:
    """What a trained VQ/HRQ tokenizer makes of `windows` of its training genomes: reconstruction
    beside the share of the most common base (what a decoder that ignores the codes gets), and
    the perplexity of each level's codes. `collapsed` is True when no level tells positions apart."""
    stats = evaluate_tokenizer(tokenizer, [Genome("check", list(windows))], window_bp=max(len(w) for w in windows))
    known = np.concatenate([w[w < 4] for w in windows])
    majority = float(np.bincount(known, minlength=4).max() / max(len(known), 1))
    perplexity = [float(p) for p in np.atleast_1d(stats["perplexity"])]
    return {
        "windows": len(windows),
        "bp": stats["bp"],
        "reconstruction_accuracy": stats["reconstruction_accuracy"],
        "most_common_base_fraction": majority,
        "perplexity": perplexity,
        "code_usage": [float(u) for u in np.atleast_1d(stats["code_usage"])],
        "collapsed": all(not p >= COLLAPSED_PERPLEXITY for p in perplexity),  # nan (no codes) counts as collapsed
    }
