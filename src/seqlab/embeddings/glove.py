"""`GloVe`: word vectors from a weighted least-squares fit to log co-occurrence counts.

Pennington, Socher & Manning 2014, "GloVe: Global Vectors for Word Representation". Minimise

    J = sum_{i,j: X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
    f(x) = (x / x_max)^alpha if x < x_max else 1,

over word vectors w, context vectors w~ and biases, by AdaGrad on the nonzero entries in random
order (the paper's x_max 100, alpha 0.75, learning rate 0.05, symmetric window 10 with a neighbour
at distance d counted 1/d). The returned vectors are w + w~, as in the paper (section 4.2).

Layering as in word2vec: `seqlab.embeddings.corpus` reads and encodes the corpus (the wing's one
vocabulary rule), `seqlab.embeddings.counts` builds the sparse matrix X with numpy,
`glove_kernels.glove_pass` runs the per-entry updates compiled (numba, GIL released), and this
module shuffles, splits the work over `workers` threads (Hogwild, as glove.c) and reports
(`fit_glove`, `train_glove`); the `GloVe` class on top gives it gensim's style of API.
With `workers=1` and a seed, training is bit-for-bit reproducible; with more threads, updates
race and results vary slightly from run to run.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import scipy.sparse as sp

from seqlab.embeddings import glove_kernels
from seqlab.embeddings.config import GloveConfig
from seqlab.embeddings.corpus import encode_corpus
from seqlab.embeddings.counts import cooccurrence_of_chunks
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.model import EmbeddingModel, corpus_argument
from seqlab.errors import SeqlabError


def fit_glove(
    X: sp.spmatrix,
    words: list[str],
    config: GloveConfig | None = None,
    counts: np.ndarray | None = None,
    progress: bool | None = None,
):
    """Fit GloVe to a given (V, V) co-occurrence matrix X whose rows/columns are `words`.

    Returns (vectors w + w~ as a KeyedVectors, stats) with stats `loss_per_epoch` (the mean
    weighted cost per nonzero entry at each epoch, glove.c's "cost"), `final_loss` (the last
    epoch's), `seconds`, `nonzeros` and `vocab_size`: the same keys as word2vec's stats.
    """
    from seqlab.runtime import progress as bar

    cfg = (config or GloveConfig()).validate()
    glove_pass = glove_kernels.glove_pass  # looked up per call (tests spy on it)
    coo = sp.coo_matrix(X)
    keep = coo.data > 0
    rows = coo.row[keep].astype(np.int64)
    cols = coo.col[keep].astype(np.int64)
    vals = coo.data[keep].astype(np.float64)
    v, dim = len(words), cfg.vector_size
    if X.shape != (v, v):
        raise SeqlabError(f"co-occurrence matrix is {X.shape}, expected ({v}, {v})")
    if len(vals) == 0:
        raise SeqlabError("no co-occurring word pairs: corpus too small for this window/min_count")
    rng = np.random.default_rng(cfg.seed)
    # glove.c initialises vectors and biases uniformly in [-0.5, 0.5] / D, AdaGrad sums to 1
    W = (rng.random((v, dim)) - 0.5) / dim  # (V, D)
    C = (rng.random((v, dim)) - 0.5) / dim  # (V, D)
    bw = (rng.random(v) - 0.5) / dim  # (V,)
    bc = (rng.random(v) - 0.5) / dim  # (V,)
    gW, gC, gbw, gbc = np.ones_like(W), np.ones_like(C), np.ones(v), np.ones(v)
    workers = cfg.workers or os.cpu_count() or 1
    n = len(vals)
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    losses = []
    t0 = time.perf_counter()
    with bar(total=cfg.epochs, desc="glove", unit="epoch", enabled=progress) as pbar:
        for _ in range(cfg.epochs):
            order = rng.permutation(n)
            args = (W, C, bw, bc, gW, gC, gbw, gbc, rows, cols, vals, order)
            hp = (cfg.x_max, cfg.alpha, cfg.learning_rate)
            if workers == 1:
                cost = glove_pass(*args, 0, n, *hp)
            else:
                costs = [0.0] * workers

                def run(k, args=args, hp=hp, costs=costs):
                    costs[k] = glove_pass(*args, bounds[k], bounds[k + 1], *hp)

                threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                cost = sum(costs)
            losses.append(cost / n)
            if not np.isfinite(losses[-1]):
                raise SeqlabError("GloVe diverged (loss is not finite); lower learning_rate")
            pbar.update(1)
            pbar.set_postfix(loss=f"{losses[-1]:.4f}")
    seconds = time.perf_counter() - t0
    kv = KeyedVectors.from_arrays(words, (W + C).astype(np.float32), counts=counts)
    return kv, {
        "loss_per_epoch": losses,
        "final_loss": losses[-1],
        "seconds": seconds,
        "nonzeros": n,
        "vocab_size": v,
    }


def train_glove(corpus, config: GloveConfig | None = None, progress: bool | None = None):
    """Count co-occurrences in `corpus` (a path, plain or gzip, or token lists) and fit GloVe.

    Returns (vectors, stats) with `words_per_sec`, `seconds`, `vocab_size`, `corpus_words`,
    `nonzeros`, `loss_per_epoch` and `final_loss`; words_per_sec is corpus words x epochs per
    second of the whole run (counting included), comparable with word2vec's.
    """
    cfg = (config or GloveConfig()).validate()
    t0 = time.perf_counter()
    enc = encode_corpus(corpus, cfg.min_count, cfg.max_vocab, progress=progress)
    X = cooccurrence_of_chunks(
        enc.chunks(),
        len(enc.vocab),
        window=cfg.window,
        weighting="harmonic",
        symmetric=True,
        progress=progress,
    )
    vocab = enc.vocab
    enc.close()
    kv, stats = fit_glove(X, vocab.words, cfg, counts=vocab.counts, progress=progress)
    seconds = time.perf_counter() - t0
    stats.update(
        seconds=seconds,
        corpus_words=vocab.corpus_words,
        words_per_sec=vocab.corpus_words * cfg.epochs / max(seconds, 1e-9),
    )
    return kv, stats


class GloVe(EmbeddingModel):
    """GloVe (Pennington et al. 2014): weighted least squares on log co-occurrence counts.

    Args:
        sentences / corpus_file: the corpus, as for Word2Vec.
        vector_size: dimensions (50-300).
        window: context words on each side (10, the paper's); a neighbour at distance d counts 1/d.
        min_count: ignore words seen fewer times. max_final_vocab: keep only the N most frequent.
        epochs: AdaGrad passes over the nonzero co-occurrences (the paper: 50 below 300
            dimensions, 100 above; 10-25 already give usable vectors on small corpora).
        workers: threads (0 = all cores; 1 repeats bit for bit with a seed).
        seed: initialisation and shuffling.
        x_max, alpha: the weight f(x) = min(1, (x / x_max)^alpha) of a count x (100 and 0.75;
            x_max 10 suits corpora of a few million words).
        learning_rate: AdaGrad's initial step (0.05; lower it if the loss is not finite).
        progress: progress bars on stderr (None: only on a terminal).

    After training: `wv` (the paper's w + w~), `stats` (loss_per_epoch, final_loss, ...), `config`.
    """

    _config_cls = GloveConfig
    _aliases = {"max_final_vocab": lambda c: c.max_vocab}

    def __init__(
        self,
        sentences=None,
        corpus_file=None,
        vector_size: int = 100,
        window: int = 10,
        min_count: int = 5,
        epochs: int = 50,
        workers: int = 1,
        seed: int = 1,
        *,
        x_max: float = 100.0,
        alpha: float = 0.75,
        learning_rate: float = 0.05,
        max_final_vocab: int | None = None,
        progress: bool | None = None,
    ):
        config = GloveConfig(
            vector_size=vector_size,
            window=window,
            min_count=min_count,
            max_vocab=max_final_vocab,
            x_max=x_max,
            alpha=alpha,
            learning_rate=learning_rate,
            epochs=epochs,
            workers=workers,
            seed=seed,
        )
        super().__init__(corpus_argument(sentences, corpus_file), config, progress)

    def _fit(self, corpus) -> None:
        self.wv, self.stats = train_glove(corpus, self.config, self.progress)
