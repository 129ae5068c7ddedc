"""The DCNN (Kalchbrenner et al. 2014): k-max pooling against brute force (ties, short rows, one k
per sentence), dynamic k, folding, the row-wise wide convolution against explicit sums, and the
network's sizes, invariance to padding (one-word and empty sentences too) and overfitting."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.models.dcnn import DCNN, DCNNConfig, WideConv, dynamic_k, fold, kmax_pool

V, C = 50, 3


def brute_kmax(row: list[float], k: int) -> list[float]:
    """Over every subset of k positions (in lexicographic order), the one whose values, sorted,
    are largest; the first such subset wins, so among ties the earlier positions are kept. Values
    in their original order; a row shorter than k keeps all of its values."""
    k = min(k, len(row))
    best, best_key = (), None
    for comb in itertools.combinations(range(len(row)), k):
        key = sorted((row[i] for i in comb), reverse=True)
        if best_key is None or key > best_key:
            best, best_key = comb, key
    return [row[i] for i in best]


def test_kmax_pool_equals_brute_force_with_ties_short_rows_and_per_sentence_k():
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        B, R, T = 3, 2, int(torch.randint(1, 9, (1,), generator=g))
        x = torch.randint(-2, 3, (B, R, T), generator=g).float()  # few values: many ties
        k = torch.randint(1, 7, (B,), generator=g)  # often k > T
        lengths = torch.randint(0, T + 1, (B,), generator=g)
        out = kmax_pool(x, k, lengths)
        assert out.shape == (B, R, int(k.max()))
        for b, r in itertools.product(range(B), range(R)):
            expect = brute_kmax(x[b, r, : lengths[b]].tolist(), int(k[b]))
            assert out[b, r].tolist() == expect + [0.0] * (out.shape[-1] - len(expect))


def test_kmax_pool_keeps_order_and_passes_gradient_only_to_the_kept_values():
    x = torch.tensor([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]]], requires_grad=True)
    out = kmax_pool(x, 3)
    assert out.tolist() == [[[5.0, 9.0, 6.0]]]  # not [9, 6, 5]
    out.sum().backward()
    assert x.grad.tolist() == [[[0, 0, 0, 0, 1, 1, 0, 1]]]
    assert kmax_pool(torch.tensor([[2.0, 9.0, 2.0]]), 2).tolist() == [[2.0, 9.0]]  # tie: earlier 2 kept
    assert kmax_pool(torch.tensor([[7.0, -1.0]]), 4).tolist() == [[7.0, -1.0, 0.0, 0.0]]  # shorter than k


def test_dynamic_k_is_the_papers_formula():
    # k_l = max(k_top, ceil((L - l) / L * s)); the top layer always k_top
    for s in range(0, 40):
        for L in (1, 2, 3):
            for l in range(1, L + 1):
                expect = max(4, math.ceil((L - l) / L * s))
                assert dynamic_k(s, l, L, 4) == expect
                assert int(dynamic_k(torch.tensor([s]), l, L, 4)[0]) == expect
    assert dynamic_k(18, 1, 2, 4) == 9 and dynamic_k(5, 1, 2, 4) == 4 and dynamic_k(18, 2, 2, 4) == 4


def test_fold_sums_row_pairs_and_wide_conv_matches_explicit_sums():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float).view(2, 3, 4, 5)
    f = fold(x)
    assert f.shape == (2, 3, 2, 5) and torch.equal(f[:, :, 1], x[:, :, 2] + x[:, :, 3])
    torch.manual_seed(0)
    conv = WideConv(maps_in=2, maps_out=3, rows=4, width=3)
    x = torch.randn(2, 2, 4, 5)  # (B, maps_in, rows, T)
    y = conv(x).detach()
    assert y.shape == (2, 3, 4, 5 + 3 - 1)  # wide: T + m - 1
    w = conv.conv.weight.detach().view(4, 3, 2, 3)  # (rows, maps_out, maps_in, width)
    xp = F.pad(x, (2, 2))
    for b, j, r, t in itertools.product(range(2), range(3), range(4), range(7)):
        # F_j[r, t] = sum_k sum_tau m_{j,k}[r, tau] * F_k[r, t + tau] over the zero-padded rows
        expect = sum(float(w[r, j, k, tau] * xp[b, k, r, t + tau]) for k in range(2) for tau in range(3))
        assert abs(float(y[b, j, r, t]) - expect) < 1e-5


def _dcnn(seed=0, **kw):
    torch.manual_seed(seed)
    return DCNN(DCNNConfig(V, C, embedding_dim=kw.pop("d", 8), **kw))


def _ids(B=6, T=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, V, (B, T), generator=g)
    ids[0, 5:] = 0  # shorter sentences
    ids[1, 1:] = 0  # one word
    ids[2, :] = 0  # empty after cleaning
    return ids


def test_the_papers_sizes():
    """d = 48 folded to 24 rows, 14 maps of k_top = 4 columns. (Start near ln C, gradient in every
    weight and invariance to bucketing's padding: tests/models/test_textcnn.py, with the others.)"""
    m = _dcnn(d=48)
    assert m.fc.in_features == 14 * 24 * 4
    assert [c.conv.weight.shape for c in m.convs] == [(48 * 6, 1, 7), (48 * 14, 6, 5)]


def test_folding_after_every_layer_halves_the_rows_twice():
    """The authors' code folds after both layers: 48 -> 24 rows into layer 2, 12 rows out of it."""
    torch.manual_seed(0)
    m = DCNN(DCNNConfig(V, C, embedding_dim=48, fold_every=True)).eval()
    assert m.fc.in_features == 14 * 12 * 4
    assert [c.conv.weight.shape for c in m.convs] == [(48 * 6, 1, 7), (24 * 14, 6, 5)]
    assert [tuple(b.shape) for b in m.biases] == [(6, 24, 1), (14, 12, 1)]
    ids = _ids()
    longer = torch.cat([ids, torch.zeros(ids.shape[0], 4, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(m(ids), m(longer), atol=1e-5)  # padding still invisible
    with pytest.raises(ValueError, match="divisible by 4"):
        DCNN(DCNNConfig(V, C, embedding_dim=6, fold_every=True))


def test_padding_does_not_change_the_output():
    m = _dcnn().eval()
    ids = _ids()
    longer = torch.cat([ids, torch.zeros(ids.shape[0], 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        full = m(ids)
        assert torch.allclose(full, m(longer), atol=1e-5)
        for b, n in ((0, 5), (1, 1), (3, 9)):
            assert torch.allclose(m(ids[b : b + 1, :n]), full[b : b + 1], atol=1e-5)  # alone, unpadded


def test_overfits_a_tiny_set():
    m = _dcnn(d=8, dropout=0.0)
    ids = _ids(B=20, T=8, seed=1)
    ids[2, :4] = torch.arange(1, 5)  # no empty sentence here
    y = torch.randint(0, C, (20,), generator=torch.Generator().manual_seed(2))
    opt = torch.optim.Adam(m.parameters(), lr=0.03)
    for _ in range(100):
        loss = F.cross_entropy(m(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert float(F.cross_entropy(m(ids), y)) < 0.1


def test_config_errors():
    with pytest.raises(ValueError, match="even"):
        DCNN(DCNNConfig(V, C, embedding_dim=7))
    with pytest.raises(ValueError, match="one width per layer"):
        DCNN(DCNNConfig(V, C, widths=(7, 5), maps=(6,)))
