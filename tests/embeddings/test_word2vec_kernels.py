"""The compiled word2vec kernels and their samplers against numpy references, finite differences and
the tables' formulas."""

import numpy as np
import pytest

from seqlab.embeddings import word2vec_kernels as K
from seqlab.embeddings import word2vec_sampling as S


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
    thr, alias = S.build_alias_table(counts.astype(np.float64) ** 0.75)
    want = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(S.alias_probabilities(thr, alias), want, rtol=1e-6)
    # and the kernels' own sampler draws from it (not from counts, not uniform)
    draws, _ = S.sample_noise(thr, alias, 400_000, np.uint64(7))
    freq = np.bincount(draws, minlength=len(counts)) / len(draws)
    np.testing.assert_allclose(freq, want, atol=3e-3)
    assert np.abs(freq - counts / counts.sum()).max() > 0.05  # distinguishable from exponent 1


def test_alias_table_any_weights():
    rng = np.random.default_rng(0)
    w = rng.random(1000) ** 4
    thr, alias = S.build_alias_table(w)
    np.testing.assert_allclose(S.alias_probabilities(thr, alias), w / w.sum(), rtol=1e-6, atol=1e-12)


def test_keep_probabilities_match_the_lecture_formula():
    counts = np.array([50_000, 10_000, 1_000, 100, 10], dtype=np.int64)
    s = 1e-3
    z = counts / counts.sum()
    want = np.minimum((np.sqrt(z / s) + 1) * s / z, 1.0)
    np.testing.assert_allclose(S.keep_probabilities(counts, s), want)
    assert want[0] < 0.2 and want[-1] == 1.0
    np.testing.assert_array_equal(S.keep_probabilities(counts, 0.0), np.ones(5))
    # the kernel keeps each word at that rate
    keep = S.keep_thresholds(want)
    ids = np.repeat(np.arange(5, dtype=np.int32), 40_000)
    kept, _ = S.subsample(ids, keep, np.uint64(3))
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
    thr, alias = S.build_alias_table(w)
    keep = S.keep_thresholds(np.ones(V))
    sig, logsig = K.sigmoid_tables()
    ids = np.asarray(sent, dtype=np.int32)
    starts = np.array([0, len(ids)], dtype=np.int64)
    a, b, stats = syn0.copy(), syn1.copy(), np.zeros(3)
    args = (
        a,
        b,
        ids,
        starts,
        0,
        1,
        keep,
        thr,
        alias,
        sig,
        logsig,
        1,
        negative,
        alpha,
        alpha,
        0.0,
        1.0,
        np.uint64(1),
        stats,
    )
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
    want = loss_one_centre(syn0[[2]].astype(float), syn1[[1, 5, 5]].astype(float)) + loss_one_centre(
        syn0[[1]].astype(float), syn1[[2, 5, 5]].astype(float)
    )
    assert stats[2] == 6
    assert stats[1] == pytest.approx(want, rel=2e-3)


def test_rng_state_is_passed_in_and_out():
    thr, alias = S.build_alias_table(np.ones(10))
    a, s1 = S.sample_noise(thr, alias, 100, np.uint64(5))
    b, s2 = S.sample_noise(thr, alias, 100, np.uint64(s1))
    c, _ = S.sample_noise(thr, alias, 200, np.uint64(5))
    np.testing.assert_array_equal(np.concatenate([a, b]), c)


# ---------------------------------------------------------------- whole jobs vs numpy, RNG stream included
# The kernels draw everything from one SplitMix64 state, in this order per sentence: one draw per word
# whose keep threshold is below 1 (subsampling); the noise words of positions 0 .. LOOKAHEAD-1; then at
# each position i the noise words of position i + LOOKAHEAD (if inside the sentence), then the window
# reduction b (the context is i-(window-b) .. i+(window-b)). Replaying that stream in Python gives a
# reference for everything at once: reduced windows, real noise sampling, subsampling, the skipped noise
# word that equals the centre, and the learning rate decaying with the corpus position.

MASK64 = (1 << 64) - 1


