"""The files vqdna's commands write for people and other tools, as library functions: token ids as
JSON lines, predictions as CSV, embeddings as a NumPy array with a row-id file, and the report of a
code comparison. Each streams its input batch by batch (memory holds one batch, not the file) and
writes atomically: an interrupted call leaves no partial file under the asked name.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np

from vqdna.seqio import InputSequence
from vqdna.storage import atomic_path, write_json, write_text

if TYPE_CHECKING:  # tokenize needs neither the encoder nor transformers: imported only for type checks
    from vqdna.inference import LoadedModel
    from vqdna.tokenizers import GenomeTokenizer


class Progress:
    """Sequences and bp written so far and their rates: a bar on stderr (redrawn in place on a
    terminal, a line every 10 s in a log), nothing when `quiet`. `summary()` is the last word."""

    def __init__(self, what: str, *, quiet: bool = False):
        from tqdm.auto import tqdm

        self.sequences = self.bp = 0
        self.started = time.time()
        tty = sys.stderr.isatty()
        self.bar = tqdm(desc=what, unit=" seq", disable=quiet, file=sys.stderr, mininterval=0.5 if tty else 10)

    def batches(self, inputs: Iterable[InputSequence], size: int) -> Iterator[list[InputSequence]]:
        """`batched(inputs, size)`, counting each batch once the caller has taken the next."""
        for batch in batched(inputs, size):
            yield batch
            self.sequences += len(batch)
            self.bp += sum(len(x.sequence) for x in batch)
            self.bar.set_postfix_str(
                f"{self.bp / max(time.time() - self.started, 1e-9) / 1e3:,.0f} kbp/s", refresh=False
            )
            self.bar.update(len(batch))

    def summary(self) -> str:
        self.bar.close()
        seconds = max(time.time() - self.started, 1e-9)
        return f"{seconds:.1f} s, {self.sequences / seconds:,.0f} sequences/s, {self.bp / seconds:,.0f} bp/s"


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_tokens(
    path: str | Path,
    tokenizer: GenomeTokenizer,
    inputs: Iterable[InputSequence],
    batch_size: int = 64,
    progress: Progress | None = None,
) -> dict[str, int]:
    """One JSON object per line: {"id", "length_bp", "input_ids"[, "label"]}; `input_ids` is a list
    of ints, or of per-level lists for HRQ. Returns the numbers of sequences and tokens."""
    sequences = tokens = 0
    progress = progress or Progress("tokenize", quiet=True)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        for batch in progress.batches(inputs, batch_size):
            for item, enc in zip(batch, tokenizer.encode_batch([x.sequence for x in batch])):
                row = {"id": item.id, "length_bp": len(item.sequence), "input_ids": enc.tolist()}
                if item.label:
                    row["label"] = item.label
                fh.write(json.dumps(row, separators=(",", ":")) + "\n")
                sequences, tokens = sequences + 1, tokens + len(enc)
    return {"sequences": sequences, "tokens": tokens}


def write_predictions(
    path: str | Path,
    model: LoadedModel,
    inputs: Iterable[InputSequence],
    batch_size: int = 64,
    progress: Progress | None = None,
) -> int:
    """A CSV with a row per sequence: id[,label],predicted_label,prob_<class>... (classification)
    or id[,label],prediction (regression); the label column when the input has labels. Returns
    the number of rows."""
    count = 0
    progress = progress or Progress("predict", quiet=True)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        for batch in progress.batches(inputs, batch_size):
            p = model.predict([x.sequence for x in batch], batch_size=batch_size, where=lambda i: batch[i].where)
            if count == 0:  # the header, once the first rows say whether the input has labels
                has_labels = bool(batch[0].label)
                values = (
                    ["prediction"]
                    if p.probabilities is None
                    else ["predicted_label"] + [f"prob_{n}" for n in p.label_names]
                )
                w.writerow(["id"] + (["label"] if has_labels else []) + values)
            for i, item in enumerate(batch):
                if p.probabilities is None:
                    values = [f"{p.predictions[i]:.6g}"]
                else:
                    values = [p.predictions[i]] + [f"{x:.6f}" for x in p.probabilities[i]]
                w.writerow([item.id] + ([item.label] if has_labels else []) + values)
            count += len(batch)
    return count


def embedding_ids_path(path: str | Path) -> Path:
    """Where `write_embeddings` puts the row ids of `path`: x.npy -> x.ids.txt."""
    return Path(path).with_suffix(".ids.txt")


def write_embeddings(
    path: str | Path,
    model: LoadedModel,
    inputs: Iterable[InputSequence],
    batch_size: int = 64,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Mean-pooled embeddings as a float32 .npy of shape (sequences, hidden_size), and their ids,
    one per line, in `embedding_ids_path(path)`. Returns (rows, width)."""
    path = Path(path)
    width = model.model.config.hidden_size
    count = 0
    # rows go to an anonymous temporary file batch by batch, then into the .npy (whose header needs
    # the row count): memory holds one batch, and an interruption leaves no partial output
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryFile(dir=path.parent) as rows,
        atomic_path(embedding_ids_path(path)) as ids_tmp,
        open(ids_tmp, "w") as ids_fh,
    ):
        for batch in (progress or Progress("embed", quiet=True)).batches(inputs, batch_size):
            vectors = model.embed([x.sequence for x in batch], batch_size=batch_size, where=lambda i: batch[i].where)
            rows.write(vectors.tobytes())
            ids_fh.write("".join(f"{x.id}\n" for x in batch))
            count += len(batch)
        rows.seek(0)
        with atomic_path(path) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(count, width))
            for start in range(0, count, 16384):
                n = min(16384, count - start)
                out[start : start + n] = np.frombuffer(rows.read(n * width * 4), dtype=np.float32).reshape(n, width)
            out.flush()
            del out
    return count, width


