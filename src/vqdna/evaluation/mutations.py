"""Codes under mutation (the paper's SARS-CoV-2 case study, as a tool): align two sequences,
encode both, and find where their codes differ around each mutation, level by level.

Two sequences "of equal coordinates" are either an alignment (same length, '-' for gaps, as
nextstrain's clade references are) or two plain sequences, aligned here with difflib (fine for
genomes as close as two strains of a virus). Each aligned column where both sequences have a base
is compared: the code covering that base in A against the code covering it in B. A mutation
changes the codes of every token whose receptive field reaches it, so the changed codes show how
far a mutation's effect spreads at each level (coarse vs fine for HRQ).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vqdna.alphabet import N_ID, SequenceError, to_text
from vqdna.errors import UserError
from vqdna.seqio import FastaRecord, read_fasta
from vqdna.tokenizers import GenomeTokenizer


@dataclass
class Mutation:
    kind: str  # "substitution", "insertion" (in B), "deletion" (from B), "ambiguous" (an N on either side)
    start: int  # 0-based position in A where it starts (an insertion: the base of A it follows + 1)
    ref: str  # bases of A
    alt: str  # bases of B
    changed_codes: list[int] | None = None  # per level: differing codes within ±flank bp
    extent_bp: list[int] | None = None  # per level: span of the run of differing codes that reaches the mutation


@dataclass
class Alignment:
    """Column-wise: for every column, the position in A and in B (−1 for a gap)."""

    pos_a: np.ndarray
    pos_b: np.ndarray


def align(a: FastaRecord, b: FastaRecord) -> Alignment:
    """Use the records' own alignment when both have one of equal length, else align with difflib."""
    if a.gaps is not None and b.gaps is not None and len(a.gaps) == len(b.gaps):
        return Alignment(_positions(a.gaps), _positions(b.gaps))
    ta, tb = to_text(a.ids), to_text(b.ids)
    pa, pb = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op in ("equal", "replace") and i2 - i1 == j2 - j1:
            pa += range(i1, i2)
            pb += range(j1, j2)
        else:  # unequal replace, insert, delete: gaps on the shorter side
            pa += list(range(i1, i2)) + [-1] * (j2 - j1)
            pb += [-1] * (i2 - i1) + list(range(j1, j2))
    return Alignment(np.array(pa, dtype=np.int64), np.array(pb, dtype=np.int64))


def _positions(gaps: np.ndarray) -> np.ndarray:
    pos = np.cumsum(~gaps) - 1
    pos[gaps] = -1
    return pos


def find_mutations(a: np.ndarray, b: np.ndarray, al: Alignment) -> list[Mutation]:
    """Runs of differing columns: substitutions, insertions, deletions (and N-involving ones as ambiguous)."""
    both = (al.pos_a >= 0) & (al.pos_b >= 0)
    base_a = np.where(al.pos_a >= 0, a[np.maximum(al.pos_a, 0)], 255)
    base_b = np.where(al.pos_b >= 0, b[np.maximum(al.pos_b, 0)], 255)
    differs = ~both | (base_a != base_b)
    out = []
    col = 0
    n = len(differs)
    while col < n:
        if not differs[col]:
            col += 1
            continue
        end = col
        while end < n and differs[end]:
            end += 1
        ref = "".join("ACGTN"[x] for x in base_a[col:end] if x != 255)
        alt = "".join("ACGTN"[x] for x in base_b[col:end] if x != 255)
        before = al.pos_a[:col][al.pos_a[:col] >= 0]
        start = int(al.pos_a[col]) if al.pos_a[col] >= 0 else (int(before[-1]) + 1 if len(before) else 0)
        if "N" in ref or "N" in alt:
            kind = "ambiguous"
        elif not alt:
            kind = "deletion"
        elif not ref:
            kind = "insertion"
        else:
            kind = "substitution"
        out.append(Mutation(kind, start, ref, alt))
        col = end
    return out


def _codes_per_base(tokenizer: GenomeTokenizer, ids: np.ndarray) -> np.ndarray:
    """(bases, levels): the code id covering each base."""
    enc = tokenizer.encode_base_ids([ids])[0]
    codes = enc.ids
    per_base = np.full((len(ids), codes.shape[1]), -1, dtype=np.int64)
    for t, (s, e) in enumerate(enc.offsets):
        per_base[s:e] = codes[t]
    return per_base