class SplitMix64:
    """The kernels' RNG on Python integers: the same 64-bit stream from the same state."""

    def __init__(self, state):
        self.state = int(state)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in [0, n): the high 32 bits scaled (the window reduction)."""
        return ((self.next() >> 32) * n) >> 32

    def noise(self, threshold, alias):
        """One draw from Walker's alias table."""
        r = self.next()
        bucket = ((r >> 32) * len(threshold)) >> 32
        return bucket if (r & 0xFFFFFFFF) < int(threshold[bucket]) else int(alias[bucket])

    def keep(self, threshold):
        """Subsampling: words with threshold 2^32 - 1 are always kept and use no draw."""
        return threshold == 0xFFFFFFFF or (self.next() >> 32) < threshold


def test_python_splitmix_replays_the_kernels_stream():
    thr, alias = S.build_alias_table(np.array([5.0, 1.0, 3.0, 0.5, 8.0]))
    draws, state = S.sample_noise(thr, alias, 1000, np.uint64(99))
    rng = SplitMix64(99)
    assert [rng.noise(thr, alias) for _ in range(1000)] == draws.tolist() and rng.state == int(state)
    keep = S.keep_thresholds(np.array([0.3, 1.0, 0.7, 0.05, 1.0]))
    ids = np.random.default_rng(0).integers(0, 5, 500).astype(np.int32)
    kept, state = S.subsample(ids, keep, np.uint64(7))
    rng = SplitMix64(7)
    assert [w for w in ids.tolist() if rng.keep(int(keep[w]))] == kept.tolist() and rng.state == int(state)
    assert int(S.splitmix64(np.uint64(12345))) == SplitMix64(12345).next()


def job_reference(
    model,
    syn0,
    syn1,
    ids,
    starts,
    keep,
    thr,
    alias,
    window,
    negative,
    alpha0,
    min_alpha,
    pos0,
    total,
    state,
    decay=True,
    reduce_window=True,
    skip_centre=True,
):
    """train_sg_job / train_cbow_job (share=1) in numpy from the same RNG stream. The flags switch one
    feature off (the draws stay the same), to show that the test sees each of them.

    Returns (syn0, syn1, loss sum, loss terms, noise words skipped for equalling the centre, final state).
    """
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    sig, logsig = K.sigmoid_tables()
    size = K.SIGMOID_TABLE_SIZE
    scale = size / (2 * K.SIGMOID_BOUND)

    def bins(f):  # the table bin of each logit, clamped (the kernels' _sig_index)
        return np.clip(((np.asarray(f) + K.SIGMOID_BOUND) * scale).astype(np.int64), 0, size - 1)

    rng = SplitMix64(state)
    done, loss, nterms, skipped = 0, 0.0, 0, 0
    for s in range(len(starts) - 1):
        lo, hi = int(starts[s]), int(starts[s + 1])
        frac = min(1.0, (pos0 + done) / total) if decay else 0.0
        alpha = float(np.float32(alpha0 - (alpha0 - min_alpha) * frac))
        sent = [w for w in ids[lo:hi].tolist() if rng.keep(int(keep[w]))]
        n = len(sent)
        negs = {q: [rng.noise(thr, alias) for _ in range(negative)] for q in range(min(K.LOOKAHEAD, n))}
        for i in range(n):
            if i + K.LOOKAHEAD < n:
                negs[i + K.LOOKAHEAD] = [rng.noise(thr, alias) for _ in range(negative)]
            b = rng.below(window) if reduce_window else rng.below(window) * 0  # drawn either way
            ctx = [sent[j] for j in range(max(0, i - window + b), min(n - 1, i + window - b) + 1) if j != i]
            if not ctx:
                continue
            centre = sent[i]
            noise = [w for w in negs[i] if w != centre or not skip_centre]
            skipped += negative - len(noise)
            tgt = [centre] + noise
            labels = np.array([1.0] + [0.0] * len(noise))
            if model == "sg":  # all contexts against all targets, from the old values
                X, T = syn0[ctx], syn1[tgt]  # (C, D), (1+K', D)
                idx = bins(X @ T.T)  # (C, 1+K')
                G = (labels - sig[idx]) * alpha
                loss -= logsig[idx[:, 0]].sum() + logsig[size - 1 - idx[:, 1:]].sum()
                nterms += idx.size
                dX, dT = G @ T, G.T @ X
                np.add.at(syn1, tgt, dT)
                np.add.at(syn0, ctx, dX)
            else:  # the mean context; targets one after another
                h = syn0[ctx].mean(0)
                neu = np.zeros_like(h)
                for t, label in zip(tgt, labels):
                    k = int(bins(h @ syn1[t]))
                    g = (label - sig[k]) * alpha
                    loss -= logsig[k] if label else logsig[size - 1 - k]
                    nterms += 1
                    neu += g * syn1[t]
                    syn1[t] += g * h
                for c in ctx:
                    syn0[c] += neu
        done += hi - lo
    return syn0, syn1, loss, nterms, skipped, rng.state


