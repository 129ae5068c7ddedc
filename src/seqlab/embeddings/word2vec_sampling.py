"""Everything random in word2vec's kernels: an explicit 64-bit integer RNG state (SplitMix64,
Steele et al. 2014) that the caller passes in and gets back, the noise distribution as a Walker alias
table, and the subsampling of frequent words. The tables are built here in NumPy once per run; the
compiled samplers are inlined by the training kernels (seqlab.embeddings.word2vec_kernels).

Negatives come from the alias table (Walker 1977): one random draw per sample, O(1), exact
P(w) ∝ count(w)^ns_exponent (no 1e8-entry unigram table as in word2vec.c, no binary search).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S40 = np.uint64(40)
_LOW32 = np.uint64(0xFFFFFFFF)


def build_alias_table(weights: np.ndarray):
    """Walker's alias table for sampling index i with probability weights[i] / sum(weights).

    Returns (threshold, alias): draw u uniform over [0, 2^32 · n); bucket = u >> 32; keep the bucket
    if (u & 0xffffffff) < threshold[bucket], else take alias[bucket]. Built in float64, O(n).
    """
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    prob = w * (n / w.sum())  # (n,) mean 1
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if prob[i] < 1.0]
    large = [i for i in range(n) if prob[i] >= 1.0]
    while small and large:
        s = small.pop()
        g = large.pop()
        alias[s] = g
        prob[g] -= 1.0 - prob[s]
        (small if prob[g] < 1.0 else large).append(g)
    for i in large + small:  # leftovers are 1 up to rounding
        prob[i] = 1.0
    threshold = np.minimum(np.round(prob * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    threshold[prob >= 1.0] = np.uint32(0xFFFFFFFF)
    return threshold, alias  # (n,) uint32, (n,) int32


def alias_probabilities(threshold: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The exact distribution an alias table samples from (to test the table itself)."""
    n = len(threshold)
    keep = threshold.astype(np.float64) / 2.0**32
    keep[threshold == 0xFFFFFFFF] = 1.0
    p = keep / n
    np.add.at(p, alias, (1.0 - keep) / n)
    return p


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """The lecture's subsampling rule P(keep w) = (sqrt(z/s) + 1) · s / z, capped at 1.

    z is the word's fraction of the (in-vocabulary) corpus and s = `sample`; s <= 0 keeps all.
    """
    c = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(c))
    z = c / c.sum()
    return np.minimum((np.sqrt(z / sample) + 1.0) * sample / z, 1.0)


def keep_thresholds(keep_prob: np.ndarray) -> np.ndarray:
    """keep_prob as uint32 thresholds: a word is kept when a random 32-bit draw is below it."""
    t = np.minimum(np.round(np.asarray(keep_prob) * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    t[np.asarray(keep_prob) >= 1.0] = np.uint32(0xFFFFFFFF)
    return t


@njit(inline="always")
def _splitmix(state):
    """One SplitMix64 step: returns (new_state, 64 random bits)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return state, z ^ (z >> _S31)


@njit(nogil=True, cache=True)
def splitmix64(seed):
    """Mix a seed into a well-spread 64-bit state (used to derive per-job RNG states)."""
    _, z = _splitmix(np.uint64(seed))
    return z


@njit(inline="always")
def _draw_negative(r, threshold, alias, n):
    bucket = np.int64(((r >> _S32) * np.uint64(n)) >> _S32)
    if (r & _LOW32) < np.uint64(threshold[bucket]):
        return bucket
    return np.int64(alias[bucket])


@njit(nogil=True, cache=True, fastmath=True)
def _subsample(ids, lo, hi, keep, buf, state):
    """Copy ids[lo:hi] into buf, dropping each word w with probability 1 - keep[w]/2^32."""
    n = 0
    for t in range(lo, hi):
        w = ids[t]
        k = keep[w]
        if k != np.uint32(0xFFFFFFFF):
            state, r = _splitmix(state)
            if (r >> _S32) >= np.uint64(k):
                continue
        buf[n] = w
        n += 1
    return n, state


@njit(nogil=True, cache=True)
def sample_noise(neg_threshold, neg_alias, count, state):
    """`count` draws from the noise alias table with the kernels' own sampler (for tests)."""
    out = np.empty(count, dtype=np.int64)
    n = neg_threshold.shape[0]
    for i in range(count):
        state, r = _splitmix(state)
        out[i] = _draw_negative(r, neg_threshold, neg_alias, n)
    return out, state


@njit(nogil=True, cache=True)
def subsample(ids, keep, state):
    """The kernels' subsampling of one sentence (for tests): returns (kept ids, new state)."""
    buf = np.empty(len(ids), dtype=np.int32)
    n, state = _subsample(ids, 0, len(ids), keep, buf, state)
    return buf[:n], state
