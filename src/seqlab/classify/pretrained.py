"""Embedding rows for a classifier's vocabulary from pretrained word vectors (Kim 2014, Section 3.1).

Words found in the vectors (exact, then lowercased) copy their vector; the others are drawn
uniformly with the known vectors' variance, per dimension — Kim's recipe for CNN-static/non-static.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def pretrained_matrix(words: Sequence[str], kv, seed: int = 0) -> tuple[np.ndarray, int]:
    """Rows for `words` from KeyedVectors `kv` (exact match, then lowercase); the words it lacks get
    U[-a, a] per dimension with a = sqrt(3 var_d), so they have the known vectors' variance (Kim's
    recipe). Returns (matrix (len(words), D) float32, number of words found)."""
    vecs = np.asarray(kv.vectors, dtype=np.float32)                     # (N, D), maybe memory-mapped
    index = kv.key_to_index
    rows = np.full(len(words), -1, dtype=np.int64)
    for i, w in enumerate(words):
        j = index.get(w)
        if j is None:
            j = index.get(w.lower())
        if j is not None:
            rows[i] = j
    found = rows >= 0
    D = vecs.shape[1]
    known = vecs[rows[found]] if found.any() else vecs[: min(len(vecs), 10000)]
    a = np.sqrt(3.0 * known.var(axis=0)) if len(known) > 1 else np.full(D, 0.25, np.float32)
    rng = np.random.default_rng(seed)
    out = (rng.uniform(-1.0, 1.0, size=(len(words), D)) * a).astype(np.float32)
    if found.any():
        out[found] = known
    return out, int(found.sum())
