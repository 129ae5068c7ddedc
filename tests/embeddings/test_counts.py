"""Count-based representations (one-hot, bag of words, TF-IDF, co-occurrence) against
hand-computed tiny examples."""

import math

import numpy as np
import pytest

from seqlab.embeddings.corpus import build_vocab
from seqlab.embeddings.counts import bag_of_words, cooccurrence, one_hot, tfidf
from seqlab.errors import SeqlabError

TINY = [["a", "b", "a", "c"], ["b", "a"]]  # vocabulary by count: a(3) b(2) c(1)


def clustered_corpus(seed=0, n=600, k=4, m=10, length=12):
    """Sentences each drawn from one of k disjoint word clusters: neighbours must share a cluster."""
    rng = np.random.default_rng(seed)
    return [[f"c{c}_{j}" for j in rng.integers(0, m, size=length)] for c in rng.integers(0, k, size=n)]


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
    np.testing.assert_allclose(T.toarray(), [row0 / np.linalg.norm(row0), row1 / np.linalg.norm(row1)])
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
    monkeypatch.setattr(counts, "COUNT_CHUNK_TOKENS", 30)  # many chunks
    np.testing.assert_array_equal(cooccurrence(corpus, words, window=3).toarray(), whole.toarray())