def tiny_corpus(seed=0, V=12, sentences=25):
    """Zipf-like word frequencies (so subsampling and a noise word equal to the centre both happen)
    in sentences of 3-14 words."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, V + 1)
    sents = [rng.choice(V, size=int(rng.integers(3, 15)), p=p / p.sum()) for _ in range(sentences)]
    ids = np.concatenate(sents).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in sents])]).astype(np.int64)
    return ids, starts, np.bincount(ids, minlength=V)


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_two_epochs_of_jobs_match_the_numpy_reference(model):
    """Two epochs as train_encoded runs them (pos0 = epoch * N, total = 2N, alpha 0.1 -> 0.001),
    window 3, 4 negatives from count^0.75, subsampling at 0.02: the kernel equals the reference up
    to float32 rounding, and leaves the RNG where the reference does."""
    ids, starts, counts = tiny_corpus()
    V, D, window, negative, alpha0, min_alpha = len(counts), 6, 3, 4, 0.1, 0.001
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    keep = S.keep_thresholds(S.keep_probabilities(counts, 0.02))
    assert (keep < 0xFFFFFFFF).any() and (keep == 0xFFFFFFFF).any()
    thr, alias = S.build_alias_table(counts.astype(np.float64) ** 0.75)
    sig, logsig = K.sigmoid_tables()
    N = len(ids)
    k0, k1, stats = syn0.copy(), syn1.copy(), np.zeros(3)
    r0, r1 = syn0.copy(), syn1.copy()
    total_loss = total_terms = total_skipped = 0
    for epoch, seed in enumerate((11, 12)):
        args = (
            k0,
            k1,
            ids,
            starts,
            0,
            len(starts) - 1,
            keep,
            thr,
            alias,
            sig,
            logsig,
            window,
            negative,
            alpha0,
            min_alpha,
            float(epoch * N),
            float(2 * N),
            np.uint64(seed),
            stats,
        )
        state = K.train_sg_job(*args) if model == "sg" else K.train_cbow_job(*args, 1)
        r0, r1, loss, terms, skipped, ref_state = job_reference(
            model,
            r0,
            r1,
            ids,
            starts,
            keep,
            thr,
            alias,
            window,
            negative,
            alpha0,
            min_alpha,
            epoch * N,
            2 * N,
            seed,
        )
        assert int(state) == ref_state
        total_loss, total_terms, total_skipped = (
            total_loss + loss,
            total_terms + terms,
            total_skipped + skipped,
        )
    assert total_skipped > 0  # the skip was exercised
    assert np.abs(r0 - syn0).max() > 0.05  # and the updates are not tiny
    np.testing.assert_allclose(k0, r0, atol=2e-5)
    np.testing.assert_allclose(k1, r1, atol=2e-5)
    assert stats[0] == 2 * N and stats[2] == total_terms
    assert stats[1] == pytest.approx(total_loss, rel=1e-4)


@pytest.mark.parametrize("feature", ["decay", "reduce_window", "skip_centre"])
def test_the_reference_comparison_sees_each_feature(feature):
    """Switch one feature off in the reference (same draws): the kernel no longer matches it."""
    ids, starts, counts = tiny_corpus()
    V, D = len(counts), 6
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    keep = S.keep_thresholds(S.keep_probabilities(counts, 0.02))
    thr, alias = S.build_alias_table(counts.astype(np.float64) ** 0.75)
    sig, logsig = K.sigmoid_tables()
    N = len(ids)
    k0, k1 = syn0.copy(), syn1.copy()
    K.train_sg_job(
        k0,
        k1,
        ids,
        starts,
        0,
        len(starts) - 1,
        keep,
        thr,
        alias,
        sig,
        logsig,
        3,
        4,
        0.1,
        0.001,
        float(N),
        float(2 * N),
        np.uint64(12),
        np.zeros(3),
    )
    r0 = job_reference(
        "sg", syn0, syn1, ids, starts, keep, thr, alias, 3, 4, 0.1, 0.001, N, 2 * N, 12, **{feature: False}
    )[0]
    assert np.abs(k0 - r0).max() > 1e-3


@pytest.mark.parametrize("workers", [2, 3])
def test_merge_replicas_keeps_every_threads_change(workers):
    """sync="replicas": master + sum of the replicas' changes on rows [lo, hi), copied back to
    every replica; rows outside the range untouched."""
    rng = np.random.default_rng(0)
    master = rng.standard_normal((10, 16)).astype(np.float32)
    reps = tuple(
        master + rng.standard_normal(master.shape).astype(np.float32) * (w + 1) for w in range(workers)
    )
    m0, r0 = master.copy(), [r.copy() for r in reps]
    K.merge_replicas(master, reps, 2, 7)
    want = m0[2:7] + sum(r[2:7] - m0[2:7] for r in r0)
    np.testing.assert_allclose(master[2:7], want, rtol=1e-5, atol=1e-5)
    for r, before in zip(reps, r0):
        assert np.array_equal(r[2:7], master[2:7])
        assert np.array_equal(r[:2], before[:2]) and np.array_equal(r[7:], before[7:])
    assert np.array_equal(master[:2], m0[:2]) and np.array_equal(master[7:], m0[7:])


def _overlap_reference(m0, r0, lo, hi):
    """NumPy replay of merge_replicas_overlap, in float64: master + c * sum_w d_w per row."""
    out = m0.astype(np.float64).copy()
    for r in range(lo, hi):
        d = np.stack([rep[r].astype(np.float64) - m0[r] for rep in r0])
        s = d.sum(0)
        own, tot = float((d * d).sum()), float(s @ s)
        c = own / tot if tot > own else 1.0
        out[r] = m0[r] + c * s
    return out


@pytest.mark.parametrize("workers", [2, 3])
def test_merge_replicas_overlap_averages_agreeing_changes_and_sums_the_rest(workers):
    """The Huffman tree's hot rows: the same change from every replica is averaged (not counted W
    times), one thread's change alone and orthogonal changes are summed, anything else follows
    c = min(1, sum |d_w|^2 / |sum d_w|^2); copied back to every replica, other rows untouched."""
    rng = np.random.default_rng(1)
    D = 16
    master = rng.standard_normal((12, D)).astype(np.float32)
    step = rng.standard_normal(D).astype(np.float32)
    reps = [master.copy() for _ in range(workers)]
    for w in range(workers):
        reps[w][2] += step  # row 2: every replica moved the same way
        reps[w][5, w] += 1.0  # row 5: orthogonal changes (axis w)
        reps[w][6:9] += rng.standard_normal((3, D)).astype(np.float32)  # rows 6-8: anything
    reps[0][3] += step  # row 3: one thread's change only
    reps = tuple(reps)
    m0, r0 = master.copy(), [r.copy() for r in reps]
    K.merge_replicas_overlap(master, reps, 2, 9)
    np.testing.assert_allclose(master[2], m0[2] + step, rtol=1e-5, atol=1e-5)  # averaged
    np.testing.assert_allclose(master[3], m0[3] + step, rtol=1e-5, atol=1e-5)  # kept whole
    want5 = m0[5].copy()
    want5[:workers] += 1.0
    np.testing.assert_allclose(master[5], want5, rtol=1e-5, atol=1e-5)  # summed
    np.testing.assert_allclose(master[2:9], _overlap_reference(m0, r0, 2, 9)[2:9], rtol=1e-5, atol=1e-5)
    for r, before in zip(reps, r0):
        assert np.array_equal(r[2:9], master[2:9])
        assert np.array_equal(r[:2], before[:2]) and np.array_equal(r[9:], before[9:])
    assert np.array_equal(master[:2], m0[:2]) and np.array_equal(master[9:], m0[9:])
