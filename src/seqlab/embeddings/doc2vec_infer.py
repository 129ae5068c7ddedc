"""Inference for Doc2Vec: vectors for new documents (gensim's infer_vector), many at once.

A new document gets a fresh vector, seeded by its words, trained for `epochs` passes by the same
kernel as training (seqlab.embeddings.doc2vec_kernels) with everything else frozen (learn = the
document vectors only); the learning rate falls from alpha to min_alpha across the passes, as
gensim's. Each document's random stream is seeded by its words and the epoch, so its vector does
not depend on the batch it came in or on the threads.
"""

from __future__ import annotations

import threading
import zlib

import numpy as np

from seqlab.embeddings import doc2vec_kernels as DK
from seqlab.embeddings import word2vec_train as T
from seqlab.embeddings.doc2vec_corpus import TaggedDocument, encode_documents
from seqlab.embeddings.model import ModelStateError
from seqlab.embeddings.word2vec_kernels import sigmoid_tables
from seqlab.errors import ParameterError


def infer_vectors(model, documents, alpha=None, min_alpha=None, epochs=None, workers=None) -> np.ndarray:
    """infer_vector for many token lists at once, on `workers` threads: (n, D) float32. Each
    document's result depends on its words and the seed only (not on the batch or threads)."""
    cfg, D = model.config, model.config.vector_size
    if not len(model.wv) or (model.syn1neg is None and model.syn1 is None):
        raise ModelStateError("infer_vector needs a trained model (build_vocab and train first)")
    docs = [list(d) for d in documents]
    if any(isinstance(d, str) for d in documents):
        raise TypeError("each document must be a list of tokens, not a string")
    alpha = cfg.start_alpha if alpha is None else float(alpha)
    min_alpha = cfg.min_alpha if min_alpha is None else float(min_alpha)
    epochs = cfg.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ParameterError("epochs", f"must be at least 1, got {epochs}")
    encoded = encode_documents(
        [TaggedDocument(d, [k]) for k, d in enumerate(docs)], model.wv.key_to_index, int
    )
    dv = T.aligned_rows(len(docs), D)
    hashes = np.array([zlib.crc32(" ".join(d).encode("utf-8")) for d in docs], dtype=np.uint64)
    for k, h in enumerate(hashes.tolist()):  # seeded by the words, as gensim's
        rng = np.random.default_rng([cfg.seed, h])
        dv[k, :D] = (rng.random(D, dtype=np.float32) - 0.5) / np.float32(D)
    tab = T.Tables.of(model.wv.expandos["count"], cfg, model.wv.expandos.get("sample_int"))
    sig, logsig = sigmoid_tables()
    kernel = model.job_kernel(encoded, DK.LEARN_DOCS, len(docs))
    syn1neg = model.syn1neg if cfg.negative else None
    mats = [a for a in (model.wv.vectors, syn1neg, model.syn1 if cfg.hs else None, dv) if a is not None]
    jobs = T.split_jobs(encoded.starts, 10_000)
    n_workers = max(1, min(len(jobs), T.resolve_workers(cfg.workers if workers is None else workers)))
    stats = np.zeros((len(jobs), 16), dtype=np.float64)
    for epoch in range(epochs):
        a = alpha - epoch * (alpha - min_alpha) / max(epochs - 1, 1)

        seeds = _mix(hashes * np.uint64(1_000_003) + np.uint64(cfg.seed * 10_000_019 + epoch))

        def run(j: int, a=a, seeds=seeds) -> None:
            s_lo, s_hi, _ = jobs[j]
            where = (encoded.ids, encoded.starts, s_lo, s_hi, tab.keep)
            kernel(mats, where, tab, sig, logsig, (a, a, 0.0, 1.0, np.uint64(0), stats[j]), seeds)

        _run_all(run, len(jobs), n_workers)
    return np.ascontiguousarray(dv[:, :D])


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (one RNG state per document)."""
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _run_all(run, n: int, workers: int) -> None:
    """run(0..n-1) on `workers` threads (the kernels release the GIL); errors surface here."""
    if workers <= 1:
        for j in range(n):
            run(j)
        return
    nxt, lock, errors = [0], threading.Lock(), []

    def worker() -> None:
        while not errors:
            with lock:
                j = nxt[0]
                nxt[0] += 1
            if j >= n:
                return
            try:
                run(j)
            except BaseException as e:
                errors.append(e)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
