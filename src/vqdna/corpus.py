"""Multi-species genome corpora: fixed-length windows drawn with per-species weights.

A window is a pure function of (seed, index), so a dataset of windows is reproducible whatever
the number of data workers or processes, and a resumed run sees exactly the windows an
uninterrupted run would have seen.

Genomes come from FASTA files (read into memory) or from a prepared corpus (`prepare_corpus`):
one file of base ids on disk, whose records are `FileRecord`s that read a window when asked
(`os.pread`). Windows then come from the page cache, which every process of a multi-process run
shares, so memory per process stays flat however large the corpus; the same genomes give the
same windows either way. (A memory map would do the same, but its pages count as the process's
resident memory, and the kernel maps 64 kB around every window it touches: drawing 100,000
windows of a 2 Gbp corpus left 2 GB resident.)
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from vqdna.alphabet import SequenceError, n_fraction
from vqdna.errors import UserError
from vqdna.seqio import FastaHeader, check_distinct_files, read_fasta, stream_fasta, tile_spans
from vqdna.storage import (
    RUN_MARKER,
    CheckpointError,
    atomic_path,
    claim_folder,
    file_identity,
    finish_folder,
    package_versions,
    read_json,
    write_json,
)


@dataclass
class Genome:
    """A species' sequences (as base-id arrays) and its sampling weight. `identity` is how a run
    records where it came from (default: its FASTA files; a prepared corpus: its checksum).
    `heldout` is a prepared corpus's recorded held-out region: (fraction, first held-out bp)."""

    name: str
    records: list[np.ndarray]
    weight: float = 1.0
    sources: list[str] = field(default_factory=list)
    identity: dict[str, Any] | None = None
    heldout: tuple[float, int] | None = None

    @classmethod
    def from_fasta(cls, paths: str | Path | list, name: str | None = None, weight: float = 1.0) -> "Genome":
        paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
        records = [r.ids for p in paths for r in read_fasta(p)]
        return cls(name or species_name(paths[0]), records, weight, [str(p) for p in paths])

    @property
    def num_bp(self) -> int:
        return int(sum(len(r) for r in self.records))

    def split(self, heldout_fraction: float | None = None) -> tuple["Genome", "Genome"]:
        """(train, held-out): the last `heldout_fraction` of the genome's bases, records taken in
        file order, is held out, so the two parts never share a base. Cutting the concatenation
        (not every record) keeps whole records held out when a corpus is many short reads.
        A prepared corpus's genome is cut where its index says (None: whatever fraction that is);
        another fraction is refused rather than letting evaluation sample bases it trained on."""
        if self.heldout is not None:
            recorded, cut = self.heldout
            if heldout_fraction is not None and heldout_fraction != recorded:
                raise UserError(
                    f"{self.name}: its prepared corpus holds out the last {recorded:g} of its bases, not "
                    f"{heldout_fraction:g} (heldout_fraction); use {recorded:g}, or prepare the corpus again "
                    f"with --heldout-fraction {heldout_fraction:g}"
                )
            return self._cut(cut)
        if heldout_fraction is None:
            raise UserError(f"{self.name}: no held-out region recorded; give heldout_fraction")
        return self._cut(heldout_cut(self.num_bp, heldout_fraction))

    def _cut(self, cut: int) -> tuple["Genome", "Genome"]:
        train, held, start = [], [], 0
        for r in self.records:
            c = min(max(cut - start, 0), len(r))
            if c > 0:
                train.append(r[:c])
            if c < len(r):
                held.append(r[c:])
            start += len(r)
        return (
            Genome(self.name, train, self.weight, self.sources, self.identity),
            Genome(self.name + " (held-out)", held, self.weight, self.sources, self.identity),
        )

    def tile(self, window_bp: int) -> Iterator[np.ndarray]:
        """Consecutive non-overlapping windows covering every base (the last of a record may be
        shorter), read one at a time: a caller that stops early reads no more of a corpus."""
        return (np.asarray(r[a:b]) for r in self.records for a, b in tile_spans(len(r), window_bp))


class FileRecord:
    """A record of a prepared corpus: `length` base ids at byte `offset` of `path`, read only when
    a slice of it is turned into an array (`np.asarray`). Slicing gives another FileRecord, so
    splitting a genome or cutting a window reads nothing but the window."""

    def __init__(self, path: Path, offset: int, length: int):
        self.path, self.offset, self.length = path, offset, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: slice) -> "FileRecord":
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a FileRecord is sliced with [start:stop]; np.asarray(record) reads it")
        start, stop, _ = key.indices(self.length)
        return FileRecord(self.path, self.offset + start, max(stop - start, 0))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = os.pread(_descriptor(self.path), self.length, self.offset)
        if len(data) != self.length:
            raise CheckpointError(f"{self.path}: ends before byte {self.offset + self.length:,} (truncated?)")
        ids = np.frombuffer(data, dtype=np.uint8)
        return ids.astype(dtype) if dtype is not None else ids.copy() if copy else ids


