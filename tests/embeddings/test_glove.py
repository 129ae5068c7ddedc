"""GloVe: the compiled update against glove.c's formulas and finite differences, loss going down,
structure recovered, reproducibility, and errors."""

import gzip

import numpy as np
import pytest
import scipy.sparse as sp

from seqlab.embeddings.config import GloveConfig
from seqlab.embeddings.glove import fit_glove, train_glove
from seqlab.embeddings.glove_kernels import glove_pass
from seqlab.errors import SeqlabError


def clustered_corpus(seed=0, n=600, k=4, m=10, length=12):
    """Sentences each drawn from one of k disjoint word clusters: neighbours must share a cluster."""
    rng = np.random.default_rng(seed)
    return [[f"c{c}_{j}" for j in rng.integers(0, m, size=length)] for c in rng.integers(0, k, size=n)]


def cluster_purity(kv, topn=5):
    hits = sum(
        x.split("_")[0] == w.split("_")[0] for w in kv.index_to_key for x, _ in kv.most_similar(w, topn=topn)
    )
    return hits / (topn * len(kv))


def random_problem(seed=0, v=6, dim=4):
    rng = np.random.default_rng(seed)
    X = sp.random(v, v, density=0.6, random_state=seed, format="coo") * 150
    W, C = rng.normal(size=(v, dim)) * 0.3, rng.normal(size=(v, dim)) * 0.3
    bw, bc = rng.normal(size=v) * 0.1, rng.normal(size=v) * 0.1
    return X, [W, C, bw, bc]


def reference_pass(X, params, grads, order, x_max, alpha, lr):
    """glove.c's update, written out in numpy, one entry at a time."""
    W, C, bw, bc = [p.copy() for p in params]
    gW, gC, gbw, gbc = [g.copy() for g in grads]
    cost = 0.0
    for e in order:
        i, j, x = X.row[e], X.col[e], X.data[e]
        diff = W[i] @ C[j] + bw[i] + bc[j] - np.log(x)
        f = 1.0 if x > x_max else (x / x_max) ** alpha
        cost += 0.5 * f * diff * diff
        g = lr * f * diff
        t1, t2 = g * C[j], g * W[i]
        W[i] -= t1 / np.sqrt(gW[i])
        C[j] -= t2 / np.sqrt(gC[j])
        gW[i] += t1**2
        gC[j] += t2**2
        bw[i] -= g / np.sqrt(gbw[i])
        bc[j] -= g / np.sqrt(gbc[j])
        gbw[i] += g * g
        gbc[j] += g * g
    return [W, C, bw, bc], cost


def test_kernel_matches_reference_update():
    X, params = random_problem()
    grads = [np.ones_like(p) + 0.5 for p in params]
    order = np.random.default_rng(1).permutation(X.nnz)
    want, want_cost = reference_pass(X, params, grads, order, 100.0, 0.75, 0.05)
    got = [p.copy() for p in params]
    g = [q.copy() for q in grads]
    cost = glove_pass(
        *got, *g, X.row.astype(np.int64), X.col.astype(np.int64), X.data, order, 0, X.nnz, 100.0, 0.75, 0.05
    )
    assert cost == pytest.approx(want_cost, rel=1e-12)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_kernel_step_is_the_gradient_by_finite_differences():
    """With AdaGrad sums 1 and one entry, the step is -lr * dJ/dtheta; compare with (J(+h)-J(-h))/2h."""
    X, (W, C, bw, bc) = random_problem(seed=3)
    i, j, x = X.row[0], X.col[0], X.data[0]
    x_max, alpha, lr = 100.0, 0.75, 1e-3

    def J(W, C, bw, bc):
        f = min(1.0, (x / x_max) ** alpha)
        return 0.5 * f * (W[i] @ C[j] + bw[i] + bc[j] - np.log(x)) ** 2

    params = [W, C, bw, bc]
    new = [p.copy() for p in params]
    glove_pass(
        *new,
        *[np.ones_like(p) for p in params],
        X.row.astype(np.int64),
        X.col.astype(np.int64),
        X.data,
        np.array([0]),
        0,
        1,
        x_max,
        alpha,
        lr,
    )
    h = 1e-6
    for k, idx in [(0, (i, 1)), (1, (j, 2)), (2, i), (3, j)]:
        plus = [p.copy() for p in params]
        minus = [p.copy() for p in params]
        plus[k][idx] += h
        minus[k][idx] -= h
        grad = (J(*plus) - J(*minus)) / (2 * h)
        assert (new[k][idx] - params[k][idx]) == pytest.approx(-lr * grad, rel=1e-5, abs=1e-12)


