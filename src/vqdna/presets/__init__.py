"""Presets (tiny, fast, base) as JSON data files. Each section lists only what differs from the
defaults of its config dataclass in `vqdna.config` (sections: vqvae and levels, training, bpe,
kmer, encoder, pretrain, finetune); a `--config` has the same shape."""
