"""vqdna: learned genome tokenization (VQ-VAE, HRQ) and genomic language modeling."""

__version__ = "0.1.0"
