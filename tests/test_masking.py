import math

import numpy as np
import pytest
import torch

from vqdna.config import BPEConfig, VQVAEConfig
from vqdna.masking import MaskedCodeCollator, mask_span_tokens, span_mask
from vqdna.networks import VQVAE
from vqdna.tokenizers import MASK_TOKEN_ID, BPETokenizer, HRQTokenizer, KmerTokenizer, VQTokenizer


def _vq(stride=1, levels=1, depth=4, kernel=7):
    cfg = VQVAEConfig(
        stem_channels=16,
        width=16,
        depth=depth,
        kernel_size=kernel,
        stride=stride,
        stem_kernel=stride + 4,
        code_dim=8,
        codebook_sizes=[32, 64][:levels],
        tap_blocks=[depth] if levels == 1 else [depth // 2, depth],
    )
    torch.manual_seed(0)
    model = VQVAE(cfg).train()
    model(torch.randint(0, 4, (4, 256)))
    return (HRQTokenizer if levels > 1 else VQTokenizer)(model.eval())


def _windows(rng, lengths):
    return [{"bp_ids": rng.integers(0, 4, n).astype(np.uint8), "index": i} for i, n in enumerate(lengths)]


def _runs(mask):
    """(start, length) of each run of True."""
    runs, start = [], None
    for i, m in enumerate(list(mask) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


@pytest.mark.parametrize("n,ratio,span", [(512, 0.25, 30), (512, 0.15, 1), (100, 0.3, 6), (20, 0.25, 30), (1, 0.25, 1)])
def test_span_mask_ratio_and_span_lengths(n, ratio, span):
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = span_mask(n, ratio, span, rng)
        assert m.shape == (n,) and m.any()
        if n >= span:
            assert abs(m.sum() - ratio * n) <= span / 2 + 1e-9 or m.sum() == span
            assert all(length >= span for _, length in _runs(m))
        else:
            assert m.sum() == max(1, round(ratio * n)) and len(_runs(m)) == 1


@pytest.mark.parametrize(
    "tok",
    [KmerTokenizer(6), KmerTokenizer(3, overlapping=True), _vq(), _vq(stride=4, levels=2)],
    ids=["6mer", "3mer-ov", "vq", "hrq-s4"],
)
def test_collator_masks_only_real_positions_at_the_asked_ratio(rng, tok):
    collator = MaskedCodeCollator(tok, mask_ratio=0.25)
    lengths = [256, 130, 200, 256]
    batch = collator(_windows(rng, lengths))
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    if ids.dim() == 3:
        assert torch.equal(labels[..., 0] == -100, labels[..., 1] == -100)  # every level hidden together
        assert ((ids == MASK_TOKEN_ID).all(-1) == (labels[..., 0] != -100)).all()
        labels = labels[..., 0]
        ids = ids[..., 0]
    masked = labels != -100
    assert not (masked & (mask == 0)).any(), "padding was masked"
    assert torch.equal(masked, ids == MASK_TOKEN_ID)
    span = collator.span_tokens
    for i, n in enumerate(mask.sum(1).tolist()):
        if 0.25 * n >= span:
            assert abs(int(masked[i].sum()) - 0.25 * n) <= span / 2 + 1e-9
        else:  # too short for the ratio at leak-free span length: one span
            assert int(masked[i].sum()) == span
    # the labels are the original tokens
    clean = tok.pad(
        [e.ids for e in tok.encode_base_ids([w["bp_ids"] for w in _windows(np.random.default_rng(0), lengths)])]
    )["input_ids"]
    lab = batch["labels"]
    assert torch.equal(lab[lab != -100], clean[lab != -100])


@pytest.mark.parametrize(
    "tok",
    [_vq(), _vq(stride=2), _vq(stride=4, levels=2), _vq(depth=2, kernel=9), KmerTokenizer(4, overlapping=True)],
    ids=["s1", "s2", "hrq-s4", "k9", "kmer-ov"],
)
def test_default_masking_leaves_no_unmasked_code_that_sees_a_span_centre(rng, tok):
    collator = MaskedCodeCollator(tok, mask_ratio=0.25)
    batch = collator(_windows(rng, [600, 600, 450]))
    labels = batch["labels"] if batch["labels"].dim() == 2 else batch["labels"][..., 0]
    checked = 0
    for i in range(labels.shape[0]):
        masked = (labels[i] != -100).numpy()
        real = int(batch["attention_mask"][i].sum())
        unmasked = [j for j in range(real) if not masked[j]]
        for start, length in _runs(masked[:real]):
            centre = tok.span_centre_bp(start, length)
            for j in unmasked:
                lo, hi = tok.receptive_field(j)
                for b in {math.floor(centre), math.ceil(centre)}:
                    assert not lo <= b <= hi, f"token {j} sees base {b}, the centre of span {start}+{length}"
            checked += 1
    assert checked >= 3


def test_receptive_field_matches_the_network():
    """Changing one base changes codes only inside the computed receptive fields."""
    tok = _vq(stride=2, depth=2)
    rng = np.random.default_rng(1)
    seq = rng.integers(0, 4, 400).astype(np.uint8)
    base = 201
    other = seq.copy()
    other[base] = (other[base] + 1) % 4
    model = tok.model
    with torch.no_grad():
        a = model.encoder(model.one_hot(torch.from_numpy(seq).long()[None]), torch.ones(1, 200, dtype=torch.bool))[-1]
        b = model.encoder(model.one_hot(torch.from_numpy(other).long()[None]), torch.ones(1, 200, dtype=torch.bool))[-1]
    changed = ((a - b).abs().amax(-1) > 0)[0].nonzero().flatten().tolist()
    inside = [j for j in range(200) if tok.receptive_field(j)[0] <= base <= tok.receptive_field(j)[1]]
    assert changed and set(changed) <= set(inside)
    assert min(changed) == min(inside) and max(changed) == max(inside)


def test_span_lengths_follow_the_tokenizer():
    assert mask_span_tokens(KmerTokenizer(6)) == 1
    assert mask_span_tokens(KmerTokenizer(6, overlapping=True)) == 6
    bpe = BPETokenizer.train(["ACGT" * 100], BPEConfig(vocab_size=50))
    assert mask_span_tokens(bpe) == 1
    # stride 1, 4 blocks of kernel 7, stem 5: each side sees 12 tokens + 2 bp -> 29 bp fields
    assert mask_span_tokens(_vq()) == 29


def test_span_warmup_grows_spans_to_the_leak_free_length_then_stays(rng):
    tok = _vq()
    full = mask_span_tokens(tok)
    collator = MaskedCodeCollator(tok, mask_ratio=0.25, span_warmup_windows=100)
    assert [collator.span_for(i) for i in (0, 50, 99, 100, 10**6)] == [
        1,
        1 + (full - 1) // 2,
        1 + (full - 1) * 99 // 100,
        full,
        full,
    ]
    # during warm-up the spans are short, afterwards exactly the leak-free ones, at the same ratio
    windows = [{"bp_ids": rng.integers(0, 4, 512).astype(np.uint8), "index": i} for i in (0, 150)]
    labels = collator(windows)["labels"]
    early, late = (_runs((labels[i] != -100).numpy()) for i in range(2))
    assert sum(n for _, n in early) == 128  # 1-token spans (neighbours may touch): exactly 25%
    assert all(n % full == 0 for _, n in late) and abs(sum(n for _, n in late) - 128) <= full / 2  # leak-free spans
    assert MaskedCodeCollator(tok).span_for(0) == full  # no warm-up unless asked


@pytest.mark.parametrize(
    "tok,centre",
    [
        (_vq(), lambda j: j),
        (_vq(stride=4, levels=2), lambda j: 4 * j + 1),  # a code covers 4j..4j+3: the lower of its two middle bases
        (KmerTokenizer(6), lambda j: 6 * j + 2),
        (KmerTokenizer(3, overlapping=True), lambda j: j + 1),
    ],
    ids=["vq-s1", "hrq-s4", "6mer", "3mer-ov"],
)
def test_base_labels_are_the_centre_base_of_each_masked_token(rng, tok, centre):
    windows = _windows(rng, [240, 180])
    windows[0]["bp_ids"][10:20] = 4  # N: no base to predict there
    batch = MaskedCodeCollator(tok, mask_ratio=0.25, span_tokens=1, base_labels=True)(windows)
    labels = batch["labels"] if batch["labels"].dim() == 2 else batch["labels"][..., 0]
    base = batch["base_labels"]
    assert base.shape == labels.shape and torch.equal(base != -100, (labels != -100) & (base != -100))
    checked = 0
    for i, w in enumerate(windows):
        for j in (labels[i] != -100).nonzero().flatten().tolist():
            b = int(w["bp_ids"][centre(j)])
            assert int(base[i, j]) == (b if b < 4 else -100), (i, j)
            checked += b < 4
    assert checked >= 10
    plain = MaskedCodeCollator(tok, mask_ratio=0.25, span_tokens=1)(windows)
    assert "base_labels" not in plain  # only when asked, and asking changes nothing else
    assert all(torch.equal(plain[k], batch[k]) for k in ("input_ids", "attention_mask", "labels"))
