"""The compiled word2vec kernels against numpy references, finite differences and the tables' formulas."""

import numpy as np
import pytest

from seqlab.embeddings import _word2vec_kernels as K


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def table_sigmoid(x):
    """The kernels' tabulated sigmoid: nearest bin centre, clamped at ±SIGMOID_BOUND."""
    sig, _ = K.sigmoid_tables()
    scale = K.SIGMOID_TABLE_SIZE / (2 * K.SIGMOID_BOUND)
    i = np.clip(np.floor((np.asarray(x) + K.SIGMOID_BOUND) * scale), 0, K.SIGMOID_TABLE_SIZE - 1)
    return sig[i.astype(int)].astype(np.float64)


# ---------------------------------------------------------------- tables

def test_noise_table_follows_count_to_the_075():
    counts = np.array([1000, 300, 50, 7, 1, 120, 5000], dtype=np.int64)
    thr, alias = K.build_alias_table(counts.astype(np.float64) ** 0.75)
    want = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(K.alias_probabilities(thr, alias), want, rtol=1e-6)
    # and the kernels' own sampler draws from it (not from counts, not uniform)
    draws, _ = K.sample_noise(thr, alias, 400_000, np.uint64(7))
    freq = np.bincount(draws, minlength=len(counts)) / len(draws)
    np.testing.assert_allclose(freq, want, atol=3e-3)
    assert np.abs(freq - counts / counts.sum()).max() > 0.05  # distinguishable from exponent 1


def test_alias_table_any_weights():
    rng = np.random.default_rng(0)
    w = rng.random(1000) ** 4
    thr, alias = K.build_alias_table(w)
    np.testing.assert_allclose(K.alias_probabilities(thr, alias), w / w.sum(), rtol=1e-6, atol=1e-12)


def test_keep_probabilities_match_the_lecture_formula():
    counts = np.array([50_000, 10_000, 1_000, 100, 10], dtype=np.int64)
    s = 1e-3
    z = counts / counts.sum()
    want = np.minimum((np.sqrt(z / s) + 1) * s / z, 1.0)
    np.testing.assert_allclose(K.keep_probabilities(counts, s), want)
    assert want[0] < 0.2 and want[-1] == 1.0
    np.testing.assert_array_equal(K.keep_probabilities(counts, 0.0), np.ones(5))
    # the kernel keeps each word at that rate
    keep = K.keep_thresholds(want)
    ids = np.repeat(np.arange(5, dtype=np.int32), 40_000)
    kept, _ = K.subsample(ids, keep, np.uint64(3))
    rate = np.bincount(kept, minlength=5) / 40_000
    np.testing.assert_allclose(rate, want, atol=0.01)


