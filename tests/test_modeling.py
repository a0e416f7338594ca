import pytest
import torch

from vqdna.modeling import (
    VQDNAConfig,
    VQDNAForMaskedCodeModeling,
    VQDNAForSequenceClassification,
    VQDNAModel,
    alibi_slopes,
    attention_bias,
    level_logits,
    max_pool,
    mean_pool,
)
from vqdna.tokenizers import MASK_TOKEN_ID, NUM_SPECIAL


def _config(**kw):
    base = dict(
        level_vocab_sizes=[37],
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
    )
    return VQDNAConfig(**{**base, **kw})


def test_alibi_bias_is_hand_computed():
    slopes = alibi_slopes(2)
    assert torch.allclose(slopes, torch.tensor([2**-4, 2**-8]))
    assert torch.allclose(alibi_slopes(8), torch.tensor([2 ** -(i + 1) for i in range(8)]))
    bias = attention_bias(torch.tensor([[1, 1, 0]]), slopes, torch.float32)
    expected_head0 = -(2**-4) * torch.tensor([[0.0, 1, 2], [1, 0, 1], [2, 1, 0]])
    assert torch.allclose(bias[0, 0, :, :2], expected_head0[:, :2])
    assert (bias[0, :, :, 2] == torch.finfo(torch.float32).min).all()


def test_directional_alibi_is_hand_computed():
    bias = attention_bias(torch.ones(1, 3, dtype=torch.long), alibi_slopes(2), torch.float32, direction=2.0)
    distance = torch.tensor([[0.0, 1, 2], [1, 0, 1], [2, 1, 0]])
    left = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0]])  # key j left of query i
    torch.testing.assert_close(bias[0, 0], -(2**-4) * distance + 2.0 * left)
    torch.testing.assert_close(bias[0, 1], -(2**-8) * distance + 2.0 * left.T)
    with pytest.raises(ValueError, match="alibi_direction must be >= 0"):
        _config(alibi_direction=-1.0)


@pytest.mark.parametrize("direction", [0.0, 2.0])
def test_only_directional_alibi_tells_left_from_right(direction):
    # Symmetric ALiBi and no position embeddings: reversing the input reverses the output, so a
    # masked token between (a, b) gets the same prediction as between (b, a).
    torch.manual_seed(0)
    model = VQDNAModel(_config(alibi_direction=direction)).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (1, 12))
    out = model(ids).last_hidden_state
    out_reversed = model(ids.flip(1)).last_hidden_state.flip(1)
    assert torch.allclose(out, out_reversed, atol=1e-5) == (direction == 0.0)


@pytest.mark.parametrize("levels,mode", [(1, "ids"), (2, "ids"), (2, "quantized")])
def test_padding_changes_no_real_output(levels, mode):
    torch.manual_seed(0)
    cfg = _config(level_vocab_sizes=[37, 69][:levels], input_mode=mode, code_dim=8 if mode == "quantized" else 0)
    model = VQDNAForMaskedCodeModeling(cfg).eval()
    if mode == "quantized":
        model.vqdna.set_codebooks([torch.randn(32, 8), torch.randn(64, 8)])
    shape = (1, 20, levels) if levels > 1 else (1, 20)
    ids = torch.randint(NUM_SPECIAL, 37, shape)
    ids[0, 3] = MASK_TOKEN_ID
    alone = level_logits(model(ids))
    padded_ids = torch.cat([ids, torch.zeros((1, 7) + shape[2:], dtype=torch.long)], 1)
    mask = torch.cat([torch.ones(1, 20), torch.zeros(1, 7)], 1).long()
    padded = level_logits(model(padded_ids, mask))
    assert len(alone) == levels and [lg.shape[-1] for lg in alone] == cfg.level_vocab_sizes
    for a, p in zip(alone, padded):
        torch.testing.assert_close(a, p[:, :20], rtol=1e-5, atol=1e-5)


def test_quantized_inputs_are_the_projected_mean_of_level_codebooks():
    torch.manual_seed(0)
    cfg = _config(level_vocab_sizes=[NUM_SPECIAL + 4, NUM_SPECIAL + 6], input_mode="quantized", code_dim=3)
    model = VQDNAModel(cfg).eval()
    cb = [torch.randn(4, 3), torch.randn(6, 3)]
    model.set_codebooks(cb)
    emb = model.embeddings
    ids = torch.tensor([[[NUM_SPECIAL + 1, NUM_SPECIAL + 5], [MASK_TOKEN_ID, MASK_TOKEN_ID]]])
    out = emb(ids)
    want = emb.norm(emb.code_projection((cb[0][1] + cb[1][5]) / 2))
    torch.testing.assert_close(out[0, 0], want)
    torch.testing.assert_close(out[0, 1], emb.norm(emb.special_embeddings.weight[MASK_TOKEN_ID]))
    assert not any(n.startswith("embeddings.codebook") for n, _ in model.named_parameters())  # frozen


