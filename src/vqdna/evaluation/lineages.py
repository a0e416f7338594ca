"""Which level of a vocabulary tells lineages apart (the paper's SARS-CoV-2 case study, as a tool).

VQDNA reports that HRQ's coarse codebook separates virus lineages and its fine codebook
mutation-level differences. Here that claim is measured on any labelled genome collection:

* a genome's **code profile** at a level is how often it uses each code of that level (a token
  is left out when an N lies in what it depends on, so sequencing gaps do not look like a lineage);
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
from vqdna.errors import UserError
from vqdna.evaluation.metrics import accuracy, f1_macro
from vqdna.seqio import FastaRecord
from vqdna.tokenizers import GenomeTokenizer


def code_profiles(tokenizer: GenomeTokenizer, records: Sequence[FastaRecord], *, progress=None) -> list[np.ndarray]:
    """Per level, a (genomes, codes) array of code frequencies (each row sums to 1).

    A token is counted only if no N lies within what it depends on: its own bases for BPE and
    k-mers, its receptive field for VQ/HRQ (an N run, such as an amplicon dropout, changes every
    code that sees it, and dropouts can differ by lineage). Special tokens are no codes. Raises a
    SequenceError naming a record that has no token left."""
    if tokenizer.kind == "transformers":
        raise UserError(
            "code-usage needs a vqdna tokenizer (VQ, HRQ, BPE or k-mer): a transformers tokenizer's special tokens and "
            "offsets do not tell which of its ids are codes"
        )
    sizes = tokenizer.level_sizes
    profiles = [np.zeros((len(records), k), dtype=np.float64) for k in sizes]
    for g, record in enumerate(records):
        enc = tokenizer.encode_base_ids([record.ids])[0]
        codes = np.asarray(enc.ids, dtype=np.int64).reshape(len(enc.ids), -1) - NUM_SPECIAL
        if tokenizer.learned:
            spans = np.array([tokenizer.receptive_field(t) for t in range(len(codes))], dtype=np.int64).reshape(-1, 2)
            spans[:, 1] += 1  # [first, last] -> [start, end)
        else:
            spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        spans = np.clip(spans, 0, len(record.ids))
        n_before = np.concatenate([[0], np.cumsum(record.ids == N_ID)])  # Ns in [s, e) = n_before[e] - n_before[s]
        clean = n_before[spans[:, 1]] == n_before[spans[:, 0]]
        for n, size in enumerate(sizes):
            level = codes[clean, n]
            level = level[level >= 0]  # special tokens ([UNK]) are no codes
            if len(level) and level.max() >= size:
                raise SequenceError(f"record {record.name!r}: code {level.max()} at level {n}, past its {size} codes")
            if len(level) == 0:
                raise SequenceError(f"record {record.name!r}: no token free of N; it has no code profile")
            profiles[n][g] = np.bincount(level, minlength=size) / len(level)
        if progress is not None:
            progress(g + 1, len(records))
    return profiles


def hellinger_distances(profile: np.ndarray) -> np.ndarray:
    """(genomes, genomes) Hellinger distances between the rows of a profile (up to the usual 1/√2);
    computed pair by pair (scipy), so identical profiles are exactly 0 apart."""
    from scipy.spatial.distance import cdist

    root = np.sqrt(profile)
    return cdist(root, root)


def check_label_set(labels: Sequence[str], *, what: str = "label") -> None:
    """Refuse a label set with fewer than two labels held by at least two genomes (nothing to
    separate), before any genome is encoded."""
    counts = Counter(labels)
    if sum(c >= 2 for c in counts.values()) < 2:
        shown = sorted(counts.items(), key=lambda kv: -kv[1])
        listed = ", ".join(f"{k}: {v}" for k, v in shown[:5]) + (
            f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        )
        raise SequenceError(
            f"{what}: fewer than two labels held by at least two genomes each ({listed}); nothing to separate"
        )


def separation(distances: np.ndarray, labels: Sequence[str], *, what: str = "label") -> dict[str, Any]:
    """How well a label (`what`, for messages) is separated under `distances` (genomes × genomes).
    Genomes whose label occurs once are not scored (no other genome could share it; they are
    counted) but stay candidates as nearest neighbours: a genome closest to one of them is wrong."""
    check_label_set(labels, what=what)
    labels = np.asarray(labels, dtype=object)
    counts = Counter(labels.tolist())
    keep = np.array([counts[x] >= 2 for x in labels])
    classes = sorted(set(labels.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    y_all = np.array([index[c] for c in labels])
    d_loo = distances.astype(np.float64, copy=True)
    np.fill_diagonal(d_loo, np.inf)
    nearest = y_all[np.argmin(d_loo, axis=1)][keep]  # ties: the first genome in input order
    y = y_all[keep]
    d = distances[np.ix_(keep, keep)]
    same = y[:, None] == y[None, :]
    off_diagonal = ~np.eye(len(y), dtype=bool)
    within, between = d[same & off_diagonal].mean(), d[~same].mean()
    return {
        "genomes": int(keep.sum()),
        "classes": len(set(y.tolist())),
        "left_out_single_genome_labels": int((~keep).sum()),
        "nearest_neighbour_accuracy": accuracy(y, nearest),
        # over the scored labels only: a single-genome label predicted is a miss, not an extra class
        "nearest_neighbour_f1_macro": f1_macro(y, nearest, labels=sorted(set(y.tolist()))),
        "majority_accuracy": max(Counter(y.tolist()).values()) / len(y),
        "silhouette": _silhouette(d, y),
        "within_between_ratio": float(within / between) if between > 0 else None,  # None: every profile alike
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
    for name, labels in label_sets.items():  # a label set that cannot be scored fails before minutes of encoding
        check_label_set(labels, what=name)
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
