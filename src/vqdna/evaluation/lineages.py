"""Which level of a vocabulary tells lineages apart (the paper's SARS-CoV-2 case study, as a tool).

VQDNA reports that HRQ's coarse codebook separates virus lineages and its fine codebook
mutation-level differences. Here that claim is measured on any labelled genome collection:

* a genome's **code profile** at a level is how often it uses each code of that level (tokens
  whose span holds an N are left out, so sequencing gaps do not look like a lineage);
* per level, how well the profiles separate a label: the leave-one-out nearest-neighbour accuracy
  and macro F1 (does the closest other genome share the label?), the silhouette, and the ratio of
  mean within-label to between-label distance (lower: the label groups the genomes more);
* a coarse label (WHO variant) and, optionally, a finer one (Nextstrain clade) are scored the
  same way, so "coarse level: lineages, fine level: mutations" becomes two rows of numbers.

Profiles are compared by the Hellinger distance (Euclidean distance between square-rooted
frequencies), a metric made for comparing distributions that does not let the few most used codes
dominate as raw frequencies would. The figure projects the same square-rooted profiles on their
first two principal components; the paper shows a UMAP, which would need another dependency and
whose layout depends on its settings; a linear projection is plainer to read.
Any tokenizer has profiles (BPE words, k-mers), so the learned levels are compared with them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from vqdna.alphabet import N_ID, NUM_SPECIAL, SequenceError
from vqdna.evaluation.metrics import accuracy, f1_macro
from vqdna.seqio import FastaRecord
from vqdna.tokenizers import GenomeTokenizer


def code_profiles(tokenizer: GenomeTokenizer, records: Sequence[FastaRecord], *, progress=None) -> list[np.ndarray]:
    """Per level, a (genomes, codes) array of code frequencies (each row sums to 1). Raises a
    SequenceError naming a record that has no token free of N."""
    sizes = tokenizer.level_sizes
    profiles = [np.zeros((len(records), k), dtype=np.float64) for k in sizes]
    for g, record in enumerate(records):
        enc = tokenizer.encode_base_ids([record.ids])[0]
        codes = np.asarray(enc.ids, dtype=np.int64).reshape(len(enc.ids), -1)
        if not tokenizer.learned:  # token ids: the codes come after the special tokens
            codes = codes - NUM_SPECIAL
        n_before = np.concatenate([[0], np.cumsum(record.ids == N_ID)])  # Ns in [s, e) = n_before[e] - n_before[s]
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        clean = n_before[spans[:, 1]] == n_before[spans[:, 0]]
        for n, size in enumerate(sizes):
            level = codes[clean, n]
            level = level[(level >= 0) & (level < size)]
            if len(level) == 0:
                raise SequenceError(f"record {record.name!r}: no token without an N; it has no code profile")
            profiles[n][g] = np.bincount(level, minlength=size) / len(level)
        if progress is not None:
            progress(g + 1, len(records))
    return profiles


def hellinger_distances(profile: np.ndarray) -> np.ndarray:
    """(genomes, genomes) Hellinger distances between the rows of a profile (up to the usual 1/√2)."""
    root = np.sqrt(profile)
    squared = (root**2).sum(1)
    d2 = squared[:, None] + squared[None, :] - 2 * root @ root.T
    return np.sqrt(np.clip(d2, 0.0, None))


def separation(distances: np.ndarray, labels: Sequence[str], *, what: str = "label") -> dict[str, Any]:
    """How well a label (`what`, for messages) is separated under `distances` (genomes × genomes).
    Genomes whose label occurs once are left out (no other genome could share it) and counted."""
    labels = np.asarray(labels, dtype=object)
    counts = Counter(labels.tolist())
    keep = np.array([counts[x] >= 2 for x in labels])
    single = int((~keep).sum())
    d, y = distances[np.ix_(keep, keep)], labels[keep]
    classes = sorted(set(y.tolist()))
    if len(classes) < 2:
        raise SequenceError(
            f"{what}: fewer than two labels with at least two genomes each ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}); "
            "nothing to separate"
        )
    index = {c: i for i, c in enumerate(classes)}
    y_int = np.array([index[c] for c in y])
    d_loo = d.copy()
    np.fill_diagonal(d_loo, np.inf)
    nearest = y_int[np.argmin(d_loo, axis=1)]  # ties: the first genome in input order
    same = y_int[:, None] == y_int[None, :]
    off_diagonal = ~np.eye(len(y_int), dtype=bool)
    within, between = d[same & off_diagonal].mean(), d[~same].mean()
    return {
        "genomes": int(keep.sum()),
        "classes": len(classes),
        "left_out_single_genome_labels": single,
        "nearest_neighbour_accuracy": accuracy(y_int, nearest),
        "nearest_neighbour_f1_macro": f1_macro(y_int, nearest),
        "majority_accuracy": max(Counter(y_int.tolist()).values()) / len(y_int),
        "silhouette": _silhouette(d, y_int),
        "within_between_ratio": float(within / between) if between > 0 else float("nan"),
    }


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    # scikit-learn's, on our precomputed distances (it checks the diagonal is zero)
    from sklearn.metrics import silhouette_score

    d = distances.copy()
    np.fill_diagonal(d, 0.0)
    return float(silhouette_score(d, labels, metric="precomputed"))


def lineage_study(
    tokenizer: GenomeTokenizer,
    records: Sequence[FastaRecord],
    label_sets: dict[str, Sequence[str]],
    *,
    progress=None,
) -> dict[str, Any]:
    """Profiles of every level, and per level and per label set (e.g. {"who_variant": [...],
    "nextstrain_clade": [...]}, one label per record) the separation scores."""
    profiles = code_profiles(tokenizer, records, progress=progress)
    levels = []
    for n, profile in enumerate(profiles):
        distances = hellinger_distances(profile)
        levels.append(
            {
                "level": n,
                "codes": int(profile.shape[1]),
                "codes_used": int((profile.sum(0) > 0).sum()),
                "separation": {name: separation(distances, labels, what=name) for name, labels in label_sets.items()},
            }
        )
    return {"profiles": profiles, "levels": levels}
