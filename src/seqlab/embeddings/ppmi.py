"""`PPMI`: dense word vectors from the positive PMI of co-occurrence counts, compressed by SVD.

The count-based road to dense vectors (Levy, Goldberg & Dagan 2015, "Improving distributional
similarity with lessons learned from word embeddings"): the co-occurrence matrix X of
`seqlab.embeddings.counts`, reweighted by positive pointwise mutual information

    PPMI(w, c) = max(0, log(P(w, c) / (P(w) P_cds(c))) - log shift),

with context-distribution smoothing `cds` 0.75, then the truncated SVD M ≈ U S V^T keeps
`vector_size` singular vectors and the word vectors are W = U S^eig (eigenvalue weighting `eig`
0.5). `train_ppmi` is the functional layer (corpus -> KeyedVectors, stats); the `PPMI` class on
top gives it gensim's style of API.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from seqlab.embeddings.config import PPMIConfig
from seqlab.embeddings.corpus import encode_corpus
from seqlab.embeddings.counts import COUNT_CHUNK_TOKENS, cooccurrence_of_chunks
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.model import EmbeddingModel, corpus_argument
from seqlab.errors import SeqlabError


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
    cfg = (config or PPMIConfig()).validate()
    t0 = time.perf_counter()
    enc = encode_corpus(corpus, cfg.min_count, cfg.max_vocab, progress=progress)
    X = cooccurrence_of_chunks(
        enc.chunks(COUNT_CHUNK_TOKENS), len(enc.vocab), cfg.window, cfg.weighting, progress=progress
    )
    vocab = enc.vocab
    enc.close()
    M = ppmi(X, cds=cfg.cds, shift=cfg.shift)
    U, S = truncated_svd(M, cfg.vector_size, cfg.seed)
    W = U * (S**cfg.eig)  # (V, dim)
    if W.shape[1] < cfg.vector_size:  # a vocabulary smaller than dim: pad, keep the promised size
        W = np.hstack([W, np.zeros((W.shape[0], cfg.vector_size - W.shape[1]))])
    seconds = time.perf_counter() - t0
    n_words = vocab.corpus_words
    stats = {
        "seconds": seconds,
        "vocab_size": len(vocab),
        "corpus_words": n_words,
        "words_per_sec": n_words / max(seconds, 1e-9),
        "nonzeros": int(M.nnz),
    }
    return KeyedVectors.from_arrays(vocab.words, W, counts=vocab.counts), stats


class PPMI(EmbeddingModel):
    """PPMI-SVD vectors (Levy, Goldberg & Dagan 2015): the truncated SVD of the positive PMI
    matrix of word-context counts, W = U S^eig.

    Args:
        sentences / corpus_file: the corpus, as for Word2Vec.
        vector_size: number of singular vectors kept (50-500).
        window: context words on each side (2-10; small windows favour syntactic similarity).
        min_count: ignore words seen fewer times. max_final_vocab: keep only the N most frequent.
        seed: seed of the randomised SVD.
        cds: context-distribution smoothing exponent (0.75; 1 = plain PPMI).
        shift: PMI shift k (1 = none; k > 1 subtracts log k, as SGNS with k negatives).
        eig: singular-value exponent (0.5 symmetric; 1 classic SVD; 0 only U).
        weighting: "uniform" (every neighbour counts 1) or "harmonic" (1/d).
        progress: progress bars on stderr (None: only on a terminal).

    After training: `wv`, `stats` (seconds, nonzeros, ...), `config`.
    """

    _config_cls = PPMIConfig
    _aliases = {"max_final_vocab": lambda c: c.max_vocab}

    def __init__(
        self,
        sentences=None,
        corpus_file=None,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        seed: int = 1,
        *,
        cds: float = 0.75,
        shift: float = 1.0,
        eig: float = 0.5,
        weighting: str = "uniform",
        max_final_vocab: int | None = None,
        progress: bool | None = None,
    ):
        config = PPMIConfig(
            vector_size=vector_size,
            window=window,
            weighting=weighting,
            min_count=min_count,
            max_vocab=max_final_vocab,
            cds=cds,
            shift=shift,
            eig=eig,
            seed=seed,
        )
        super().__init__(corpus_argument(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        self.wv, self.stats = train_ppmi(corpus, self.config, self.progress)
