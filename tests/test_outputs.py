"""The command outputs as library functions (vqdna.outputs) and the one input reader they stream
(seqio.iter_sequences): formats checked row by row against what the tokenizer and model give."""

import csv
import json

import numpy as np
import pytest
import torch

from vqdna.errors import UserError
from vqdna.inference import LoadedModel
from vqdna.outputs import batched, embedding_ids_path, write_embeddings, write_predictions, write_tokens
from vqdna.seqio import SequenceError, iter_sequences, tile_spans
from vqdna.tokenizers import KmerTokenizer


def test_tile_spans_is_the_one_tiling_rule():
    assert tile_spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert tile_spans(10, 4, keep_tail=False) == [(0, 4), (4, 8)]
    assert tile_spans(8, 4) == tile_spans(8, 4, keep_tail=False) == [(0, 4), (4, 8)]
    assert tile_spans(0, 4) == [] and tile_spans(3, 4, keep_tail=False) == []


def test_iter_sequences_reads_records_windows_and_rows_with_where_they_came_from(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">r1 desc\nACGTACGTAC\n>r2\nacgn\n")
    whole = list(iter_sequences(fasta=fasta))
    assert [(x.id, x.sequence, x.label) for x in whole] == [("r1", "ACGTACGTAC", ""), ("r2", "ACGN", "")]
    assert whole[1].where == f"{fasta}: record 'r2'"
    windows = list(iter_sequences(fasta=fasta, window_bp=4))
    assert [(x.id, x.sequence) for x in windows] == [
        ("r1:1-4", "ACGT"),
        ("r1:5-8", "ACGT"),
        ("r1:9-10", "AC"),
        ("r2:1-4", "ACGN"),
    ]
    table = tmp_path / "s.csv"
    table.write_text("sequence,label\nACGT,1\n\nTTGA,0\n")
    rows = list(iter_sequences(csv=table))
    assert [(x.id, x.sequence, x.label, x.where) for x in rows] == [
        ("line2", "ACGT", "1", f"{table}: line 2"),
        ("line4", "TTGA", "0", f"{table}: line 4"),
    ]
    with pytest.raises(UserError, match="--window-bp cuts the records of --fasta"):
        iter_sequences(csv=table, window_bp=4)  # refused at the call, before anything is read


def test_batched():
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]] and list(batched([], 3)) == []


def test_write_tokens_holds_the_tokenizer_ids(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">a\nACGTACGTAA\n>b\nTTTT\n")
    tok = KmerTokenizer(3)
    out = tmp_path / "t.jsonl"
    assert write_tokens(out, tok, iter_sequences(fasta=fasta), batch_size=1) == {"sequences": 2, "tokens": 4 + 2}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [
        {"id": "a", "length_bp": 10, "input_ids": tok.encode("ACGTACGTAA").tolist()},
        {"id": "b", "length_bp": 4, "input_ids": tok.encode("TTTT").tolist()},
    ]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, kmer_model):
    from helpers import gc_task
    from vqdna.training.finetune import finetune

    task = gc_task(tmp_path_factory.mktemp("task") / "gc")
    out = tmp_path_factory.mktemp("ft") / "run"
    config = {
        "max_steps": 30,
        "eval_steps": 15,
        "warmup_steps": 0,
        "learning_rate": 3e-3,
        "batch_size": 16,
        "reverse_complement": False,
    }
    finetune(kmer_model, task, out, config=config, seeds=[1], quiet=True)
    return LoadedModel(out), task


def test_write_predictions_matches_the_model_row_by_row(tmp_path, classifier):
    model, task = classifier
    out = tmp_path / "p.csv"
    assert write_predictions(out, model, iter_sequences(csv=task / "test.csv"), batch_size=7) == 60
    rows = list(csv.DictReader(open(out)))
    assert list(rows[0]) == ["id", "label", "predicted_label", "prob_0", "prob_1"]
    sequences = [x.sequence for x in iter_sequences(csv=task / "test.csv")]
    p = model.predict(sequences)
    assert [r["predicted_label"] for r in rows] == p.predictions
    assert np.allclose([[float(r["prob_0"]), float(r["prob_1"])] for r in rows], p.probabilities, atol=1e-6)


def test_write_embeddings_streams_rows_and_ids(tmp_path, classifier):
    model, task = classifier
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\n" + "ACGT" * 30 + "\n>b\n" + "GGCA" * 10 + "\n")
    out = tmp_path / "e.npy"
    count, width = write_embeddings(out, model, iter_sequences(fasta=fasta, window_bp=50), batch_size=2)
    x = np.load(out)
    assert (count, width) == x.shape == (4, model.model.config.hidden_size) and x.dtype == np.float32
    assert embedding_ids_path(out).read_text().split() == ["a:1-50", "a:51-100", "a:101-120", "b:1-40"]
    assert np.allclose(x, model.embed(["ACGT" * 12 + "AC", "GT" + "ACGT" * 12, "ACGT" * 5, "GGCA" * 10]), atol=1e-5)


def test_a_sequence_too_long_is_named_by_where_it_came_from(tmp_path, classifier):
    model, _ = classifier
    fasta = tmp_path / "long.fa"
    fasta.write_text(">ok\nACGT\n>big\n" + "A" * (model.max_length_bp + 1) + "\n")
    with pytest.raises(
        SequenceError, match=rf"long.fa: record 'big': sequence of {model.max_length_bp + 1:,} bp is longer than"
    ):
        write_predictions(tmp_path / "p.csv", model, iter_sequences(fasta=fasta))
    assert not (tmp_path / "p.csv").exists()  # nothing left that looks finished


def test_a_cls_pooled_classifier_predicts_and_embeds_as_its_forward_does(tmp_path, kmer_model):
    # predict reads the encoder and the head separately (to embed in the same pass): with "cls"
    # pooling it must see the [CLS] the model's forward puts in front, and embed must average the
    # sequence's own tokens (as the model ran them, after the [CLS]) without the [CLS] itself.
    from helpers import gc_task
    from vqdna.modeling import mean_pool
    from vqdna.training.finetune import finetune

    task = gc_task(tmp_path / "gc")
    config = {"max_steps": 4, "eval_steps": 4, "warmup_steps": 0, "batch_size": 16, "pooling": "cls"}
    finetune(kmer_model, task, tmp_path / "run", config=config, seeds=[1], quiet=True)
    loaded = LoadedModel(tmp_path / "run")
    assert loaded.model.config.pooling == "cls"
    sequences = ["ACGTACGTAAGG", "TTTTGCA"]
    batch = loaded.tokenizer(sequences)
    with torch.no_grad():
        logits = loaded.model(batch["input_ids"], batch["attention_mask"]).logits
        ids, mask = batch["input_ids"], batch["attention_mask"]
        with_cls = torch.cat([torch.full_like(ids[:, :1], 2), ids], 1)
        hidden = loaded.model.vqdna(with_cls, torch.cat([torch.ones_like(mask[:, :1]), mask], 1)).last_hidden_state
    assert np.allclose(loaded.predict(sequences).probabilities, torch.softmax(logits, -1).numpy(), atol=1e-6)
    assert np.allclose(loaded.embed(sequences), mean_pool(hidden[:, 1:], mask).numpy(), atol=1e-5)
