"""Compiled inner loop of GloVe training: AdaGrad over co-occurrence entries (numba, GIL released).

A line-for-line port of the update in Stanford's glove.c (`glove_thread`), over a shuffled list
of nonzero entries (i, j, X_ij). No I/O, no allocation, no randomness: the caller shuffles.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, fastmath=False)
def glove_pass(
    W, C, bw, bc, gW, gC, gbw, gbc, rows, cols, vals, order, start, stop, x_max, alpha, lr
):  # pragma: no cover - compiled
    """One pass over entries order[start:stop]; updates parameters in place, returns the cost.

    W, C: (V, D) word and context vectors; bw, bc: (V,) biases; gW, gC, gbw, gbc: AdaGrad sums
    of squared gradients (start at 1, as glove.c); rows, cols, vals: the nonzeros of X.
    Cost of an entry: 0.5 * f(x) * (w_i . c_j + b_i + b~_j - log x)^2, f(x) = min(1, (x/x_max)^alpha).
    """
    dim = W.shape[1]
    cost = 0.0
    for k in range(start, stop):
        e = order[k]
        i = rows[e]
        j = cols[e]
        x = vals[e]
        diff = bw[i] + bc[j] - np.log(x)
        for d in range(dim):
            diff += W[i, d] * C[j, d]
        fdiff = diff if x > x_max else (x / x_max) ** alpha * diff
        if not np.isfinite(fdiff):
            continue  # glove.c skips such entries too
        cost += 0.5 * fdiff * diff
        fdiff *= lr
        for d in range(dim):
            g1 = fdiff * C[j, d]  # gradient wrt W[i, d] (times lr)
            g2 = fdiff * W[i, d]  # gradient wrt C[j, d]
            W[i, d] -= g1 / np.sqrt(gW[i, d])
            C[j, d] -= g2 / np.sqrt(gC[j, d])
            gW[i, d] += g1 * g1
            gC[j, d] += g2 * g2
        bw[i] -= fdiff / np.sqrt(gbw[i])
        bc[j] -= fdiff / np.sqrt(gbc[j])
        gbw[i] += fdiff * fdiff
        gbc[j] += fdiff * fdiff
    return cost