def diff_codes(tokenizer: GenomeTokenizer, a: FastaRecord, b: FastaRecord, *, flank: int = 50) -> dict[str, Any]:
    """Compare the codes of two aligned sequences; returns per-level summaries, the mutations with
    their code changes, and the per-column difference tracks (for plotting)."""
    if not tokenizer.learned:
        raise UserError(f"vqdna diff compares learned codes: needs a VQ or HRQ tokenizer, not {tokenizer.kind}")
    al = align(a, b)
    ca, cb = _codes_per_base(tokenizer, a.ids), _codes_per_base(tokenizer, b.ids)
    both = (al.pos_a >= 0) & (al.pos_b >= 0)
    cols = np.where(both)[0]
    pa, pb = al.pos_a[cols], al.pos_b[cols]
    valid = (a.ids[pa] != N_ID) & (b.ids[pb] != N_ID)
    levels = ca.shape[1]
    # differ[level, k]: the codes of aligned column cols[k] differ; position in A is pa[k]
    differ = np.stack([(ca[pa, n] != cb[pb, n]) & valid for n in range(levels)])
    mutations = find_mutations(a.ids, b.ids, al)
    for m in mutations:
        near = (pa >= m.start - flank) & (pa <= m.start + max(len(m.ref), 1) - 1 + flank)
        m.changed_codes = [int(differ[n][near].sum()) for n in range(levels)]
        m.extent_bp = [_extent(differ[n], pa, m.start, len(m.ref)) for n in range(levels)]
    real = [m for m in mutations if m.kind != "ambiguous"]
    summary = {
        "levels": levels,
        "aligned_bp": int(valid.sum()),
        "mutations": {
            k: sum(m.kind == k for m in mutations) for k in ("substitution", "insertion", "deletion", "ambiguous")
        },
        "differing_codes": [int(differ[n].sum()) for n in range(levels)],
        "differing_fraction": [float(differ[n].sum() / max(int(valid.sum()), 1)) for n in range(levels)],
        "mean_extent_bp": [float(np.mean([m.extent_bp[n] for m in real])) if real else 0.0 for n in range(levels)],
        "flank_bp": flank,
        "receptive_field_bp": [tokenizer.config.receptive_field_bp(n) for n in range(levels)],
    }
    return {
        "summary": summary,
        "mutations": [asdict(m) for m in mutations],
        "track_position": pa,
        "track": differ,
        "names": [a.name, b.name],
        "lengths": [len(a), len(b)],
    }


def _extent(differ: np.ndarray, pa: np.ndarray, start: int, length: int) -> int:
    """bp spanned by the contiguous run of differing columns touching [start, start+length]."""
    k = int(np.searchsorted(pa, start))
    lo = hi = None
    for j in range(max(k - 1, 0), min(k + length + 2, len(pa))):  # columns at or next to the mutation
        if differ[j]:
            lo = hi = j
            break
    if lo is None:
        return 0
    while lo > 0 and differ[lo - 1] and pa[lo - 1] >= pa[lo] - 2:  # a deletion leaves a 1-column hole
        lo -= 1
    while hi + 1 < len(pa) and differ[hi + 1] and pa[hi + 1] <= pa[hi] + 2:
        hi += 1
    return int(pa[hi] - pa[lo] + 1)


def load_pair(paths: list[str | Path]) -> tuple[FastaRecord, FastaRecord]:
    """Two sequences: the only record of each of two files, or the two records of one file. More
    records are an error (which two would be compared is not for vqdna to guess), and so is a
    record of gaps only."""
    if len(paths) == 2:
        pair = []
        for path in paths:
            records = read_fasta(path, gaps=True)
            if len(records) != 1:
                raise SequenceError(f"{path}: {len(records)} records; with two files, each holds one sequence")
            pair.append(records[0])
    elif len(paths) == 1:
        pair = read_fasta(paths[0], gaps=True)
        if len(pair) != 2:
            raise SequenceError(
                f"{paths[0]}: {len(pair)} record(s); give one file with exactly two records, or two files"
            )
    else:
        raise SequenceError(f"--fasta: give one file with two records or two files, got {len(paths)} files")
    for path, record in zip(paths * 2 if len(paths) == 1 else paths, pair):
        if len(record.ids) == 0:
            raise SequenceError(f"{path}: record '{record.name}': only alignment gaps, no bases to compare")
    return pair[0], pair[1]


def plot_code_diff(path, result: dict[str, Any], *, title: str, zoom_bp: int = 150) -> None:
    """Top row: where codes differ along the genome, one track per level, mutations marked; bottom
    row: a zoom on the first substitution (codes as ticks, the mutated base as a line)."""
    from vqdna.plots import code_diff_plot

    levels = result["summary"]["levels"]
    names = (
        ["codes"]
        if levels == 1
        else ["coarse codes" if n == 0 else "fine codes" if n == levels - 1 else f"level {n}" for n in range(levels)]
    )
    marks = [m["start"] for m in result["mutations"] if m["kind"] != "ambiguous"]
    focus = next((m["start"] for m in result["mutations"] if m["kind"] == "substitution"), marks[0] if marks else None)
    code_diff_plot(path, result["track_position"], result["track"], names, marks, focus, zoom_bp=zoom_bp, title=title)
