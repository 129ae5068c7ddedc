"""Compiled inner loops for word2vec's hierarchical softmax (numba, GIL released), with negative
sampling beside it when negative > 0 (gensim's hs=1, negative=K). The negative-sampling-only
kernels are seqlab.embeddings.word2vec_kernels; these are separate so that those stay as they are.

Hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013): the output layer is a binary
(Huffman) tree over the vocabulary, built by seqlab.embeddings.word2vec_vocab.huffman_tree. The
probability of word w given a hidden vector h is the product over the inner nodes n on w's path of
sigmoid((1 - 2 code_n) h . v_n), so a word costs len(path) ~ log2(V) sigmoids instead of V. Each
inner node is a row of `syn1` (V, D); the label of node n is 1 - code_n.

Skip-gram predicts the centre word c from each context word x (word2vec.c and gensim do the
same: the path is c's, the input vector x's). As in the negative-sampling kernel, all C context
words of a centre are trained together from the old values (Ji et al. 2016): with X (C, D) the
context rows and P (L, D) the path rows,
    G = (labels - sigmoid(X P^T)) * alpha     # (C, L)
    X += G P;  P += G^T X
CBOW: h = mean (cbow_mean=1) or sum of the context rows; for each node g_n = (label_n -
sigmoid(h . v_n)) * alpha, v_n += g_n h, and every context row gets sum_n g_n v_n (undivided
for the mean; divided by C for the sum, as gensim). As in word2vec.c and gensim, an inner node
whose logit is beyond ±HS_MAX_LOGIT is skipped (no update; its loss still counts): after an
online vocabulary update rebuilds the tree, the old rows sit on new paths, and full-size steps on
those confidently wrong nodes would scramble the context vectors.

Randomness, from the explicit SplitMix64 state (seqlab.embeddings.word2vec_sampling), in this order:
per sentence the subsampling draws; then at each position the window reduction, then (negative >
0) its `negative` noise words. tests/embeddings/test_word2vec_kernels.py replays the stream in NumPy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqlab.embeddings.word2vec_kernels import (
    LOOKAHEAD,
    SIGMOID_TABLE_SIZE,
    _prefetch_row,
    _sig_index,
    scale_of_table,
)
from seqlab.embeddings.word2vec_sampling import _S32, _draw_negative, _splitmix, _subsample

HS_MAX_LOGIT = 6.0  # word2vec.c's MAX_EXP: an inner node with |logit| >= 6 gets no update


@njit(inline="always")
def _longest(starts, s_lo, s_hi, offsets):
    maxlen = 0
    for s in range(s_lo, s_hi):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    depth = 1
    for w in range(offsets.shape[0] - 1):
        if offsets[w + 1] - offsets[w] > depth:
            depth = offsets[w + 1] - offsets[w]
    return maxlen, depth


@njit(inline="always")
def _prefetch_ahead(syn0, syn1, buf, i, n, window, points, offsets):
    """Start loading the rows position i + LOOKAHEAD will need: its word's path in syn1 and the
    input row that enters the window there (the deep nodes of a path are random rows)."""
    ahead = i + LOOKAHEAD
    if ahead < n:
        w = buf[ahead]
        for k in range(offsets[w], offsets[w + 1]):
            _prefetch_row(syn1, points[k])
        if ahead + window < n:
            _prefetch_row(syn0, buf[ahead + window])


@njit(inline="always")
def _node_step(f, code, alpha, sig_table, logsig_table, scale):
    """(gradient step, loss term) of one inner node with logit f: label 1 - code; a saturated
    node (|f| >= HS_MAX_LOGIT) is not trained (word2vec.c, gensim), its loss still counts."""
    idx = _sig_index(f, scale)
    if code == 0:  # label 1
        g = (np.float32(1.0) - sig_table[idx]) * alpha
        loss = logsig_table[idx]
    else:
        g = -sig_table[idx] * alpha
        loss = logsig_table[SIGMOID_TABLE_SIZE - 1 - idx]
    if f <= -HS_MAX_LOGIT or f >= HS_MAX_LOGIT:
        g = np.float32(0.0)
    return g, -loss


@njit(inline="always")
def _alpha_at(alpha0, min_alpha, pos, total):
    frac = pos / total
    if frac > 1.0:
        frac = 1.0
    return np.float32(alpha0 - (alpha0 - min_alpha) * frac)


@njit(inline="always")
def _draw_targets(centre, tgt, negative, neg_threshold, neg_alias, state):
    """tgt[0] = centre, then the noise words that differ from it; returns (count, state)."""
    tgt[0] = centre
    nt = 1
    n = neg_threshold.shape[0]
    for _ in range(negative):
        state, r = _splitmix(state)
        w = _draw_negative(r, neg_threshold, neg_alias, n)
        if w != centre:
            tgt[nt] = w
            nt += 1
    return nt, state


@njit(nogil=True, cache=True, fastmath=True)
def train_sg_hs_job(
    syn0,
    syn1,
    syn1neg,
    ids,
    starts,
    s_lo,
    s_hi,
    keep,
    codes,
    points,
    offsets,
    neg_threshold,
    neg_alias,
    sig_table,
    logsig_table,
    window,
    negative,
    alpha0,
    min_alpha,
    pos0,
    total,
    state,
    stats,
    dim=0,
    shrink=1,
    lockf=None,
):
    """Skip-gram with hierarchical softmax (and negative sampling when negative > 0) over
    sentences s_lo..s_hi-1; updates syn0, syn1 (and syn1neg) in place.

    codes/points/offsets: the Huffman paths (word2vec_vocab.huffman_tree). syn1neg and the noise
    table are read only when negative > 0 (pass any (1, D) array and a 1-entry table otherwise).
    The other arguments are train_sg_job's (seqlab.embeddings.word2vec_kernels). Returns the new
    RNG state; stats gets [words, loss sum, loss terms] (one term per sigmoid).
    """
    D = dim if dim > 0 else syn0.shape[1]
    maxlen, depth = _longest(starts, s_lo, s_hi, offsets)
    buf = np.empty(maxlen, dtype=np.int32)
    ctx = np.empty(2 * window, dtype=np.int64)
    tgt = np.empty(negative + 1, dtype=np.int64)
    Gh = np.empty((2 * window, depth), dtype=np.float32)
    act = np.empty(max(2 * window, depth), dtype=np.int64)  # the unsaturated entries of a row or column of Gh
    Gn = np.empty((2 * window, negative + 1), dtype=np.float32)
    neu = np.empty((2 * window, D), dtype=np.float32)
    scale = scale_of_table()
    done = 0
    for s in range(s_lo, s_hi):
        lo = starts[s]
        hi = starts[s + 1]
        alpha = _alpha_at(alpha0, min_alpha, pos0 + done, total)
        n, state = _subsample(ids, lo, hi, keep, buf, state)
        loss = 0.0
        nterms = 0
        for i in range(n):
            _prefetch_ahead(syn0, syn1, buf, i, n, window, points, offsets)
            state, r = _splitmix(state)
            b = np.int64(((r >> _S32) * np.uint64(window)) >> _S32) * shrink
            centre = buf[i]
            nt = 0
            if negative > 0:
                nt, state = _draw_targets(centre, tgt, negative, neg_threshold, neg_alias, state)
            a0 = max(i - window + b, 0)
            a1 = min(i + window - b, n - 1)
            C = 0
            for j in range(a0, a1 + 1):
                if j != i:
                    ctx[C] = buf[j]
                    C += 1
            if C == 0:
                continue
            o0 = offsets[centre]
            L = offsets[centre + 1] - o0
            # G = (label - sigmoid(x . v)) * alpha for the path nodes, two contexts at a time
            # (one pass over the node's row serves both)
            for k in range(L):
                p = points[o0 + k]
                code = codes[o0 + k]
                c = 0
                while c + 1 < C:
                    x0 = ctx[c]
                    x1 = ctx[c + 1]
                    f0 = np.float32(0.0)
                    f1 = np.float32(0.0)
                    for d in range(D):
                        v = syn1[p, d]
                        f0 += syn0[x0, d] * v
                        f1 += syn0[x1, d] * v
                    Gh[c, k], l0 = _node_step(f0, code, alpha, sig_table, logsig_table, scale)
                    Gh[c + 1, k], l1 = _node_step(f1, code, alpha, sig_table, logsig_table, scale)
                    loss += l0 + l1
                    c += 2
                if c < C:
                    x0 = ctx[c]
                    f0 = np.float32(0.0)
                    for d in range(D):
                        f0 += syn0[x0, d] * syn1[p, d]
                    Gh[c, k], l0 = _node_step(f0, code, alpha, sig_table, logsig_table, scale)
                    loss += l0
            # and for the NS targets
            for c in range(C):
                x = ctx[c]
                for k in range(nt):
                    t = tgt[k]
                    f = np.float32(0.0)
                    for d in range(D):
                        f += syn0[x, d] * syn1neg[t, d]
                    idx = _sig_index(f, scale)
                    if k == 0:
                        Gn[c, k] = (np.float32(1.0) - sig_table[idx]) * alpha
                        loss -= logsig_table[idx]
                    else:
                        Gn[c, k] = -sig_table[idx] * alpha
                        loss -= logsig_table[SIGMOID_TABLE_SIZE - 1 - idx]
                nterms += L + nt
            # neu = G P (+ G_ns T), from the old output rows, two nodes at a time, leaving out
            # the saturated ones (G = 0: often the nodes near the root)
            for c in range(C):
                for d in range(D):
                    neu[c, d] = 0.0
                m = 0
                for k in range(L):
                    if Gh[c, k] != 0.0:
                        act[m] = k
                        m += 1
                j = 0
                while j + 1 < m:
                    g0 = Gh[c, act[j]]
                    g1 = Gh[c, act[j + 1]]
                    p0 = points[o0 + act[j]]
                    p1 = points[o0 + act[j + 1]]
                    for d in range(D):
                        neu[c, d] += g0 * syn1[p0, d] + g1 * syn1[p1, d]
                    j += 2
                if j < m:
                    g0 = Gh[c, act[j]]
                    p0 = points[o0 + act[j]]
                    for d in range(D):
                        neu[c, d] += g0 * syn1[p0, d]
                for k in range(nt):
                    g = Gn[c, k]
                    t = tgt[k]
                    for d in range(D):
                        neu[c, d] += g * syn1neg[t, d]
            # P += G^T X (and T += G_ns^T X), from the old input rows, two contexts at a time
            for k in range(L):
                p = points[o0 + k]
                m = 0
                for c in range(C):
                    if Gh[c, k] != 0.0:
                        act[m] = c
                        m += 1
                j = 0
                while j + 1 < m:
                    g0 = Gh[act[j], k]
                    g1 = Gh[act[j + 1], k]
                    x0 = ctx[act[j]]
                    x1 = ctx[act[j + 1]]
                    for d in range(D):
                        syn1[p, d] += g0 * syn0[x0, d] + g1 * syn0[x1, d]
                    j += 2
                if j < m:
                    g0 = Gh[act[j], k]
                    x0 = ctx[act[j]]
                    for d in range(D):
                        syn1[p, d] += g0 * syn0[x0, d]
            for k in range(nt):
                t = tgt[k]
                for c in range(C):
                    g = Gn[c, k]
                    x = ctx[c]
                    for d in range(D):
                        syn1neg[t, d] += g * syn0[x, d]
            for c in range(C):
                x = ctx[c]
                lk = np.float32(1.0)
                if lockf is not None:
                    lk = lockf[x]
                for d in range(D):
                    syn0[x, d] += lk * neu[c, d]
        done += hi - lo
        stats[0] += hi - lo
        stats[1] += loss
        stats[2] += nterms
    return state


@njit(nogil=True, cache=True, fastmath=True)
def train_cbow_hs_job(
    syn0,
    syn1,
    syn1neg,
    ids,
    starts,
    s_lo,
    s_hi,
    keep,
    codes,
    points,
    offsets,
    neg_threshold,
    neg_alias,
    sig_table,
    logsig_table,
    window,
    negative,
    alpha0,
    min_alpha,
    pos0,
    total,
    state,
    stats,
    dim=0,
    shrink=1,
    lockf=None,
    cbow_sum=None,
):
    """CBOW with hierarchical softmax (and negative sampling when negative > 0); arguments as in
    train_sg_hs_job, cbow_sum as in train_cbow_job."""
    D = dim if dim > 0 else syn0.shape[1]
    maxlen, depth = _longest(starts, s_lo, s_hi, offsets)
    buf = np.empty(maxlen, dtype=np.int32)
    tgt = np.empty(negative + 1, dtype=np.int64)
    h = np.empty(D, dtype=np.float32)
    neu = np.empty(D, dtype=np.float32)
    scale = scale_of_table()
    done = 0
    for s in range(s_lo, s_hi):
        lo = starts[s]
        hi = starts[s + 1]
        alpha = _alpha_at(alpha0, min_alpha, pos0 + done, total)
        n, state = _subsample(ids, lo, hi, keep, buf, state)
        loss = 0.0
        nterms = 0
        for i in range(n):
            _prefetch_ahead(syn0, syn1, buf, i, n, window, points, offsets)
            state, r = _splitmix(state)
            b = np.int64(((r >> _S32) * np.uint64(window)) >> _S32) * shrink
            centre = buf[i]
            nt = 0
            if negative > 0:
                nt, state = _draw_targets(centre, tgt, negative, neg_threshold, neg_alias, state)
            a0 = max(i - window + b, 0)
            a1 = min(i + window - b, n - 1)
            C = a1 - a0  # context words (the centre is excluded)
            if C == 0:
                continue
            for d in range(D):
                h[d] = 0.0
                neu[d] = 0.0
            for j in range(a0, a1 + 1):
                if j != i:
                    x = buf[j]
                    for d in range(D):
                        h[d] += syn0[x, d]
            inv = np.float32(1.0) / np.float32(C)
            if cbow_sum is None:  # the mean (pruned at compile time: the sum is its own variant)
                for d in range(D):
                    h[d] *= inv
            o0 = offsets[centre]
            L = offsets[centre + 1] - o0
            # the nodes of a path are distinct rows and h does not change, so two nodes at a time
            # give what one after the other gives, in one pass over h for both
            k = 0
            while k + 1 < L:
                p0 = points[o0 + k]
                p1 = points[o0 + k + 1]
                f0 = np.float32(0.0)
                f1 = np.float32(0.0)
                for d in range(D):
                    f0 += h[d] * syn1[p0, d]
                    f1 += h[d] * syn1[p1, d]
                g0, l0 = _node_step(f0, codes[o0 + k], alpha, sig_table, logsig_table, scale)
                g1, l1 = _node_step(f1, codes[o0 + k + 1], alpha, sig_table, logsig_table, scale)
                loss += l0 + l1
                for d in range(D):
                    v0 = syn1[p0, d]
                    v1 = syn1[p1, d]
                    neu[d] += g0 * v0 + g1 * v1
                    syn1[p0, d] = v0 + g0 * h[d]
                    syn1[p1, d] = v1 + g1 * h[d]
                k += 2
            if k < L:
                p0 = points[o0 + k]
                f0 = np.float32(0.0)
                for d in range(D):
                    f0 += h[d] * syn1[p0, d]
                g0, l0 = _node_step(f0, codes[o0 + k], alpha, sig_table, logsig_table, scale)
                loss += l0
                for d in range(D):
                    v0 = syn1[p0, d]
                    neu[d] += g0 * v0
                    syn1[p0, d] = v0 + g0 * h[d]
            for k in range(nt):
                t = tgt[k]
                f = np.float32(0.0)
                for d in range(D):
                    f += h[d] * syn1neg[t, d]
                idx = _sig_index(f, scale)
                if k == 0:
                    g = (np.float32(1.0) - sig_table[idx]) * alpha
                    loss -= logsig_table[idx]
                else:
                    g = -sig_table[idx] * alpha
                    loss -= logsig_table[SIGMOID_TABLE_SIZE - 1 - idx]
                for d in range(D):
                    o = syn1neg[t, d]
                    neu[d] += g * o
                    syn1neg[t, d] = o + g * h[d]
            nterms += L + nt
            if cbow_sum is not None:  # the sum's error is shared by the C contexts (gensim)
                for d in range(D):
                    neu[d] *= inv
            for j in range(a0, a1 + 1):
                if j != i:
                    x = buf[j]
                    lk = np.float32(1.0)
                    if lockf is not None:
                        lk = lockf[x]
                    for d in range(D):
                        syn0[x, d] += lk * neu[d]
        done += hi - lo
        stats[0] += hi - lo
        stats[1] += loss
        stats[2] += nterms
    return state


@njit(nogil=True, cache=True)
def score_sentence(syn0, syn1, ids, codes, points, offsets, window, sg, cbow_mean):
    """log P(sentence) under a trained hierarchical softmax (gensim's score_sentence_sg/_cbow, for
    Taddy 2015's document classification by inversion): skip-gram sums log P(w_i | w_j) over
    every pair within the full window; CBOW sums log P(w_i | context of i). Exact sigmoids, no
    subsampling, no randomness."""
    D = syn0.shape[1]
    n = ids.shape[0]
    total = 0.0
    h = np.empty(D, dtype=np.float64)
    for i in range(n):
        w = ids[i]
        o0 = offsets[w]
        L = offsets[w + 1] - o0
        a0 = max(i - window, 0)
        a1 = min(i + window, n - 1)
        if sg:
            for j in range(a0, a1 + 1):
                if j != i:
                    total += _path_log_prob(syn0[ids[j]], syn1, codes, points, o0, L)
        elif a1 > a0:
            h[:] = 0.0
            for j in range(a0, a1 + 1):
                if j != i:
                    h += syn0[ids[j]]
            if cbow_mean:
                h /= a1 - a0
            total += _path_log_prob(h, syn1, codes, points, o0, L)
    return total


@njit(inline="always")
def _path_log_prob(h, syn1, codes, points, o0, L):
    s = 0.0
    for k in range(L):
        f = 0.0
        row = syn1[points[o0 + k]]
        for d in range(h.shape[0]):
            f += h[d] * row[d]
        if codes[o0 + k]:
            f = -f
        s -= np.log1p(np.exp(-f)) if f > -30.0 else -f  # log sigmoid(f), stable
    return s
