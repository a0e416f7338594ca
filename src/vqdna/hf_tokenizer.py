"""Every vqdna tokenizer as transformers sees it: `VQDNATokenizer`, a `PreTrainedTokenizer`.

A model folder keeps its tokenizer in `tokenizer/` (vqdna's own format, see `vqdna.tokenizers`)
and, at its root, the `tokenizer_config.json` that `AutoTokenizer.from_pretrained(folder,
trust_remote_code=True)` reads, beside a copy of this module and the modules it imports. Those
imports are relative and reach nothing but torch, numpy, safetensors, tokenizers and
transformers, so a folder copied to a machine without vqdna loads as it is.

The ids are the ones vqdna's own commands compute: this class calls the wrapped
`GenomeTokenizer` on whole sequences (a VQ/HRQ code depends on its neighbours, so a sequence is
never split into words first). What transformers' calling convention adds:

* `padding` (`True`/"longest", "max_length", `pad_to_multiple_of`, `padding_side`),
  `return_tensors` ("pt", "np"), `return_attention_mask`, `return_length`,
  `return_special_tokens_mask`, `return_offsets_mapping` (each token's bases);
* `truncation` only when asked for, and then with a warning saying how many tokens were cut: a
  genome window is never shortened silently;
* `[MASK]` written in a sequence stands for one token (what `pipeline("fill-mask")` needs). For
  VQ/HRQ the masked token's bases are read as N, and a mask must start at a multiple of the stride;
* `decode` / `batch_decode`: k-mer and BPE give the bases back; VQ/HRQ run the decoder network
  (lossy, as `vqdna eval-tokenizer` measures);
* HRQ: a token is one id per level (coarse, …, fine), so `input_ids` are (batch, tokens, levels)
  and `tokenize` names a token by its codes, "<3.17.5>". `vocab_size` is the coarse level's;
  `level_vocab_sizes` lists every level's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizer
from transformers.tokenization_utils_base import PaddingStrategy, TruncationStrategy

# Relative imports only: transformers copies this module's relative imports beside a saved model.
# transformers 5.0 copies only a module's direct relative imports when it loads a local folder's
# code (later 5.x releases follow them further), so the ones `.tokenizers` needs in turn are named
# here too (config, networks, quantizers, storage).
from .alphabet import MASK_TOKEN_ID, NUM_SPECIAL, PAD_TOKEN_ID, SPECIAL_TOKENS, UNK_TOKEN_ID, to_ids
from .config import VQVAEConfig  # noqa: F401
from .errors import UserError
from .networks import VQVAE  # noqa: F401
from .quantizers import HierarchicalResidualQuantizer  # noqa: F401
from .storage import package_versions  # noqa: F401
from .tokenizers import BPETokenizer, GenomeTokenizer, KmerTokenizer, load_tokenizer

TOKENIZER_DIR = "tokenizer"  # vqdna's own files, below the folder where transformers looks


class VQDNATokenizer(PreTrainedTokenizer):
    """A `GenomeTokenizer` (VQ, HRQ, k-mer or BPE) behind transformers' tokenizer interface.

    `VQDNATokenizer(genome_tokenizer)` wraps one in memory; `from_pretrained(folder)` loads a
    saved one; `save_pretrained(folder)` writes both formats."""

    # transformers resolves these names (locally or on the Hub) and passes the paths to __init__;
    # which of them exist depends on the kind, and vqdna reads the folder that holds them
    vocab_files_names = {
        "genome_config_file": f"{TOKENIZER_DIR}/config.json",
        "genome_weights_file": f"{TOKENIZER_DIR}/model.safetensors",
        "genome_vocab_file": f"{TOKENIZER_DIR}/tokenizer.json",
    }
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self, genome_tokenizer: GenomeTokenizer | None = None, genome_config_file: str | None = None, **kwargs
    ):
        kwargs.pop("genome_weights_file", None)
        kwargs.pop("genome_vocab_file", None)
        if genome_tokenizer is None:
            if genome_config_file is None:
                raise UserError(
                    f"VQDNATokenizer needs a GenomeTokenizer or a folder with {self.vocab_files_names['genome_config_file']}"
                )
            genome_tokenizer = load_tokenizer(Path(genome_config_file).parent)
        if not isinstance(genome_tokenizer, GenomeTokenizer):
            raise UserError(f"VQDNATokenizer wraps a vqdna GenomeTokenizer, got {type(genome_tokenizer).__name__}")
        self.genome = genome_tokenizer
        pad, unk, _cls, _sep, mask = SPECIAL_TOKENS
        for name, token in (
            ("pad_token", pad),
            ("unk_token", unk),
            ("cls_token", _cls),
            ("sep_token", _sep),
            ("mask_token", mask),
        ):
            kwargs.setdefault(name, token)
        kwargs.setdefault("tokenizer_kind", genome_tokenizer.kind)  # recorded in tokenizer_config.json
        super().__init__(**kwargs)
        self._warned_truncation = False

    # -- what transformers asks of every tokenizer --------------------------------------------
    @property
    def kind(self) -> str:
        return self.genome.kind

    @property
    def vocab_size(self) -> int:
        size = self.genome.vocab_size
        return size[0] if isinstance(size, tuple) else size

    @property
    def level_vocab_sizes(self) -> tuple[int, ...]:
        size = self.genome.vocab_size
        return size if isinstance(size, tuple) else (size,)

    def get_vocab(self) -> dict[str, int]:
        return {self._convert_id_to_token(i): i for i in range(self.vocab_size)}

    def _convert_id_to_token(self, index: int) -> str:
        if index < NUM_SPECIAL:
            return SPECIAL_TOKENS[index]
        if isinstance(self.genome, KmerTokenizer):
            return self.genome.token_text(index)
        if isinstance(self.genome, BPETokenizer):
            return self.genome.tokenizer.id_to_token(index)
        return f"<{index - NUM_SPECIAL}>"

    def _convert_token_to_id(self, token: str) -> int:
        if token in SPECIAL_TOKENS:
            return SPECIAL_TOKENS.index(token)
        if isinstance(self.genome, BPETokenizer):
            found = self.genome.tokenizer.token_to_id(token)
            return UNK_TOKEN_ID if found is None else found
        if isinstance(self.genome, KmerTokenizer):
            ids = self.genome.encode(token).ids[:, 0] if token and set(token.upper()) <= set("ACGTN") else []
            return int(ids[0]) if len(ids) == 1 else UNK_TOKEN_ID
        code = token[1:-1] if token.startswith("<") and token.endswith(">") else ""
        return NUM_SPECIAL + int(code) if code.isdigit() and int(code) < self.vocab_size - NUM_SPECIAL else UNK_TOKEN_ID

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        if self.genome.num_levels == 1:
            return super().convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens)
        array = np.asarray(ids, dtype=np.int64)  # HRQ: one (levels,) row per token
        if array.size == 0:
            return []

        def name(token: np.ndarray) -> str:
            if token[0] < NUM_SPECIAL:
                return SPECIAL_TOKENS[int(token[0])]
            return "<" + ".".join(str(int(i) - NUM_SPECIAL) for i in token) + ">"

        if array.ndim == 1:
            return name(array)
        return [name(t) for t in array if not (skip_special_tokens and t[0] < NUM_SPECIAL)]

    def tokenize(self, text: str, **kwargs) -> list[str]:
        return self.convert_ids_to_tokens(self._as_list(self._encode_texts([text])[0].ids))

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return self.tokenize(text)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return self.decode(self.convert_tokens_to_ids(tokens))

    # -- encoding --------------------------------------------------------------------------
    def _encode_texts(self, texts: list[str]) -> list:
        """`Encoding`s of whole sequences, with each `[MASK]` written in a text as one mask token."""
        mask = self.mask_token
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise UserError(f"sequence #{i}: expected a DNA sequence as a string, got {type(text).__name__}")
        if not any(mask in t for t in texts):
            return self.genome.encode_batch(texts)
        for i, text in enumerate(texts):  # a bad character is named by its sequence's number
            to_ids(text.replace(mask, ""), record=f"#{i}")
        return [
            self._encode_masked(text, i) if mask in text else self.genome.encode(text) for i, text in enumerate(texts)
        ]

    def _encode_masked(self, text: str, index: int):
        from .tokenizers import Encoding

        pieces = text.split(self.mask_token)
        levels = self.genome.num_levels
        mask_row = np.full((1, levels), MASK_TOKEN_ID, dtype=np.int64)
        if isinstance(self.genome, (KmerTokenizer, BPETokenizer)):
            # tokens of these kinds depend on their own bases only, so the pieces are encoded apart
            rows, offsets, start = [], [], 0
            for n, piece in enumerate(pieces):
                enc = self.genome.encode(piece) if piece else None
                if enc is not None:
                    rows.append(enc.ids)
                    offsets += [(start + a, start + b) for a, b in enc.offsets]
                    start += len(piece)
                if n < len(pieces) - 1:
                    rows.append(mask_row)
                    offsets.append((start, start))
            return Encoding(np.concatenate(rows) if rows else np.zeros((0, levels), np.int64), offsets)
        # VQ/HRQ: a code depends on its neighbours, so the whole sequence is encoded with the
        # masked token's bases as N, then that token's ids are replaced by [MASK]
        stride = int(self.genome.bp_per_token)
        bases, positions = [], []
        for n, piece in enumerate(pieces):
            bases.append(piece)
            if n < len(pieces) - 1:
                done = sum(len(p) for p in bases)
                if done % stride:
                    raise UserError(
                        f"sequence #{index}: a [MASK] after {done} bp; with this tokenizer's stride of {stride} bp a "
                        f"masked token must start at a multiple of {stride}"
                    )
                positions.append(done // stride)
                bases.append("N" * stride)
        to_ids("".join(bases), record=f"#{index}")  # a bad character is named before the network runs
        enc = self.genome.encode("".join(bases))
        ids = enc.ids.copy()
        ids[positions] = MASK_TOKEN_ID
        return Encoding(ids, enc._offsets)

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors=None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        **kwargs,
    ) -> BatchEncoding:
        if text_pair is not None:
            raise UserError("a genome tokenizer encodes single sequences: text_pair is not supported")
        if is_split_into_words:
            raise UserError(
                "is_split_into_words is not supported: a sequence is tokenized whole (a learned code depends on its neighbours)"
            )
        if return_overflowing_tokens:
            raise UserError(
                "return_overflowing_tokens is not supported: cut long sequences into windows first (vqdna's seqio.tile_spans)"
            )
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        encodings = self._encode_texts(texts)
        ids = [e.ids for e in encodings]
        offsets = [e.offsets for e in encodings] if return_offsets_mapping else None
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length is not None:
            cut = sum(max(len(x) - max_length, 0) for x in ids)
            if cut:
                if not self._warned_truncation:
                    warnings.warn(
                        f"truncation=True cut {cut} tokens from sequences longer than max_length={max_length}: "
                        "the model sees only their first bases",
                        stacklevel=3,
                    )
                    self._warned_truncation = True
                keep = slice(-max_length, None) if self.truncation_side == "left" else slice(max_length)
                ids = [x[keep] if len(x) > max_length else x for x in ids]
                offsets = [o[keep] if len(o) > max_length else o for o in offsets] if offsets is not None else None
        out: dict[str, list] = {"input_ids": [self._as_list(x) for x in ids]}
        if return_special_tokens_mask:
            out["special_tokens_mask"] = [(x[:, 0] < NUM_SPECIAL).astype(int).tolist() for x in ids]
        if offsets is not None:
            out["offset_mapping"] = [list(o) for o in offsets]
        if return_length:
            out["length"] = [len(x) for x in ids]
        if return_token_type_ids:
            out["token_type_ids"] = [[0] * len(x) for x in ids]
        padded = self.pad(
            out,
            padding=padding_strategy.value,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=return_attention_mask,
        )
        data = dict(padded) if batched else {key: value[0] for key, value in padded.items()}
        encoding = BatchEncoding(data, tensor_type=return_tensors, prepend_batch_axis=not batched)
        ids = encoding["input_ids"]
        if self.genome.num_levels > 1 and getattr(ids, "ndim", 0) == 2 and ids.shape[1] == 0:
            encoding["input_ids"] = ids.reshape(*ids.shape, self.genome.num_levels)  # empty: still (batch, 0, levels)
        return encoding

    def _get_padding_truncation_strategies(self, padding=False, truncation=None, max_length=None, *args, **kwargs):
        # transformers truncates when max_length is given and truncation is not; a genome window is
        # cut only when truncation=True says so
        truncation = False if truncation is None else truncation
        return super()._get_padding_truncation_strategies(padding, truncation, max_length, *args, **kwargs)

    def _as_list(self, ids: np.ndarray) -> list:
        return ids[:, 0].tolist() if self.genome.num_levels == 1 else ids.tolist()

    def _pad(
        self,
        encoded_inputs,
        max_length: int | None = None,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
    ) -> dict:
        levels = self.genome.num_levels
        if levels == 1:
            offsets = encoded_inputs.pop("offset_mapping", None)
            out = super()._pad(
                encoded_inputs, max_length, padding_strategy, pad_to_multiple_of, padding_side, return_attention_mask
            )
            if offsets is not None:  # transformers pads the other keys; offsets as (0, 0), as its fast tokenizers do
                missing = len(out["input_ids"]) - len(offsets)
                left = (padding_side or self.padding_side) == "left"
                out["offset_mapping"] = (
                    [(0, 0)] * missing + list(offsets) if left else list(offsets) + [(0, 0)] * missing
                )
            return out
        # HRQ: transformers pads with one id per position; an HRQ position needs one per level
        ids = encoded_inputs["input_ids"]
        if return_attention_mask is None:
            return_attention_mask = True
        if return_attention_mask and "attention_mask" not in encoded_inputs:
            encoded_inputs["attention_mask"] = [1] * len(ids)
        target = len(ids) if padding_strategy == PaddingStrategy.LONGEST else max_length
        if padding_strategy != PaddingStrategy.DO_NOT_PAD and target is not None:
            if pad_to_multiple_of and target % pad_to_multiple_of:
                target = (target // pad_to_multiple_of + 1) * pad_to_multiple_of
            missing = target - len(ids)
            if missing > 0:
                left = (padding_side or self.padding_side) == "left"
                fill = {
                    "input_ids": [[PAD_TOKEN_ID] * levels] * missing,
                    "attention_mask": [0] * missing,
                    "special_tokens_mask": [1] * missing,
                    "token_type_ids": [0] * missing,
                    "offset_mapping": [(0, 0)] * missing,
                }
                for key, pad in fill.items():
                    if key in encoded_inputs:
                        value = list(encoded_inputs[key])
                        encoded_inputs[key] = pad + value if left else value + pad
        return encoded_inputs

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        return list(token_ids_0) + (list(token_ids_1) if token_ids_1 is not None else [])

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 0  # none: a "cls" classifier adds its [CLS] itself, so ids and token caches fit every head

    # -- decoding --------------------------------------------------------------------------
    def _decode(self, token_ids, skip_special_tokens: bool = False, **kwargs) -> str:
        rows = np.asarray(token_ids, dtype=np.int64).reshape(-1, self.genome.num_levels)
        rows = rows[rows[:, 0] != PAD_TOKEN_ID]
        # a k-mer's [UNK] is a k-mer with an N in it: decoded as N's with the rest, never dropped
        bases = rows[:, 0] >= NUM_SPECIAL
        if isinstance(self.genome, KmerTokenizer):
            bases |= rows[:, 0] == UNK_TOKEN_ID
        if skip_special_tokens:
            rows, bases = rows[bases], bases[bases]
        # a special token left in is written as itself, and the bases between them are decoded
        text, start = [], 0
        for at in [*np.flatnonzero(~bases), len(rows)]:
            if at > start:
                text.append(self.genome.decode(rows[start:at]))
            if at < len(rows):
                text.append(SPECIAL_TOKENS[int(rows[at, 0])])
            start = at + 1
        return "".join(text)

    def decode(self, token_ids, skip_special_tokens: bool = False, **kwargs) -> str | list[str]:
        if hasattr(token_ids, "detach"):
            token_ids = token_ids.detach().cpu().numpy()
        if self._depth(token_ids) > (1 if self.genome.num_levels == 1 else 2):  # a batch, maybe of unequal lengths
            return [self._decode(row, skip_special_tokens) for row in token_ids]
        return self._decode(token_ids, skip_special_tokens)

    def batch_decode(self, sequences, skip_special_tokens: bool = False, **kwargs) -> list[str]:
        if hasattr(sequences, "detach"):
            sequences = sequences.detach().cpu().numpy()
        return [self._decode(row, skip_special_tokens) for row in sequences]

    @staticmethod
    def _depth(ids) -> int:
        """How deeply lists (or an array) nest: 1 for one level's ids, 2 for HRQ's or a batch, ..."""
        if isinstance(ids, np.ndarray):
            return ids.ndim
        depth = 0
        while isinstance(ids, (list, tuple)):
            depth += 1
            if not ids:
                break
            ids = ids[0]
        return depth

    # -- saving ----------------------------------------------------------------------------
    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        folder = Path(save_directory) / TOKENIZER_DIR
        self.genome.save_pretrained(folder)
        return tuple(str(p) for p in sorted(folder.iterdir()) if p.is_file())

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> tuple[str, ...]:
        # transformers records the class's module in tokenizer_config.json's auto_map and copies it
        # (with its relative imports) beside the files, for trust_remote_code
        type(self).register_for_auto_class("AutoTokenizer")
        return super().save_pretrained(save_directory, **kwargs)

    def __repr__(self) -> str:
        return f"VQDNATokenizer(kind={self.kind!r}, vocab_size={self.genome.vocab_size})"
