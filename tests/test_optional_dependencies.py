"""matplotlib and rich are optional: without them vqdna runs, leaves figures out with a note, and
prints plain tables; a figure asked for by an option is an error saying what to install."""

import subprocess
import sys

import numpy as np

from vqdna import plots
from vqdna.cli import _print_table, main


def test_vqdna_imports_without_matplotlib_and_rich():
    script = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['rich'] = None\n"
        "import vqdna.cli, vqdna.plots, vqdna.benchmark, vqdna.demo, vqdna.training.pretrain, vqdna.training.finetune\n"
        "assert vqdna.plots.plt is None\n"
        "vqdna.cli._print_table('t', ['model', 'mcc'], [['vq', '0.5']])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[1:] == ["model  mcc", "vq     0.5"]


def test_figures_are_left_out_with_one_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(plots, "plt", None)
    monkeypatch.setattr(plots, "_noted", False)
    plots.line_plot(tmp_path / "a.png", [1, 2], [("loss", {"train": [1.0, 0.5]})], title="t", xlabel="step")
    plots.code_usage_plot(tmp_path / "b.png", [np.array([3, 1])], title="t")
    assert not list(tmp_path.iterdir())
    err = capsys.readouterr().err
    assert err.count("matplotlib is not installed") == 1 and "a.png" in err and "vqdna[plots]" in err


def test_a_figure_asked_for_needs_matplotlib(tmp_path, monkeypatch, capsys, diphtheriae_path):
    from vqdna.tokenizers import KmerTokenizer

    KmerTokenizer(3).save_pretrained(tmp_path / "tok")
    monkeypatch.setattr(plots, "plt", None)
    args = ["eval-tokenizer", "--tokenizer", str(tmp_path / "tok"), "--fasta", str(diphtheriae_path)]
    assert main([*args, "--plot", str(tmp_path / "usage.png")]) == 2
    assert "--plot: drawing a figure needs matplotlib: pip install 'vqdna[plots]'" in capsys.readouterr().err


def test_plain_table_without_rich(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rich.console", None)
    _print_table("results", ["task", "mcc"], [["a", "0.25"], ["longer", "0.5"]], footer=["note"])
    assert capsys.readouterr().out.splitlines() == ["results", "task     mcc", "a       0.25", "longer   0.5", "note"]


def test_table_text_in_brackets_is_printed_as_it_is(capsys):
    # rich would read "[old]" and "[bold]" as markup (dropping them) and "[/x]" as a closing tag (an error)
    _print_table("genomes of data/[old]/g.fa", ["label"], [["[bold]clade"]], footer=["written to runs/[/x] ok"])
    out = capsys.readouterr().out
    assert "data/[old]/g.fa" in out and "[bold]clade" in out and "runs/[/x] ok" in out
