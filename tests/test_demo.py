"""`vqdna demo --quick` end to end on the built-in real genomes: the report holds what the run computed."""

import csv
import json
import re

import pytest

from vqdna.builtin_data import DATASETS
from vqdna.cli import main
from vqdna.demo import SARS_COV_2_VARIANTS, shared_data_dir

pytestmark = pytest.mark.slow  # the whole file trains for longer than a few seconds


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    missing = [d.name for d in DATASETS.values() if not d.available()]
    if missing:
        pytest.skip(f"the demo needs the built-in datasets {missing}; `make setup` installs them (see `vqdna data`)")
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["-q", "demo", "--output-dir", str(out), "--quick"]) == 0
    return out


def test_report_holds_every_table_and_figure_with_the_computed_numbers(quick_demo):
    out = quick_demo
    report = (out / "report.md").read_text()
    quality = json.loads((out / "tokenizer_results.json").read_text())["results"]
    assert {r["tokenizer"] for r in quality} == {"vq", "hrq", "bpe", "kmer"} and len(
        quality
    ) == 16  # 4 evaluation sets each
    for r in quality:
        assert f"| {r['tokenizer']} | {r['eval_set']} | {100 * r['reconstruction_accuracy']:.2f}% |" in report
    assert {r["eval_set"] for r in quality} >= {"E. coli (unseen species)", "A. lyrata (unseen species)"}

    results = json.loads((out / "demo_results.json").read_text())
    for kind, r in results["pretraining"].items():
        assert f"| {kind} | {' / '.join(f'{100 * a:.2f}%' for a in r['masked_accuracy'])} |" in report
    rows = list(csv.DictReader(open(out / "downstream" / "results.csv")))
    models = ["kmer-lr", "cnn"] + [m for k in ("vq", "hrq", "bpe", "kmer") for m in (k, f"{k}-scratch")]
    tasks = {"doench2016": "spearman", "oct4_mafk": "mcc", "species": "mcc"}  # the regression task too
    assert [(r["task"], r["model"], r["metric"]) for r in rows] == [(t, m, tasks[t]) for t in tasks for m in models]
    for task, metric in tasks.items():
        assert all(r["seeds"] == "1" for r in rows)  # one seed: the score alone, no "± 0.00" spread
        cells = " | ".join(f"{100 * float(r['mean']):.2f}" for r in rows if r["task"] == task)
        assert f"| {task} | {metric} | {cells} |" in report  # every model's score, in the order above
    guides = json.loads((out / "downstream" / "doench2016" / "vq" / "finetune_config.json").read_text())
    assert guides["config"]["reverse_complement"] is False  # strand-specific: one strand, unlike the preset's default
    for r in rows:  # the table's score is the one its run wrote
        cell = json.loads((out / "downstream" / r["task"] / r["model"] / "eval_results.json").read_text())
        assert float(r["mean"]) == pytest.approx(cell[f"test_{r['metric']}"]), r
    assert "kmer-lr: deterministic, fitted once" in report and "cnn: deterministic" not in report
    assert (
        "### Margin over the best baseline" in report
        and "### Pretraining gain" in report
        and "| average rank (over 3 tasks) |" in report  # every row ran every task
    )

    variants = results["variants"]
    shared = shared_data_dir()  # where the demo looks for the development data
    if shared is not None and all((shared / f).is_file() for f in SARS_COV_2_VARIANTS):  # the variant family needs it
        probes = variants["probes"]
        assert list(probes) == [f"{k} (encoder)" for k in ("vq", "hrq", "bpe", "kmer")] + ["kmer-lr (baseline)"]
        for name, r in probes.items():
            assert f"| {name} | {100 * r['test_mcc']:.2f} | {100 * r['test_accuracy']:.2f}% |" in report
        genomes = variants["task"]["genomes"]
        assert sum(genomes["test"].values()) == 54 and "**split by genome**" in report
    else:
        assert variants is None and "SARS-CoV-2 variant data not found" in report

    mutations = results["mutations"]
    assert sum(mutations["mutations"].values()) > 0 and len(mutations["differing_codes"]) == 2
    assert f"the HRQ codes differ at {' / '.join(f'{x:,}' for x in mutations['differing_codes'])}" in report

    figures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", report)
    assert {
        "code_usage_vq.png",
        "code_usage_hrq.png",
        "downstream/results.png",
        "embeddings_pca.png",
        "code_diff.png",
    } <= set(figures)
    for fig in figures:
        assert (out / fig).stat().st_size > 1000
    assert results["quick"] and "torch" in results["versions"]


def test_a_second_run_reuses_every_finished_step(quick_demo):
    before = (quick_demo / "tokenizers" / "vq" / "model.safetensors").read_bytes()
    models = (quick_demo / "models" / "hrq" / "model.safetensors").read_bytes()
    assert main(["-q", "demo", "--output-dir", str(quick_demo), "--quick"]) == 0
    assert (quick_demo / "tokenizers" / "vq" / "model.safetensors").read_bytes() == before
    assert (quick_demo / "models" / "hrq" / "model.safetensors").read_bytes() == models


def test_data_lists_builtin_datasets(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "c_diphtheriae: Corynebacterium diphtheriae" in out and "licence GPL-3.0-or-later" in out
