"""Count-based word representations: one-hot, bag-of-words, TF-IDF, co-occurrence, PPMI + SVD.

The lecture's path from sparse to dense: a word as a one-hot vector; a document as the sum of its
words' one-hot vectors (bag of words), reweighted by inverse document frequency (TF-IDF); a word as
the counts of the words around it (a row of the co-occurrence matrix), reweighted by positive
pointwise mutual information and compressed by truncated SVD into dense vectors
(Levy, Goldberg & Dagan 2015, "Improving distributional similarity with lessons learned from word
embeddings": context-distribution smoothing `cds` 0.75 and eigenvalue weighting `eig` 0.5).

Bag-of-words and TF-IDF are scikit-learn's vectorizers (fed pre-split tokens), co-occurrence
matrices are scipy sparse matrices built with numpy (one vectorised pass per window offset, no
per-pair Python loop), and `train_ppmi` returns the same `KeyedVectors` as every other method.

Corpus everywhere: a path (plain or gzip text, one sentence or document per line, whitespace
tokens; streamed) or an iterable of token lists, read and counted by seqlab.embeddings.corpus
(the wing's one reader and vocabulary rule). Windows never cross line boundaries.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from seqlab.embeddings.config import PPMIConfig
from seqlab.embeddings.corpus import encode_corpus, encode_with
from seqlab.errors import SeqlabError

_CHUNK_TOKENS = 1 << 21  # co-occurrence is accumulated over chunks of about this many tokens


# ---- one-hot, bag of words, TF-IDF --------------------------------------------------------------
def one_hot(tokens: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """(T, V) float32 matrix with a single 1 per row at the token's vocabulary index.

    Every pair of distinct words is orthogonal: cosine 0, the lecture's reason to want more.
    """
    index = {w: i for i, w in enumerate(vocabulary)}
    out = np.zeros((len(tokens), len(index)), dtype=np.float32)  # (T, V)
    for t, tok in enumerate(tokens):
        if tok not in index:
            raise SeqlabError(f"word not in vocabulary: {tok!r}")
        out[t, index[tok]] = 1.0
    return out


def _as_token_lists(documents) -> list[list[str]]:
    return [d.split() if isinstance(d, str) else list(d) for d in documents]


def _identity(tokens):
    return tokens


def bag_of_words(documents, vocabulary: Sequence[str] | None = None, binary: bool = False,
                 min_df: int = 1) -> tuple[sp.csr_matrix, list[str]]:
    """(X, vocabulary): X[d, w] = how often word w occurs in document d (csr, (n_docs, V)).

    Documents are token lists or strings (split on whitespace; no lowercasing, no punctuation
    rules: tokenisation is the caller's job). `vocabulary` fixes the columns (other words are
    ignored); otherwise they are all words in `min_df` or more documents, sorted.
    `binary=True` records presence (0/1) instead of counts.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    docs = _as_token_lists(documents)
    vec = CountVectorizer(analyzer=_identity, vocabulary=vocabulary, binary=binary,
                          min_df=min_df, dtype=np.float64)
    try:
        X = vec.fit_transform(docs)
    except ValueError as e:  # empty vocabulary
        raise SeqlabError(f"bag of words: {e}") from None
    return X.tocsr(), list(vec.get_feature_names_out())


