import torch

from vqdna.quantizers import HierarchicalResidualQuantizer, VectorQuantizer


def _features(b=4, n=50, d=8, seed=0):
    return torch.randn(b, n, d, generator=torch.Generator().manual_seed(seed))


def test_indices_give_back_the_quantized_output():
    vq = VectorQuantizer(8, 32)
    vq.train()
    vq(_features())  # k-means init
    vq.eval()
    out = vq(_features(seed=1))
    torch.testing.assert_close(vq.get_output_from_indices(out.indices), out.quantized)
    # nearest code: no code is closer than the chosen one
    z = _features(seed=1).reshape(-1, 8)
    d = torch.cdist(z, vq.codebook)
    assert torch.equal(d.argmin(1), out.indices.reshape(-1))


def test_nearest_in_blocks_is_the_first_minimum_of_the_whole_distance_matrix():
    # 1,024 codes go in blocks of 1,024 rows on a CPU: 3,000 rows span three blocks, the last
    # one partial. Integer-valued features and codes make exact ties between codes common; the
    # first of the tied codes must win, as argmin over one matrix picks it.
    g = torch.Generator().manual_seed(0)
    vq = VectorQuantizer(4, 1024)
    vq.embed.copy_(torch.randint(-1, 2, (1024, 4), generator=g).float())
    z = torch.randint(-2, 3, (3, 1000, 4), generator=g).float()
    flat = z.reshape(-1, 4)
    dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ vq.embed.t() + vq.embed.pow(2).sum(1)
    assert (dist == dist.min(1, keepdim=True).values).sum(1).gt(1).float().mean() > 0.9  # ties are the rule
    assert torch.equal(vq.nearest(z), dist.argmin(1).view(3, 1000))


def test_padded_positions_never_move_codebook_statistics():
    torch.manual_seed(0)
    z = _features(2, 40)
    mask = torch.ones(2, 40, dtype=torch.bool)
    mask[1, 25:] = False
    a, b = VectorQuantizer(8, 16), VectorQuantizer(8, 16)
    b.load_state_dict(a.state_dict())
    a.train(), b.train()
    garbage = z.clone()
    garbage[1, 25:] = 1e3  # whatever sits at padded positions
    torch.manual_seed(1)
    out_a = a(z, mask)
    torch.manual_seed(1)
    out_b = b(garbage, mask)
    for name in ("embed", "embed_avg", "cluster_size"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name))
    torch.testing.assert_close(out_a.loss, out_b.loss)
    assert torch.equal(out_a.indices[mask], out_b.indices[mask])


def test_dead_code_restart_raises_usage_of_a_collapsed_codebook():
    torch.manual_seed(0)
    vq = VectorQuantizer(8, 64, kmeans_init=False, threshold_ema_dead_code=1.0)
    with torch.no_grad():
        vq.embed.copy_(torch.randn(64, 8) * 0.01 + 100.0)  # every code far away: one wins everything
        vq.embed[0] = 0.0
        vq.embed_avg.copy_(vq.embed)
    vq.train()
    z = _features(4, 100)
    before = vq(z).indices.unique().numel()
    for _ in range(300):  # usage EMA of unused codes decays below the threshold, then they restart
        vq(_features(4, 100, seed=_ + 1))
    vq.eval()
    after = vq(z).indices.unique().numel()
    assert before == 1 and after > 32


def test_kmeans_runs_once_and_loading_never_reruns_it():
    torch.manual_seed(0)
    vq = VectorQuantizer(8, 16)
    assert not bool(vq.initted)
    vq.train()
    vq(_features())
    assert bool(vq.initted)
    fresh = VectorQuantizer(8, 16)
    fresh.load_state_dict(vq.state_dict())
    fresh.eval()
    assert bool(fresh.initted)
    torch.testing.assert_close(fresh.codebook, vq.codebook)


def test_gradient_codebook_mode_learns_codes_by_gradient():
    vq = VectorQuantizer(8, 16, ema_update=False, kmeans_init=False, threshold_ema_dead_code=0)
    z = _features().requires_grad_()
    out = vq(z)
    (out.quantized.sum() + out.loss).backward()
    assert vq.embed.grad is not None and vq.embed.grad.abs().sum() > 0
    assert z.grad is not None  # straight-through
    ema = VectorQuantizer(8, 16, kmeans_init=False)
    assert not any(p is ema.embed for p in ema.parameters())


def test_hrq_level_input_is_twice_the_feature_minus_the_previous_code():
    torch.manual_seed(0)
    hrq = HierarchicalResidualQuantizer(8, [16, 32], kmeans_init=False)
    hrq.eval()
    z1, z2 = _features(seed=1), _features(seed=2)
    out = hrq([z1, z2])
    e1 = hrq.levels[0].get_output_from_indices(out.indices[..., 0])
    assert torch.equal(out.indices[..., 0], hrq.levels[0].nearest(z1))
    assert torch.equal(out.indices[..., 1], hrq.levels[1].nearest(2 * z2 - e1))
    torch.testing.assert_close(out.quantized, (e1 + hrq.levels[1].get_output_from_indices(out.indices[..., 1])) / 2)
    torch.testing.assert_close(hrq.get_output_from_indices(out.indices), out.quantized)
    assert hrq.codebook_sizes == [16, 32] and out.indices.shape == (4, 50, 2)
