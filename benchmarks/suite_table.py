"""The benchmark's tables (results.csv, results.md, results.png) from every finished cell of a
benchmark folder or of its saved records (benchmarks/suite_records.sh), without retraining
anything and without the models.

`vqdna benchmark` writes the tables of the rows its own command asked for; a table grown over
several commands and sessions (one task or tokenizer at a time) is put together here, by the
benchmark's own table writer, from the cells' eval_results.json. Unfinished cells are listed,
not tabled; a cell over other seeds than the rest is tabled, and results.md says so. (The benchmark itself
refuses to reuse a cell run with other settings or inputs, so one folder's cells share them.)

    python benchmarks/suite_table.py benchmarks/results/gue_tiny            # rewrites its results.*
    python benchmarks/suite_table.py runs/suite --output-dir runs/suite_table --tasks mouse_tf_0,human_tf_1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vqdna.baselines import KINDS as BASELINES
from vqdna.benchmark import SCRATCH, _row, write_results
from vqdna.seqio import declared_strand_specific
from vqdna.storage import write_text

TOKENIZER_ORDER = ("vq", "hrq", "bpe", "kmer")


def model_order(names: set[str]) -> list[str]:
    """Baselines first, then each tokenizer beside its scratch twin (the benchmark's order)."""
    order = [b for b in BASELINES if b in names]
    tokenizers = sorted({n.removesuffix(SCRATCH) for n in names if n not in BASELINES}, key=_tokenizer_key)
    for t in tokenizers:
        order += [n for n in (t, t + SCRATCH) if n in names]
    return order


def _tokenizer_key(name: str) -> tuple[int, str]:
    return (TOKENIZER_ORDER.index(name) if name in TOKENIZER_ORDER else len(TOKENIZER_ORDER), name)


def settings_notes(configs: list[tuple[str, str, str, dict, set[str]]]) -> list[str]:
    """Cells whose settings differ from the rest of their kind (every fine-tuning cell, or every cell
    of one baseline): (task, cell, kind, config, settings exempt from the comparison) each. The
    benchmark refuses to reuse a cell run with other settings, but another command can add cells to
    the same folder, and one table should not mix recipes unsaid. Seeds may differ (said by the
    table itself)."""
    notes = []
    for kind in dict.fromkeys(c[2] for c in configs):
        group = [(t, c, cfg, exempt) for t, c, k, cfg, exempt in configs if k == kind]
        texts = [json.dumps(cfg, sort_keys=True) for _, _, cfg, _ in group]
        usual = json.loads(max(dict.fromkeys(texts), key=texts.count))  # a tie: the first seen, every run
        for task, cell, cfg, exempt in group:
            changed = sorted(k for k in (set(cfg) | set(usual)) - exempt if cfg.get(k) != usual.get(k))
            if changed:
                notes.append(
                    f"{task} × {cell}: other settings than the rest of its kind ("
                    + ", ".join(f"{k}: {usual.get(k)!r} -> {cfg.get(k)!r}" for k in changed)
                    + ")"
                )
    return notes


def gather(folder: Path, tasks: list[str] | None) -> tuple[list[dict], list[str], list[str]]:
    """(rows, model order, notes on cells left out) of every finished fine-tuning or baseline cell
    under `folder`."""
    rows, notes, configs = [], [], []
    # the model folders the benchmark's last command named (its results.csv's "source" column)
    sources = (
        json.loads((folder / "benchmark.json").read_text()).get("models", {})
        if (folder / "benchmark.json").is_file()
        else {}
    )
    task_dirs = (
        [folder / t for t in tasks]
        if tasks
        else sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in ("models", "tokenizers", "token_cache"))
    )
    for task in task_dirs:
        if not task.is_dir():
            raise SystemExit(f"{task}: no such task folder in {folder}")
        for cell in sorted(p for p in task.iterdir() if (p / "run.json").is_file()):
            name = cell.name
            run = json.loads((cell / "run.json").read_text())
            if run.get("command") not in ("finetune", "baseline"):
                continue
            finished = cell / "eval_results.json"
            if not finished.is_file():
                seeds = sorted(p.parent.name[5:] for p in cell.glob("seed_*/eval_results.json"))
                notes.append(
                    f"{task.name} × {name}: unfinished, {len(seeds)} seed(s) done ({', '.join(seeds) or 'none'})"
                )
                continue
            result = json.loads(finished.read_text())
            kind = "baseline" if name in BASELINES else "scratch" if name.endswith(SCRATCH) else "pretrained"
            config = {k: v for k, v in run["inputs"].get("config", {}).items() if k != "seeds"}
            # the benchmark itself switches reverse_complement off on a task its task.json declares
            # strand-specific: read where the cell's task came from (its run.json), if still there
            source = Path(run["inputs"].get("task", ""))
            exempt = {"reverse_complement"} if source.is_dir() and declared_strand_specific(source) else set()
            configs.append((task.name, name, name if kind == "baseline" else "finetune", config, exempt))
            tokenizer = "" if kind == "baseline" else name.removesuffix(SCRATCH)
            model = sources.get(tokenizer) or run["inputs"].get("model")
            rows.append(_row(task.name, name, kind, tokenizer, Path(model) if model else None, result))
    # cells over other seeds than the rest are tabled and said in results.md by the table writer
    notes += settings_notes(configs)
    order = model_order({r["model"] for r in rows})
    names = [t.name for t in task_dirs]
    rows.sort(key=lambda r: (names.index(r["task"]), order.index(r["model"])))
    return rows, order, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a benchmark folder or its saved records")
    parser.add_argument("--output-dir", type=Path, help="where the tables go (default: FOLDER)")
    parser.add_argument("--tasks", help="comma-separated tasks, in the table's order (default: every task folder)")
    args = parser.parse_args(argv)
    if not (args.folder / "benchmark.json").is_file() and not (args.folder / "run.json").is_file():
        print(f"{args.folder}: not a benchmark folder or its records (no benchmark.json or run.json)", file=sys.stderr)
        return 1
    rows, order, notes = gather(args.folder, args.tasks.split(",") if args.tasks else None)
    if not rows:
        print(f"{args.folder}: no finished cell", file=sys.stderr)
        return 1
    out = args.output_dir or args.folder
    out.mkdir(parents=True, exist_ok=True)
    write_results(out, rows, order)
    if notes:  # said where the table is read, not only here
        text = (out / "results.md").read_text()
        write_text(out / "results.md", text + "\n## Notes\n\n" + "".join(f"- {n}\n" for n in notes))
    print(f"{len(rows)} finished cells -> {out / 'results.md'}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
