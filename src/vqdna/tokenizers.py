"""Genome tokenizers behind one interface: learned (VQ-VAE, HRQ) and classic (k-mer, BPE).

Every tokenizer has `encode`, `encode_batch`, `__call__` (padded `input_ids` + `attention_mask`
tensors), `decode`, `num_tokens(bp)`, token→bp `offsets`, `vocab_size`, the same special tokens,
and `save_pretrained` / `from_pretrained` folders holding `config.json` plus weights. Input is
read under the rule in `vqdna.alphabet` (any case, N/IUPAC → N, anything else an error).

Ids 0-4 are the special tokens; a VQ code k is id 5 + k. An HRQ token has one id per level
(coarse, …, fine), so its `input_ids` have shape (batch, tokens, levels).

What differs between kinds lives here, on the classes, and nowhere else: which bases a token
depends on (`receptive_field`, for masking), the vectors a learned tokenizer gives its codes
(`code_vectors`, for the encoder's quantized input and for probing), the features a linear probe
reads (`features`), and where the tokenizer runs (`to`, `device`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

from .alphabet import (  # the special tokens are imported from here by the rest of vqdna
    BASE_PAD_ID,
    MASK_TOKEN_ID,
    N_ID,
    NUM_SPECIAL,
    PAD_TOKEN_ID,
    SPECIAL_TOKENS,
    UNK_TOKEN_ID,
    to_ids,
    to_text,
)
from .config import BPEConfig, KmerConfig, VQVAEConfig, from_dict
from .errors import UserError
from .networks import VQVAE
from .storage import (
    CheckpointError,
    load_state,
    package_versions,
    read_json,
    save_tensors,
    write_json,
    write_text,
)

KINDS = ("vq", "hrq", "kmer", "bpe")


class Encoding:
    """Token ids of one sequence, an int64 array of shape (tokens, levels) for every kind (levels
    is 1 except for HRQ), and each token's [start, end) in bp. Fixed-stride tokenizers give their
    offsets as a function, computed only when read: a 20 Mbp record's 20 million offset tuples
    would cost far more memory than its ids."""

    def __init__(self, ids: np.ndarray, offsets: list[tuple[int, int]] | Callable[[], list[tuple[int, int]]]):
        if ids.ndim != 2:
            raise ValueError(f"Encoding ids must be (tokens, levels), got shape {ids.shape}")
        self.ids = ids
        self._offsets = offsets

    def tolist(self) -> list:
        """The ids as JSON would hold them: a list of ints, or one list of per-level ids per token (HRQ)."""
        return self.ids[:, 0].tolist() if self.ids.shape[1] == 1 else self.ids.tolist()

    @property
    def offsets(self) -> list[tuple[int, int]]:
        if callable(self._offsets):
            self._offsets = self._offsets()
        return self._offsets

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(ids={self.tolist()!r}, offsets={self.offsets!r})"


class GenomeTokenizer:
    """The shared interface. Subclasses implement `encode_base_ids`, `decode`, `num_tokens`,
    `vocab_size`, and their own save/load."""

    kind: str = ""
    num_levels: int = 1
    learned: bool = False  # whether its codes are learned vectors (VQ/HRQ), not symbols
    pad_token_id, unk_token_id, mask_token_id = PAD_TOKEN_ID, UNK_TOKEN_ID, MASK_TOKEN_ID
    special_tokens = SPECIAL_TOKENS

    def __init__(self, metadata: dict[str, Any] | None = None):
        # What the tokenizer was trained on and with; saved back unchanged.
        self.metadata = dict(metadata or {})

    # -- encoding --------------------------------------------------------------------------
    def encode(self, sequence: str) -> Encoding:
        return self.encode_batch([sequence])[0]

    def encode_batch(self, sequences: Sequence[str]) -> list[Encoding]:
        base_ids = [to_ids(s, record=f"#{i}") for i, s in enumerate(sequences)]
        return self.encode_base_ids(base_ids)

    def encode_base_ids(self, base_ids: list[np.ndarray]) -> list[Encoding]:
        raise NotImplementedError

    def __call__(self, sequences: str | Sequence[str], return_tensors: str = "pt") -> dict[str, torch.Tensor]:
        if isinstance(sequences, str):
            sequences = [sequences]
        if return_tensors != "pt":
            raise ValueError("only return_tensors='pt' is supported")
        encs = self.encode_batch(sequences)
        return self.pad([e.ids for e in encs])

    def pad(self, batch_ids: Sequence[np.ndarray | Sequence]) -> dict[str, torch.Tensor]:
        """Right-pad token ids (`Encoding.ids` arrays, or the lists of `Encoding.tolist()`) into
        `input_ids` (batch, tokens) — (batch, tokens, levels) for HRQ — and `attention_mask` tensors."""
        length = max((len(ids) for ids in batch_ids), default=0)
        input_ids = torch.full((len(batch_ids), length, self.num_levels), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros(len(batch_ids), length, dtype=torch.long)
        for i, ids in enumerate(batch_ids):
            if len(ids):
                input_ids[i, : len(ids)] = torch.as_tensor(
                    np.asarray(ids, dtype=np.int64).reshape(len(ids), self.num_levels)
                )
            mask[i, : len(ids)] = 1
        return {"input_ids": input_ids if self.num_levels > 1 else input_ids[..., 0], "attention_mask": mask}

    def token_ids(self, ids: np.ndarray | Sequence) -> list[int]:
        """One level's ids as ints, from an `Encoding.ids` array or a list."""
        return [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]

    # -- the rest of the interface -----------------------------------------------------------
    def decode(self, ids: Sequence) -> str:
        raise NotImplementedError

    def num_tokens(self, bp: int) -> int:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int | tuple[int, ...]:
        raise NotImplementedError

    def decode_batch(self, batch_ids: Sequence) -> list[str]:
        return [self.decode(ids) for ids in batch_ids]

    @property
    def lossless(self) -> bool:
        """Whether decode(encode(s)) gives s back (under the N rule)."""
        return True

    @property
    def level_sizes(self) -> tuple[int, ...]:
        """How many codes (ids past the special tokens) each level has."""
        return (self.vocab_size - NUM_SPECIAL,)

    @property
    def bp_per_token(self) -> float:
        """Bases per token where every token has the same length: the stride (VQ/HRQ), k (k-mers
        side by side) or 1 (overlapping k-mers, one per position). BPE's tokens vary: 1, its
        shortest. Recorded in a model's config; nothing computes with it."""
        return 1.0

    # -- what masking and probing need to know ------------------------------------------------
    def receptive_field(self, token: int) -> tuple[int, int]:
        """[first, last] bp that token number `token` depends on (BPE: a token is its own bases,
        positions approximate)."""
        return token, token

    def span_centre_bp(self, start: int, length: int) -> float:
        """The centre of the bases a span of `length` tokens from token `start` holds (the midpoint
        of the union of the tokens' own bases)."""
        return start + (length - 1) / 2

    @property
    def code_dim(self) -> int:
        """The length of a code vector; 0 for a tokenizer without them."""
        return 0

    def code_vectors(self) -> list[torch.Tensor]:
        raise UserError(f"a {self.kind} tokenizer has no code vectors; only VQ and HRQ tokenizers learn them")

    # What a linear probe reads of a tokenizer alone: "tokens", the frequency of each token in a
    # sequence (a bag of tokens; per level, side by side, for HRQ), which every tokenizer has, so
    # all four are probed by the same rule; "vectors", the mean code vector (VQ/HRQ only).
    FEATURE_KINDS = ("tokens", "vectors")

    def feature_size(self, kind: str = "tokens") -> int:
        self._check_feature_kind(kind)
        return self.code_dim if kind == "vectors" else sum(self._vocab_sizes)

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, kind: str = "tokens") -> torch.Tensor:
        """Per sequence of a padded batch, the features a linear probe reads (`FEATURE_KINDS`)."""
        self._check_feature_kind(kind)
        if kind == "vectors":
            return self._mean_code_vector(input_ids, attention_mask)
        ids = input_ids if input_ids.dim() == 3 else input_ids.unsqueeze(-1)
        mask = attention_mask.float()
        levels = []
        for n, size in enumerate(self._vocab_sizes):
            counts = torch.zeros(ids.shape[0], size)
            counts.scatter_add_(1, ids[..., n], mask)  # padding has mask 0, so it counts for nothing
            levels.append(counts / counts.sum(1, keepdim=True).clamp_min(1))
        return torch.cat(levels, 1)

    @property
    def _vocab_sizes(self) -> tuple[int, ...]:
        """The vocabulary size of each level (one level: a tuple of one)."""
        sizes = self.vocab_size
        return sizes if isinstance(sizes, tuple) else (sizes,)

    def _check_feature_kind(self, kind: str) -> None:
        if kind not in self.FEATURE_KINDS:
            raise UserError(f"features must be one of {', '.join(self.FEATURE_KINDS)}; got {kind!r}")
        if kind == "vectors" and not self.learned:
            raise UserError(
                f"a {self.kind} tokenizer has no code vectors, so it has no 'vectors' features; use 'tokens' "
                "(token frequencies)"
            )

    def _mean_code_vector(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # -- where it runs ----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> "GenomeTokenizer":
        """Move a learned tokenizer's network (others run in Python wherever they are)."""
        return self

    def save_pretrained(self, directory: str | Path) -> None:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """sha256 of what makes this tokenizer map sequences to ids (its kind, settings and weights
        or vocabulary; not its training metadata): a model records its tokenizer's fingerprint and
        refuses to run with any other."""
        digest = hashlib.sha256(self.kind.encode())
        for chunk in self._identity():
            digest.update(chunk)
        return digest.hexdigest()

    def _identity(self) -> Iterable[bytes]:
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "special_tokens": list(SPECIAL_TOKENS),
            "metadata": self.metadata,
            "versions": package_versions(),
        }

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs) -> "GenomeTokenizer":
        """Any tokenizer folder through `GenomeTokenizer`; through a subclass, only its kind."""
        tokenizer = load_tokenizer(directory, **kwargs)
        if not isinstance(tokenizer, cls):
            raise CheckpointError(f"{directory}: holds a {tokenizer.kind} tokenizer, not a {cls.kind} one")
        return tokenizer


