"""Reading sequences: FASTA (plain or gzip, multi-record, any line width) and GUE-style CSV tasks.

Every problem is reported as a `SequenceError` naming the file, the record or line, and what is
wrong; nothing is skipped or truncated silently.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from vqdna.alphabet import SequenceError, to_ids, to_text
from vqdna.storage import file_sha256

TASK_SPLITS = ("train", "dev", "test")
CSV_HEADER = ["sequence", "label"]


@dataclass
class FastaRecord:
    name: str  # first word of the header
    description: str  # the whole header line after '>'
    ids: np.ndarray  # base ids, see vqdna.alphabet
    gaps: np.ndarray | None = None  # read with gaps=True: True at alignment columns that are '-' or '.'

    @property
    def sequence(self) -> str:
        return to_text(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class LabeledSequences:
    """One split of a task: parallel lists of sequences (canonical ACGTN text) and raw labels."""

    sequences: list[str]
    labels: list[str]
    path: str
    lines: list[int] = field(default_factory=list)  # the CSV line of each row, for error messages

    def where(self, i: int) -> str:
        return f"{self.path}: line {self.lines[i]}" if self.lines else f"{self.path}: row {i + 1}"

    def __len__(self) -> int:
        return len(self.sequences)


def open_text(path: Path, encoding: str = "ascii", newline: str | None = None):
    """A text file, plain or gzip-compressed (told by its first bytes, not its name)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, errors="replace", newline=newline)
    return open(path, encoding=encoding, errors="replace", newline=newline)


def read_fasta(path: str | Path, *, gaps: bool = False) -> list[FastaRecord]:
    """All records of a FASTA file (see `iter_fasta`)."""
    return list(iter_fasta(path, gaps=gaps))


def iter_fasta(path: str | Path, *, gaps: bool = False) -> Iterator[FastaRecord]:
    """The records of a FASTA file, one at a time (memory: the record being read). Raises
    SequenceError for a missing or empty file, text before the first header, an empty header, a
    record without sequence, or a bad character. With `gaps=True` (aligned FASTA) '-' and '.' are
    alignment gaps: `ids` holds the bases without them and `gaps` marks the gap columns."""
    path = Path(path)
    if not path.is_file():
        raise SequenceError(f"{path}: no such FASTA file")
    header: str | None = None
    header_line = 0
    chunks: list[str] = []
    count = 0

    def record() -> FastaRecord:
        name = header.split()[0]
        if not chunks:
            raise SequenceError(
                f"{path}: record '{name}' (line {header_line}): empty record, no sequence after the header"
            )
        text = "".join(chunks)
        gap_mask = None
        if gaps:
            raw = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)
            gap_mask = (raw == ord("-")) | (raw == ord("."))
            text = text.replace("-", "").replace(".", "")
        return FastaRecord(name, header, to_ids(text, source=str(path), record=name), gap_mask)

    try:
        with open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.strip()
                if not line:
                    continue
                if line.startswith(">"):
                    if header is not None:
                        yield record()
                        count += 1
                    header, header_line, chunks = line[1:].strip(), lineno, []
                    if not header:
                        raise SequenceError(f"{path}: line {lineno}: malformed header, '>' without a name")
                elif line.startswith(";"):
                    continue  # old-style FASTA comment
                elif header is None:
                    raise SequenceError(
                        f"{path}: line {lineno}: sequence text before the first '>' header; is this a FASTA file?"
                    )
                else:
                    chunks.append(line)
            if header is not None:
                yield record()
                count += 1
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SequenceError(f"{path}: cannot read: {exc}") from exc
    if not count:
        raise SequenceError(f"{path}: empty FASTA file, no records")


# label texts that stand for a missing value (pandas' and R's spellings, and non-finite numbers):
# refused rather than learned as a class or a target
MISSING_LABELS = frozenset({"nan", "-nan", "na", "n/a", "null", "inf", "-inf", "+inf", "infinity", "-infinity"})


def read_labeled_csv(path: str | Path, *, require_label: bool = True) -> LabeledSequences:
    """A `sequence,label` CSV (the GUE / DNABERT-2 format). With `require_label=False` a CSV
    of sequences only (header `sequence`) is accepted too, for prediction; its labels are ""."""
    sequences: list[str] = []
    labels: list[str] = []
    lines: list[int] = []
    for lineno, seq, label in iter_labeled_csv(path, require_label=require_label):
        sequences.append(seq)
        labels.append(label)
        lines.append(lineno)
    return LabeledSequences(sequences, labels, str(path), lines)


