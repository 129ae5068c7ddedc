"""PPMI + SVD vectors: the weighting by hand, the SVD against scipy, structure recovery."""

import math

import numpy as np
import pytest

from seqlab.embeddings.config import PPMIConfig
from seqlab.embeddings.counts import cooccurrence
from seqlab.embeddings.ppmi import ppmi, train_ppmi, truncated_svd

TINY = [["a", "b", "a", "c"], ["b", "a"]]  # vocabulary by count: a(3) b(2) c(1)


def clustered_corpus(seed=0, n=600, k=4, m=10, length=12):
    """Sentences each drawn from one of k disjoint word clusters: neighbours must share a cluster."""
    rng = np.random.default_rng(seed)
    return [[f"c{c}_{j}" for j in rng.integers(0, m, size=length)] for c in rng.integers(0, k, size=n)]


def cluster_purity(kv, topn=5):
    hits = sum(
        x.split("_")[0] == w.split("_")[0] for w in kv.index_to_key for x, _ in kv.most_similar(w, topn=topn)
    )
    return hits / (topn * len(kv))


def test_ppmi_by_hand():
    X = cooccurrence(TINY, ["a", "b", "c"], window=2)  # total 12, row sums a 6, b 4, c 2
    P = ppmi(X, cds=1.0).toarray()
    want = np.zeros((3, 3))
    want[0, 1] = want[1, 0] = math.log(3 * 12 / (6 * 4))  # log 1.5
    want[1, 2] = want[2, 1] = math.log(1 * 12 / (4 * 2))  # log 1.5; aa = log 2/3 < 0, ac = 0
    np.testing.assert_allclose(P, want)
    # context-distribution smoothing: column probabilities from counts^0.75
    pc = np.array([6, 4, 2]) ** 0.75
    pc /= pc.sum()
    Ps = ppmi(X, cds=0.75).toarray()
    assert Ps[0, 1] == pytest.approx(math.log((3 / 12) / ((6 / 12) * pc[1])))
    # smoothing raises rare contexts' probability, so PMI with the rare word c drops
    assert Ps[1, 2] == pytest.approx(math.log((1 / 12) / ((4 / 12) * pc[2])))
    assert 0 < Ps[1, 2] < P[1, 2]
    assert ppmi(X, cds=1.0, shift=1.4).toarray()[0, 1] == pytest.approx(math.log(1.5 / 1.4))


def test_truncated_svd_matches_reference():
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    rng = np.random.default_rng(0)
    # a decaying spectrum like a PPMI matrix's: low rank plus sparse noise
    low = sp.csr_matrix((rng.random((1500, 5)) * [8, 6, 4, 3, 2]) @ rng.random((5, 1500)) * 0.01)
    M = low + sp.random(1500, 1500, density=0.002, random_state=1, format="csr")
    U, S = truncated_svd(M, 5)  # randomized (large matrix)
    U_ref, S_ref, _ = svds(M, k=5, random_state=0)
    order = np.argsort(-S_ref)
    np.testing.assert_allclose(S, S_ref[order], rtol=1e-3)
    np.testing.assert_allclose(np.abs(U.T @ U_ref[:, order]).diagonal(), 1, atol=1e-3)
    small = sp.csr_matrix(rng.random((6, 6)))
    U2, S2 = truncated_svd(small, 3)
    Ud, Sd, _ = np.linalg.svd(small.toarray())
    # same subspace up to sign: compare Gram matrices
    np.testing.assert_allclose(
        (U2 * S2) @ (U2 * S2).T, (Ud[:, :3] * Sd[:3]) @ (Ud[:, :3] * Sd[:3]).T, atol=1e-10
    )


def test_ppmi_vectors_recover_clusters():
    kv, stats = train_ppmi(clustered_corpus(), PPMIConfig(vector_size=8, window=5, min_count=1))
    assert len(kv) == 40 and kv.vector_size == 8
    assert stats["corpus_words"] == 600 * 12 and stats["vocab_size"] == 40
    assert cluster_purity(kv) > 0.95
    # with eig=1 at full rank the vectors are W = U S, so W W^T = U S^2 U^T = P P^T
    kv1, _ = train_ppmi(TINY, PPMIConfig(vector_size=3, window=2, min_count=1, cds=1.0, eig=1.0))
    P = ppmi(cooccurrence(TINY, ["a", "b", "c"], window=2), cds=1.0).toarray()
    W = kv1.vectors.astype(np.float64)
    np.testing.assert_allclose(W @ W.T, P @ P.T, atol=1e-6)
