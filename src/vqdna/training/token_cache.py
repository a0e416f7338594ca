"""Frozen tokenizer outputs, computed once per dataset and kept on disk.

During fine-tuning the tokenizer never changes, so encoding every batch of every epoch (a CNN pass
per base for VQ/HRQ) repeats the same work. A cache file holds the token ids of one list of
sequences under one tokenizer: it is keyed by the tokenizer's identity (a hash of its saved files,
package versions left out) and by the sequences themselves, so a changed tokenizer or changed data
gives a new file instead of stale ids. Files are safetensors + a JSON header, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from vqdna.storage import atomic_path
from vqdna.tokenizers import GenomeTokenizer
from vqdna.training.engine import is_main_process

ENCODE_CHUNK = 2048  # sequences per encode_batch call (bounded memory for VQ/HRQ)


def tokenizer_fingerprint(tokenizer: GenomeTokenizer) -> str:
    """A hash of everything that decides the tokenizer's output: its saved files, with the
    package-version record (which does not change the ids) left out of config.json."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        for path in sorted(Path(tmp).rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.name == "config.json":
                config = json.loads(data)
                config.pop("versions", None)
                data = json.dumps(config, sort_keys=True).encode()
            digest.update(str(path.relative_to(tmp)).encode() + b"\0" + data + b"\0")
    precision = getattr(tokenizer, "precision", "fp32")
    if precision != "fp32":  # other codes; fp32 adds nothing, so caches from before stay valid
        digest.update(f"precision={precision}".encode())
    return digest.hexdigest()


def sequences_fingerprint(sequences: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for s in sequences:
        digest.update(s.encode() + b"\n")
    return digest.hexdigest()


class TokenCache:
    """Token ids of sequences under one tokenizer, in `folder/<tokenizer hash>/<name>-<data hash>.safetensors`."""

    def __init__(self, folder: str | Path, tokenizer: GenomeTokenizer):
        self.tokenizer = tokenizer
        self.fingerprint = tokenizer_fingerprint(tokenizer)
        self.folder = Path(folder) / self.fingerprint[:16]

    def path(self, name: str, sequences: Sequence[str]) -> Path:
        return self.folder / f"{name}-{sequences_fingerprint(sequences)[:16]}.safetensors"

    def encode(self, name: str, sequences: Sequence[str]) -> tuple[list[np.ndarray], bool]:
        """Token ids of every sequence (an array of (tokens,) or (tokens, levels)), and whether
        they came from the cache."""
        path = self.path(name, sequences)
        cached = self._read(path, len(sequences))
        if cached is not None:
            return cached, True
        ids = []
        for start in range(0, len(sequences), ENCODE_CHUNK):
            for enc in self.tokenizer.encode_batch(list(sequences[start : start + ENCODE_CHUNK])):
                ids.append(
                    enc.ids.astype(np.int32) if self.tokenizer.num_levels > 1 else enc.ids[:, 0].astype(np.int32)
                )
        lengths = np.array([len(x) for x in ids], dtype=np.int64)
        flat = np.concatenate(ids) if ids else np.zeros((0,), dtype=np.int32)
        header = {"tokenizer": self.fingerprint, "sequences": str(len(sequences)), "name": name}
        # Only the main process writes: under torchrun another rank can get here before rank 0 has
        # claimed the output folder, and a cache file of its own would make the folder look foreign.
        if is_main_process():
            with atomic_path(path) as tmp:
                save_file(
                    {"ids": torch.from_numpy(flat), "lengths": torch.from_numpy(lengths)}, str(tmp), metadata=header
                )
        return ids, False

    def _read(self, path: Path, count: int) -> list[np.ndarray] | None:
        """The cached ids, or None when the file is missing or does not hold what was asked (a
        damaged file is rebuilt, never trusted)."""
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = fh.metadata() or {}
                if meta.get("tokenizer") != self.fingerprint or meta.get("sequences") != str(count):
                    return None
                flat, lengths = fh.get_tensor("ids").numpy(), fh.get_tensor("lengths").numpy()
        except (SafetensorError, OSError, ValueError):
            return None
        if len(lengths) != count or int(lengths.sum()) != len(flat):
            return None
        return np.split(flat, np.cumsum(lengths)[:-1]) if count else []