def write_code_diff(folder: str | Path, result: dict[str, Any], tokenizer: str) -> None:
    """`diff.json` (the two sequences, the summary per level and every mutation with the codes it
    changed) and `code_diff.png` of a `evaluation.mutations.diff_codes` result."""
    from vqdna.evaluation.mutations import plot_code_diff

    folder = Path(folder)
    write_json(
        folder / "diff.json",
        {
            "sequences": result["names"],
            "lengths": result["lengths"],
            "tokenizer": tokenizer,
            "summary": result["summary"],
            "mutations": result["mutations"],
        },
    )
    plot_code_diff(folder / "code_diff.png", result, title=f"codes of {result['names'][1]} vs {result['names'][0]}")


def write_lineage_study(
    folder: str | Path, result: dict[str, Any], names: list[str], label_sets: dict[str, list[str]], tokenizer: str
) -> None:
    """`code_usage.json` (per level: codes used and the separation of every label), `genomes.tsv`
    (the genomes in profile order with their labels), `profiles_level{n}.npy` (genomes × codes
    frequencies) and `code_usage_pca.png` (the profiles' first two principal components, coloured
    by the first label) of an `evaluation.lineages.lineage_study` result."""
    from vqdna.plots import pca_scatter_grid

    folder = Path(folder)
    write_json(
        folder / "code_usage.json",
        {"tokenizer": tokenizer, "genomes": len(names), "labels": list(label_sets), "levels": result["levels"]},
    )
    columns = list(label_sets)
    lines = ["\t".join(["name", *columns])]
    lines += ["\t".join([name, *(label_sets[c][i] for c in columns)]) for i, name in enumerate(names)]
    write_text(folder / "genomes.tsv", "\n".join(lines) + "\n")
    for n, profile in enumerate(result["profiles"]):
        with atomic_path(folder / f"profiles_level{n}.npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, profile.astype(np.float32))
    first = columns[0]
    panels = {
        f"level {level['level']}, {level['codes']} codes, 1-NN {level['separation'][first]['nearest_neighbour_accuracy']:.2f}": np.sqrt(
            profile
        )
        for level, profile in zip(result["levels"], result["profiles"])
    }
    pca_scatter_grid(
        folder / "code_usage_pca.png",
        panels,
        label_sets[first],
        title=f"code profiles per genome (square-rooted frequencies), coloured by {first}",
    )