# One read-only descriptor per corpus file and process (a forked worker opens its own), shared by
# every record and window of the file: a window costs one pread, not an open and a close as well.
_DESCRIPTORS: dict[tuple[int, Path], int] = {}


def _descriptor(path: Path) -> int:
    key = (os.getpid(), path)
    if key not in _DESCRIPTORS:
        _DESCRIPTORS[key] = os.open(path, os.O_RDONLY)
    return _DESCRIPTORS[key]


def check_weights(weights: Sequence[float], count: int, of: str) -> list[float]:
    """Sampling weights, one per species: as many as `count` `of`, non-negative, not all zero."""
    weights = list(weights)
    if len(weights) != count:
        raise UserError(f"{len(weights)} species weights for {count} {of}")
    if any(not (w >= 0) for w in weights) or not any(weights):
        raise UserError(f"species weights must be non-negative and not all zero, got {weights}")
    return weights


def heldout_cut(num_bp: int, heldout_fraction: float) -> int:
    """The first held-out base of a genome of `num_bp` bases (`Genome.split`'s rule)."""
    if not 0.0 < heldout_fraction < 1.0:
        raise UserError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}")
    return int(round(num_bp * (1 - heldout_fraction)))


def species_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".fasta", ".fa", ".fna", ".fas"):
        name = name.removesuffix(suffix)
    return name


def check_usable(genome: Genome) -> None:
    """A genome without a single A, C, G or T (all N, or empty records) has nothing to learn from.
    The search stops at the first such base, so a prepared corpus is not read whole."""
    if not any((np.asarray(r[i : i + (1 << 20)]) < 4).any() for r in genome.records for i in range(0, len(r), 1 << 20)):
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
        weights = np.array(check_weights([g.weight for g in genomes], len(genomes), "genomes"), dtype=np.float64)
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
            ids = np.asarray(self.genomes[gi].records[ri][s : s + self.window_bp])
            if n_fraction(ids) <= self.max_n_fraction:
                return ids
        raise SequenceError(
            f"100 windows in a row had more than {100 * self.max_n_fraction:g}% N; "
            f"check the genomes ({', '.join(g.name for g in self.genomes)}) or raise max_n_fraction"
        )


# ---------------------------------------------------------------- prepared corpora on disk

CORPUS_FORMAT = 1
BASES_FILE, INDEX_FILE = "bases.u8", "index.json"
CHECK_BLOCK = 1 << 28  # bases per sha256 block of bases.u8


def prepare_corpus(
    fasta: Sequence[str | Path],
    output_dir: str | Path,
    *,
    weights: Sequence[float] | None = None,
    heldout_fraction: float = 0.05,
    quiet: bool = False,
    chunk_bytes: int = 1 << 24,
) -> dict[str, Any]:
    """One streaming pass over FASTA files (one species per file, plain or gzipped) into a corpus
    folder: `bases.u8` (every record's base ids, one byte each, back to back: windows are then
    read as they are, with nothing to decode; 2-bit packing would take a quarter of the
    disk but a decode per window), `index.json` (species, records, sha256 per block) and the run
    marker. Memory holds one chunk of a file. An interrupted run leaves an unfinished folder that
    `load_corpus` refuses and a rerun starts over. The index records each species' held-out
    region (its last `heldout_fraction`, cut as `Genome.split` cuts; pretraining's default
    fraction), which evaluation then samples and training never does."""
    output_dir = Path(output_dir)
    if not fasta:
        raise UserError("no FASTA files given")
    check_distinct_files(fasta)
    weights = check_weights(weights if weights is not None else [1.0] * len(fasta), len(fasta), "FASTA files")
    heldout_cut(1, heldout_fraction)  # checked before hours of packing
    inputs = {"fasta": [file_identity(f) for f in fasta], "weights": weights, "format": CORPUS_FORMAT}
    if heldout_fraction != 0.05:  # recorded only when not the default, so earlier corpora stay the same inputs
        inputs["heldout_fraction"] = heldout_fraction
    if claim_folder(output_dir, "prepare-corpus", inputs, resume=True) == "finished":
        if not quiet:
            print(f"{output_dir}: already holds this corpus (same files, same weights); nothing to do")
        return read_json(output_dir / INDEX_FILE, what="corpus index")
    species, total, started, shown = [], 0, time.time(), 0.0
    blocks: list[str] = []
    digest, in_block = hashlib.sha256(), 0
    with atomic_path(output_dir / BASES_FILE) as tmp, open(tmp, "wb") as out:
        for path, weight in zip(fasta, weights):
            records: list[dict[str, Any]] = []
            for piece in stream_fasta(path, chunk_bytes=chunk_bytes):
                if isinstance(piece, FastaHeader):
                    records.append({"name": piece.name, "offset": total, "length": 0, "acgt": 0})
                    continue
                out.write(piece.tobytes())
                records[-1]["length"] += len(piece)
                records[-1]["acgt"] += int(np.count_nonzero(piece < 4))
                total += len(piece)
                while len(piece):  # the checksum of each CHECK_BLOCK bases
                    take = min(CHECK_BLOCK - in_block, len(piece))
                    digest.update(piece[:take].tobytes())
                    piece, in_block = piece[take:], in_block + take
                    if in_block == CHECK_BLOCK:
                        blocks.append(digest.hexdigest())
                        digest, in_block = hashlib.sha256(), 0
                if not quiet and time.time() - shown > (0.5 if sys.stderr.isatty() else 10):
                    # one line rewritten in place on a terminal; a line every 10 s in a log
                    shown = time.time()
                    progress = (
                        f"  {Path(path).name}: {total / 1e6:,.0f} Mbp, {total / 1e6 / (shown - started):.0f} Mbp/s"
                    )
                    print(progress, end="\r" if sys.stderr.isatty() else "\n", file=sys.stderr, flush=True)
            acgt = sum(r["acgt"] for r in records)
            if not acgt:
                raise SequenceError(f"{path}: no A, C, G or T in its records (all N): nothing to learn from")
            bp = sum(r["length"] for r in records)
            cut = heldout_cut(bp, heldout_fraction)
            if cut >= bp:
                raise UserError(f"{path}: holding out {heldout_fraction:g} of its {bp:,} bp leaves no held-out base")
            first = next(n for n, r in enumerate(records) if r["offset"] + r["length"] > records[0]["offset"] + cut)
            species.append(
                {
                    "name": species_name(Path(path)),
                    "weight": weight,
                    "source": str(path),
                    "bp": bp,
                    "acgt": acgt,
                    # bases [start_bp, bp) of the species, from `offset` in record `record` on
                    "heldout": {
                        "fraction": heldout_fraction,
                        "start_bp": cut,
                        "record": first,
                        "offset": records[0]["offset"] + cut - records[first]["offset"],
                    },
                    "records": records,
                }
            )
    if in_block:
        blocks.append(digest.hexdigest())
    seconds = time.time() - started
    index = {
        "format": CORPUS_FORMAT,
        "bp": total,
        "check_block": CHECK_BLOCK,
        "sha256": blocks,
        "species": species,
        "prepared_seconds": round(seconds, 1),
        "versions": package_versions(),
    }
    write_json(output_dir / INDEX_FILE, index)
    finish_folder(output_dir)
    if not quiet:
        print(
            f"{output_dir}: {total:,} bp of {len(species)} species in {seconds:.1f} s ({total / 1e6 / max(seconds, 1e-9):.0f} Mbp/s)"
        )
    return index