def test_sigmoid_tables():
    sig, logsig = K.sigmoid_tables()
    x = (np.arange(K.SIGMOID_TABLE_SIZE) + 0.5) / K.SIGMOID_TABLE_SIZE * 2 * K.SIGMOID_BOUND - K.SIGMOID_BOUND
    np.testing.assert_allclose(sig, sigmoid(x), atol=1e-6)
    np.testing.assert_allclose(logsig, np.log(sigmoid(x)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- one update vs numpy

def loss_one_centre(X, T):
    """Negative-sampling loss of context rows X (C, D) against target rows T (1+K, D), T[0] positive."""
    f = X @ T.T  # (C, 1+K)
    return -(np.log(sigmoid(f[:, 0])).sum() + np.log(sigmoid(-f[:, 1:])).sum())


def sg_reference(syn0, syn1, sent, noise, negative, alpha, sigmoid=sigmoid):
    """Skip-gram, window 1, the same noise word for every draw; updates from the old values."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    n = len(sent)
    for i in range(n):
        ctx = [sent[j] for j in (i - 1, i + 1) if 0 <= j < n]
        tgt = [sent[i]] + [noise] * negative
        X, T = syn0[ctx], syn1[tgt]  # (C, D), (1+K, D)
        labels = np.array([1.0] + [0.0] * negative)
        G = (labels - sigmoid(X @ T.T)) * alpha  # (C, 1+K)
        # the update is -alpha * gradient of the loss (checked by finite differences below)
        dX, dT = G @ T, G.T @ X
        np.add.at(syn1, tgt, dT)
        np.add.at(syn0, ctx, dX)
    return syn0, syn1


def cbow_reference(syn0, syn1, sent, noise, negative, alpha, sigmoid=sigmoid):
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    n = len(sent)
    for i in range(n):
        ctx = [sent[j] for j in (i - 1, i + 1) if 0 <= j < n]
        h = syn0[ctx].mean(0)
        neu = np.zeros_like(h)
        for t, label in [(sent[i], 1.0)] + [(noise, 0.0)] * negative:
            g = (label - sigmoid(h @ syn1[t])) * alpha
            neu += g * syn1[t]
            syn1[t] += g * h
        for c in ctx:
            syn0[c] += neu
    return syn0, syn1


def run_kernel(model, syn0, syn1, sent, noise, negative, alpha):
    V = syn0.shape[0]
    w = np.zeros(V)
    w[noise] = 1.0
    thr, alias = K.build_alias_table(w)
    keep = K.keep_thresholds(np.ones(V))
    sig, logsig = K.sigmoid_tables()
    ids = np.asarray(sent, dtype=np.int32)
    starts = np.array([0, len(ids)], dtype=np.int64)
    a, b, stats = syn0.copy(), syn1.copy(), np.zeros(3)
    args = (a, b, ids, starts, 0, 1, keep, thr, alias, sig, logsig, 1, negative, alpha, alpha,
            0.0, 1.0, np.uint64(1), stats)
    if model == "sg":
        K.train_sg_job(*args)
    else:
        K.train_cbow_job(*args, 1)
    return a, b, stats


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_kernel_matches_numpy_reference(model):
    rng = np.random.default_rng(1)
    V, D = 8, 12
    syn0 = rng.normal(0, 0.4, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.4, (V, D)).astype(np.float32)
    sent = [1, 2, 3, 2, 4, 5]
    ref = sg_reference if model == "sg" else cbow_reference
    k0, k1, stats = run_kernel(model, syn0, syn1, sent, 7, 3, 0.3)
    # same math with the kernel's tabulated sigmoid: equal up to float32 rounding
    t0, t1 = ref(syn0, syn1, sent, 7, 3, 0.3, sigmoid=table_sigmoid)
    np.testing.assert_allclose(k0, t0, atol=1e-5)
    np.testing.assert_allclose(k1, t1, atol=1e-5)
    # and with the exact sigmoid: equal up to the table's resolution
    r0, r1 = ref(syn0, syn1, sent, 7, 3, 0.3)
    assert np.abs(r0 - syn0).max() > 0.01  # the update is not trivially small
    np.testing.assert_allclose(k0, r0, atol=1e-3)
    np.testing.assert_allclose(k1, r1, atol=1e-3)
    assert stats[0] == len(sent) and stats[2] > 0 and stats[1] > 0


def test_reference_update_is_minus_alpha_times_finite_difference_gradient():
    rng = np.random.default_rng(2)
    C, K1, D = 3, 4, 5
    X = rng.normal(0, 0.5, (C, D))
    T = rng.normal(0, 0.5, (K1, D))
    labels = np.array([1.0] + [0.0] * (K1 - 1))
    alpha = 1.0
    G = (labels - sigmoid(X @ T.T)) * alpha
    dX, dT = G @ T, G.T @ X
    eps = 1e-6
    for P, dP in ((X, dX), (T, dT)):
        num = np.zeros_like(P)
        for idx in np.ndindex(*P.shape):
            old = P[idx]
            P[idx] = old + eps
            lp = loss_one_centre(X, T)
            P[idx] = old - eps
            lm = loss_one_centre(X, T)
            P[idx] = old
            num[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(dP, -alpha * num, rtol=1e-5, atol=1e-8)


def test_kernel_loss_is_the_negative_sampling_loss():
    rng = np.random.default_rng(3)
    V, D = 6, 4
    syn0 = rng.normal(0, 0.4, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.4, (V, D)).astype(np.float32)
    sent = [1, 2]  # two centres, one context each, tiny alpha so the second sees ~old values
    _, _, stats = run_kernel("sg", syn0, syn1, sent, 5, 2, 1e-9)
    want = (loss_one_centre(syn0[[2]].astype(float), syn1[[1, 5, 5]].astype(float))
            + loss_one_centre(syn0[[1]].astype(float), syn1[[2, 5, 5]].astype(float)))
    assert stats[2] == 6
    assert stats[1] == pytest.approx(want, rel=2e-3)


def test_rng_state_is_passed_in_and_out():
    thr, alias = K.build_alias_table(np.ones(10))
    a, s1 = K.sample_noise(thr, alias, 100, np.uint64(5))
    b, s2 = K.sample_noise(thr, alias, 100, np.uint64(s1))
    c, _ = K.sample_noise(thr, alias, 200, np.uint64(5))
    np.testing.assert_array_equal(np.concatenate([a, b]), c)
