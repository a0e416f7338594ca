import numpy as np
import pytest

from vqdna.alphabet import N_ID, SequenceError
from vqdna.corpus import Genome, WindowSampler


def _genome(name, length, seed, weight=1.0):
    return Genome(name, [np.random.default_rng(seed).integers(0, 4, length).astype(np.uint8)], weight)


def test_windows_are_a_function_of_seed_and_index():
    g = [_genome("a", 5000, 0), _genome("b", 3000, 1)]
    s1, s2 = WindowSampler(g, 100, seed=3), WindowSampler(g, 100, seed=3)
    for i in (0, 7, 12345):
        assert np.array_equal(s1.window(i), s2.window(i))
    assert not np.array_equal(s1.window(0), WindowSampler(g, 100, seed=4).window(0))
    assert all(len(s1.window(i)) == 100 for i in range(50))


def test_species_weights_set_sampling_frequencies():
    g = [_genome("a", 5000, 0, weight=3.0), _genome("b", 5000, 1, weight=1.0)]
    s = WindowSampler(g, 50, seed=0)
    a = g[0].records[0].tobytes()  # 50 random bases occur in the other genome by chance with p ~ 1e-27
    share = np.mean([s.window(i).tobytes() in a for i in range(2000)])
    assert 0.72 < share < 0.78


def test_windows_with_too_many_n_are_skipped():
    rec = np.random.default_rng(0).integers(0, 4, 2000).astype(np.uint8)
    rec[:1000] = N_ID
    s = WindowSampler([Genome("a", [rec])], 100, seed=0, max_n_fraction=0.1)
    for i in range(200):
        assert np.count_nonzero(s.window(i) == N_ID) <= 10
    mostly_n = np.full(500, N_ID, np.uint8)
    mostly_n[::5] = 0  # 80% N in every window
    with pytest.raises(SequenceError, match="more than 10% N"):
        WindowSampler([Genome("n", [mostly_n])], 100).window(0)
    with pytest.raises(SequenceError, match=r"^n: no A, C, G or T in its 500 bp \(all N\): nothing to learn from"):
        WindowSampler([Genome("n", [np.full(500, N_ID, np.uint8)])], 100)


def test_short_genome_is_an_error():
    with pytest.raises(SequenceError, match="no record is as long as a 100 bp window"):
        WindowSampler([_genome("tiny", 50, 0)], 100)


def test_split_of_many_short_reads_holds_out_whole_reads():
    g = Genome("reads", [np.full(100, i % 4, np.uint8) for i in range(50)])
    train, held = g.split(0.1)
    assert [len(r) for r in train.records] == [100] * 45 and [len(r) for r in held.records] == [100] * 5
    assert [int(r[0]) for r in held.records] == [i % 4 for i in range(45, 50)]


def test_split_is_disjoint_and_tile_covers_every_base():
    g = Genome("a", [np.arange(1000, dtype=np.uint8) % 4, np.arange(333, dtype=np.uint8) % 4])
    train, held = g.split(0.2)
    assert [len(r) for r in train.records] == [1000, 66] and [len(r) for r in held.records] == [267]
    assert np.array_equal(np.concatenate(train.records + held.records), np.concatenate(g.records))
    tiles = g.tile(128)
    assert sum(len(t) for t in tiles) == g.num_bp
    assert np.array_equal(np.concatenate(tiles[:8]), g.records[0])
