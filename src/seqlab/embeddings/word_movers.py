"""Word Mover's Distance (Kusner et al. 2015, "From Word Embeddings To Document Distances"), behind
`KeyedVectors.wmdistance`, as an exact transport linear program. It takes the vectors as an argument
and never imports keyedvectors (which imports it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqlab.errors import SeqlabError


def wmdistance(kv, document1: Sequence[str], document2: Sequence[str], norm: bool = True) -> float:
    """Word Mover's Distance between two token lists, for `kv` (a KeyedVectors).

    The least total Euclidean distance that the words of document1, each carrying its
    share of the document (count / length), must travel to become document2's. Unknown
    tokens are dropped, as in gensim; if a document is then empty the distance is inf.
    Solved exactly as a transport linear program with scipy's HiGHS, where gensim needs POT
    (and returns inf where all word distances are 0; here that distance is 0).
    `norm` uses unit-length vectors.
    """
    doc1 = [t for t in document1 if t in kv]
    doc2 = [t for t in document2 if t in kv]
    if not doc1 or not doc2:
        return float("inf")
    words1, n1 = np.unique(np.array(doc1, dtype=object), return_counts=True)
    words2, n2 = np.unique(np.array(doc2, dtype=object), return_counts=True)
    v1 = np.stack([kv.get_vector(w, norm=norm) for w in words1]).astype(np.float64)  # (A, D)
    v2 = np.stack([kv.get_vector(w, norm=norm) for w in words2]).astype(np.float64)  # (B, D)
    cost = np.linalg.norm(v1[:, None, :] - v2[None, :, :], axis=2)  # (A, B)
    return _transport_cost(n1 / len(doc1), n2 / len(doc2), cost)


def _transport_cost(a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> float:
    """min sum_ij cost_ij T_ij over flows T >= 0 (A, B) with row sums `a` and column sums `b`."""
    from scipy import sparse
    from scipy.optimize import linprog

    n_a, n_b = cost.shape
    # T flattened row-major: row i's flows are T[i*B:(i+1)*B], column j's are T[j::B]
    rows = sparse.kron(sparse.eye(n_a), np.ones((1, n_b)))  # (A, A*B)
    cols = sparse.kron(np.ones((1, n_a)), sparse.eye(n_b))  # (B, A*B)
    res = linprog(
        cost.ravel(),
        A_eq=sparse.vstack([rows, cols]).tocsr(),
        b_eq=np.concatenate([a, b]),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise SeqlabError(f"word mover's distance: the transport problem failed ({res.message})")
    return float(res.fun)
