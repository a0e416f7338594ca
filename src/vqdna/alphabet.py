"""The nucleotide alphabet: how text becomes base ids, and the rule for ambiguous bases.

The rule, applied everywhere in vqdna:

* ``A C G T`` (any case; lower case is soft-masking, not a different base) are bases 0-3.
* ``U`` is read as ``T`` (RNA input).
* ``N`` and the IUPAC ambiguity codes ``R Y S W K M B D H V`` all become base id 4, "N":
  the networks see an uninformative one-hot row (0.25 each), the reconstruction loss and
  accuracy skip it, and k-mer/BPE tokenizers map any token containing it to ``[UNK]`` or ``N``.
* Training windows with more than ``max_n_fraction`` N are skipped (see ``vqdna.corpus``).
* Anything else (digits, ``-`` gaps, ``*``, spaces inside a sequence) is an error that names
  the source, the record and the position.
"""

from __future__ import annotations

import numpy as np

from .errors import UserError

BASES = "ACGT"
AMBIGUOUS = "NRYSWKMBDHV"
N_ID = 4  # every ambiguous base
BASE_PAD_ID = 5  # bases beyond a sequence's end in a padded batch of base ids (token batches pad with PAD_TOKEN_ID)
NUM_BASE_IDS = 6

# The special tokens every vocabulary starts with, whatever the tokenizer: ids 0-4. [CLS] (2) and
# [SEP] (3) hold their places so that a model can add them without renumbering codes; no
# tokenizer emits them (a classifier with "cls" pooling puts [CLS] in front itself).
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_TOKEN_ID, UNK_TOKEN_ID, CLS_TOKEN_ID, MASK_TOKEN_ID = 0, 1, 2, 4
NUM_SPECIAL = len(SPECIAL_TOKENS)

_LOOKUP = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _LOOKUP[ord(_b)] = _LOOKUP[ord(_b.lower())] = _i
_LOOKUP[ord("U")] = _LOOKUP[ord("u")] = 3
for _b in AMBIGUOUS:
    _LOOKUP[ord(_b)] = _LOOKUP[ord(_b.lower())] = N_ID

_TO_CHAR = np.frombuffer(b"ACGTN-", dtype=np.uint8)


class SequenceError(UserError):
    """Bad sequence input. The message names the file, the record (or line) and the problem."""


def where(source: str | None, record: str | None) -> str:
    """'file: record 'x'' prefix for error messages."""
    parts = [p for p in (source, f"record '{record}'" if record is not None else None) if p]
    return ": ".join(parts) if parts else "sequence"


def to_ids(
    sequence: str | bytes, *, source: str | None = None, record: str | None = None, offset: int = 0
) -> np.ndarray:
    """Base ids (uint8, 0-3 for ACGT, 4 for N/IUPAC) of a sequence; raises SequenceError on
    any other character, naming where it is (`offset`: the bases of the record before this piece)."""
    raw = sequence.encode("ascii", errors="replace") if isinstance(sequence, str) else sequence
    ids = _LOOKUP[np.frombuffer(raw, dtype=np.uint8)]
    bad = np.flatnonzero(ids == 255)
    if bad.size:
        pos = int(bad[0])
        char = raw[pos : pos + 1].decode("ascii", errors="replace")
        raise SequenceError(
            f"{where(source, record)}: invalid character {char!r} at position {offset + pos + 1} "
            f"({bad.size} invalid in {'this part' if offset else 'all'}); allowed are ACGT/U in any case, N and the IUPAC codes {AMBIGUOUS[1:]}"
        )
    return ids


def to_text(ids: np.ndarray) -> str:
    """Inverse of `to_ids` up to the rule: ambiguous bases come back as 'N', padding as '-'."""
    return _TO_CHAR[np.asarray(ids, dtype=np.uint8)].tobytes().decode("ascii")


def canonical(sequence: str, *, source: str | None = None, record: str | None = None) -> str:
    """Upper-case ACGTN text of a sequence under the rule (validates it on the way)."""
    return to_text(to_ids(sequence, source=source, record=record))


_COMPLEMENT = np.array([3, 2, 1, 0, N_ID], dtype=np.uint8)  # A<->T, C<->G, N stays N


def reverse_complement(sequence: str) -> str:
    """The other strand, read 5' to 3', under the rule (ambiguous bases become N)."""
    return to_text(_COMPLEMENT[to_ids(sequence)][::-1])


def n_fraction(ids: np.ndarray) -> float:
    return float(np.count_nonzero(ids == N_ID)) / max(len(ids), 1)
