"""`vqdna demo --quick` end to end on the built-in real genomes: the report holds what the run computed."""

import json
import re

from vqdna.cli import main


def test_quick_demo_writes_a_report_with_the_computed_numbers(tmp_path, diphtheriae_path):
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--output-dir", str(out), "--quick"]) == 0
    report = (out / "report.md").read_text()
    results = json.loads((out / "tokenizer_results.json").read_text())["results"]
    assert {r["tokenizer"] for r in results} == {"vq", "hrq", "bpe", "kmer"}
    assert len(results) == 8  # two evaluation sets each
    for r in results:
        row = f"| {r['tokenizer']} | {r['eval_set']} | {100 * r['reconstruction_accuracy']:.2f}% |"
        assert row in report
    by = {(r["tokenizer"], r["eval_set"][:2]): r for r in results}
    assert by[("kmer", "E.")]["reconstruction_accuracy"] == 1.0
    assert by[("bpe", "E.")]["tokens_per_bp"] < 0.5
    assert len(by[("hrq", "E.")]["code_usage"]) == 2
    assert by[("vq", "E.")]["reconstruction_accuracy"] > 0.9
    for fig in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", report):
        assert (out / fig).stat().st_size > 1000
    assert "code_usage_hrq.png" in report
    # a second run reuses the finished tokenizers and leaves them intact
    before = (out / "tokenizers" / "vq" / "model.safetensors").read_bytes()
    assert main(["-q", "demo", "--output-dir", str(out), "--quick"]) == 0
    assert (out / "tokenizers" / "vq" / "model.safetensors").read_bytes() == before


def test_data_lists_builtin_datasets(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "c_diphtheriae: Corynebacterium diphtheriae" in out and "licence GPL-3.0-or-later" in out
