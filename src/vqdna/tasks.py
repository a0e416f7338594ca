"""Building GUE-format task folders from FASTA files (any user's genomes). Reading a task folder
back, checked, is `vqdna.seqio.load_task`; the built-in datasets' builders live in `vqdna.builtin_data`.

A task folder holds ``train.csv``, ``dev.csv`` and ``test.csv`` (header ``sequence,label``, labels
the integers 0..C-1, exactly what `vqdna.seqio.read_task` reads), ``labels.json`` (label id → name,
source file and where each split came from) and ``task.json`` (the arguments, seed and counts).

Two kinds of task, both free of train/test leakage by construction:

* `make_species_task` (HyenaDNA-style species classification): label i is the species of FASTA
  file i; every record is cut into three disjoint regions (train, then dev, then test), and windows
  are sampled entirely inside one region, so no base of a test window is in a train window.
* `make_labeled_task` (variant or strain classification): each FASTA file is a class; whole records
  are assigned to one split, so all windows of a record stay together.
* `make_variant_task`: the same split by genome, from one FASTA of genomes and a tab-separated
  table that labels them (e.g. Nextclade's clade or WHO variant column).

Everything is computed before anything is written; every file is written atomically, and a folder
that already holds a task is refused rather than overwritten.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from vqdna.alphabet import SequenceError, n_fraction, to_text
from vqdna.config import check_value
from vqdna.corpus import species_name
from vqdna.errors import UserError
from vqdna.seqio import (
    CSV_HEADER,
    TASK_SPLITS,
    FastaRecord,
    check_distinct_files,
    open_text,
    read_fasta,
    tile_spans,
)
from vqdna.storage import RUN_MARKER, claim_folder, finish_folder, read_json, write_json, write_text

_MAX_N_REJECTIONS = 1000  # high-N windows tolerated per species and split (beyond 10 per window asked)
_PERMUTE_LIMIT = 1 << 22  # below this many starts, draw them from a full permutation


# ---------------------------------------------------------------- shared checks and output


def check_output_dir(output_dir: Path) -> None:
    """Refuse, before any work, a file, a folder of another command, a finished task, or a folder
    with files of unknown origin: nothing is overwritten. (An interrupted make-task of the same
    inputs is rewritten: `_write_task` claims the folder.)"""
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"{output_dir}: exists and is not a folder")
    marker = output_dir / RUN_MARKER
    if marker.is_file():
        run = read_json(marker, what="run marker")
        if isinstance(run, dict) and run.get("command") == "make-task" and not run.get("finished"):
            return
    present = [f.name for f in output_dir.iterdir()] if output_dir.is_dir() else []
    if present:
        raise UserError(
            f"{output_dir}: already holds files ({', '.join(sorted(present)[:5])}); refusing to overwrite them, "
            "choose a new output folder or delete the old one"
        )


def check_seed(seed) -> None:
    """A task's seed, checked by the rule every seed follows (`config.check_value`)."""
    check_value("seed", int(seed) if isinstance(seed, np.integer) else seed, "int", "seed")


