"""Multi-species genome corpora: fixed-length windows drawn with per-species weights.

A window is a pure function of (seed, index), so a dataset of windows is reproducible whatever
the number of data workers or processes, and a resumed run sees exactly the windows an
uninterrupted run would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vqdna.alphabet import SequenceError, n_fraction
from vqdna.errors import UserError
from vqdna.seqio import read_fasta, tile_spans


@dataclass
class Genome:
    """A species' sequences (as base-id arrays) and its sampling weight."""

    name: str
    records: list[np.ndarray]
    weight: float = 1.0
    sources: list[str] = field(default_factory=list)

    @classmethod
    def from_fasta(cls, paths: str | Path | list, name: str | None = None, weight: float = 1.0) -> "Genome":
        paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
        records = [r.ids for p in paths for r in read_fasta(p)]
        return cls(name or species_name(paths[0]), records, weight, [str(p) for p in paths])

    @property
    def num_bp(self) -> int:
        return int(sum(len(r) for r in self.records))

    def split(self, heldout_fraction: float) -> tuple["Genome", "Genome"]:
        """(train, held-out): the last `heldout_fraction` of the genome's bases, records taken in
        file order, is held out, so the two parts never share a base. Cutting the concatenation
        (not every record) keeps whole records held out when a corpus is many short reads."""
        if not 0.0 < heldout_fraction < 1.0:
            raise UserError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}")
        cut = int(round(self.num_bp * (1 - heldout_fraction)))
        train, held, start = [], [], 0
        for r in self.records:
            c = min(max(cut - start, 0), len(r))
            if c > 0:
                train.append(r[:c])
            if c < len(r):
                held.append(r[c:])
            start += len(r)
        return (
            Genome(self.name, train, self.weight, self.sources),
            Genome(self.name + " (held-out)", held, self.weight, self.sources),
        )

    def tile(self, window_bp: int) -> list[np.ndarray]:
        """Consecutive non-overlapping windows covering every base (the last of a record may be shorter)."""
        return [r[a:b] for r in self.records for a, b in tile_spans(len(r), window_bp)]


def species_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".fasta", ".fa", ".fna", ".fas"):
        name = name.removesuffix(suffix)
    return name


def check_usable(genome: Genome) -> None:
    """A genome without a single A, C, G or T (all N, or empty records) has nothing to learn from."""
    if not any(np.count_nonzero(r < 4) for r in genome.records):
        where = f" ({', '.join(genome.sources)})" if genome.sources else ""
        raise SequenceError(
            f"{genome.name}{where}: no A, C, G or T in its {genome.num_bp:,} bp (all N): nothing to learn from"
        )


class WindowSampler:
    """Draws windows of `window_bp` from several genomes: a genome by weight, then a start
    uniformly over all its valid start positions (so a record by its number of starts). Windows
    with more than `max_n_fraction` ambiguous bases are redrawn."""

    def __init__(self, genomes: list[Genome], window_bp: int, *, seed: int = 0, max_n_fraction: float = 0.1):
        if not genomes:
            raise UserError("no genomes to sample windows from")
        self.genomes, self.window_bp, self.seed, self.max_n_fraction = genomes, window_bp, seed, max_n_fraction
        # Per genome: the cumulative number of valid window starts over its records, so that a
        # start drawn uniformly over the whole genome finds its record by binary search (a corpus
        # of 100,000 short reads costs no more per window than one chromosome).
        self._cumulative_starts = []
        for g in genomes:
            check_usable(g)
            starts = np.array([max(len(r) - window_bp + 1, 0) for r in g.records], dtype=np.int64)
            if starts.sum() == 0:
                longest = max((len(r) for r in g.records), default=0)
                raise SequenceError(f"{g.name}: no record is as long as a {window_bp} bp window (longest {longest} bp)")
            self._cumulative_starts.append(np.cumsum(starts))
        weights = np.array([g.weight for g in genomes], dtype=np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise UserError(f"species weights must be non-negative and not all zero, got {weights.tolist()}")
        self.weights = weights / weights.sum()

    def window(self, index: int) -> np.ndarray:
        """The base ids of window number `index`."""
        rng = np.random.default_rng((self.seed, index))
        for _ in range(100):
            gi = int(rng.choice(len(self.genomes), p=self.weights))
            cumulative = self._cumulative_starts[gi]
            position = int(rng.integers(cumulative[-1]))  # uniform over every valid start of the genome
            ri = int(np.searchsorted(cumulative, position, side="right"))
            s = position - (int(cumulative[ri - 1]) if ri else 0)
            ids = self.genomes[gi].records[ri][s : s + self.window_bp]
            if n_fraction(ids) <= self.max_n_fraction:
                return ids
        raise SequenceError(
            f"100 windows in a row had more than {self.max_n_fraction:.0%} N; "
            f"check the genomes ({', '.join(g.name for g in self.genomes)}) or raise max_n_fraction"
        )
