"""How much can a masked token be predicted from its neighbours at all? Count models as a yardstick
for masked code modeling.

For a tokenizer, tokenize training windows (first 95% of each genome) and held-out windows (last
5%), then score simple count models on the held-out tokens:
- "d=k": predict token t+k from token t alone (most frequent follower in training) — for VQ/HRQ
  this is what the visible code next to a leak-free span tells about the span's k-th code;
- "(left, right)": predict token t from its two neighbours (BPE and non-overlapping k-mers, whose
  MLM masks single tokens);
against the unigram baseline (most frequent token). Prints one line per model, then the held-out
cross-entropy of the left-neighbour model with additive smoothing towards the unigram (the best of
several strengths) against the unigram's own: the information one neighbour carries that
generalises, as opposed to a top-1 lookup that may only recall repeats.

    python benchmarks/mcm_context_ceiling.py --tokenizer runs/tiny_bpe --windows 20000
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import math
from pathlib import Path

import numpy as np

from vqdna.corpus import Genome, WindowSampler
from vqdna.masking import mask_span_tokens
from vqdna.tokenizers import load_tokenizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokenizer", required=True, type=Path)
    p.add_argument("--windows", type=int, default=6000, help="training windows to count on")
    p.add_argument("--window-bp", type=int, default=256)
    args = p.parse_args()

    data = Path(importlib.util.find_spec("pyrodigal").origin).parent / "tests" / "data"
    genomes = [
        Genome.from_fasta(data / "GCF_001457455.1_NCTC11397_genomic.fna.gz"),
        Genome.from_fasta(data / "MIIJ01000039.fna.gz"),
    ]
    splits = [g.split(0.05) for g in genomes]
    train = WindowSampler([s[0] for s in splits], args.window_bp, seed=0)
    held = WindowSampler([s[1] for s in splits], args.window_bp, seed=1)
    tok = load_tokenizer(args.tokenizer)

    def tokens(sampler: WindowSampler, n: int) -> list[np.ndarray]:
        out = []
        for i in range(0, n, 256):
            encs = tok.encode_base_ids([sampler.window(j) for j in range(i, min(n, i + 256))])
            out += [np.asarray(e.ids).reshape(len(e), -1)[:, 0] for e in encs]  # first level for HRQ
        return out

    train_tokens, held_tokens = tokens(train, args.windows), tokens(held, 2000)
    unigram = collections.Counter(x for t in train_tokens for x in t.tolist())
    top = unigram.most_common(1)[0][0]
    print(
        f"{args.tokenizer}: {tok.kind}, leak-free span {mask_span_tokens(tok)} tokens, "
        f"{np.mean([len(t) for t in train_tokens]):.1f} tokens per window"
    )

    def score(pairs_train, pairs_held, name: str) -> None:
        table = collections.defaultdict(collections.Counter)
        for context, target in pairs_train:
            table[context][target] += 1
        best = {c: v.most_common(1)[0][0] for c, v in table.items()}
        hit = base = n = 0
        for context, target in pairs_held:
            n += 1
            hit += best.get(context, top) == target
            base += target == top
        print(f"  {name:>14}: count model {hit / n:.4f}   unigram {base / n:.4f}   ({n:,} held-out tokens)")

    for d in (1, 2, 3, 5, 8):
        pairs = lambda ts: ((a, b) for t in ts for a, b in zip(t[:-d].tolist(), t[d:].tolist()))  # noqa: E731
        score(pairs(train_tokens), pairs(held_tokens), f"d={d}")
    triples = lambda ts: (((t[i - 1], t[i + 1]), t[i]) for t in (x.tolist() for x in ts) for i in range(1, len(t) - 1))  # noqa: E731
    score(triples(train_tokens), triples(held_tokens), "(left, right)")

    # Cross-entropy (nats per held-out token) of P(x | left) = (n(left, x) + a·P(x)) / (n(left) + a).
    total = sum(unigram.values())
    vocab = len(unigram) + 1  # +1: an unseen token gets half a count
    p_uni = lambda x: (unigram.get(x, 0) + 0.5) / (total + 0.5 * vocab)  # noqa: E731
    follows = collections.defaultdict(collections.Counter)
    for t in train_tokens:
        for a, b in zip(t[:-1].tolist(), t[1:].tolist()):
            follows[a][b] += 1
    seen = {a: sum(c.values()) for a, c in follows.items()}
    held_pairs = [(a, b) for t in held_tokens for a, b in zip(t[:-1].tolist(), t[1:].tolist())]
    ce_uni = -sum(math.log(p_uni(b)) for _, b in held_pairs) / len(held_pairs)
    best = min(
        (
            -sum(math.log((follows[a][b] + s * p_uni(b)) / (seen.get(a, 0) + s)) for a, b in held_pairs)
            / len(held_pairs),
            s,
        )
        for s in (1, 10, 100, 1000, 10000)
    )
    print(
        f"  held-out cross-entropy: unigram {ce_uni:.4f} nats, left neighbour {best[0]:.4f} nats (smoothing {best[1]}): "
        f"{ce_uni - best[0]:.4f} nats of generalisable information"
    )


if __name__ == "__main__":
    main()
