"""The `vqdna` command: a thin layer over importable functions."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from vqdna.alphabet import SequenceError
from vqdna.config import PRESETS
from vqdna.storage import CheckpointError, atomic_path, write_json
from vqdna.tokenizers import KINDS


def _train_tokenizer(args) -> None:
    from vqdna.training.tokenizer import train_tokenizer

    weights = [float(w) for w in args.species_weights.split(",")] if args.species_weights else None
    tok = train_tokenizer(
        args.kind, args.fasta, args.output_dir, preset=args.preset, config=args.config, max_steps=args.max_steps,
        seed=args.seed, species_weights=weights, resume=args.resume, quiet=args.quiet,
    )
    if tok is not None:  # None on the non-zero ranks of a torchrun run
        _say(args, f"{args.kind} tokenizer saved to {args.output_dir} (vocab {tok.vocab_size}, {tok.metadata.get('wall_seconds')} s)")


def _eval_tokenizer(args) -> None:
    from vqdna.corpus import Genome
    from vqdna.evaluation.tokenizer import evaluate_tokenizer
    from vqdna.tokenizers import load_tokenizer

    tok = load_tokenizer(args.tokenizer, device=args.device)
    genomes = [Genome.from_fasta(f) for f in args.fasta]
    result = evaluate_tokenizer(tok, genomes, window_bp=args.window_bp)
    result["tokenizer"] = str(args.tokenizer)
    counts = result.pop("code_counts")
    if args.json:
        write_json(args.json, result)
    if args.plot:
        from vqdna.plots import code_usage_plot

        code_usage_plot(args.plot, counts, title=f"{tok.kind} code usage on {', '.join(result['species'])}")
    if not args.quiet:
        _print_table(result)


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['kind']} tokenizer on {', '.join(result['species'])} ({result['bp']:,} bp)")
    table.add_column("metric")
    table.add_column("value", justify="right")

    def fmt(v):
        if isinstance(v, list):
            return " / ".join(fmt(x) for x in v)
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    for key in ("reconstruction_accuracy", "codebook_size", "code_usage", "perplexity", "tokens_per_bp", "bp_per_second", "lossless"):
        table.add_row(key, fmt(result[key]))
    Console().print(table)


def _tokenize(args) -> None:
    from vqdna.tokenizers import load_tokenizer

    tok = load_tokenizer(args.tokenizer, device=args.device)
    if args.fasta:
        from vqdna.seqio import read_fasta

        records = [(r.name, r.sequence, None) for r in read_fasta(args.fasta)]
    else:
        from vqdna.seqio import read_labeled_csv

        data = read_labeled_csv(args.csv)
        records = [(f"line{i + 2}", s, lab) for i, (s, lab) in enumerate(zip(data.sequences, data.labels))]
    encodings = tok.encode_batch([r[1] for r in records])
    with atomic_path(args.output) as tmp, open(tmp, "w") as fh:
        for (name, seq, label), enc in zip(records, encodings):
            row = {"id": name, "length_bp": len(seq), "input_ids": enc.ids}
            if label is not None:
                row["label"] = label
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    _say(args, f"{len(records)} sequences, {sum(len(e) for e in encodings):,} tokens -> {args.output}")


def _pretrain(args) -> None:
    from vqdna.training.pretrain import pretrain

    weights = [float(w) for w in args.species_weights.split(",")] if args.species_weights else None
    from vqdna.config import json_option

    config = json_option(args.config) if args.config else None
    result = pretrain(
        args.tokenizer, args.fasta, args.output_dir, preset=args.preset, config=config, max_steps=args.max_steps,
        mask_ratio=args.mask_ratio, seed=args.seed, species_weights=weights, resume=args.resume, quiet=args.quiet,
    )
    if result:
        _say(args, f"masked accuracy {result['masked_accuracy']} vs frequency baseline {result['baseline_accuracy']} "
             f"({result['steps']} steps, {result['wall_seconds']} s) -> {args.output_dir}")


def _demo(args) -> None:
    from vqdna.demo import run_demo

    run_demo(args.output_dir, quick=args.quick, seed=args.seed, quiet=args.quiet)


def _data(args) -> None:
    from vqdna.datasets import DATASETS

    for d in DATASETS.values():
        where = str(d.path()) if d.available() else f"not installed ({d.install})"
        print(f"{d.name}: {d.species}, {d.description}\n  package {d.package}, licence {d.licence}\n  {where}")


def _say(args, text: str) -> None:
    if not args.quiet:
        print(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vqdna", description="Learned genome tokenization and genomic language modeling (VQDNA).")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or tables")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-tokenizer", help="train a VQ-VAE, HRQ, BPE or k-mer tokenizer on FASTA genomes")
    p.add_argument("--kind", choices=KINDS, required=True)
    p.add_argument("--fasta", nargs="+", required=True, help="FASTA files (plain or .gz), one species per file")
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument("--config", help="JSON file or inline JSON overriding the preset: {\"model\": {...}, \"training\": {...}, \"bpe\": {...}, \"kmer\": {...}}")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--species-weights", help="comma-separated sampling weight per FASTA file (default: equal)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUTPUT_DIR/checkpoints")
    p.set_defaults(func=_train_tokenizer)

    p = sub.add_parser("eval-tokenizer", help="reconstruction, code usage, perplexity, tokens/bp and speed on FASTA genomes")
    p.add_argument("--tokenizer", required=True, type=Path)
    p.add_argument("--fasta", nargs="+", required=True)
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--plot", type=Path, help="write a code-usage PNG here")
    p.add_argument("--window-bp", type=int, default=1024)
    p.add_argument("--device", default=None, help="e.g. cpu, cuda (default: cpu)")
    p.set_defaults(func=_eval_tokenizer)

    p = sub.add_parser("tokenize", help="encode sequences to token ids (JSON lines)")
    p.add_argument("--tokenizer", required=True, type=Path)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", type=Path)
    src.add_argument("--csv", type=Path, help="a sequence,label CSV")
    p.add_argument("--output", required=True, type=Path)
    p.add_argument("--device", default=None)
    p.set_defaults(func=_tokenize)

    p = sub.add_parser("pretrain", help="masked code modeling: pretrain an encoder on a tokenizer's output")
    p.add_argument("--tokenizer", required=True, type=Path)
    p.add_argument("--fasta", nargs="+", required=True)
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument("--config", help="JSON file or inline JSON overriding the preset's pretrain values")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--mask-ratio", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--species-weights")
    p.add_argument("--resume", action="store_true")
    p.set_defaults(func=_pretrain)

    p = sub.add_parser("demo", help="run the pipeline on built-in real genomes and write a report")
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--quick", action="store_true", help="a short run (a few minutes)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_demo)

    p = sub.add_parser("data", help="list the built-in real datasets, their sources and licences")
    p.set_defaults(func=_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    from vqdna.training.tokenizer import RunError

    try:
        args.func(args)
    except (SequenceError, CheckpointError, RunError, ValueError, FileNotFoundError) as exc:
        print(f"vqdna {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vqdna {args.command}: interrupted; earlier outputs are intact (train-tokenizer: rerun with --resume)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
