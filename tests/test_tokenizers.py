import json

import numpy as np
import pytest
import torch

from helpers import untrained_vq as _vq
from vqdna.config import BPEConfig
from vqdna.errors import UserError
from vqdna.storage import CheckpointError
from vqdna.tokenizers import (
    MASK_TOKEN_ID,
    NUM_SPECIAL,
    UNK_TOKEN_ID,
    BPETokenizer,
    KmerTokenizer,
    load_tokenizer,
)


def _seqs(rng, lengths):
    return ["".join(rng.choice(list("ACGT"), n)) for n in lengths]


@pytest.mark.parametrize("stride,levels", [(1, 1), (2, 1), (4, 1), (1, 2), (4, 2)])
def test_vq_encode_batch_equals_encode_and_padding_changes_nothing(rng, stride, levels):
    tok = _vq(stride, levels)
    seqs = _seqs(rng, [37, 200, 1, 64, 131])
    batch = tok.encode_batch(seqs)
    singles = [tok.encode(s) for s in seqs]
    assert [b.tolist() for b in batch] == [s.tolist() for s in singles]
    assert all(e.ids.shape == (len(e), levels) and e.ids.dtype == np.int64 for e in batch)
    for s, e in zip(seqs, batch):
        assert len(e) == tok.num_tokens(len(s)) == len(e.offsets)
        assert e.offsets[0][0] == 0 and e.offsets[-1][1] == len(s)
    assert len({tuple(np.ravel(e.ids)) for e in batch}) > 1
    assert len(set(np.ravel(batch[1].ids).tolist())) > 3  # codes are not all the same
    enc = tok(seqs)
    shape = (len(seqs), max(len(e) for e in batch)) + ((levels,) if levels > 1 else ())
    assert tuple(enc["input_ids"].shape) == shape
    assert enc["attention_mask"].sum(1).tolist() == [len(e) for e in batch]
    for i, e in enumerate(batch):
        assert enc["input_ids"][i, : len(e)].tolist() == e.tolist()  # (tokens,) for one level, (tokens, levels) for HRQ


def test_vq_long_sequences_are_encoded_in_chunks_without_changing_codes(rng):
    tok = _vq(stride=2, levels=2)
    seq = _seqs(rng, [5001])[0]
    whole = tok.encode(seq).ids
    tok.chunk_bp = 700
    assert np.array_equal(tok.encode(seq).ids, whole)


def test_vq_hrq_ids_have_one_column_per_level_and_vocab_per_level(rng):
    tok = _vq(levels=2)
    enc = tok.encode(_seqs(rng, [50])[0])
    ids = enc.ids
    assert ids.shape == (tok.num_tokens(50), 2)
    assert all(isinstance(t, list) and len(t) == 2 for t in enc.tolist())
    assert tok.vocab_size == (NUM_SPECIAL + 32, NUM_SPECIAL + 64)
    assert all(NUM_SPECIAL <= a < NUM_SPECIAL + 32 and NUM_SPECIAL <= b < NUM_SPECIAL + 64 for a, b in ids)
    assert _vq().vocab_size == NUM_SPECIAL + 32


def test_vq_decode_goes_through_the_decoder(rng):
    tok = _vq(stride=4)
    seq = _seqs(rng, [64])[0]
    text = tok.decode(tok.encode(seq).ids)
    assert len(text) == 64 and set(text) <= set("ACGT")
    assert tok.lossless is False
    with pytest.raises(ValueError, match=r"cannot decode special token \[MASK\]"):
        tok.decode([MASK_TOKEN_ID])


@pytest.mark.parametrize("levels", [1, 2])
def test_vq_save_load_gives_identical_codes_without_kmeans(tmp_path, rng, levels):
    tok = _vq(stride=2, levels=levels)
    tok.metadata = {"seed": 3}
    seqs = _seqs(rng, [90, 33])
    tok.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is type(tok) and loaded.metadata == {"seed": 3}
    assert all(bool(q.initted) for q in loaded.model.quantizer.levels)
    assert [e.tolist() for e in loaded.encode_batch(seqs)] == [e.tolist() for e in tok.encode_batch(seqs)]
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["kind"] == tok.kind and "torch" in cfg["versions"]


