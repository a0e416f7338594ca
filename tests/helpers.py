"""Unit-test fixtures shared by several test files: small synthetic tasks (never presented as biology)."""

import csv
import os
from pathlib import Path

import numpy as np

# The development workspace's real data (../shared/data beside the repository, or VQDNA_SHARED_DATA,
# as the demo finds it); tests that read it skip with a message where it is absent.
SHARED_DATA = Path(os.environ.get("VQDNA_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def random_sequences(rng, n: int, gc: float, length: int = 60) -> list[str]:
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]  # A, C, G, T
    return ["".join(rng.choice(list("ACGT"), size=length, p=p)) for _ in range(n)]


def write_task(folder: Path, rows: dict[str, list[tuple[str, str]]]) -> Path:
    folder.mkdir(parents=True)
    for split, items in rows.items():
        with open(folder / f"{split}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["sequence", "label"])
            w.writerows(items)
    return folder


def gc_task(folder: Path, seed: int = 0, sizes=(200, 60, 60)) -> Path:
    """Label 1: GC-rich (65%), label 0: AT-rich (35%)."""
    rng = np.random.default_rng(seed)
    rows = {}
    for split, n in zip(("train", "dev", "test"), sizes):
        seqs = random_sequences(rng, n // 2, 0.35) + random_sequences(rng, n - n // 2, 0.65)
        labels = ["0"] * (n // 2) + ["1"] * (n - n // 2)
        order = rng.permutation(n)
        rows[split] = [(seqs[i], labels[i]) for i in order]
    return write_task(folder, rows)


def gc_regression_task(folder: Path, seed: int = 0, sizes=(200, 60, 60)) -> Path:
    """The label is the GC fraction the sequence was drawn with (a regression task)."""
    rng = np.random.default_rng(seed)
    rows = {}
    for split, n in zip(("train", "dev", "test"), sizes):
        gcs = rng.uniform(0.2, 0.8, size=n)
        rows[split] = [(random_sequences(rng, 1, g)[0], f"{g:.3f}") for g in gcs]
    return write_task(folder, rows)


def motif_task(folder: Path, motif: str = "TGACGTCA", seed: int = 0, sizes=(400, 100, 100), length: int = 80) -> Path:
    """Uniform random sequences; label 1 has `motif` planted at a random position, label 0 not."""
    rng = np.random.default_rng(seed)
    rows = {}
    for split, n in zip(("train", "dev", "test"), sizes):
        items = []
        for i in range(n):
            seq = "".join(rng.choice(list("ACGT"), size=length))
            label = i % 2
            if label:
                at = int(rng.integers(0, length - len(motif)))
                seq = seq[:at] + motif + seq[at + len(motif) :]
            items.append((seq, str(label)))
        rows[split] = [items[i] for i in rng.permutation(n)]
    return write_task(folder, rows)


def noise_task(folder: Path, seed: int = 0, sizes=(160, 40, 40), length: int = 40) -> Path:
    """Labels drawn independently of the sequences: nothing to learn, so dev stops improving."""
    rng = np.random.default_rng(seed)
    rows = {
        split: [("".join(rng.choice(list("ACGT"), size=length)), str(int(rng.integers(0, 2)))) for _ in range(n)]
        for split, n in zip(("train", "dev", "test"), sizes)
    }
    return write_task(folder, rows)


SMALL = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "hidden_dropout_prob": 0.0,
}
SMALL_HRQ = {
    "vqvae": {
        "stem_channels": 16,
        "width": 16,
        "depth": 2,
        "code_dim": 8,
        "codebook_sizes": [16, 32],
        "tap_blocks": [1, 2],
    },
    "training": {"window_bp": 128, "batch_size": 8, "save_steps": 1000, "logging_steps": 5, "warmup_steps": 2},
}


def save_untrained_model(tokenizer, folder: Path, **config) -> Path:
    """A small encoder on `tokenizer`, saved as a model folder as `vqdna pretrain` writes it."""
    import torch

    from vqdna.config import EncoderConfig
    from vqdna.inference import save_model_folder
    from vqdna.training.pretrain import build_model

    torch.manual_seed(0)
    model = build_model(tokenizer, EncoderConfig(**{**SMALL, **config}))
    save_model_folder(model, tokenizer, folder)
    return folder


def untrained_vq(stride=1, levels=1, seed=0):
    """A small VQ (levels=1) or HRQ tokenizer, its codebooks k-means initialised on random bases."""
    import torch

    from vqdna.config import VQVAEConfig
    from vqdna.networks import VQVAE
    from vqdna.tokenizers import HRQTokenizer, VQTokenizer

    torch.manual_seed(seed)
    cfg = VQVAEConfig(
        stem_channels=16,
        width=16,
        depth=2,
        kernel_size=7,
        stride=stride,
        stem_kernel=stride + 4,
        code_dim=8,
        codebook_sizes=[32, 64][:levels],
        tap_blocks=[1, 2][-levels:] if levels == 1 else [1, 2],
    )
    model = VQVAE(cfg).train()
    x = torch.randint(0, 4, (8, 256))
    model(x)  # k-means initialisation from real features, so codes are diverse
    cls = HRQTokenizer if levels > 1 else VQTokenizer
    return cls(model.eval())
