"""Count-based word representations: one-hot, bag-of-words, TF-IDF, co-occurrence matrices.

The lecture's path from sparse to dense starts here: a word as a one-hot vector; a document as the
sum of its words' one-hot vectors (bag of words), reweighted by inverse document frequency
(TF-IDF); a word as the counts of the words around it (a row of the co-occurrence matrix). The
dense methods built on the co-occurrence matrix live beside it: PPMI + SVD in
`seqlab.embeddings.ppmi`, GloVe in `seqlab.embeddings.glove`.

Bag-of-words and TF-IDF are scikit-learn's vectorizers (fed pre-split tokens), co-occurrence
matrices are scipy sparse matrices built with numpy (one vectorised pass per window offset, no
per-pair Python loop).

Corpus everywhere: a path (plain or gzip text, one sentence or document per line, whitespace
tokens; streamed) or an iterable of token lists, read and counted by seqlab.embeddings.corpus
(the wing's one reader and vocabulary rule). Windows never cross line boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from seqlab.embeddings.corpus import encode_with
from seqlab.errors import ParameterError, SeqlabError

COUNT_CHUNK_TOKENS = 1 << 21  # co-occurrence is accumulated over chunks of about this many tokens


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


def bag_of_words(
    documents, vocabulary: Sequence[str] | None = None, binary: bool = False, min_df: int = 1
) -> tuple[sp.csr_matrix, list[str]]:
    """(X, vocabulary): X[d, w] = how often word w occurs in document d (csr, (n_docs, V)).

    Documents are token lists or strings (split on whitespace; no lowercasing, no punctuation
    rules: tokenisation is the caller's job). `vocabulary` fixes the columns (other words are
    ignored); otherwise they are all words in `min_df` or more documents, sorted.
    `binary=True` records presence (0/1) instead of counts.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    docs = _as_token_lists(documents)
    vec = CountVectorizer(
        analyzer=_identity, vocabulary=vocabulary, binary=binary, min_df=min_df, dtype=np.float64
    )
    try:
        X = vec.fit_transform(docs)
    except ValueError as e:  # empty vocabulary
        raise SeqlabError(f"bag of words: {e}") from None
    return X.tocsr(), list(vec.get_feature_names_out())


def tfidf(
    documents,
    vocabulary: Sequence[str] | None = None,
    min_df: int = 1,
    smooth_idf: bool = True,
    sublinear_tf: bool = False,
    norm: str | None = "l2",
) -> tuple[sp.csr_matrix, list[str]]:
    """(X, vocabulary) with X[d, w] = tf(w, d) * idf(w), rows L2-normalised (scikit-learn).

    idf(w) = ln((1 + n) / (1 + df(w))) + 1 with `smooth_idf` (else ln(n / df(w)) + 1); tf is the
    raw count, or 1 + ln(count) with `sublinear_tf`. Words in every document still get weight
    (idf 1) so that no document becomes an empty row.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = _as_token_lists(documents)
    vec = TfidfVectorizer(
        analyzer=_identity,
        vocabulary=vocabulary,
        min_df=min_df,
        smooth_idf=smooth_idf,
        sublinear_tf=sublinear_tf,
        norm=norm,
    )
    try:
        X = vec.fit_transform(docs)
    except ValueError as e:
        raise SeqlabError(f"tf-idf: {e}") from None
    return X.tocsr(), list(vec.get_feature_names_out())


# ---- co-occurrence ------------------------------------------------------------------------------
def cooccurrence(
    corpus,
    vocabulary: Sequence[str] | dict[str, int],
    window: int = 5,
    weighting: str = "uniform",
    symmetric: bool = True,
    progress: bool | None = None,
) -> sp.csr_matrix:
    """(V, V) float64 csr: X[i, j] = weighted count of word j within `window` words of word i.

    weighting: "uniform" counts every neighbour 1; "harmonic" counts a neighbour at distance d
    as 1/d (GloVe's choice). With `symmetric` both left and right contexts count (X symmetric);
    otherwise X[i, j] counts only j to the right of i. Words outside `vocabulary` are removed
    before windowing (as word2vec and GloVe's cooccur do: a window of 5 means 5 known words).
    """
    index = vocabulary if isinstance(vocabulary, dict) else {w: i for i, w in enumerate(vocabulary)}
    return cooccurrence_of_chunks(
        encode_with(corpus, index, COUNT_CHUNK_TOKENS), len(index), window, weighting, symmetric, progress
    )


def cooccurrence_of_chunks(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    v: int,
    window: int = 5,
    weighting: str = "uniform",
    symmetric: bool = True,
    progress: bool | None = None,
) -> sp.csr_matrix:
    """`cooccurrence` over (ids, sentence number) chunks of whole sentences, ids in [0, v)."""
    if window < 1:
        raise ParameterError("window", f"must be at least 1, got {window}")
    if weighting not in ("uniform", "harmonic"):
        raise ParameterError("weighting", f"must be 'uniform' or 'harmonic', got {weighting!r}")
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