def check_fractions(dev_fraction: float, test_fraction: float) -> None:
    if not (0 < dev_fraction < 1 and 0 < test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise UserError(
            f"dev_fraction ({dev_fraction}) and test_fraction ({test_fraction}) must each be in (0, 1) "
            "and sum to less than 1, leaving a train part"
        )


def _check_common(fasta_paths, names, seed: int, max_n_fraction: float) -> tuple[list[Path], list[str]]:
    """The FASTA paths and one unique class name per file."""
    if isinstance(fasta_paths, (str, Path)):
        fasta_paths = [fasta_paths]
    paths = [Path(p) for p in fasta_paths]
    check_distinct_files(paths)
    if len(paths) < 2:
        raise UserError(f"a classification task needs at least 2 FASTA files (one per class), got {len(paths)}")
    if names is None:
        names = [species_name(p) for p in paths]
    else:
        names = [str(n) for n in names]
        if len(names) != len(paths):
            raise UserError(f"got {len(names)} names for {len(paths)} FASTA files")
        if not all(n.strip() for n in names):
            raise UserError(f"class names must not be empty: {names}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(
            f"class names must be unique, but {dupes} occur more than once; name the classes with --names (names=[...])"
        )
    check_seed(seed)
    check_value("max_n_fraction", max_n_fraction, "float", "[0,1]")
    return paths, names


def _csv_text(rows: list[tuple[str, int]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buf.getvalue()


def _shuffled(rows: list[tuple[np.ndarray, int]], seed: int, split_index: int) -> list[tuple[str, int]]:
    """Rows as (text, label) in a seeded random order, so classes are interleaved."""
    order = np.random.default_rng([seed, 1, split_index]).permutation(len(rows))
    return [(to_text(rows[i][0]), rows[i][1]) for i in order]


def _also_in_train(splits: dict[str, list[tuple[str, int]]]) -> dict[str, int]:
    """Per held-out split: rows whose exact sequence is also a train row (repeats in a genome, or
    identical records), reported so that identity leakage is visible."""
    train = {s for s, _ in splits["train"]}
    return {name: sum(s in train for s, _ in rows) for name, rows in splits.items() if name != "train"}


def write_task_folder(output_dir: Path, splits: dict[str, list[tuple[str, int]]], labels: dict, task: dict) -> None:
    check_output_dir(output_dir)  # again: the folder may have been filled while we were sampling
    if claim_folder(output_dir, "make-task", task, resume=True) == "finished":
        raise UserError(f"{output_dir}: already holds this task; choose a new output folder")
    # train.csv last: an interrupted run leaves no train.csv, the file that marks a finished task
    for name in ("dev", "test"):
        write_text(output_dir / f"{name}.csv", _csv_text(splits[name]))
    write_json(output_dir / "labels.json", labels)
    write_json(output_dir / "task.json", task)
    write_text(output_dir / "train.csv", _csv_text(splits["train"]))
    finish_folder(output_dir)


def _counts(rows: list[tuple[str, int]], num_labels: int) -> dict[str, int]:
    labels = np.bincount([label for _, label in rows], minlength=num_labels)
    return {str(i): int(c) for i, c in enumerate(labels)}


# ---------------------------------------------------------------- species task


def _regions(length: int, dev_fraction: float, test_fraction: float) -> dict[str, tuple[int, int]]:
    """Half-open [start, end) of the train, dev and test parts of a record, in that order."""
    cut1 = int(round(length * (1 - dev_fraction - test_fraction)))
    cut2 = int(round(length * (1 - test_fraction)))
    return {"train": (0, cut1), "dev": (cut1, cut2), "test": (cut2, length)}


def _candidates(rng: np.random.Generator, total: int, batch: int) -> Iterator[int]:
    """Distinct integers of [0, total) in random order (all of them, for a small total)."""
    if total <= _PERMUTE_LIMIT:
        yield from (int(i) for i in rng.permutation(total))
        return
    seen: set[int] = set()
    while len(seen) < total:
        for i in rng.integers(total, size=batch):
            if int(i) not in seen:
                seen.add(int(i))
                yield int(i)


def _sample_region(
    species: str,
    split: str,
    records: list[FastaRecord],
    spans: list[tuple[int, int]],
    *,
    count: int,
    window_bp: int,
    max_n_fraction: float,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """`count` windows at distinct starts inside the given spans of the records: a record is hit in
    proportion to its number of starts, windows over max_n_fraction N are redrawn."""
    starts = np.array([max(end - start - window_bp + 1, 0) for start, end in spans], dtype=np.int64)
    total = int(starts.sum())
    if total == 0:
        lengths = [end - start for start, end in spans]
        shown = ", ".join(f"{r.name}: {n} bp" for r, n in list(zip(records, lengths))[:5])
        more = f" and {len(records) - 5} more" if len(records) > 5 else ""
        raise SequenceError(
            f"species '{species}': the {split} region of every record is shorter than a {window_bp} bp window "
            f"({shown}{more}); use a shorter window, a larger {split} fraction or a longer genome"
        )
    if total < count:
        raise SequenceError(
            f"species '{species}': the {split} region has only {total} distinct {window_bp} bp windows, "
            f"fewer than the {count} asked; ask for fewer {split} windows"
        )
    cumulative = np.cumsum(starts)
    windows: list[np.ndarray] = []
    rejected = 0
    limit = _MAX_N_REJECTIONS + 10 * count
    for index in _candidates(rng, total, batch=2 * count):
        ri = int(np.searchsorted(cumulative, index, side="right"))
        start = spans[ri][0] + index - int(cumulative[ri] - starts[ri])
        ids = records[ri].ids[start : start + window_bp]
        if n_fraction(ids) <= max_n_fraction:
            windows.append(ids)
            if len(windows) == count:
                return windows
        else:
            rejected += 1
            if rejected > limit:
                break
    raise SequenceError(
        f"species '{species}': found only {len(windows)} of {count} {split} windows with at most "
        f"{100 * max_n_fraction:g}% N after rejecting {rejected}; the {split} region is mostly N: "
        "ask for fewer windows or raise --max-n-fraction"
    )


def make_species_task(
    fasta_paths: Sequence[str | Path],
    output_dir: str | Path,
    *,
    window_bp: int,
    train_per_species: int = 2000,
    dev_per_species: int = 250,
    test_per_species: int = 250,
    dev_fraction: float = 0.1,
    test_fraction: float = 0.1,
    max_n_fraction: float = 0.05,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> dict:
    """Species classification from one FASTA file per species (label i = file i).

    Each record is cut into disjoint regions: the first 1 − dev − test fraction for train, then
    dev, then the last `test_fraction` for test. Windows of exactly `window_bp` are sampled at
    distinct starts inside one region. Writes the task folder and returns the content of task.json.
    """
    output_dir = Path(output_dir)
    paths, names = _check_common(fasta_paths, names, seed, max_n_fraction)
    check_fractions(dev_fraction, test_fraction)
    if not isinstance(window_bp, (int, np.integer)) or window_bp < 1:
        raise UserError(f"window_bp must be a positive integer, got {window_bp!r}")
    per_split = {"train": train_per_species, "dev": dev_per_species, "test": test_per_species}
    for split, n in per_split.items():
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise UserError(f"{split}_per_species must be a positive integer, got {n!r}")
    check_output_dir(output_dir)

    rows: dict[str, list[tuple[np.ndarray, int]]] = {s: [] for s in TASK_SPLITS}
    labels: dict[str, dict] = {}
    for label, (path, species) in enumerate(zip(paths, names)):
        records = read_fasta(path)
        regions = [_regions(len(r), dev_fraction, test_fraction) for r in records]
        for si, split in enumerate(TASK_SPLITS):
            rng = np.random.default_rng([seed, 0, label, si])  # one stream per species and split
            spans = [reg[split] for reg in regions]
            windows = _sample_region(
                species,
                split,
                records,
                spans,
                count=per_split[split],
                window_bp=window_bp,
                max_n_fraction=max_n_fraction,
                rng=rng,
            )
            rows[split] += [(w, label) for w in windows]
        labels[str(label)] = {
            "name": species,
            "source": str(path),
            "records": len(records),
            "bp": int(sum(len(r) for r in records)),
            # half-open 0-based [start, end) of each split's region in every record
            "splits": {
                split: [
                    {"record": r.name, "start": reg[split][0], "end": reg[split][1]} for r, reg in zip(records, regions)
                ]
                for split in TASK_SPLITS
            },
        }

    splits = {s: _shuffled(rows[s], seed, si) for si, s in enumerate(TASK_SPLITS)}
    task = {
        "kind": "species",
        "strand_specific": False,  # a window of a genome is of its species read from either strand
        "arguments": {
            "fasta_paths": [str(p) for p in paths],
            "names": names,
            "window_bp": int(window_bp),
            "train_per_species": int(train_per_species),
            "dev_per_species": int(dev_per_species),
            "test_per_species": int(test_per_species),
            "dev_fraction": dev_fraction,
            "test_fraction": test_fraction,
            "max_n_fraction": max_n_fraction,
        },
        "seed": int(seed),
        "labels": names,
        "counts": {s: _counts(splits[s], len(names)) for s in TASK_SPLITS},
        "rows_also_in_train": _also_in_train(splits),
    }
    write_task_folder(output_dir, splits, labels, task)
    return task


# ---------------------------------------------------------------- labeled (variant / strain) task


def _assign_records(
    n: int, dev_fraction: float, test_fraction: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Record indices per split: a seeded shuffle, at least one record in every split."""
    n_dev = max(1, int(round(n * dev_fraction)))
    n_test = max(1, int(round(n * test_fraction)))
    while n - n_dev - n_test < 1:  # rounding up small classes can leave no train record
        if n_dev >= n_test:
            n_dev -= 1
        else:
            n_test -= 1
    order = rng.permutation(n)
    n_train = n - n_dev - n_test
    return {"train": order[:n_train], "dev": order[n_train : n_train + n_dev], "test": order[n_train + n_dev :]}


def _split_whole_records(
    classes: list[tuple[str, str, list[FastaRecord]]],
    *,
    window_bp: int | None,
    dev_fraction: float,
    test_fraction: float,
    max_n_fraction: float,
    seed: int,
    windows_per_record: int | None = None,
    window_option: str = "--window-bp",
) -> tuple[dict[str, list[tuple[np.ndarray, int]]], dict[str, dict], dict[str, int]]:
    """Rows of a classification task whose records (genomes) are never split between train, dev
    and test. `classes` is (name, source, records) per label id.

    Each class's records go to the splits by a seeded shuffle (at least one record per split). A
    record is one row, or (with `window_bp`) consecutive non-overlapping windows from its start,
    a shorter tail dropped; `windows_per_record` keeps a seeded random subset of a record's
    windows. A row with more than `max_n_fraction` N (any non-ACGT base) is dropped. Returns the
    rows per split, labels.json's content and the dropped counts."""
    rows: dict[str, list[tuple[np.ndarray, int]]] = {s: [] for s in TASK_SPLITS}
    labels: dict[str, dict] = {}
    dropped = {"tail_bp": 0, "n_rows": 0, "subsampled_rows": 0}
    for label, (name, source, records) in enumerate(classes):
        if len(records) < 3:
            raise SequenceError(
                f"{source}: class '{name}' has {len(records)} record(s); it needs at least 3, one for each of train, dev and test"
            )
        assignment = _assign_records(len(records), dev_fraction, test_fraction, np.random.default_rng([seed, 2, label]))
        for split, indices in assignment.items():
            kept = 0
            for ri in indices:
                ids = records[ri].ids
                if window_bp is None:
                    pieces = [ids]
                else:
                    dropped["tail_bp"] += len(ids) % window_bp
                    pieces = [ids[a:b] for a, b in tile_spans(len(ids), window_bp, keep_tail=False)]
                pieces = [p for p in pieces if n_fraction(p) <= max_n_fraction]
                dropped["n_rows"] += (len(ids) // window_bp if window_bp else 1) - len(pieces)
                if windows_per_record is not None and len(pieces) > windows_per_record:
                    keep = np.random.default_rng([seed, 3, label, int(ri)]).choice(
                        len(pieces), windows_per_record, replace=False
                    )
                    dropped["subsampled_rows"] += len(pieces) - windows_per_record
                    pieces = [pieces[i] for i in sorted(keep)]
                rows[split] += [(piece, label) for piece in pieces]
                kept += len(pieces)
            if kept == 0:
                what = "record" if window_bp is None else f"{window_bp} bp window"
                raise SequenceError(
                    f"{source}: class '{name}' has no {split} rows: its {len(indices)} {split} record(s) "
                    f"({', '.join(records[i].name for i in indices[:5])}) give no {what} with at most "
                    f"{100 * max_n_fraction:g}% N; use a shorter {window_option}, raise --max-n-fraction or add records"
                )
        labels[str(label)] = {
            "name": name,
            "source": source,
            "records": len(records),
            "splits": {split: [records[i].name for i in indices] for split, indices in assignment.items()},
        }
    return rows, labels, dropped


def make_labeled_task(
    fasta_paths: Sequence[str | Path],
    output_dir: str | Path,
    *,
    window_bp: int | None = None,
    dev_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    names: Sequence[str] | None = None,
    max_n_fraction: float = 0.05,
) -> dict:
    """Classification with one FASTA file per class (e.g. a SARS-CoV-2 clade), records split whole.

    Each class's records go to train/dev/test by a seeded shuffle (at least one record per split,
    so every class needs 3 records). Without `window_bp` a record is one row; with it, a record is
    tiled into consecutive non-overlapping windows (a shorter tail is dropped and counted in
    task.json as `dropped_tail_bp`). Rows (records or windows) with more than `max_n_fraction` N
    are dropped and counted. Writes the task folder and returns the content of task.json.
    """
    output_dir = Path(output_dir)
    paths, names = _check_common(fasta_paths, names, seed, max_n_fraction)
    check_fractions(dev_fraction, test_fraction)
    if window_bp is not None and (not isinstance(window_bp, (int, np.integer)) or window_bp < 1):
        raise UserError(f"window_bp must be a positive integer or None, got {window_bp!r}")
    check_output_dir(output_dir)

    classes = [(name, str(path), read_fasta(path)) for path, name in zip(paths, names)]
    rows, labels, dropped = _split_whole_records(
        classes,
        window_bp=window_bp,
        dev_fraction=dev_fraction,
        test_fraction=test_fraction,
        max_n_fraction=max_n_fraction,
        seed=seed,
    )
    splits = {s: _shuffled(rows[s], seed, si) for si, s in enumerate(TASK_SPLITS)}
    task = {
        "kind": "labeled",
        "arguments": {
            "fasta_paths": [str(p) for p in paths],
            "names": names,
            "window_bp": None if window_bp is None else int(window_bp),
            "dev_fraction": dev_fraction,
            "test_fraction": test_fraction,
            "max_n_fraction": max_n_fraction,
        },
        "seed": int(seed),
        "labels": names,
        "counts": {s: _counts(splits[s], len(names)) for s in TASK_SPLITS},
        "dropped_tail_bp": int(dropped["tail_bp"]),
        "dropped_n_rows": int(dropped["n_rows"]),
        "rows_also_in_train": _also_in_train(splits),
    }
    write_task_folder(output_dir, splits, labels, task)
    return task


# ---------------------------------------------------------------- variant task (one FASTA + a label table)

RARE_CLASS_ACTIONS = ("drop", "merge")
MERGED_CLASS = "other"


def read_label_table(
    path: str | Path, *, label_column: str, id_column: str | None = None
) -> tuple[dict[str, str], str]:
    """{record id: label} from a tab-separated table with a header line (Nextstrain / Nextclade
    metadata style); the id column defaults to the first. Returns the mapping and the id column.
    Every problem names the file and line: a missing column, an empty id or label, a repeated id."""
    path = Path(path)
    if not path.is_file():
        raise SequenceError(f"{path}: no such label table")
    # utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name; QUOTE_NONE:
    # a stray quote is a character of its field, never a way to swallow the lines after it
    try:
        with open_text(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise SequenceError(
                    f"{path}: empty label table; expected a tab-separated header line such as 'name<TAB>{label_column}'"
                )
            header = [h.strip() for h in header]
            repeated = sorted({h for h in header if header.count(h) > 1})
            if repeated:
                raise SequenceError(
                    f"{path}: line 1: column name(s) {', '.join(map(repr, repeated))} occur more than once in the header"
                )
            id_column = id_column or header[0]
            for option, column in (("--id-column", id_column), ("--label-column", label_column)):
                if column not in header:
                    raise SequenceError(
                        f"{path}: {option} {column!r} is not a column of the header line (columns: {', '.join(header)})"
                    )
            ci, cl = header.index(id_column), header.index(label_column)
            table: dict[str, str] = {}
            first_line: dict[str, int] = {}
            for row in reader:
                lineno = reader.line_num
                if not row or not any(c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    raise SequenceError(
                        f"{path}: line {lineno}: {len(row)} tab-separated fields, the header has {len(header)}"
                    )
                key, value = row[ci].strip(), row[cl].strip()
                if not key:
                    raise SequenceError(f"{path}: line {lineno}: empty {id_column!r}")
                if not value:
                    raise SequenceError(f"{path}: line {lineno}: record {key!r} has an empty {label_column!r}")
                if key in table:
                    raise SequenceError(
                        f"{path}: line {lineno}: record {key!r} is listed twice (first on line {first_line[key]})"
                    )
                table[key], first_line[key] = value, lineno
    except (OSError, EOFError) as exc:  # e.g. a truncated gzip
        raise SequenceError(f"{path}: cannot read: {exc}") from exc
    if not table:
        raise SequenceError(f"{path}: the label table has a header but no rows")
    return table, id_column


def read_labelled_genomes(
    fasta_path: str | Path, labels_path: str | Path, label_column: str, id_column: str | None = None
) -> tuple[list[FastaRecord], dict[str, str], str]:
    """The genomes of one FASTA and the table that labels them: (records, {id: label}, id column).
    Every genome must have a row (its id = the first word of the FASTA header) and ids must be
    unique; rows for genomes that are not in the FASTA are allowed."""
    table, id_column = read_label_table(labels_path, label_column=label_column, id_column=id_column)
    records = read_fasta(fasta_path)
    seen: dict[str, int] = {}
    for i, r in enumerate(records):
        if r.name in seen:
            raise SequenceError(
                f"{fasta_path}: record {r.name!r} occurs twice (records {seen[r.name] + 1} and {i + 1}); genome ids must be unique"
            )
        seen[r.name] = i
    unlabeled = [r.name for r in records if r.name not in table]
    if unlabeled:
        shown = ", ".join(repr(n) for n in unlabeled[:5]) + (
            f" and {len(unlabeled) - 5} more" if len(unlabeled) > 5 else ""
        )
        raise SequenceError(
            f"{fasta_path}: {len(unlabeled)} genome(s) have no row in {labels_path} (matched on its {id_column!r} column "
            f"against the first word of each FASTA header): {shown}"
        )
    return records, table, id_column


def _why_unusable(ids: np.ndarray, fragment_bp: int, max_n_fraction: float) -> str | None:
    """Why a genome gives no fragment (None when it gives one): the reason task.json records."""
    if len(ids) < fragment_bp:
        return f"{len(ids)} bp, shorter than one {fragment_bp} bp fragment"
    if all(n_fraction(ids[a:b]) > max_n_fraction for a, b in tile_spans(len(ids), fragment_bp, keep_tail=False)):
        return f"every {fragment_bp} bp fragment has more than {100 * max_n_fraction:g}% N"
    return None


def make_variant_task(
    fasta_path: str | Path,
    labels_path: str | Path,
    output_dir: str | Path,
    *,
    label_column: str,
    id_column: str | None = None,
    fragment_bp: int = 1000,
    fragments_per_genome: int | None = None,
    min_genomes: int = 3,
    rare: str = "drop",
    dev_fraction: float = 0.15,
    test_fraction: float = 0.15,
    max_n_fraction: float = 0.05,
    seed: int = 0,
) -> dict:
    """Variant (lineage, strain, clade) classification from one FASTA of genomes and a table that
    labels them, split by genome: no genome has fragments in two splits.

    Every genome of the FASTA must have a row in the table (its id = the first word of the FASTA
    header); rows for genomes that are not in the FASTA are ignored and counted. A class with
    fewer than `min_genomes` genomes (at least 3: one per split) is dropped (`rare="drop"`) or
    pooled into one class named "other" (`rare="merge"`; the pool is dropped in turn if it is
    still too small); task.json lists what was dropped or merged. Genomes are cut into
    consecutive non-overlapping `fragment_bp` fragments from their start (GUE's covid task uses
    1,000 bp), the shorter tail dropped; a fragment with more than `max_n_fraction` of non-ACGT
    bases (N and other IUPAC codes) is skipped, and a genome left with no fragment (too short, or
    every fragment over the limit) is left out before classes are counted (task.json's
    `unusable_genomes` says why); `fragments_per_genome` keeps a seeded random
    subset per genome. Writes the task folder and returns the content of task.json."""
    output_dir, fasta_path, labels_path = Path(output_dir), Path(fasta_path), Path(labels_path)
    if isinstance(fragment_bp, bool) or not isinstance(fragment_bp, (int, np.integer)) or fragment_bp < 1:
        raise UserError(f"--fragment-bp must be a positive integer, got {fragment_bp!r}")
    if fragments_per_genome is not None and (
        isinstance(fragments_per_genome, bool)
        or not isinstance(fragments_per_genome, (int, np.integer))
        or fragments_per_genome < 1
    ):
        raise UserError(f"--fragments-per-genome must be a positive integer, got {fragments_per_genome!r}")
    if isinstance(min_genomes, bool) or not isinstance(min_genomes, (int, np.integer)) or min_genomes < 3:
        raise UserError(
            f"--min-genomes must be an integer of at least 3 (one genome each for train, dev and test), got {min_genomes!r}"
        )
    if rare not in RARE_CLASS_ACTIONS:
        raise UserError(f"--rare must be one of {', '.join(RARE_CLASS_ACTIONS)}, got {rare!r}")
    check_seed(seed)
    if not 0 <= max_n_fraction <= 1:
        raise UserError(f"--max-n-fraction must be in [0, 1], got {max_n_fraction}")
    check_fractions(dev_fraction, test_fraction)
    check_output_dir(output_dir)

    records, table, id_column = read_labelled_genomes(fasta_path, labels_path, label_column, id_column)
    # a genome without one usable fragment is left out before classes are counted: counted, it could
    # be a class's only dev or test genome and leave that split empty
    unusable = {r.name: _why_unusable(r.ids, fragment_bp, max_n_fraction) for r in records}
    unusable = {name: why for name, why in unusable.items() if why}
    by_label: dict[str, list[FastaRecord]] = {}
    for r in records:
        if r.name not in unusable:
            by_label.setdefault(table[r.name], []).append(r)
    rare_names = sorted(n for n, rs in by_label.items() if len(rs) < min_genomes)
    merged: list[str] = []
    dropped_classes = {n: len(by_label[n]) for n in rare_names}
    if rare == "merge" and rare_names:
        pool = [r for n in rare_names for r in by_label[n]]
        if len(pool) >= min_genomes:
            if MERGED_CLASS in by_label and MERGED_CLASS not in rare_names:
                raise UserError(
                    f"{labels_path}: --rare merge pools rare classes into {MERGED_CLASS!r}, which is already a label; use --rare drop"
                )
            merged, dropped_classes = rare_names, {}
            for n in rare_names:
                del by_label[n]
            by_label[MERGED_CLASS] = pool
    for n in dropped_classes:
        del by_label[n]
    if len(by_label) < 2:
        raise SequenceError(
            f"{labels_path}: only {len(by_label)} class(es) of {label_column!r} have at least {min_genomes} genomes "
            f"({', '.join(f'{n}: {len(rs)}' for n, rs in by_label.items()) or 'none'}); a classifier needs at least two"
            + (
                f"; {len(unusable)} of {len(records)} genomes gave no usable fragment (e.g. {next(iter(unusable))!r}: "
                f"{next(iter(unusable.values()))}): see --fragment-bp and --max-n-fraction"
                if unusable
                else ""
            )
        )
    names = sorted(by_label)
    classes = [(n, str(fasta_path), by_label[n]) for n in names]
    rows, labels, dropped = _split_whole_records(
        classes,
        window_bp=fragment_bp,
        dev_fraction=dev_fraction,
        test_fraction=test_fraction,
        max_n_fraction=max_n_fraction,
        seed=seed,
        windows_per_record=fragments_per_genome,
        window_option="--fragment-bp",
    )
    for label, name in enumerate(names):
        labels[str(label)]["merged_from"] = merged if name == MERGED_CLASS and merged else None
    splits = {s: _shuffled(rows[s], seed, si) for si, s in enumerate(TASK_SPLITS)}
    task = {
        "kind": "variants",
        "strand_specific": False,  # a fragment is of its lineage read from either strand
        "arguments": {
            "fasta_path": str(fasta_path),
            "labels_path": str(labels_path),
            "label_column": label_column,
            "id_column": id_column,
            "fragment_bp": int(fragment_bp),
            "fragments_per_genome": None if fragments_per_genome is None else int(fragments_per_genome),
            "min_genomes": int(min_genomes),
            "rare": rare,
            "dev_fraction": dev_fraction,
            "test_fraction": test_fraction,
            "max_n_fraction": max_n_fraction,
        },
        "seed": int(seed),
        "labels": names,
        "genomes": {s: {n: len(labels[str(i)]["splits"][s]) for i, n in enumerate(names)} for s in TASK_SPLITS},
        "counts": {s: _counts(splits[s], len(names)) for s in TASK_SPLITS},
        "dropped_classes": dropped_classes,  # name -> genomes, below min_genomes
        "merged_classes": merged,  # pooled into "other"
        "unusable_genomes": unusable,  # name -> why no fragment of it could be used
        "table_rows_without_genome": len(set(table) - {r.name for r in records}),
        "dropped_tail_bp": int(dropped["tail_bp"]),
        "dropped_n_fragments": int(dropped["n_rows"]),
        "subsampled_fragments": int(dropped["subsampled_rows"]),
        "rows_also_in_train": _also_in_train(splits),
    }
    write_task_folder(output_dir, splits, labels, task)
    return task