def iter_labeled_csv(path: str | Path, *, require_label: bool = True) -> Iterator[tuple[int, str, str]]:
    """(line number, sequence as canonical ACGTN text, label) of each row, one at a time."""
    path = Path(path)
    if not path.is_file():
        raise SequenceError(f"{path}: no such CSV file")
    expected = "'sequence,label'" if require_label else "'sequence,label' or 'sequence'"
    count = 0
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # the default 128 kB would refuse a long sequence
    # utf-8-sig: a byte-order mark (as spreadsheet programs write) is not part of the header
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise SequenceError(f"{path}: empty file, expected the header {expected}") from None
        except csv.Error as exc:
            raise SequenceError(f"{path}: line 1: {exc}") from None
        columns = [h.strip().lower() for h in header]
        if columns != CSV_HEADER and (require_label or columns != CSV_HEADER[:1]):
            raise SequenceError(f"{path}: line 1: header is {','.join(header)!r}, expected {expected}")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise SequenceError(f"{path}: line {reader.line_num}: {exc}") from None
            lineno = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(columns):
                raise SequenceError(
                    f"{path}: line {lineno}: {len(row)} columns, expected {len(columns)} ({','.join(columns)})"
                )
            seq, label = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
            if not seq:
                raise SequenceError(f"{path}: line {lineno}: empty sequence")
            if len(columns) > 1 and not label:
                raise SequenceError(f"{path}: line {lineno}: empty label")
            if len(columns) > 1 and not label.isprintable():
                raise SequenceError(f"{path}: line {lineno}: label {label!r} holds a control character")
            if len(columns) > 1 and label.lower() in MISSING_LABELS:
                raise SequenceError(
                    f"{path}: line {lineno}: label {label!r} marks a missing value; drop the row or give its label"
                )
            count += 1
            yield lineno, to_text(to_ids(seq, source=str(path), record=f"line {lineno}")), label
    if not count:
        raise SequenceError(f"{path}: no rows after the header")


def read_task(folder: str | Path) -> dict[str, LabeledSequences]:
    """A GUE-style task folder: train.csv, dev.csv and test.csv."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SequenceError(f"{folder}: no such task folder")
    missing = [s for s in TASK_SPLITS if not (folder / f"{s}.csv").is_file()]
    if missing:
        raise SequenceError(
            f"{folder}: task folder lacks {', '.join(m + '.csv' for m in missing)} (needs train.csv, dev.csv, test.csv)"
        )
    return {s: read_labeled_csv(folder / f"{s}.csv") for s in TASK_SPLITS}


def check_distinct_files(paths: Sequence[str | Path], option: str = "--fasta") -> None:
    """One species (or class) per file: the same file given twice, under one name or two (a copy,
    a link), would count it twice. Contents are compared only between files of equal size."""
    seen: dict[Path, str | Path] = {}
    by_size: dict[int, list[str | Path]] = {}
    for p in paths:
        key = Path(p).resolve()
        if key in seen:
            raise SequenceError(
                f"{option}: {p} is given twice{f' (also as {seen[key]})' if str(seen[key]) != str(p) else ''}; "
                "give each species or class one file"
            )
        seen[key] = p
        if key.is_file():
            by_size.setdefault(key.stat().st_size, []).append(p)
    for same_size in by_size.values():
        digests: dict[str, str | Path] = {}
        for p in same_size if len(same_size) > 1 else ():
            digest = file_sha256(p)
            if digest in digests:
                raise SequenceError(
                    f"{option}: {p} and {digests[digest]} hold the same bytes (one file under two names?); "
                    "give each species or class one file"
                )
            digests[digest] = p


def check_lengths(sequences: Sequence[str], max_bp: int, where=lambda i: f"sequence {i + 1}") -> None:
    """Longer sequences are an error, never truncated: say which one, and what to do."""
    for i, s in enumerate(sequences):
        if len(s) > max_bp:
            raise SequenceError(
                f"{where(i)}: sequence of {len(s):,} bp is longer than the {max_bp:,} bp allowed; "
                f"cut it into windows (e.g. --window-bp) or raise max_length_bp"
            )