def test_fits_log_counts_and_loss_decreases():
    """On a small dense matrix the loss falls (nearly) monotonically, by a factor of 50."""
    rng = np.random.default_rng(0)
    v = 8
    X = sp.csr_matrix(rng.integers(1, 50, size=(v, v)).astype(float))
    kv, stats = fit_glove(
        X, [f"w{k}" for k in range(v)], GloveConfig(vector_size=8, epochs=300, x_max=10, learning_rate=0.1)
    )
    loss = stats["loss_per_epoch"]
    assert stats["final_loss"] == loss[-1]
    assert loss[-1] < loss[0] / 50
    assert all(b <= a * 1.05 for a, b in zip(loss[::20], loss[20::20]))  # (nearly) monotone


def test_fit_reaches_log_counts(monkeypatch):
    """The fit GloVe promises: w_i . w~_j + b_i + b~_j = log X_ij on a small dense matrix (rank 8
    fits exactly with 8 dimensions; one dimension cannot), and the vectors returned are w + w~."""
    import seqlab.embeddings.glove_kernels as kernels

    params = {}

    def spy(W, C, bw, bc, *rest):  # the arrays fit_glove trains in place
        params["final"] = (W, C, bw, bc)
        return glove_pass(W, C, bw, bc, *rest)

    monkeypatch.setattr(kernels, "glove_pass", spy)
    rng = np.random.default_rng(0)
    v = 8
    X = rng.integers(1, 50, size=(v, v)).astype(float)
    words = [f"w{k}" for k in range(v)]
    residual = {}
    for dim in (8, 1):
        kv, _ = fit_glove(
            sp.csr_matrix(X), words, GloveConfig(vector_size=dim, epochs=300, x_max=10, learning_rate=0.1)
        )
        W, C, bw, bc = params["final"]
        residual[dim] = np.abs(W @ C.T + bw[:, None] + bc[None, :] - np.log(X)).max()
        np.testing.assert_allclose(np.stack([kv[w] for w in words]), W + C, rtol=1e-6, atol=1e-6)
    assert residual[8] < 1e-3  # log X spans 0 to 3.9 (sd 1.1)
    assert residual[1] > 0.5


def test_recovers_clusters_and_is_reproducible(tmp_path):
    corpus = clustered_corpus()
    cfg = GloveConfig(vector_size=10, epochs=25, min_count=1, x_max=10, seed=3)
    kv, stats = train_glove(corpus, cfg)
    assert cluster_purity(kv) > 0.95
    assert stats["loss_per_epoch"][-1] < stats["loss_per_epoch"][0] / 5
    assert stats["corpus_words"] == 600 * 12 and stats["vocab_size"] == 40
    assert kv.index_to_key[0] == max(kv.index_to_key, key=lambda w: sum(s.count(w) for s in corpus))
    # the same corpus as a gzip file, one sentence per line, gives bit-identical vectors
    p = tmp_path / "corpus.txt.gz"
    p.write_bytes(gzip.compress("\n".join(" ".join(s) for s in corpus).encode()))
    kv2, _ = train_glove(p, cfg)
    assert kv2.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(kv2.vectors, kv.vectors)
    kv3, _ = train_glove(corpus, GloveConfig(vector_size=10, epochs=25, min_count=1, x_max=10, seed=4))
    assert not np.array_equal(kv3.vectors, kv.vectors)


def test_two_workers_still_learn():
    kv, stats = train_glove(
        clustered_corpus(seed=1), GloveConfig(vector_size=10, epochs=20, min_count=1, x_max=10, workers=2)
    )
    assert cluster_purity(kv) > 0.9


def test_errors():
    with pytest.raises(SeqlabError, match="empty"):
        train_glove([[]])
    with pytest.raises(SeqlabError, match="min_count=5"):
        train_glove([["a", "b"]])
    with pytest.raises(SeqlabError, match="vector_size must be at least 1"):
        train_glove([["a", "b"]], GloveConfig(vector_size=0))
    with pytest.raises(SeqlabError, match="no co-occurring"):
        train_glove([["a"], ["b"]], GloveConfig(min_count=1))