def _check_special(ids: Iterable[int], kind: str) -> None:
    bad = [i for i in ids if i < NUM_SPECIAL and i != PAD_TOKEN_ID]
    if bad:
        raise UserError(f"cannot decode special token {SPECIAL_TOKENS[bad[0]]} with a {kind} tokenizer")


# ---------------------------------------------------------------------------------------------
ACTIVATION_BYTES = 16 << 20  # the widest encoder activation of a CPU batch (see VQTokenizer)


class VQTokenizer(GenomeTokenizer):
    """Codes of a trained VQ-VAE: one token per `stride` bp. Decoding runs the decoder, so it is
    lossy; `eval-tokenizer` reports how lossy.

    Sequences longer than `chunk_bp` are encoded in overlapping chunks whose margins cover the
    encoder's receptive field, so the codes equal those of encoding the sequence whole.

    Batches hold about `batch_bp` bp (default: what keeps the encoder's widest activation near
    16 MB; chunks likewise). glibc gives an allocation of 32 MB or more its own mapping, unmapped
    when freed, so a larger tensor has its pages faulted in and zeroed afresh in every batch: at
    65,536 bp per batch the `tiny` encoder spent 40% of its time in the kernel and encoded half
    as fast (benchmarks/README.md, "Speed")."""

    kind = "vq"
    learned = True

    def __init__(
        self,
        model: VQVAE,
        metadata: dict[str, Any] | None = None,
        *,
        batch_bp: int | None = None,
        chunk_bp: int | None = None,
        precision: str = "fp32",
    ):
        super().__init__(metadata)
        self.model = model.eval()
        self.config: VQVAEConfig = model.config.settings
        self.num_levels = self.config.num_levels
        c = self.config
        # float32 values per token; not the codebook distances, which a CPU computes in ~4 MB blocks
        widest = max(c.stem_channels, c.width * c.mlp_ratio)
        self._cpu_batch_bp = max(ACTIVATION_BYTES // (4 * widest), 64) * c.stride
        self._auto_batch = batch_bp is None
        self.batch_bp = batch_bp or self._cpu_batch_bp
        self.chunk_bp = chunk_bp or self.batch_bp
        # "bf16": the encoder in bfloat16, opt-in (a few codes in 100,000 change; see VQVAE.encode_indices)
        self.precision = precision

    @property
    def stride(self) -> int:
        return self.config.stride

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> "VQTokenizer":
        self.model.to(device)
        if self._auto_batch:  # a GPU has no such allocator cost, and small batches would leave it idle
            self.batch_bp = self._cpu_batch_bp * (16 if torch.device(device).type == "cuda" else 1)
        return self

    @property
    def vocab_size(self) -> int | tuple[int, ...]:
        sizes = tuple(NUM_SPECIAL + k for k in self.config.codebook_sizes)
        return sizes[0] if self.num_levels == 1 else sizes

    @property
    def level_sizes(self) -> tuple[int, ...]:
        return tuple(self.config.codebook_sizes)

    @property
    def lossless(self) -> bool:
        return False

    @property
    def bp_per_token(self) -> float:
        return float(self.stride)

    @property
    def code_dim(self) -> int:
        return self.config.code_dim

    def code_vectors(self) -> list[torch.Tensor]:
        """Each level's codebook (codes, code_dim), on the CPU: code k's vector is row k."""
        return [q.codebook.detach().cpu() for q in self.model.quantizer.levels]

    def receptive_field(self, token: int) -> tuple[int, int]:
        c = self.config
        pad = (c.stem_kernel - c.stride) // 2
        reach = c.tap_blocks[-1] * (c.kernel_size // 2)  # tokens of context on each side after the blocks
        return (token - reach) * c.stride - pad, (token + reach) * c.stride - pad + c.stem_kernel - 1

    def span_centre_bp(self, start: int, length: int) -> float:
        s = self.stride  # a token owns its `stride` bp
        return start * s + (length * s - 1) / 2

    @torch.no_grad()
    def _mean_code_vector(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The mean code vector over real tokens, levels averaged (as the decoder sees them)."""
        books = [b.float() for b in self.code_vectors()]
        ids = input_ids if input_ids.dim() == 3 else input_ids.unsqueeze(-1)
        codes = (ids - NUM_SPECIAL).clamp_min(0)
        vectors = torch.stack([books[n][codes[..., n]] for n in range(len(books))]).mean(0)
        mask = attention_mask.float()
        return (vectors * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)

    def num_tokens(self, bp: int) -> int:
        return -(-bp // self.stride)

    def offsets(self, bp: int) -> list[tuple[int, int]]:
        s = self.stride
        return [(t * s, min((t + 1) * s, bp)) for t in range(self.num_tokens(bp))]

    @torch.no_grad()
    def _codes(self, base_ids: list[np.ndarray]) -> list[np.ndarray]:
        """Raw code indices (tokens, levels) per sequence, without the special-token offset."""
        s = self.stride
        margin = -(-self.config.receptive_field_bp() // s) * s  # whole tokens of context
        chunk = max(self.chunk_bp // s, 1) * s
        pieces: list[tuple[int, int, int, np.ndarray]] = []  # (seq, keep_from_token, keep_to_token, bp)
        for i, ids in enumerate(base_ids):
            if len(ids) <= chunk:
                pieces.append((i, 0, self.num_tokens(len(ids)), ids))
                continue
            for start in range(0, len(ids), chunk):
                lo = max(start - margin, 0)
                hi = min(start + chunk + margin, len(ids))
                keep_from = (start - lo) // s
                keep_to = keep_from + self.num_tokens(min(chunk, len(ids) - start))
                pieces.append((i, keep_from, keep_to, ids[lo:hi]))
        out: list[list[np.ndarray]] = [[] for _ in base_ids]
        order = sorted(range(len(pieces)), key=lambda p: len(pieces[p][3]))
        batch: list[int] = []
        for p in order + [None]:
            if p is not None and (not batch or (len(batch) + 1) * len(pieces[p][3]) <= self.batch_bp):
                batch.append(p)
                continue
            if batch:
                codes = self._encode_padded([pieces[b][3] for b in batch])
                for b, c in zip(batch, codes):
                    pieces[b] = (*pieces[b][:3], c[pieces[b][1] : pieces[b][2]])
            batch = [p] if p is not None else []
        for i, _, _, codes in pieces:  # pieces are in sequence order, chunks in position order
            out[i].append(codes)
        return [np.concatenate(c) if c else np.zeros((0, self.num_levels), dtype=np.int64) for c in out]

    def _encode_padded(self, seqs: list[np.ndarray]) -> list[np.ndarray]:
        length = max(len(x) for x in seqs)
        if length == 0:
            return [np.zeros((0, self.num_levels), dtype=np.int64) for _ in seqs]
        batch = np.full((len(seqs), length), BASE_PAD_ID, dtype=np.int64)
        for j, x in enumerate(seqs):
            batch[j, : len(x)] = x
        codes, _ = self.model.encode_indices(torch.from_numpy(batch).to(self.device), precision=self.precision)
        indices = codes.cpu().numpy()
        return [indices[j, : self.num_tokens(len(x))] for j, x in enumerate(seqs)]

    def encode_base_ids(self, base_ids: list[np.ndarray]) -> list[Encoding]:
        encs = []
        for ids, codes in zip(base_ids, self._codes(base_ids)):
            encs.append(Encoding(codes.astype(np.int64) + NUM_SPECIAL, functools.partial(self.offsets, len(ids))))
        return encs

    @torch.no_grad()
    def decode_batch(self, batch_ids: Sequence[Sequence]) -> list[str]:
        if not batch_ids:
            return []
        padded = self.pad(batch_ids)
        ids = padded["input_ids"]
        if ids.dim() == 2:
            ids = ids.unsqueeze(-1)
        real = padded["attention_mask"].bool()
        _check_special(ids[real].flatten().tolist(), self.kind)
        codes = (ids - NUM_SPECIAL).clamp_min(0).to(self.device)
        logits = self.model.decode_indices(codes, real.to(self.device))
        bases = logits.argmax(-1).cpu().numpy()
        return [to_text(bases[i, : int(real[i].sum()) * self.stride]) for i in range(len(batch_ids))]

    def decode(self, ids: Sequence) -> str:
        return self.decode_batch([ids])[0]

    def _identity(self) -> Iterable[bytes]:
        yield json.dumps(dataclasses.asdict(self.config), sort_keys=True).encode()
        for name, tensor in sorted(self.model.state_dict().items()):
            yield name.encode()
            yield tensor.detach().cpu().contiguous().numpy().tobytes()

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_tensors(directory / "model.safetensors", self.model.state_dict())
        write_json(directory / "config.json", {**self._config(), "model": dataclasses.asdict(self.config)})

    @classmethod
    def _load(cls, directory: Path, config: dict[str, Any], device: str | torch.device | None = None) -> "VQTokenizer":
        try:
            model_config = from_dict(VQVAEConfig, config["model"], what=f"{directory / 'config.json'}: model")
        except KeyError as exc:
            raise CheckpointError(
                f"{directory / 'config.json'}: no {exc} section: not a complete VQ/HRQ tokenizer config"
            ) from exc
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{directory / 'config.json'}: invalid model config: {exc}") from exc
        model = VQVAE(model_config)
        load_state(model, directory / "model.safetensors")
        tok = cls(model, config.get("metadata"))
        return tok.to(device) if device is not None else tok


class HRQTokenizer(VQTokenizer):
    """Hierarchical residual codes: a (coarse, …, fine) tuple of ids per token."""

    kind = "hrq"


# ---------------------------------------------------------------------------------------------
class KmerTokenizer(GenomeTokenizer):
    """k-mers, overlapping (DNABERT: one token per position, stride 1) or not (Nucleotide
    Transformer: stride k; a tail shorter than k becomes single-base tokens). A k-mer containing N
    is [UNK] (decoded as k N's); single bases have their own tokens, N included."""

    kind = "kmer"

    def __init__(self, k: int = 6, overlapping: bool = False, metadata: dict[str, Any] | None = None):
        super().__init__(metadata)
        if not 1 <= k <= 12:
            raise UserError(f"k must be in 1..12, got {k}")
        self.k, self.overlapping = k, overlapping
        self._powers = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
        self._first_kmer = NUM_SPECIAL + 5  # after the single bases A C G T N

    @property
    def vocab_size(self) -> int:
        return self._first_kmer + 4**self.k

    @property
    def bp_per_token(self) -> float:
        return 1.0 if self.overlapping else float(self.k)

    def receptive_field(self, token: int) -> tuple[int, int]:
        start = token if self.overlapping else token * self.k
        return start, start + self.k - 1

    def span_centre_bp(self, start: int, length: int) -> float:
        k = self.k  # an overlapping k-mer owns its k bases, so a span of them covers length + k - 1
        return start + (length + k - 2) / 2 if self.overlapping else start * k + (length * k - 1) / 2

    def num_tokens(self, bp: int) -> int:
        if self.overlapping:
            return bp - self.k + 1 if bp >= self.k else bp
        return bp // self.k + bp % self.k

    def offsets(self, bp: int) -> list[tuple[int, int]]:
        k = self.k
        if self.overlapping:
            return [(i, i + k) for i in range(bp - k + 1)] if bp >= k else [(i, i + 1) for i in range(bp)]
        full = bp // k
        return [(i * k, i * k + k) for i in range(full)] + [(i, i + 1) for i in range(full * k, bp)]

    def _kmers(self, windows: np.ndarray) -> np.ndarray:
        values = self._first_kmer + (windows.astype(np.int64) @ self._powers) if windows.size else np.zeros(0, np.int64)
        return np.where((windows == N_ID).any(1), UNK_TOKEN_ID, values) if windows.size else values

    def _encode_one(self, ids: np.ndarray) -> np.ndarray:
        k = self.k
        if self.overlapping:
            if len(ids) < k:
                return NUM_SPECIAL + ids.astype(np.int64)
            return self._kmers(np.lib.stride_tricks.sliding_window_view(ids, k))
        full = len(ids) // k
        head = self._kmers(ids[: full * k].reshape(full, k))
        return np.concatenate([head, NUM_SPECIAL + ids[full * k :].astype(np.int64)])

    def encode_base_ids(self, base_ids: list[np.ndarray]) -> list[Encoding]:
        return [Encoding(self._encode_one(ids)[:, None], functools.partial(self.offsets, len(ids))) for ids in base_ids]

    def token_text(self, token_id: int) -> str:
        if token_id < NUM_SPECIAL:
            return "N" * self.k if token_id == UNK_TOKEN_ID else ""
        if token_id < self._first_kmer:
            return "ACGTN"[token_id - NUM_SPECIAL]
        v = token_id - self._first_kmer
        return "".join("ACGT"[(v // p) % 4] for p in self._powers)

    def decode(self, ids: np.ndarray | Sequence[int]) -> str:
        ids = [i for i in self.token_ids(ids) if i != PAD_TOKEN_ID]
        _check_special([i for i in ids if i != UNK_TOKEN_ID], self.kind)
        texts = [self.token_text(i) for i in ids]
        if self.overlapping and texts and len(texts[0]) == self.k:
            return texts[0] + "".join(t[-1] for t in texts[1:])
        return "".join(texts)

    def _identity(self) -> Iterable[bytes]:
        yield json.dumps({"k": self.k, "overlapping": self.overlapping}, sort_keys=True).encode()

    def save_pretrained(self, directory: str | Path) -> None:
        write_json(Path(directory) / "config.json", {**self._config(), "k": self.k, "overlapping": self.overlapping})

    @classmethod
    def _load(cls, directory: Path, config: dict[str, Any], device=None) -> "KmerTokenizer":
        try:
            settings = from_dict(
                KmerConfig, {"k": config["k"], "overlapping": config["overlapping"]}, what="k-mer settings"
            )
            return cls(settings.k, settings.overlapping, config.get("metadata"))
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{directory / 'config.json'}: invalid k-mer config: {exc}") from exc


# ---------------------------------------------------------------------------------------------
class BPETokenizer(GenomeTokenizer):
    """Byte-pair encoding over ACGTN learned with the `tokenizers` library (DNABERT-2 style).
    Token lengths vary, so `num_tokens(bp)` is the worst case (one token per bp)."""

    kind = "bpe"

    def __init__(self, tokenizer, metadata: dict[str, Any] | None = None):
        super().__init__(metadata)
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer

    @classmethod
    def train(cls, texts: Iterable[str], config: BPEConfig, metadata: dict[str, Any] | None = None) -> "BPETokenizer":
        from tokenizers import Tokenizer, models, trainers

        tok = Tokenizer(models.BPE(unk_token="[UNK]"))
        trainer = trainers.BpeTrainer(
            vocab_size=config.vocab_size,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=list("ACGTN"),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok, metadata)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def num_tokens(self, bp: int) -> int:
        return bp

    def encode_base_ids(self, base_ids: list[np.ndarray]) -> list[Encoding]:
        encs = self.tokenizer.encode_batch([to_text(ids) for ids in base_ids], add_special_tokens=False)
        return [Encoding(np.asarray(e.ids, dtype=np.int64).reshape(-1, 1), [tuple(o) for o in e.offsets]) for e in encs]

    def decode(self, ids: np.ndarray | Sequence[int]) -> str:
        ids = [i for i in self.token_ids(ids) if i != PAD_TOKEN_ID]
        _check_special(ids, self.kind)
        return "".join(self.tokenizer.id_to_token(i) for i in ids)

    def _identity(self) -> Iterable[bytes]:
        yield self.tokenizer.to_str().encode()

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        write_text(directory / "tokenizer.json", self.tokenizer.to_str())
        write_json(directory / "config.json", self._config())

    @classmethod
    def _load(cls, directory: Path, config: dict[str, Any], device=None) -> "BPETokenizer":
        from tokenizers import Tokenizer

        path = directory / "tokenizer.json"
        if not path.is_file():
            raise CheckpointError(f"{path}: missing BPE vocabulary file")
        try:
            return cls(Tokenizer.from_file(str(path)), config.get("metadata"))
        except Exception as exc:  # tokenizers raises a plain Exception on a corrupt file
            raise CheckpointError(f"{path}: corrupt BPE vocabulary file: {exc}") from exc


# ---------------------------------------------------------------------------------------------
class TransformersTokenizer(GenomeTokenizer):
    """Any transformers tokenizer (DNABERT-2's BPE, Nucleotide Transformer's k-mers, a BERT
    tokenizer of one's own) behind this interface, so that a model vqdna did not train is
    fine-tuned, benchmarked and used beside its own. Sequences are read under vqdna's alphabet rule
    (upper case, IUPAC → N; anything else an error), then tokenized with the tokenizer's own
    special tokens ([CLS]/[SEP] where it adds them). Its special ids are its own, not 0-4."""

    kind = "transformers"

    def __init__(self, tokenizer, metadata: dict[str, Any] | None = None):
        super().__init__(metadata)
        self.tokenizer = tokenizer  # a transformers PreTrainedTokenizerBase
        for name in ("pad_token_id", "unk_token_id", "mask_token_id"):
            value = getattr(tokenizer, name, None)
            setattr(self, name, value if value is not None else getattr(GenomeTokenizer, name))

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    @property
    def lossless(self) -> bool:
        return False  # what decode gives back depends on the tokenizer (an [UNK] loses its bases)

    def num_tokens(self, bp: int) -> int:
        return bp + self.tokenizer.num_special_tokens_to_add()  # the worst case: one token per base

    def encode_base_ids(self, base_ids: list[np.ndarray]) -> list[Encoding]:
        texts = [to_text(ids) for ids in base_ids]
        fast = getattr(self.tokenizer, "is_fast", False)
        out = self.tokenizer(texts, add_special_tokens=True, return_offsets_mapping=fast)
        encs = []
        for n, ids in enumerate(out["input_ids"]):
            offsets = [tuple(o) for o in out["offset_mapping"][n]] if fast else [(0, 0)] * len(ids)
            encs.append(Encoding(np.asarray(ids, dtype=np.int64).reshape(-1, 1), offsets))
        return encs

    def decode(self, ids: Sequence) -> str:
        return self.tokenizer.decode(self.token_ids(ids), skip_special_tokens=True).replace(" ", "")

    def _identity(self) -> Iterable[bytes]:
        yield type(self.tokenizer).__name__.encode()
        yield json.dumps(sorted(self.tokenizer.get_vocab().items())).encode()
        yield json.dumps(self.tokenizer.special_tokens_map, sort_keys=True).encode()

    def save_pretrained(self, directory: str | Path) -> None:
        self.tokenizer.save_pretrained(str(directory))

    @classmethod
    def _load(
        cls, directory: Path, config: dict[str, Any] | None = None, device=None, **kwargs
    ) -> "TransformersTokenizer":
        from transformers import AutoTokenizer

        try:
            return cls(AutoTokenizer.from_pretrained(str(directory), **kwargs))
        except (OSError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{directory}: cannot load its transformers tokenizer: {exc}") from exc


_CLASSES: dict[str, type] = {"vq": VQTokenizer, "hrq": HRQTokenizer, "kmer": KmerTokenizer, "bpe": BPETokenizer}


def load_tokenizer(directory: str | Path, device: str | torch.device | None = None) -> GenomeTokenizer:
    """Load any tokenizer folder written by `save_pretrained`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such tokenizer folder")
    config = read_json(directory / "config.json", what="tokenizer config")
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind not in _CLASSES:
        raise CheckpointError(
            f"{directory / 'config.json'}: unknown tokenizer kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    return _CLASSES[kind]._load(directory, config, device)