def test_save_load_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    cfg = _config(level_vocab_sizes=[37, 69], input_mode="quantized", code_dim=8, alibi_direction=1.5)
    model = VQDNAForMaskedCodeModeling(cfg).eval()
    model.vqdna.set_codebooks([torch.randn(32, 8), torch.randn(64, 8)])
    model.save_pretrained(tmp_path)
    assert VQDNAConfig.from_pretrained(tmp_path).alibi_direction == 1.5
    # the weights, and the code that loads them with trust_remote_code (modeling.py and its imports)
    assert {p.name for p in tmp_path.iterdir()} == {
        "config.json",
        "model.safetensors",
        "modeling.py",
        "config.py",
        "errors.py",
        "alphabet.py",
    }
    loaded = VQDNAForMaskedCodeModeling.from_pretrained(tmp_path).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (2, 15, 2))
    for a, b in zip(model(ids).logits, loaded(ids).logits):
        torch.testing.assert_close(a, b)
    enc = VQDNAModel.from_pretrained(tmp_path).eval()  # the bare encoder from the same folder
    torch.testing.assert_close(enc(ids).last_hidden_state, model.vqdna(ids).last_hidden_state)


def test_loss_sums_level_losses_over_masked_positions_only():
    torch.manual_seed(0)
    model = VQDNAForMaskedCodeModeling(_config(level_vocab_sizes=[37, 69]))
    ids = torch.randint(NUM_SPECIAL, 37, (2, 10, 2))
    labels = torch.full_like(ids, -100)
    labels[0, 2] = ids[0, 2]
    out = model(ids, labels=labels)
    manual = sum(torch.nn.functional.cross_entropy(out.logits[n][0, 2][None], ids[0, 2, n][None]) for n in range(2))
    torch.testing.assert_close(out.loss, manual)
    assert len(out.level_losses) == 2


def test_auto_classes_load_a_saved_model(tmp_path):
    from transformers import AutoConfig, AutoModelForMaskedLM

    model = VQDNAForMaskedCodeModeling(_config()).eval()
    model.save_pretrained(tmp_path)
    assert AutoConfig.from_pretrained(tmp_path).model_type == "vqdna"
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (1, 9))
    torch.testing.assert_close(loaded(ids).logits, model(ids).logits)


def test_base_preset_is_the_papers_size():
    import dataclasses

    from vqdna.training.pretrain import resolve_pretrain_config

    encoder, _ = resolve_pretrain_config("base")
    cfg = VQDNAConfig(
        **{**dataclasses.asdict(encoder), "input_mode": "quantized"},
        level_vocab_sizes=[NUM_SPECIAL + 512],
        code_dim=384,
    )
    with torch.device("meta"):
        encoder = VQDNAModel(cfg)
    params = sum(q.numel() for q in encoder.parameters())
    assert 84e6 < params < 88e6  # the paper: 86M


def test_pooling_is_hand_computed_and_ignores_padding():
    hidden = torch.tensor([[[1.0, -5.0], [3.0, -1.0], [100.0, 100.0]]])  # the third token is padding
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pool(hidden, mask), torch.tensor([[2.0, -3.0]]))
    torch.testing.assert_close(max_pool(hidden, mask), torch.tensor([[3.0, -1.0]]))


@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
def test_classifier_logits_do_not_depend_on_padding(pooling):
    torch.manual_seed(0)
    model = VQDNAForSequenceClassification(_config(num_labels=3, pooling=pooling)).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (1, 15))
    padded = torch.cat([ids, torch.zeros(1, 5, dtype=torch.long)], 1)
    mask = torch.cat([torch.ones(1, 15), torch.zeros(1, 5)], 1).long()
    torch.testing.assert_close(model(ids).logits, model(padded, mask).logits, rtol=1e-5, atol=1e-5)


