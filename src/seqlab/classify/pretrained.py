"""Embedding rows for a classifier's vocabulary from pretrained word vectors (Kim 2014, Section 3.1).

Words found in the vectors (exact, then lowercased) copy their vector; the others are drawn
uniformly with the known vectors' variance, per dimension — Kim's recipe for CNN-static/non-static.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqlab.errors import ParameterError

KIM_STD = 0.25 / np.sqrt(3.0)  # std of Kim's U[-0.25, 0.25], CNN-rand's rows: 0.144


def pretrained_matrix(
    words: Sequence[str], kv, seed: int = 0, unknown: str = "matched", std: float | None = None
) -> tuple[np.ndarray, int]:
    """Rows for `words` from KeyedVectors `kv` (exact match, then lowercase).

    std: rescale the vectors so that their standard deviation (over all entries of the found
    rows) is `std` — e.g. KIM_STD, the scale of CNN-rand's random rows; None keeps them as they
    are (GloVe 6B 50d: 0.64, 4.5x KIM_STD).
    unknown: the words `kv` lacks get U[-a, a] per dimension with a = sqrt(3 var_d), the (rescaled)
    known vectors' variance ("matched", Kim's paper), or U[-0.25, 0.25] ("kim", Kim's code).
    Returns (matrix (len(words), D) float32, number of words found)."""
    if unknown not in ("matched", "kim"):
        raise ParameterError("unknown_init", f"must be matched or kim, got {unknown!r}")
    vecs = np.asarray(kv.vectors, dtype=np.float32)  # (N, D), maybe memory-mapped
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
    if std is not None:
        known = known * np.float32(std / known.std())
    a = np.sqrt(3.0 * known.var(axis=0)) if len(known) > 1 else np.full(D, 0.25, np.float32)
    if unknown == "kim":
        a = np.full(D, 0.25, np.float32)
    rng = np.random.default_rng(seed)
    out = (rng.uniform(-1.0, 1.0, size=(len(words), D)) * a).astype(np.float32)
    if found.any():
        out[found] = known
    return out, int(found.sum())
