"""vqdna as a transformers user meets it: AutoTokenizer / AutoModel with trust_remote_code (also
where vqdna is not installed), the tokenizer's calling convention, and pipelines."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer, pipeline

from helpers import random_sequences, save_untrained_model, untrained_vq
from vqdna.config import BPEConfig
from vqdna.errors import UserError
from vqdna.hf_tokenizer import VQDNATokenizer
from vqdna.tokenizers import MASK_TOKEN_ID, NUM_SPECIAL, PAD_TOKEN_ID, BPETokenizer, KmerTokenizer


@pytest.fixture(autouse=True)
def _modules_cache(tmp_path, monkeypatch):
    # trust_remote_code copies a folder's code into HF_MODULES_CACHE: keep it out of ~/.cache
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "hf_modules"))


def _bpe(rng):
    return BPETokenizer.train(random_sequences(rng, 200, 0.5, length=80), BPEConfig(vocab_size=40))


def _genome_tokenizers(rng):
    return {
        "kmer": KmerTokenizer(3),
        "kmer-overlapping": KmerTokenizer(4, overlapping=True),
        "bpe": _bpe(rng),
        "vq": untrained_vq(stride=2),
        "hrq": untrained_vq(levels=2),
    }


@pytest.mark.parametrize("kind", ["kmer", "kmer-overlapping", "bpe", "vq", "hrq"])
def test_hf_tokenizer_gives_vqdnas_ids_padded_and_loads_back_through_autotokenizer(tmp_path, rng, kind):
    genome = _genome_tokenizers(rng)[kind]
    seqs = random_sequences(rng, 3, 0.5, length=30) + ["ACGTNNACGTRYacgt"]
    tok = VQDNATokenizer(genome)
    batch = tok(seqs, padding=True, return_tensors="pt")
    expected = genome(seqs)
    assert torch.equal(batch["input_ids"], expected["input_ids"])
    assert torch.equal(batch["attention_mask"], expected["attention_mask"])

    # one sequence without padding: plain lists, as transformers tokenizers give them
    single = tok(seqs[0])
    assert single["input_ids"] == genome.encode(seqs[0]).tolist()
    assert single["attention_mask"] == [1] * len(single["input_ids"])
    as_numpy = tok(seqs, padding="longest", return_tensors="np")
    assert isinstance(as_numpy["input_ids"], np.ndarray) and as_numpy["input_ids"].shape == tuple(
        expected["input_ids"].shape
    )

    tok.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["auto_map"]["AutoTokenizer"][0] == "hf_tokenizer.VQDNATokenizer"
    assert (tmp_path / "hf_tokenizer.py").is_file() and (tmp_path / "tokenizer" / "config.json").is_file()
    loaded = AutoTokenizer.from_pretrained(tmp_path, trust_remote_code=True)
    assert type(loaded).__name__ == "VQDNATokenizer" and loaded.kind == genome.kind
    assert torch.equal(loaded(seqs, padding=True, return_tensors="pt")["input_ids"], expected["input_ids"])


def test_padding_to_max_length_left_and_right_and_to_a_multiple(rng):
    for genome in (KmerTokenizer(3), untrained_vq(levels=2)):
        tok = VQDNATokenizer(genome)
        out = tok(["ACGTAC", "ACG"], padding="max_length", max_length=8, return_tensors="pt")
        assert out["input_ids"].shape == (2, 8, genome.num_levels)[: out["input_ids"].dim()]
        lengths = [genome.num_tokens(6), genome.num_tokens(3)]
        assert out["attention_mask"].tolist() == [[1] * n + [0] * (8 - n) for n in lengths]
        assert (out["input_ids"][0, lengths[0] :] == PAD_TOKEN_ID).all()
        left = tok(["ACGTAC", "ACG"], padding=True, padding_side="left", return_tensors="pt")
        right = tok(["ACGTAC", "ACG"], padding=True, return_tensors="pt")
        n = right["attention_mask"][1].sum()
        assert torch.equal(left["input_ids"][1, -n:], right["input_ids"][1, :n])
        assert (left["input_ids"][1, :-n] == PAD_TOKEN_ID).all()
        assert tok(["ACGTACG"], padding=True, pad_to_multiple_of=4, return_tensors="pt")["input_ids"].shape[1] % 4 == 0


def test_truncation_is_opt_in_and_warns(rng):
    tok = VQDNATokenizer(KmerTokenizer(2))
    seq = "ACGTACGTAC"  # 5 tokens
    assert len(tok(seq, max_length=3)["input_ids"]) == 5  # not cut without truncation=True
    with pytest.warns(UserWarning, match="cut 2 tokens .* max_length=3"):
        cut = tok(seq, truncation=True, max_length=3)
    assert cut["input_ids"] == tok(seq)["input_ids"][:3]
    tok.truncation_side = "left"
    assert tok(seq, truncation=True, max_length=3)["input_ids"] == tok(seq)["input_ids"][-3:]


def test_mask_token_in_text_is_one_token_and_decode_gives_bases_back(rng):
    kmer = VQDNATokenizer(KmerTokenizer(3))
    ids = kmer("ACGTTT[MASK]GGA")["input_ids"]
    assert ids == kmer("ACGTTT")["input_ids"] + [MASK_TOKEN_ID] + kmer("GGA")["input_ids"]
    assert kmer.decode(ids) == "ACGTTT[MASK]GGA"
    assert kmer.decode(ids, skip_special_tokens=True) == "ACGTTTGGA"
    assert kmer.batch_decode([kmer("ACGTTA")["input_ids"]]) == ["ACGTTA"]
    assert kmer.batch_decode(kmer(["ACG", "ACGTTT"])["input_ids"]) == ["ACG", "ACGTTT"]  # unpadded: unequal lengths
    assert kmer.decode(kmer("ACGNACGT")["input_ids"], skip_special_tokens=True) == "ACGNNNGT"  # [UNK]: k N's, kept
    offsets = kmer(["ACGTAC", "A"], padding=True, return_offsets_mapping=True, return_tensors="pt")["offset_mapping"]
    assert offsets.tolist() == [[[0, 3], [3, 6]], [[0, 1], [0, 0]]]
    assert kmer.tokenize("ACGTTA") == ["ACG", "TTA"]

    vq = VQDNATokenizer(untrained_vq(stride=2))
    plain = vq("ACGTACGTAC")["input_ids"]
    masked = vq("ACGT[MASK]GTAC")["input_ids"]  # the mask stands for bases 4-5: token 2
    assert len(masked) == len(plain) and masked[2] == MASK_TOKEN_ID
    with pytest.raises(UserError, match="multiple of 2"):
        vq("ACG[MASK]TACGTAC")
    assert len(vq.decode(plain)) == 10 and set(vq.decode(plain)) <= set("ACGTN")

    hrq = VQDNATokenizer(untrained_vq(levels=2))
    tokens = hrq.tokenize("ACGTA")
    assert len(tokens) == 5 and all(t.startswith("<") and t.count(".") == 1 for t in tokens)
    empty = hrq(["", ""], padding=True, return_tensors="pt")["input_ids"]
    assert empty.shape == (2, 0, 2) and hrq.batch_decode(empty) == ["", ""] and hrq.tokenize("") == []


def test_bad_input_is_named(rng):
    tok = VQDNATokenizer(KmerTokenizer(3))
    with pytest.raises(UserError, match="#1"):
        tok(["ACGT", "ACXT"])
    with pytest.raises(UserError, match="text_pair"):
        tok("ACGT", "ACGT")
    with pytest.raises(UserError, match="#0: expected a DNA sequence"):
        tok([5])


def test_model_folder_loads_with_auto_classes_and_trust_remote_code(tmp_path):
    folder = save_untrained_model(untrained_vq(), tmp_path / "model", input_mode="quantized")
    config = json.loads((folder / "config.json").read_text())
    assert set(config["auto_map"]) == {
        "AutoConfig",
        "AutoModel",
        "AutoModelForMaskedLM",
        "AutoModelForSequenceClassification",
    }
    for name in ("modeling.py", "config.py", "hf_tokenizer.py", "tokenizer_config.json"):
        assert (folder / name).is_file(), name
    tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    inputs = tok(["ACGTACGTAC", "ACGTA"], padding=True, return_tensors="pt")
    mlm = AutoModelForMaskedLM.from_pretrained(folder, trust_remote_code=True).eval()
    out = mlm(**inputs, output_hidden_states=True)
    # one level: logits a tensor (batch, tokens, vocab), as transformers' masked LMs give them
    assert isinstance(out.logits, torch.Tensor) and out.logits.shape == (2, 10, tok.vocab_size)
    assert len(out.hidden_states) == mlm.config.num_hidden_layers + 1
    as_tuple = mlm(**inputs, return_dict=False)
    assert torch.allclose(as_tuple[0], out.logits)
    encoder = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    assert encoder(**inputs).last_hidden_state.shape == (2, 10, mlm.config.hidden_size)
    classifier = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True, num_labels=3)
    assert classifier(**inputs).logits.shape == (2, 3)


def _readme_transformers_block() -> str:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    after = readme.split("<!-- the block below is run by tests/test_transformers.py -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_lines_load_a_copied_folder_where_vqdna_is_not_installed(tmp_path):
    """The README's lines, run as they are, in a Python that has torch and transformers but cannot
    import vqdna, on an HRQ model folder copied elsewhere."""
    folder = save_untrained_model(untrained_vq(levels=2), tmp_path / "model", input_mode="quantized")
    elsewhere = tmp_path / "copied"
    shutil.copytree(folder, elsewhere)
    lines = _readme_transformers_block()
    assert lines.count('"runs/mcm_hrq"') == 2
    script = "\n".join(
        [
            "import importlib.util",
            'assert importlib.util.find_spec("vqdna") is None, "vqdna is importable: the test proves nothing"',
            lines.replace('"runs/mcm_hrq"', repr(str(elsewhere))),
            "print(tuple(hidden.shape))",
        ]
    )
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(site_packages),  # torch, transformers, … but not vqdna:
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "HF_HUB_OFFLINE": "1",
    }
    # -S: no site module, so the .pth file that makes the editable vqdna importable is not read
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "(2, 10, 32)"


def test_pipelines_feature_extraction_fill_mask_and_text_classification(tmp_path):
    folder = save_untrained_model(untrained_vq(), tmp_path / "model", input_mode="quantized")
    features = pipeline("feature-extraction", model=str(folder), trust_remote_code=True)
    out = np.asarray(features("ACGTACGTAC"))
    assert out.shape == (1, 10, 32)

    fill = pipeline("fill-mask", model=str(folder), trust_remote_code=True, top_k=3)
    guesses = fill("ACGTA[MASK]GTAC")
    assert len(guesses) == 3 and all(g["token"] >= NUM_SPECIAL for g in guesses)
    assert all(len(g["sequence"]) == 10 and "[MASK]" not in g["sequence"] for g in guesses)
    scores = [g["score"] for g in guesses]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-6

    kmer = save_untrained_model(KmerTokenizer(3), tmp_path / "kmer")
    classifier = AutoModelForSequenceClassification.from_pretrained(
        kmer, trust_remote_code=True, num_labels=2, id2label={0: "no_site", 1: "site"}
    )
    classified = tmp_path / "classifier"
    from vqdna.inference import save_model_folder

    save_model_folder(classifier, KmerTokenizer(3), classified)
    classify = pipeline("text-classification", model=str(classified), trust_remote_code=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = classify(["ACGTACGTACGG", "TTTTAAAACCCC"])
    assert [r["label"] in ("no_site", "site") for r in labels] == [True, True]
    assert all(0.5 <= r["score"] <= 1 for r in labels)


# ---------------------------------------------------------------- other transformers models as rows
@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory):
    """A small BertForMaskedLM with a BPE tokenizer, both made here (no download is possible)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    rng = np.random.default_rng(3)
    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=60, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    bpe.train_from_iterator(random_sequences(rng, 300, 0.5, length=80), trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    bpe.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", bpe.token_to_id("[CLS]")), ("[SEP]", bpe.token_to_id("[SEP]"))],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    folder = tmp_path_factory.mktemp("bert") / "model"
    BertForMaskedLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_transformers_model_is_fine_tuned_predicted_embedded_and_benchmarked_like_vqdnas(
    tmp_path, bert_folder, capsys
):
    import csv

    from helpers import gc_task
    from vqdna.cli import main

    task = gc_task(tmp_path / "suite" / "gc", sizes=(120, 40, 40))
    recipe = json.dumps({"max_steps": 30, "eval_steps": 10, "learning_rate": 3e-3, "batch_size": 16, "use_lora": False})
    out = tmp_path / "ft"
    args = ["-q", "finetune", "--model", str(bert_folder), "--data-path", str(task), "--output-dir", str(out)]
    assert main([*args, "--config", recipe, "--seeds", "1", "--pooling", "max"]) == 2  # not vqdna's head: refused
    assert "pooling: " in capsys.readouterr().err and not out.exists()
    assert main([*args, "--config", recipe, "--seeds", "1"]) == 0
    result = json.loads((out / "eval_results.json").read_text())
    assert result["per_seed"][0]["steps"] == 30 and -1 <= result["test_mcc"] <= 1
    model = out / "seed_1" / "model"
    config = json.loads((model / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertForSequenceClassification"]
    assert (model / "tokenizer.json").is_file()  # its own tokenizer, as transformers saves it

    # the fine-tuned folder predicts through vqdna and through transformers alike
    test_csv = task / "test.csv"
    assert (
        main(["-q", "predict", "--model", str(out), "--csv", str(test_csv), "--output", str(tmp_path / "p.csv")]) == 0
    )
    predicted = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert len(predicted) == 40 and {r["predicted_label"] for r in predicted} <= set(result["label_names"])
    classify = pipeline("text-classification", model=str(model))
    first = next(csv.DictReader(open(test_csv)))["sequence"]
    assert classify(first)[0]["label"] == predicted[0]["predicted_label"]

    assert (
        main(["-q", "embed", "--model", str(bert_folder), "--csv", str(test_csv), "--output", str(tmp_path / "e.npy")])
        == 0
    )
    assert np.load(tmp_path / "e.npy").shape == (40, 32)

    bench = tmp_path / "bench"
    assert (
        main(
            [
                "-q",
                "benchmark",
                "--suite",
                str(tmp_path / "suite"),
                "--tokenizers",
                f"bert={bert_folder}",
                "--baselines",
                "kmer-lr",
                "--output-dir",
                str(bench),
                "--config",
                recipe,
                "--seeds",
                "1",
            ]
        )
        == 0
    )
    rows = {r["model"]: r for r in csv.DictReader(open(bench / "results.csv"))}
    assert set(rows) == {"kmer-lr", "bert", "bert-scratch"}
    assert rows["bert"]["source"] == str(bert_folder)


def test_a_model_that_ships_code_needs_trust_remote_code(tmp_path):
    from vqdna.cli import main

    folder = save_untrained_model(KmerTokenizer(3), tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "vqdna-remote"  # unknown to transformers: only its auto_map can load it
    (folder / "config.json").write_text(json.dumps(config))
    task = tmp_path / "t"
    from helpers import gc_task

    gc_task(task, sizes=(20, 10, 10))
    args = ["-q", "embed", "--model", str(folder), "--csv", str(task / "test.csv"), "--output", str(tmp_path / "e.npy")]
    assert main(args) == 2
    assert main([*args, "--trust-remote-code"]) == 0


# ---------------------------------------------------------------- tasks in the datasets format
def _dataset_on_disk(folder, rng, validation_name="validation", class_label=True):
    import datasets  # a dev dependency (the hf extra)

    features = datasets.Features(
        {
            "dna": datasets.Value("string"),
            "target": datasets.ClassLabel(names=["low_gc", "high_gc"]) if class_label else datasets.Value("int64"),
        }
    )
    parts = {}
    for n, (split, size) in enumerate((("train", 80), (validation_name, 20), ("test", 20))):
        low, high = random_sequences(rng, size // 2, 0.3), random_sequences(rng, size // 2, 0.7)
        parts[split] = datasets.Dataset.from_dict(
            {"dna": low + high, "target": [0] * len(low) + [1] * len(high)}, features=features
        )
    datasets.DatasetDict(parts).save_to_disk(str(folder))
    return folder


def test_task_from_a_dataset_on_disk_and_finetune_with_dataset(tmp_path, rng, kmer_model):
    from vqdna.cli import main
    from vqdna.seqio import Task

    folder = _dataset_on_disk(tmp_path / "gc_dataset", rng)
    task = Task.from_hf_dataset(folder, sequence_column="dna", label_column="target")
    assert task.task_type == "classification" and task.label_names == ["high_gc", "low_gc"]
    assert [len(task.splits[s]) for s in ("train", "dev", "test")] == [80, 20, 20]
    # ClassLabel ids become their names: the first 40 training rows are low-GC
    names = np.array(task.label_names)[task.targets["train"]]
    assert (names[:40] == "low_gc").all() and (names[40:] == "high_gc").all()

    out = tmp_path / "ft"
    recipe = json.dumps({"max_steps": 4, "eval_steps": 2, "batch_size": 16, "use_lora": False})
    args = ["-q", "finetune", "--model", str(kmer_model), "--dataset", str(folder), "--output-dir", str(out)]
    args += ["--sequence-column", "dna", "--label-column", "target", "--config", recipe, "--seeds", "1"]
    assert main(args) == 0
    result = json.loads((out / "eval_results.json").read_text())
    assert result["label_names"] == ["high_gc", "low_gc"] and result["examples"] == {"train": 80, "dev": 20, "test": 20}
    assert main([*args, "--resume"]) == 0  # the same dataset: the finished run is reused


def test_a_dataset_without_the_splits_or_columns_is_named(tmp_path, rng, capsys):
    from vqdna.seqio import Task

    folder = _dataset_on_disk(tmp_path / "d", rng, validation_name="holdout")
    with pytest.raises(UserError, match="no dev split .*train, holdout, test"):
        Task.from_hf_dataset(folder, sequence_column="dna", label_column="target")
    folder = _dataset_on_disk(tmp_path / "e", rng)
    with pytest.raises(UserError, match="has no column 'sequence' .*dna, target"):
        Task.from_hf_dataset(folder)
    with pytest.raises(UserError, match="cannot load it with datasets"):
        Task.from_hf_dataset(tmp_path / "nothing_here")


def test_position_limits_and_sharded_weights_of_other_models(tmp_path):
    from transformers import BertConfig, BertModel, RobertaConfig

    from vqdna.inference import load_model, position_limit, weights_files

    # RoBERTa/ESM positions start after the padding id: 12 positions take 11 tokens
    assert position_limit(RobertaConfig(max_position_embeddings=12, pad_token_id=0)) == 11
    assert position_limit(BertConfig(max_position_embeddings=12)) == 12
    assert position_limit(BertConfig(position_embedding_type="relative_key")) is None
    torch.manual_seed(0)
    bert = BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64))
    bert.save_pretrained(tmp_path, max_shard_size="200KB")
    assert len(weights_files(tmp_path)) > 1  # sharded: read through the index
    loaded = load_model(tmp_path)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), bert.state_dict().values()))


def test_a_sequence_with_more_tokens_than_the_model_has_positions_is_named_by_its_record(tmp_path, bert_folder, capsys):
    # The error comes from a later streaming batch than the first: it must still name the record
    # of the file (not its place in that batch). 128 positions, ~2 bp per token here.
    from vqdna.cli import main

    rng = np.random.default_rng(5)
    fasta = tmp_path / "in.fa"
    seqs = random_sequences(rng, 5, 0.5, length=60)
    seqs[3] = random_sequences(rng, 1, 0.5, length=3000)[0]
    fasta.write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(seqs)))
    out = tmp_path / "e.npy"
    args = [
        "-q",
        "embed",
        "--model",
        str(bert_folder),
        "--fasta",
        str(fasta),
        "--batch-size",
        "2",
        "--output",
        str(out),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "r3" in err and "more than the 128 positions this model has" in err and not out.exists()
