"""Reading sequences: FASTA (plain or gzip, multi-record, any line width), GUE-style CSVs, and
task folders (`load_task`: the splits read, labels mapped to classes or regression targets).

Every problem is reported as a `SequenceError` naming the file, the record or line, and what is
wrong; nothing is skipped or truncated silently.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from vqdna.alphabet import SequenceError, to_ids, to_text
from vqdna.errors import UserError
from vqdna.storage import file_identity, file_sha256

TASK_SPLITS = ("train", "dev", "test")
TASK_FILES = tuple(f"{s}.csv" for s in TASK_SPLITS) + ("labels.json", "task.json")
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


@dataclass
class FastaHeader:
    """The start of a record in `stream_fasta`: its name (first word of the header) and line."""

    name: str
    line: int


def stream_fasta(path: str | Path, *, chunk_bytes: int = 1 << 24) -> Iterator[FastaHeader | np.ndarray]:
    """A FASTA file as a stream, for genome-scale files: a `FastaHeader` at each record's start,
    then its base ids in pieces of about `chunk_bytes` (uint8, as `to_ids`). Memory holds one
    chunk (or the longest line), never a whole record. The rules and messages are `iter_fasta`'s:
    a missing or empty file, text before the first header, an empty header, a record without
    sequence or a bad character is a SequenceError naming the file, line or record."""
    path = Path(path)
    if not path.is_file():
        raise SequenceError(f"{path}: no such FASTA file")
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    name: str | None = None
    header_line = record_bp = records = 0

    def header(text: bytes, line: int) -> FastaHeader:
        nonlocal name, header_line, record_bp, records
        if name is not None and record_bp == 0:
            raise SequenceError(
                f"{path}: record '{name}' (line {header_line}): empty record, no sequence after the header"
            )
        title = text.decode("ascii", errors="replace").strip()
        if not title:
            raise SequenceError(f"{path}: line {line}: malformed header, '>' without a name")
        name, header_line, record_bp = title.split()[0], line, 0
        records += 1
        return FastaHeader(name, line)

    def bases(joined: bytes, line: int) -> np.ndarray:
        nonlocal record_bp
        if name is None:
            raise SequenceError(
                f"{path}: line {line}: sequence text before the first '>' header; is this a FASTA file?"
            )
        ids = to_ids(joined, source=str(path), record=name, offset=record_bp)
        record_bp += len(ids)
        return ids

    def pieces(data: bytes, first_line: int) -> Iterator[FastaHeader | np.ndarray]:
        """The headers and sequence of `data`, whole lines whose first is line `first_line`."""
        pos, line, counted = 0, first_line, 0
        while pos < len(data):
            line += data.count(b"\n", counted, pos)
            counted = pos
            if data.startswith(b">", pos):
                eol = data.find(b"\n", pos)
                eol = len(data) if eol < 0 else eol
                yield header(data[pos + 1 : eol], line)
                pos = eol + 1
                continue
            following = data.find(b"\n>", pos)
            stop = len(data) if following < 0 else following + 1
            text = data[pos:stop]
            if b" " in text or b"\t" in text or b";" in text or b"\r" in text:
                # rare: line by line, exactly as iter_fasta reads (stripped lines, comments, indented headers)
                run: list[bytes] = []
                first = line
                for n, raw in enumerate(text.split(b"\n")):
                    stripped = raw.strip()
                    if stripped.startswith(b">"):
                        if run:
                            yield bases(b"".join(run), first)
                            run = []
                        yield header(stripped[1:], line + n)
                    elif stripped and not stripped.startswith(b";"):
                        if not run:
                            first = line + n
                        run.append(stripped)
                if run:
                    yield bases(b"".join(run), first)
            else:
                joined = text.replace(b"\n", b"")
                if joined:
                    yield bases(joined, line + text[: len(text) - len(text.lstrip())].count(b"\n"))
            pos = stop

    try:
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as fh:
            carry, lines_before = b"", 0
            while True:
                block = fh.read(chunk_bytes)
                data = carry + block
                if block:
                    cut = data.rfind(b"\n") + 1
                    if not cut:  # no whole line yet: read on
                        carry = data
                        continue
                    data, carry = data[:cut], data[cut:]
                else:
                    carry = b""
                yield from pieces(data, lines_before + 1)
                lines_before += data.count(b"\n")
                if not block:
                    break
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise SequenceError(f"{path}: cannot read: {exc}") from exc
    if name is not None and record_bp == 0:
        raise SequenceError(f"{path}: record '{name}' (line {header_line}): empty record, no sequence after the header")
    if not records:
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


def nth_sequence(i: int) -> str:
    """How an error names sequence i of a list that came without record names."""
    return f"sequence {i + 1}"


def check_lengths(
    sequences: Sequence[str],
    max_bp: int,
    where=nth_sequence,
    *,
    limit: str = "allowed",
    advice: str = "cut it into windows (e.g. --window-bp) or raise max_length_bp",
) -> None:
    """Longer sequences are an error, never truncated: say which one, and what to do."""
    for i, s in enumerate(sequences):
        if len(s) > max_bp:
            raise SequenceError(
                f"{where(i)}: sequence of {len(s):,} bp is longer than the {max_bp:,} bp {limit}; {advice}"
            )


def tile_spans(length: int, window_bp: int, *, keep_tail: bool = True) -> list[tuple[int, int]]:
    """[start, end) of consecutive non-overlapping windows from the start of a sequence of
    `length`; the last one shorter unless `keep_tail` is False (then a short tail is left out).
    The one tiling rule of records into windows, for genomes, command inputs and task rows."""
    end = length if keep_tail else length - length % window_bp
    return [(i, min(i + window_bp, length)) for i in range(0, end, window_bp)]


@dataclass
class InputSequence:
    """One sequence a command reads: its id (a FASTA record's name, with start-end for a window; a
    CSV row's "lineN"), the sequence as ACGTN text, its label ("" if none), and where it came
    from, for messages (FILE: record 'NAME' / FILE: line N)."""

    id: str
    sequence: str
    label: str
    where: str


def iter_sequences(
    *, fasta: str | Path | None = None, csv: str | Path | None = None, window_bp: int | None = None
) -> Iterator[InputSequence]:
    """The sequences of a FASTA file (whole records, or consecutive windows of `window_bp` with a
    shorter last one) or of a `sequence[,label]` CSV, one at a time: memory holds the record being
    read, not the file. Options that cannot go together are refused here, before any reading."""
    if (fasta is None) == (csv is None):
        raise UserError("give one input: a FASTA file or a CSV file")
    if csv is not None and window_bp:
        raise UserError("--window-bp cuts the records of --fasta; a --csv is read row by row as it is")
    return _csv_sequences(csv) if csv is not None else _fasta_sequences(fasta, window_bp)


def _csv_sequences(path) -> Iterator[InputSequence]:
    for lineno, seq, label in iter_labeled_csv(path, require_label=False):
        yield InputSequence(f"line{lineno}", seq, label, f"{path}: line {lineno}")


def _fasta_sequences(path, window_bp: int | None) -> Iterator[InputSequence]:
    for r in iter_fasta(path):
        text = r.sequence  # computed from the ids at each access: once per record
        if not window_bp:
            yield InputSequence(r.name, text, "", f"{path}: record {r.name!r}")
            continue
        for start, end in tile_spans(len(text), window_bp):
            name = f"{r.name}:{start + 1}-{end}"
            yield InputSequence(name, text[start:end], "", f"{path}: record {name!r}")


# ---------------------------------------------------------------- loading a task folder


@dataclass
class Task:
    """A task folder read and checked: sequences per split, targets as class ids or floats."""

    path: str
    task_type: str  # "classification" or "regression"
    label_names: list[str]  # classification only
    splits: dict[str, LabeledSequences]
    targets: dict[str, np.ndarray]
    # task.json's "strand_specific": the label depends on the strand read (a guide RNA's target,
    # an oriented promoter), so a reverse complement is not an example of the same label; None
    # when the folder does not say (no task.json, or no such key)
    strand_specific: bool | None = None

    @property
    def num_labels(self) -> int:
        return len(self.label_names) if self.task_type == "classification" else 1

    @classmethod
    def from_hf_dataset(
        cls,
        name: str | Path,
        *,
        sequence_column: str = "sequence",
        label_column: str = "label",
        task_type: str = "auto",
        max_length_bp: int | None = None,
    ) -> "Task":
        """A task kept in the `datasets` format (needs `pip install 'vqdna[hf]'`): `name` for
        `datasets.load_dataset`, or a folder written by `DatasetDict.save_to_disk`."""
        return load_task(HFDataset(str(name), sequence_column, label_column), task_type, max_length_bp)


def _number_name(text: str) -> str:
    """A numeric class label's one spelling: "1.0" and "01" → "1", "0.50" → "0.5"."""
    value = float(text)
    return str(int(value)) if value.is_integer() else repr(value)


def is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@dataclass(frozen=True)
class HFDataset:
    """A task kept in Hugging Face's `datasets` format: a name for `datasets.load_dataset` or a
    folder written by `save_to_disk`, and the columns that hold the sequence and the label. Its
    splits are train, dev (or validation) and test."""

    name: str
    sequence_column: str = "sequence"
    label_column: str = "label"

    def __str__(self) -> str:
        return f"dataset {self.name} (sequence column {self.sequence_column!r}, label column {self.label_column!r})"


def task_files(source: str | Path | HFDataset) -> dict[str, Any]:
    """A task's files as a run records them (path and size; a dataset: its content's sha256): a run
    reused or resumed on a task whose data changed is then a run with other inputs."""
    if isinstance(source, HFDataset):
        digest = hashlib.sha256()
        for name, split in hf_dataset_splits(source).items():
            for seq, label in zip(split.sequences, split.labels):
                digest.update(f"{name}\t{seq}\t{label}\n".encode())
        return {"dataset_sha256": digest.hexdigest()}
    return {name: file_identity(Path(source) / name) for name in TASK_FILES if (Path(source) / name).exists()}


def hf_dataset_splits(source: HFDataset) -> dict[str, LabeledSequences]:
    """The train/dev/test splits of a `datasets` task, read under the alphabet rule: a bad
    sequence is named by split and row."""
    try:
        import datasets
    except ImportError:
        raise UserError(
            f"{source}: reading the datasets format needs the datasets package: pip install 'vqdna[hf]'"
        ) from None
    try:
        if Path(source.name).is_dir() and (Path(source.name) / "dataset_dict.json").is_file():
            data = datasets.load_from_disk(source.name)
        else:
            data = datasets.load_dataset(source.name)
    except Exception as exc:  # datasets raises many kinds (FileNotFoundError, ConnectionError, DatasetNotFoundError, …)
        raise UserError(f"{source}: cannot load it with datasets: {exc}") from None
    if not isinstance(data, datasets.DatasetDict):
        raise UserError(f"{source}: expected a dataset with train, dev (or validation) and test splits, got one split")
    names = {"train": "train", "dev": "dev" if "dev" in data else "validation", "test": "test"}
    missing = [want for want, have in names.items() if have not in data]
    if missing:
        raise UserError(
            f"{source}: no {', '.join(missing)} split (it has {', '.join(data) or 'none'}); "
            "a task needs train, dev (or validation) and test"
        )
    out = {}
    for split, have in names.items():
        part = data[have]
        for column in (source.sequence_column, source.label_column):
            if column not in part.column_names:
                raise UserError(
                    f"{source}: split {have!r} has no column {column!r} (its columns: {', '.join(part.column_names)})"
                )
        feature = part.features[source.label_column]
        class_names = getattr(feature, "names", None)  # a ClassLabel: ids stored, names known
        where = f"{source.name}[{have}]"
        sequences = [
            to_text(to_ids(str(seq), record=f"{where} row {i + 1}"))
            for i, seq in enumerate(part[source.sequence_column])
        ]
        labels = [class_names[v] if class_names else str(v) for v in part[source.label_column]]
        out[split] = LabeledSequences(sequences, labels, where)
    return out


# How a user says a task is a regression, for the errors of an "auto" task type that guessed classes.
REGRESSION_HINT = (
    "; if the labels are {what}, say the task is a regression (finetune and baseline: "
    '--config \'{{"task_type": "regression"}}\'; probe: --task-type regression)'
)


def load_task(source: str | Path | HFDataset, task_type: str = "auto", max_length_bp: int | None = None) -> Task:
    """Read train/dev/test (a task folder, or a `datasets` task), decide classification vs
    regression, map labels, check lengths. Every problem names the file and line (or split and row)."""
    if isinstance(source, HFDataset):
        splits, strand_specific = hf_dataset_splits(source), None
    else:
        splits, strand_specific = read_task(source), declared_strand_specific(source)
    return _task_from_splits(splits, str(source), task_type, max_length_bp, strand_specific)


def _task_from_splits(
    splits: dict[str, LabeledSequences],
    path: str,
    task_type: str,
    max_length_bp: int | None,
    strand_specific: bool | None,
) -> Task:
    train = splits["train"]
    numeric = [is_float(v) for v in train.labels]
    if any(numeric) and not all(numeric):  # e.g. classes 0 and 1 and one row labelled 'cat': a typo, not a third class
        first_number, first_name = numeric.index(True), numeric.index(False)
        raise SequenceError(
            f"{train.path}: labels mix numbers ({train.labels[first_number]!r} at line {train.lines[first_number]}) and "
            f"names ({train.labels[first_name]!r} at line {train.lines[first_name]}); use one or the other"
        )
    if task_type == "auto":
        # all(numeric) once, not per label: the comprehension would be quadratic in the number of rows
        fractional = [i for i, v in enumerate(train.labels) if not float(v).is_integer()] if all(numeric) else []
        if fractional and len(fractional) < 0.05 * len(train.labels):
            # a few non-integers among integer classes is far more often a typo than a regression target
            i = fractional[0]
            raise SequenceError(
                f"{train.where(i)}: label {train.labels[i]!r} is not an integer while {len(train.labels) - len(fractional)} "
                f"of {len(train.labels)} labels are; fix it" + REGRESSION_HINT.format(what="meant as numbers")
            )
        task_type = "regression" if fractional else "classification"
    targets: dict[str, np.ndarray] = {}
    names: list[str] = []
    if task_type == "regression":
        for name, split in splits.items():
            if len(split.labels) < 2:  # Spearman and Pearson, the regression scores, need two values
                raise SequenceError(
                    f"{split.path}: a regression split needs at least 2 rows to be scored; it has {len(split.labels)}"
                )
            for i, v in enumerate(split.labels):
                if not is_float(v):
                    raise SequenceError(f"{split.where(i)}: label {v!r} is not a number (regression task)")
            targets[name] = np.array([float(v) for v in split.labels], dtype=np.float32)
    else:
        # numeric labels are classes by value: "1", "1.0" and "01" are one class, named "1"
        numeric = all(is_float(v) for v in train.labels)
        key = _number_name if numeric else str
        names = sorted({key(v) for v in train.labels}, key=float if numeric else str)
        if len(names) < 2:
            raise SequenceError(
                f"{train.path}: only one label ({names[0]!r}) in the training set; a classifier needs at least two"
            )
        index = {v: i for i, v in enumerate(names)}
        for name, split in splits.items():
            for i, v in enumerate(split.labels):
                if (key(v) if not numeric or is_float(v) else v) not in index:
                    hint = REGRESSION_HINT.format(what="numbers to predict") if numeric else ""
                    raise SequenceError(
                        f"{split.where(i)}: label {v!r} does not occur in {train.path} (its labels: {', '.join(names)})"
                        + hint
                    )
            targets[name] = np.array([index[key(v)] for v in split.labels], dtype=np.int64)
    if max_length_bp:
        for split in splits.values():
            check_lengths(split.sequences, max_length_bp, where=split.where)
    return Task(path, task_type, names, splits, targets, strand_specific=strand_specific)


def declared_strand_specific(folder: str | Path) -> bool | None:
    """task.json's optional "strand_specific" (true/false); absent file or key: None (not said)."""
    path = Path(folder) / "task.json"
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SequenceError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise SequenceError(
            f'{path}: expected a JSON object such as {{"strand_specific": true}}, got {type(meta).__name__}'
        )
    value = meta.get("strand_specific")
    if value is not None and not isinstance(value, bool):
        raise SequenceError(f'{path}: "strand_specific" must be true or false, got {value!r}')
    return value