def load_corpus(folder: str | Path, *, weights: Sequence[float] | None = None, verify: bool = True) -> list[Genome]:
    """The genomes of a prepared corpus, their records `FileRecord`s of `bases.u8`.
    A folder that is not a finished corpus, a truncated file or (`verify`) bases that do not
    match their checksums is refused by name. `weights` overrides the prepared species weights."""
    folder = Path(folder)
    marker = folder / RUN_MARKER
    if not folder.is_dir() or not marker.is_file():
        raise CheckpointError(f"{folder}: not a prepared corpus (make one with vqdna prepare-corpus)")
    run = read_json(marker, what="run marker")
    if not isinstance(run, dict) or run.get("command") != "prepare-corpus":
        raise CheckpointError(f"{folder}: not a prepared corpus (its {RUN_MARKER} is not prepare-corpus's)")
    if not run.get("finished"):
        raise CheckpointError(f"{folder}: an unfinished corpus (interrupted?); run vqdna prepare-corpus again")
    index = read_json(folder / INDEX_FILE, what="corpus index")
    bases = folder / BASES_FILE
    try:
        total, species, blocks = int(index["bp"]), index["species"], list(index["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / INDEX_FILE}: not a corpus index ({exc!r} missing or wrong)") from None
    size = bases.stat().st_size if bases.is_file() else None
    if size != total:
        raise CheckpointError(
            f"{bases}: {'missing' if size is None else f'{size:,} bytes'}, the index says {total:,} bases "
            "(truncated or replaced?); prepare the corpus again"
        )
    if verify:
        with open(bases, "rb") as fh:
            for n, expected in enumerate(blocks):
                digest, left = hashlib.sha256(), int(index["check_block"])
                while left and (chunk := fh.read(min(left, 1 << 24))):
                    digest.update(chunk)
                    left -= len(chunk)
                if digest.hexdigest() != expected:
                    raise CheckpointError(
                        f"{bases}: block {n} (bases {n * index['check_block']:,}...) does not match its checksum; "
                        "the file changed after it was prepared: prepare the corpus again"
                    )
    if weights is not None:
        check_weights(weights, len(species), f"species of {folder}")
    identity = {"corpus": str(folder.resolve()), "sha256": blocks}
    genomes = []
    for n, sp in enumerate(species):
        records = [FileRecord(bases, r["offset"], r["length"]) for r in sp["records"]]
        weight = weights[n] if weights is not None else sp["weight"]
        held = sp.get("heldout")  # corpora prepared before it was recorded: Genome.split's rule, as then
        genomes.append(
            Genome(
                sp["name"],
                records,
                weight,
                [sp["source"]],
                {**identity, "species": sp["name"]},
                (float(held["fraction"]), int(held["start_bp"])) if held else None,
            )
        )
    return genomes