def test_corrupt_or_incomplete_tokenizer_folders_are_clear_errors(tmp_path):
    _vq().save_pretrained(tmp_path / "ok")
    with pytest.raises(CheckpointError, match="no such tokenizer folder"):
        load_tokenizer(tmp_path / "missing")
    bad = tmp_path / "truncated"
    bad.mkdir()
    (bad / "config.json").write_text((tmp_path / "ok" / "config.json").read_text())
    (bad / "model.safetensors").write_bytes((tmp_path / "ok" / "model.safetensors").read_bytes()[:500])
    with pytest.raises(CheckpointError, match="model.safetensors: corrupt or unreadable"):
        load_tokenizer(bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json: corrupt tokenizer config"):
        load_tokenizer(bad)
    (bad / "config.json").write_text('{"kind": "word2vec"}')
    with pytest.raises(CheckpointError, match="unknown tokenizer kind 'word2vec'"):
        load_tokenizer(bad)
    other = tmp_path / "other"
    _vq(levels=2).save_pretrained(other)
    (other / "model.safetensors").write_bytes((tmp_path / "ok" / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="weights do not match the config"):
        load_tokenizer(other)


@pytest.mark.parametrize("overlapping", [False, True])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_kmer_round_trip_lengths_and_offsets(rng, k, overlapping):
    tok = KmerTokenizer(k, overlapping)
    for seq in _seqs(rng, [1, 5, 6, 7, 100]) + ["ACGTNACGTAC"]:
        enc = tok.encode(seq)
        assert len(enc) == tok.num_tokens(len(seq)) == len(enc.offsets)
        decoded = tok.decode(enc.ids)
        assert len(decoded) == len(seq)
        # lossless except that a k-mer holding an N is [UNK]: its bases come back as N
        unknown = {i for (a, b), t in zip(enc.offsets, enc.tolist()) if t == UNK_TOKEN_ID for i in range(a, b)}
        assert all(d == c if i not in unknown else d in (c, "N") for i, (d, c) in enumerate(zip(decoded, seq)))
        assert decoded.count("N") >= seq.count("N")
        assert all(NUM_SPECIAL <= i < tok.vocab_size or i == UNK_TOKEN_ID for i in enc.tolist())
        for (a, b), t in zip(enc.offsets, enc.tolist()):
            if t != UNK_TOKEN_ID:
                assert tok.token_text(t) == seq[a:b]


def test_kmer_ids_are_hand_checked():
    tok = KmerTokenizer(2, overlapping=False)
    # AC = 0*4+1 = 1 -> 10 + 1; GT = 2*4+3 = 11 -> 10 + 11; tail 'A' single base id 5 + 0
    assert tok.encode("ACGTA").tolist() == [11, 21, 5]
    assert tok.encode("ANGT").tolist() == [UNK_TOKEN_ID, 21]
    assert tok.vocab_size == 10 + 16
    assert KmerTokenizer(3, overlapping=True).encode("ACGT").tolist() == [10 + 6, 10 + 27]


def test_kmer_save_load(tmp_path, rng):
    KmerTokenizer(4, True).save_pretrained(tmp_path)
    tok = load_tokenizer(tmp_path)
    assert (tok.k, tok.overlapping) == (4, True)


def test_bpe_trains_round_trips_and_saves(tmp_path, rng):
    corpus = _seqs(rng, [1000] * 50)
    tok = BPETokenizer.train(corpus, BPEConfig(vocab_size=300))
    assert tok.vocab_size == 300
    seqs = _seqs(rng, [300, 17]) + ["ACGTNNACGT", "acgtRY"]
    encs = tok.encode_batch(seqs)
    assert [e.tolist() for e in encs] == [tok.encode(s).tolist() for s in seqs]
    for s, e in zip(seqs, encs):
        canon = s.upper().replace("R", "N").replace("Y", "N")
        assert tok.decode(e.ids) == canon
        assert e.offsets[0][0] == 0 and e.offsets[-1][1] == len(s) and len(e) <= tok.num_tokens(len(s))
        assert "".join(canon[a:b] for a, b in e.offsets) == canon
    assert np.mean([len(e) / len(s) for s, e in zip(seqs[:1], encs[:1])]) < 0.6  # merges happened
    tok.save_pretrained(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert [e.tolist() for e in loaded.encode_batch(seqs)] == [e.tolist() for e in encs]
    (tmp_path / "tokenizer.json").write_text("{broken")
    with pytest.raises(CheckpointError, match="corrupt BPE vocabulary"):
        load_tokenizer(tmp_path)


def test_bad_sequence_to_any_tokenizer_names_position(rng):
    for tok in (KmerTokenizer(3), _vq()):
        with pytest.raises(ValueError, match="invalid character 'X' at position 4"):
            tok.encode_batch(["ACGT", "ACGXT"])


def test_from_pretrained_through_a_subclass_loads_only_its_kind(tmp_path):
    from vqdna.tokenizers import GenomeTokenizer

    KmerTokenizer(3).save_pretrained(tmp_path)
    assert isinstance(GenomeTokenizer.from_pretrained(tmp_path), KmerTokenizer)
    assert KmerTokenizer.from_pretrained(tmp_path).k == 3
    with pytest.raises(CheckpointError, match=r"holds a kmer tokenizer, not a bpe one"):
        BPETokenizer.from_pretrained(tmp_path)


def test_the_network_is_a_pretrained_model_with_its_own_config(tmp_path):
    from vqdna.errors import UserError
    from vqdna.networks import VQVAE, VQVAENetworkConfig

    tok = _vq(stride=2, levels=2)
    tok.model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "vqdna_vqvae" and config["codebook_sizes"] == [32, 64] and config["stride"] == 2
    loaded = VQVAE.from_pretrained(tmp_path).eval()
    ids = torch.randint(0, 5, (2, 50))
    assert torch.equal(loaded.encode(ids).indices, tok.model.encode(ids).indices)
    assert loaded.config.settings == tok.config  # vqdna's dataclass, derived values included
    with pytest.raises(UserError, match="at least 2 codes"):
        VQVAENetworkConfig(codebook_sizes=[1], tap_blocks=[1])  # checked as VQVAEConfig checks it


def test_a_network_checkpoint_missing_a_weight_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    from vqdna.networks import VQVAE
    from vqdna.storage import CheckpointError

    _vq().model.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    del weights["decoder.head.bias"]
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="weights missing: decoder.head.bias"):
        VQVAE.from_pretrained(tmp_path)


@pytest.mark.parametrize("which", ["trained hrq", "vq stride 4", "tiny vq"])
def test_the_fast_encoding_path_gives_the_reference_codes_on_a_real_genome(which, hrq_model, ecoli_path):
    """`encode_indices` (oneDNN's fused kernels, channels-last convolutions, one-product
    distances) must pick exactly the codes of `encode`, the training path, on real bases: whole
    windows, a padded batch with N runs, trained and untrained weights."""
    from vqdna.config import VQVAEConfig, load_preset
    from vqdna.corpus import Genome
    from vqdna.networks import VQVAE

    if which == "trained hrq":
        model = load_tokenizer(hrq_model / "tokenizer").model
    elif which == "vq stride 4":
        model = _vq(stride=4).model
    else:  # the real `tiny` shapes (width 128, 4 blocks), codebook k-means-initialised on the genome
        torch.manual_seed(0)
        model = VQVAE(VQVAEConfig(**load_preset("tiny")["vqvae"])).train()
    genome = Genome.from_fasta(ecoli_path)  # a species none of these saw
    windows = torch.from_numpy(np.stack([w for w in genome.tile(1000)][:48]).astype(np.int64))
    if which == "tiny vq":
        model(windows[:16])  # k-means on real features, as training starts
        model.eval()
    ragged = windows[:8].clone()
    ragged[2, 640:] = 5  # BASE_PAD_ID: a shorter sequence in the batch
    ragged[5, 100:180] = 4  # N_ID: a run of ambiguous bases
    for batch in (windows, ragged):
        with torch.no_grad():
            reference = model.encode(batch)
        codes, mask = model.encode_indices(batch)
        assert torch.equal(mask, reference.token_mask)
        assert torch.equal(codes[mask], reference.indices[mask])
    # bfloat16 is opt-in because it may move a code: on real bases nearly all stay
    half, _ = model.encode_indices(windows, precision="bf16")
    assert (half == model.encode(windows).indices).float().mean() > 0.98
    with pytest.raises(UserError, match="precision"):
        model.encode_indices(windows, precision="fp8")


def test_tokenize_in_bfloat16_is_opt_in_and_kept_apart_in_the_token_cache(tmp_path, hrq_model, kmer_model, capsys):
    from vqdna.cli import main
    from vqdna.training.token_cache import tokenizer_fingerprint

    rng = np.random.default_rng(3)
    fasta = tmp_path / "g.fa"
    fasta.write_text("".join(f">r{n}\n{''.join(rng.choice(list('ACGT'), 400))}\n" for n in range(20)))
    rows = {}
    for precision in ("fp32", "bf16"):
        out = tmp_path / f"{precision}.jsonl"
        args = ["-q", "tokenize", "--tokenizer", str(hrq_model / "tokenizer"), "--fasta", str(fasta)]
        assert main([*args, "--output", str(out), "--precision", precision]) == 0
        rows[precision] = [json.loads(line)["input_ids"] for line in out.read_text().splitlines()]
    assert load_tokenizer(hrq_model / "tokenizer").precision == "fp32"  # the default
    same = np.mean([np.array_equal(a, b) for r32, r16 in zip(rows["fp32"], rows["bf16"]) for a, b in zip(r32, r16)])
    assert len(rows["bf16"]) == 20 and same > 0.97
    args = ["-q", "tokenize", "--tokenizer", str(kmer_model / "tokenizer"), "--fasta", str(fasta)]
    assert main([*args, "--output", str(tmp_path / "k.jsonl"), "--precision", "bf16"]) == 2
    assert "--precision bf16: a kmer tokenizer runs no network" in capsys.readouterr().err
    tok = load_tokenizer(hrq_model / "tokenizer")
    fp32 = tokenizer_fingerprint(tok)
    tok.precision = "bf16"
    assert tokenizer_fingerprint(tok) != fp32  # bf16 codes never read as fp32 ones from a cache


def test_token_features_are_each_levels_token_frequencies(rng):
    """A probe's 'tokens' features: per level, how often each id occurs among the real tokens
    (padding never counts), levels side by side; every tokenizer has them."""
    tok = _vq(levels=2)
    sequences = ["".join(rng.choice(list("ACGT"), n)) for n in (300, 120)]
    batch = tok(sequences)
    x = tok.features(batch["input_ids"], batch["attention_mask"])  # default: "tokens"
    assert x.shape == (2, sum(tok.vocab_size)) == (2, tok.feature_size())
    for i, s in enumerate(sequences):
        ids = tok.encode(s).ids
        expected = np.concatenate(
            [np.bincount(ids[:, n], minlength=size) / len(ids) for n, size in enumerate(tok.vocab_size)]
        )
        np.testing.assert_allclose(x[i].numpy(), expected, atol=1e-6)
    kmer = KmerTokenizer(k=2, overlapping=False)
    batch = kmer(["ACGT", "AC"])
    x = kmer.features(batch["input_ids"], batch["attention_mask"], "tokens")
    assert x.shape == (2, kmer.vocab_size) and x[1, kmer.encode("AC").ids[0, 0]] == 1.0  # the pad of row 2 ignored


def test_vector_features_are_the_mean_code_vector_and_only_learned_tokenizers_have_them(rng):
    tok = _vq(levels=2)
    s = "".join(rng.choice(list("ACGT"), 200))
    batch = tok([s])
    x = tok.features(batch["input_ids"], batch["attention_mask"], "vectors")
    codes = tok.encode(s).ids - NUM_SPECIAL
    books = tok.code_vectors()
    expected = torch.stack([books[n][torch.as_tensor(codes[:, n])] for n in range(2)]).mean(0).mean(0)
    assert x.shape == (1, tok.code_dim) == (1, tok.feature_size("vectors"))
    torch.testing.assert_close(x[0], expected)
    kmer = KmerTokenizer(k=3)
    with pytest.raises(
        UserError, match=r"a kmer tokenizer has no code vectors, so it has no 'vectors' features; use 'tokens'"
    ):
        kmer.feature_size("vectors")
    with pytest.raises(UserError, match=r"features must be one of tokens, vectors; got 'codes'"):
        tok.features(batch["input_ids"], batch["attention_mask"], "codes")