def tfidf(documents, vocabulary: Sequence[str] | None = None, min_df: int = 1,
          smooth_idf: bool = True, sublinear_tf: bool = False, norm: str | None = "l2"
          ) -> tuple[sp.csr_matrix, list[str]]:
    """(X, vocabulary) with X[d, w] = tf(w, d) * idf(w), rows L2-normalised (scikit-learn).

    idf(w) = ln((1 + n) / (1 + df(w))) + 1 with `smooth_idf` (else ln(n / df(w)) + 1); tf is the
    raw count, or 1 + ln(count) with `sublinear_tf`. Words in every document still get weight
    (idf 1) so that no document becomes an empty row.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = _as_token_lists(documents)
    vec = TfidfVectorizer(analyzer=_identity, vocabulary=vocabulary, min_df=min_df,
                          smooth_idf=smooth_idf, sublinear_tf=sublinear_tf, norm=norm)
    try:
        X = vec.fit_transform(docs)
    except ValueError as e:
        raise SeqlabError(f"tf-idf: {e}") from None
    return X.tocsr(), list(vec.get_feature_names_out())


# ---- co-occurrence and PPMI ---------------------------------------------------------------------
def cooccurrence(corpus, vocabulary: Sequence[str] | dict[str, int], window: int = 5,
                 weighting: str = "uniform", symmetric: bool = True,
                 progress: bool | None = None) -> sp.csr_matrix:
    """(V, V) float64 csr: X[i, j] = weighted count of word j within `window` words of word i.

    weighting: "uniform" counts every neighbour 1; "harmonic" counts a neighbour at distance d
    as 1/d (GloVe's choice). With `symmetric` both left and right contexts count (X symmetric);
    otherwise X[i, j] counts only j to the right of i. Words outside `vocabulary` are removed
    before windowing (as word2vec and GloVe's cooccur do: a window of 5 means 5 known words).
    """
    index = vocabulary if isinstance(vocabulary, dict) else {w: i for i, w in
                                                             enumerate(vocabulary)}
    return cooccurrence_of_chunks(encode_with(corpus, index, _CHUNK_TOKENS), len(index), window,
                                  weighting, symmetric, progress)


def cooccurrence_of_chunks(chunks: Iterable[tuple[np.ndarray, np.ndarray]], v: int,
                           window: int = 5, weighting: str = "uniform", symmetric: bool = True,
                           progress: bool | None = None) -> sp.csr_matrix:
    """`cooccurrence` over (ids, sentence number) chunks of whole sentences, ids in [0, v)."""
    if window < 1:
        raise SeqlabError(f"window must be at least 1, got {window}")
    if weighting not in ("uniform", "harmonic"):
        raise SeqlabError(f"unknown weighting {weighting!r}; use 'uniform' or 'harmonic'")
    from seqlab.runtime import progress as bar

    total = sp.csr_matrix((v, v), dtype=np.float64)
    with bar(desc="co-occurrence", unit="tok", enabled=progress, unit_scale=True) as pbar:
        for ids, sent in chunks:
            rows, cols, vals = [], [], []
            for d in range(1, window + 1):
                same = sent[:-d] == sent[d:]  # pairs inside one sentence only
                rows.append(ids[:-d][same])
                cols.append(ids[d:][same])
                vals.append(np.full(int(same.sum()), 1.0 if weighting == "uniform" else 1.0 / d))
            r, c, x = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
            total = total + sp.csr_matrix((x, (r, c)), shape=(v, v))  # duplicates summed
            pbar.update(len(ids))
    if symmetric:
        total = total + total.T
    total = total.tocsr()
    total.sum_duplicates()
    return total


def ppmi(counts: sp.spmatrix, cds: float = 0.75, shift: float = 1.0) -> sp.csr_matrix:
    """Positive PMI of a co-occurrence matrix: max(0, log(P(w, c) / (P(w) P_cds(c))) - log shift).

    P(w, c) = X[w, c] / sum(X); P(w) is the row marginal; P_cds(c) is the column marginal raised to
    `cds` and renormalised (Levy et al. 2015: 0.75 tempers PMI's bias towards rare contexts; 1.0 is
    plain PPMI). `shift` k > 1 gives shifted PPMI, log k below the PMI of SGNS with k negatives.
    Zero counts stay zero (PMI of unseen pairs is -inf, clipped to 0), so the result stays sparse.
    """
    X = sp.csr_matrix(counts, dtype=np.float64)
    X.eliminate_zeros()
    total = X.sum()
    if total <= 0:
        raise SeqlabError("co-occurrence matrix is empty: no word pairs within the window")
    row = np.asarray(X.sum(axis=1)).ravel()  # (V,)
    col = np.asarray(X.sum(axis=0)).ravel() ** cds  # (V,)
    p_row, p_col = row / total, col / col.sum()
    coo = X.tocoo()
    pmi = np.log(coo.data / total) - np.log(p_row[coo.row]) - np.log(p_col[coo.col]) - np.log(shift)
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=X.shape)


def truncated_svd(M: sp.spmatrix, dim: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(U, S) of the top-`dim` singular triplets, S descending; exact (dense) for small M.

    Signs are fixed so the largest |entry| of each column of U is positive, making results
    reproducible across SVD back ends.
    """
    n = min(M.shape)
    if dim >= n or n <= 1000:
        U, S, _ = np.linalg.svd(M.toarray(), full_matrices=False)
        U, S = U[:, :dim], S[:dim]
    else:
        from sklearn.utils.extmath import randomized_svd

        U, S, _ = randomized_svd(M, dim, n_iter=7, random_state=seed)
    flip = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])])
    return U * flip, S


def train_ppmi(corpus, config: PPMIConfig | None = None, progress: bool | None = None):
    """Dense word vectors U S^eig from the truncated SVD of the PPMI matrix of `corpus`.

    Returns (vectors as a KeyedVectors, stats) with stats `words_per_sec`, `seconds`,
    `vocab_size`, `corpus_words` and `nonzeros` (of the PPMI matrix). Vocabulary in the wing's
    order (most frequent first), as restrict_vocab expects.
    """
    cfg = config or PPMIConfig()
    cfg.validate()
    t0 = time.perf_counter()
    enc = encode_corpus(corpus, cfg.min_count, cfg.max_vocab, progress=progress)
    X = cooccurrence_of_chunks(enc.chunks(_CHUNK_TOKENS), len(enc.vocab), cfg.window,
                               cfg.weighting, progress=progress)
    M = ppmi(X, cds=cfg.cds, shift=cfg.shift)
    U, S = truncated_svd(M, cfg.vector_size, cfg.seed)
    W = U * (S ** cfg.eig)  # (V, dim)
    if W.shape[1] < cfg.vector_size:  # a vocabulary smaller than dim: pad, keep the promised size
        W = np.hstack([W, np.zeros((W.shape[0], cfg.vector_size - W.shape[1]))])
    seconds = time.perf_counter() - t0
    n_words = enc.vocab.corpus_words
    stats = {"seconds": seconds, "vocab_size": len(enc.vocab), "corpus_words": n_words,
             "words_per_sec": n_words / max(seconds, 1e-9), "nonzeros": int(M.nnz)}
    return enc.vocab.keyed_vectors(W), stats