def test_a_regression_head_is_not_rounded_to_bfloat16_under_autocast():
    """Under bf16 autocast the encoder runs in bfloat16 but the head in float32: predictions
    rounded to bfloat16's 8 significant bits would tie guides whose activities differ by <0.4%."""
    torch.manual_seed(0)
    model = VQDNAForSequenceClassification(_config(num_labels=1, problem_type="regression", pooling="max")).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (4, 15))
    with torch.autocast("cpu", torch.bfloat16):
        hidden = model.encode(ids, torch.ones_like(ids))[0].last_hidden_state
        out = model(ids).logits
    assert not torch.equal(hidden, model.encode(ids, torch.ones_like(ids))[0].last_hidden_state)  # bf16 did run
    assert out.dtype == torch.float32
    expected = model.classifier(max_pool(hidden.float(), torch.ones_like(ids)))  # the head in float32
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    # a model cast to bfloat16 as a whole (from_pretrained(torch_dtype=...)) runs its head in it
    cast = model.to(torch.bfloat16)
    assert cast(ids).logits.dtype == torch.float32


def test_unknown_pooling_is_an_error():
    with pytest.raises(ValueError, match="pooling must be 'mean' or 'max' or 'cls', got 'first'"):
        _config(pooling="first")


@pytest.mark.parametrize("levels, mode", [([37], "ids"), ([9, 37], "ids"), ([37], "quantized")])
def test_cls_pooling_reads_a_cls_token_put_in_front_of_the_sequence(levels, mode):
    # The head sees the encoder's output at a [CLS] token the model prepends (every HRQ level
    # gets id 2), so it equals the encoder run by hand on [CLS] + ids, read at position 0.
    torch.manual_seed(0)
    config = _config(
        level_vocab_sizes=levels, num_labels=3, pooling="cls", input_mode=mode, code_dim=8 * (mode != "ids")
    )
    model = VQDNAForSequenceClassification(config).eval()
    shape = (2, 11, len(levels)) if len(levels) > 1 else (2, 11)
    ids = torch.randint(NUM_SPECIAL, 9, shape)
    by_hand = torch.cat([torch.full_like(ids[:, :1], 2), ids], 1)
    hidden = model.vqdna(by_hand).last_hidden_state
    logits = model(ids).logits
    torch.testing.assert_close(logits, model.classifier(hidden[:, 0]))
    # not the mean head by another name: the encoder without [CLS], mean-pooled, reads otherwise
    mean_head = model.classifier(mean_pool(model.vqdna(ids).last_hidden_state, torch.ones(2, 11)))
    assert (logits - mean_head).abs().max() > 1e-3
    # the rows LoRA must train: [CLS]'s, in every embedding that holds it
    expected = (
        {"special_embeddings": [2]}
        if mode == "quantized"
        else {f"word_embeddings.{n}": [2] for n in range(len(levels))}
    )
    assert model.cls_embedding_rows() == expected
    assert VQDNAForSequenceClassification(_config(pooling="mean", num_labels=3)).cls_embedding_rows() == {}


def test_outputs_follow_transformers_conventions():
    torch.manual_seed(0)
    one = VQDNAForMaskedCodeModeling(_config(level_vocab_sizes=[37])).eval()
    ids = torch.randint(NUM_SPECIAL, 37, (2, 9))
    out = one(ids, output_hidden_states=True)
    assert isinstance(out.logits, torch.Tensor) and out.logits.shape == (2, 9, 37)  # one level: a tensor
    assert len(out.hidden_states) == one.config.num_hidden_layers + 1  # the embeddings, then each layer
    torch.testing.assert_close(out.hidden_states[-1], one.vqdna(ids).last_hidden_state)
    assert one(ids).hidden_states is None  # only when asked
    as_tuple = one(ids, labels=ids, return_dict=False)
    torch.testing.assert_close(as_tuple[0], one(ids, labels=ids).loss)
    torch.testing.assert_close(as_tuple[1], out.logits)
    two = VQDNAForMaskedCodeModeling(_config(level_vocab_sizes=[37, 69])).eval()
    logits = two(torch.randint(NUM_SPECIAL, 37, (2, 9, 2))).logits
    assert isinstance(logits, tuple) and [lg.shape[-1] for lg in logits] == [37, 69]  # HRQ: one per level
    with pytest.raises(ValueError, match="output_attentions is not available"):
        one(ids, output_attentions=True)
    classifier = VQDNAForSequenceClassification(_config(num_labels=3)).eval()
    out = classifier(ids, output_hidden_states=True)
    assert out.logits.shape == (2, 3) and len(out.hidden_states) == classifier.config.num_hidden_layers + 1
    torch.testing.assert_close(classifier(ids, return_dict=False)[0], out.logits)
