"""Count-based representations against hand-computed tiny examples, and structure recovery."""

import math

import numpy as np
import pytest

from seqlab.embeddings.config import PPMIConfig
from seqlab.embeddings.corpus import build_vocab
from seqlab.embeddings.counts import (bag_of_words, cooccurrence, one_hot, ppmi, tfidf, train_ppmi,
                                      truncated_svd)
from seqlab.errors import SeqlabError

TINY = [["a", "b", "a", "c"], ["b", "a"]]  # vocabulary by count: a(3) b(2) c(1)


def clustered_corpus(seed=0, n=600, k=4, m=10, length=12):
    """Sentences each drawn from one of k disjoint word clusters: neighbours must share a cluster."""
    rng = np.random.default_rng(seed)
    return [[f"c{c}_{j}" for j in rng.integers(0, m, size=length)]
            for c in rng.integers(0, k, size=n)]


def cluster_purity(kv, topn=5):
    hits = sum(x.split("_")[0] == w.split("_")[0]
               for w in kv.index_to_key for x, _ in kv.most_similar(w, topn=topn))
    return hits / (topn * len(kv))


def test_one_hot():
    X = one_hot(["b", "c", "b"], ["a", "b", "c"])
    np.testing.assert_array_equal(X, [[0, 1, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(SeqlabError, match="'z'"):
        one_hot(["z"], ["a"])


def test_bag_of_words_and_tfidf_by_hand():
    docs = ["a a b", ["b", "c"]]
    X, vocab = bag_of_words(docs)
    assert vocab == ["a", "b", "c"]
    np.testing.assert_array_equal(X.toarray(), [[2, 1, 0], [0, 1, 1]])
    Xb, _ = bag_of_words(docs, binary=True)
    np.testing.assert_array_equal(Xb.toarray(), [[1, 1, 0], [0, 1, 1]])
    # idf = ln((1 + n) / (1 + df)) + 1 with n = 2 documents; rows L2-normalised
    idf_a = idf_c = math.log(3 / 2) + 1
    idf_b = 1.0
    row0 = np.array([2 * idf_a, idf_b, 0])
    row1 = np.array([0, idf_b, idf_c])
    T, _ = tfidf(docs)
    np.testing.assert_allclose(T.toarray(), [row0 / np.linalg.norm(row0),
                                             row1 / np.linalg.norm(row1)])
    T2, v2 = tfidf(docs, vocabulary=["c", "a"], norm=None)
    np.testing.assert_allclose(T2.toarray(), [[0, 2 * idf_a], [idf_c, 0]])


def test_cooccurrence_by_hand():
    """Window 2 over 'a b a c' and 'b a' (windows stop at the line end)."""
    X = cooccurrence(TINY, ["a", "b", "c"], window=2).toarray()
    # pairs at distance 1: ab ba ac | ba ; distance 2: aa bc
    np.testing.assert_array_equal(X, [[2, 3, 1], [3, 0, 1], [1, 1, 0]])
    H = cooccurrence(TINY, ["a", "b", "c"], window=2, weighting="harmonic").toarray()
    np.testing.assert_array_equal(H, [[1, 3, 1], [3, 0, 0.5], [1, 0.5, 0]])
    F = cooccurrence(TINY, ["a", "b", "c"], window=1, symmetric=False).toarray()
    np.testing.assert_array_equal(F, [[0, 1, 1], [2, 0, 0], [0, 0, 0]])
    # out-of-vocabulary words are removed before windowing: "a c" become adjacent
    D = cooccurrence([["a", "zz", "c"]], ["a", "c"], window=1).toarray()
    np.testing.assert_array_equal(D, [[0, 1], [1, 0]])
    with pytest.raises(SeqlabError, match="weighting"):
        cooccurrence(TINY, ["a"], weighting="gaussian")


def test_cooccurrence_chunks_agree(monkeypatch):
    import seqlab.embeddings.counts as counts

    corpus = clustered_corpus(n=50)
    words = build_vocab(corpus).words
    whole = cooccurrence(corpus, words, window=3)
    monkeypatch.setattr(counts, "_CHUNK_TOKENS", 30)  # many chunks
    np.testing.assert_array_equal(cooccurrence(corpus, words, window=3).toarray(),
                                  whole.toarray())


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
    np.testing.assert_allclose((U2 * S2) @ (U2 * S2).T, (Ud[:, :3] * Sd[:3]) @ (Ud[:, :3] * Sd[:3]).T,
                               atol=1e-10)


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
