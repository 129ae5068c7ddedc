"""Compiled inner loops for word2vec (numba, GIL released): no I/O, no Python objects. Driven by
seqlab.embeddings.word2vec_train, which hands each call one job of the encoded corpus.

Everything random (negatives, subsampling, the reduced window) comes from the explicit integer RNG
state and samplers of seqlab.embeddings.word2vec_sampling, so a run with one worker and a seed
repeats bit for bit.

Speed-ups, after word2vec.c (Mikolov et al. 2013) and Ji et al. 2016, "Parallelizing Word2Vec in
Shared and Distributed Memory":
- negatives come from an alias table (word2vec_sampling): one random draw per sample, O(1);
- skip-gram shares one set of negatives across the whole context window of a centre word, so the
  update is three small matrix products (C, D) x (D, T) instead of C·T separate dot/axpy pairs;
- noise words are drawn LOOKAHEAD positions ahead and their rows prefetched (llvm.prefetch), so
  the random rows of the output matrix arrive while the current word is trained;
- sigmoid and log-sigmoid come from a table (float32 everywhere), and the running loss is read from
  the same table so it costs one extra load per logit.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from seqlab.embeddings.word2vec_sampling import _S32, _draw_negative, _splitmix, _subsample

SIGMOID_BOUND = 8.0  # logits beyond ±8 are clamped (word2vec.c uses ±6)
SIGMOID_TABLE_SIZE = 8192


def sigmoid_tables(size: int = SIGMOID_TABLE_SIZE, bound: float = SIGMOID_BOUND):
    """(sigmoid, log_sigmoid) sampled at the centres of `size` equal bins on [-bound, bound]."""
    x = (np.arange(size, dtype=np.float64) + 0.5) / size * (2 * bound) - bound
    sig = 1.0 / (1.0 + np.exp(-x))
    logsig = -np.logaddexp(0.0, -x)
    return sig.astype(np.float32), logsig.astype(np.float32)  # (size,), (size,)


LOOKAHEAD = 2  # words ahead whose rows are prefetched (negatives are drawn that far ahead)


@intrinsic
def _prefetch(typingctx, arr, row, col):
    """Ask the CPU to start loading arr[row, col] into cache (llvm.prefetch; no fault, no effect).

    The noise words of a centre a few positions ahead are known in advance, so their rows can be
    on their way from memory while the current word is being trained: random rows of a 20 MB
    matrix are the main cost once the arithmetic is vectorised.
    """
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        c = context.cast(builder, args[2], signature.args[2], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, c])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(
            fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        )
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always")
def _prefetch_row(arr, row):
    for c in range(0, arr.shape[1], 16):  # one 64-byte line per 16 float32
        _prefetch(arr, row, c)


@njit(inline="always")
def scale_of_table():
    """Bins of the sigmoid table per unit of logit."""
    return SIGMOID_TABLE_SIZE / (2.0 * SIGMOID_BOUND)


@njit(inline="always")
def _sig_index(f, scale):
    # bins of the sigmoid table; logits outside ±SIGMOID_BOUND clamp to the end bins
    i = np.int64((f + SIGMOID_BOUND) * scale)
    if i < 0:
        i = 0
    elif i >= SIGMOID_TABLE_SIZE:
        i = SIGMOID_TABLE_SIZE - 1
    return i


@njit(nogil=True, cache=True, fastmath=True)
def train_sg_job(
    syn0,
    syn1,
    ids,
    starts,
    s_lo,
    s_hi,
    keep,
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
    """Skip-gram with negative sampling over sentences s_lo..s_hi-1; updates syn0/syn1 in place.

    syn0, syn1: (V, D) float32 input and output vectors. ids: (N,) int32 corpus, sentence s is
    ids[starts[s]:starts[s+1]]. keep: (V,) uint32 subsampling thresholds. neg_threshold/neg_alias:
    the noise alias table. The learning rate decays linearly with the global word position
    pos0 + (words done here) out of `total`, from alpha0 to min_alpha. state: uint64 RNG state.
    stats: (3,) float64 accumulators [words, loss sum, loss terms], updated after each sentence so
    another thread can read progress. dim: the vector size D when the rows are padded (syn0 and
    syn1 (V, Dp) with Dp >= D, e.g. to whole cache lines); 0 means D = Dp. shrink: 1 draws each
    position's window from 1..window, 0 uses the full window (the draw is made either way, so the
    RNG stream is the same). lockf: None, or (V,) float32 factors on each word's input-vector
    update (gensim's vectors_lockf: 0 freezes a word); None compiles a variant without it.
    Returns the new RNG state.

    For each centre word c with context words x_1..x_C (dynamic window) and targets
    t_0 = c (label 1), t_1..t_K negatives (label 0, shared by all x_j):
        G = (labels - sigmoid(X T^T)) * alpha      # (C, K+1)
        X += G T;  T += G^T X                       # both from the old values
    """
    D = dim if dim > 0 else syn0.shape[1]
    T = negative + 1
    maxlen = 0
    for s in range(s_lo, s_hi):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    buf = np.empty(maxlen, dtype=np.int32)
    R = LOOKAHEAD + 1
    negs = np.empty((R, negative), dtype=np.int64)  # ring of noise draws, slot = position % R
    ctx = np.empty(2 * window, dtype=np.int64)
    tgt = np.empty(T, dtype=np.int64)
    G = np.empty((2 * window, T), dtype=np.float32)
    neu = np.empty((2 * window, D), dtype=np.float32)
    scale = SIGMOID_TABLE_SIZE / (2.0 * SIGMOID_BOUND)
    done = 0
    nvocab = syn1.shape[0]
    for s in range(s_lo, s_hi):
        lo = starts[s]
        hi = starts[s + 1]
        frac = (pos0 + done) / total
        if frac > 1.0:
            frac = 1.0
        alpha = np.float32(alpha0 - (alpha0 - min_alpha) * frac)
        n, state = _subsample(ids, lo, hi, keep, buf, state)
        loss = 0.0
        nterms = 0
        for q in range(min(LOOKAHEAD, n)):
            for k in range(negative):
                state, r = _splitmix(state)
                negs[q, k] = _draw_negative(r, neg_threshold, neg_alias, nvocab)
        for i in range(n):
            ahead = i + LOOKAHEAD
            if ahead < n:
                slot = ahead % R
                for k in range(negative):
                    state, r = _splitmix(state)
                    w = _draw_negative(r, neg_threshold, neg_alias, nvocab)
                    negs[slot, k] = w
                    _prefetch_row(syn1, w)
                _prefetch_row(syn1, buf[ahead])
                if ahead + window < n:
                    _prefetch_row(syn0, buf[ahead + window])
            cur = i % R
            state, r = _splitmix(state)
            b = np.int64(((r >> _S32) * np.uint64(window)) >> _S32) * shrink  # reduced window: w - b
            a0 = i - window + b
            a1 = i + window - b
            if a0 < 0:
                a0 = 0
            if a1 > n - 1:
                a1 = n - 1
            C = 0
            for j in range(a0, a1 + 1):
                if j != i:
                    ctx[C] = buf[j]
                    C += 1
            if C == 0:
                continue
            centre = buf[i]
            tgt[0] = centre
            nt = 1
            for k in range(negative):
                w = negs[cur, k]
                if w != centre:
                    tgt[nt] = w
                    nt += 1
            # G = (label - sigmoid(x . t)) * alpha
            for c in range(C):
                x = ctx[c]
                for k in range(nt):
                    t = tgt[k]
                    f = np.float32(0.0)
                    for d in range(D):
                        f += syn0[x, d] * syn1[t, d]
                    idx = _sig_index(f, scale)
                    if k == 0:
                        G[c, k] = (np.float32(1.0) - sig_table[idx]) * alpha
                        loss -= logsig_table[idx]
                    else:
                        G[c, k] = -sig_table[idx] * alpha
                        loss -= logsig_table[SIGMOID_TABLE_SIZE - 1 - idx]
                    nterms += 1
            # neu = G T  (C, D), from the old output vectors
            for c in range(C):
                for d in range(D):
                    neu[c, d] = 0.0
                for k in range(nt):
                    g = G[c, k]
                    t = tgt[k]
                    for d in range(D):
                        neu[c, d] += g * syn1[t, d]
            # T += G^T X, from the old input vectors
            for k in range(nt):
                t = tgt[k]
                for c in range(C):
                    g = G[c, k]
                    x = ctx[c]
                    for d in range(D):
                        syn1[t, d] += g * syn0[x, d]
            for c in range(C):
                x = ctx[c]
                lk = np.float32(1.0)
                if lockf is not None:  # pruned at compile time when lockf is None
                    lk = lockf[x]
                for d in range(D):
                    syn0[x, d] += lk * neu[c, d]
        done += hi - lo
        stats[0] += hi - lo
        stats[1] += loss
        stats[2] += nterms
    return state


@njit(nogil=True, cache=True, fastmath=True)
def train_cbow_job(
    syn0,
    syn1,
    ids,
    starts,
    s_lo,
    s_hi,
    keep,
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
    share,
    dim=0,
    shrink=1,
    lockf=None,
    cbow_sum=None,
):
    """CBOW (mean of context vectors) with negative sampling; arguments as in train_sg_job.

    For centre c with context mean h and targets t_0 = c (label 1), t_1..t_K noise (label 0):
        g_k = (label_k - sigmoid(h . t_k)) * alpha;  t_k += g_k h;  x_j += sum_k g_k t_k
    (the error is not divided by C, as in word2vec.c and gensim's cbow_mean=1).
    Noise words are drawn LOOKAHEAD positions ahead and their rows prefetched. `share` > 1 reuses
    one draw for that many consecutive centre words (faster, but measurably worse vectors).
    cbow_sum: None, the mean of the context vectors; True (gensim's cbow_mean=0), their sum, with
    the error divided by C. A compiled variant each, so the mean's loop is the plain one.
    """
    D = dim if dim > 0 else syn0.shape[1]
    maxlen = 0
    for s in range(s_lo, s_hi):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    buf = np.empty(maxlen, dtype=np.int32)
    R = LOOKAHEAD + 1
    negs = np.empty((R, negative), dtype=np.int64)  # ring of noise draws, slot = position % R
    h = np.empty(D, dtype=np.float32)
    neu = np.empty(D, dtype=np.float32)
    scale = SIGMOID_TABLE_SIZE / (2.0 * SIGMOID_BOUND)
    done = 0
    nvocab = syn1.shape[0]
    for s in range(s_lo, s_hi):
        lo = starts[s]
        hi = starts[s + 1]
        frac = (pos0 + done) / total
        if frac > 1.0:
            frac = 1.0
        alpha = np.float32(alpha0 - (alpha0 - min_alpha) * frac)
        n, state = _subsample(ids, lo, hi, keep, buf, state)
        loss = 0.0
        nterms = 0
        for q in range(min(LOOKAHEAD, n)):
            if q % share == 0:
                for k in range(negative):
                    state, r = _splitmix(state)
                    negs[q % R, k] = _draw_negative(r, neg_threshold, neg_alias, nvocab)
            else:
                for k in range(negative):
                    negs[q % R, k] = negs[(q - 1) % R, k]
        for i in range(n):
            ahead = i + LOOKAHEAD
            if ahead < n:
                slot = ahead % R
                if ahead % share == 0:
                    for k in range(negative):
                        state, r = _splitmix(state)
                        w = _draw_negative(r, neg_threshold, neg_alias, nvocab)
                        negs[slot, k] = w
                        _prefetch_row(syn1, w)
                else:
                    for k in range(negative):
                        negs[slot, k] = negs[(ahead - 1) % R, k]
                _prefetch_row(syn1, buf[ahead])
                if ahead + window < n:
                    _prefetch_row(syn0, buf[ahead + window])
            cur = i % R
            state, r = _splitmix(state)
            b = np.int64(((r >> _S32) * np.uint64(window)) >> _S32) * shrink
            a0 = i - window + b
            a1 = i + window - b
            if a0 < 0:
                a0 = 0
            if a1 > n - 1:
                a1 = n - 1
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
            centre = buf[i]
            for k in range(negative + 1):
                if k == 0:
                    t = np.int64(centre)
                else:
                    t = negs[cur, k - 1]
                    if t == centre:
                        continue
                f = np.float32(0.0)
                for d in range(D):
                    f += h[d] * syn1[t, d]
                idx = _sig_index(f, scale)
                if k == 0:
                    g = (np.float32(1.0) - sig_table[idx]) * alpha
                    loss -= logsig_table[idx]
                else:
                    g = -sig_table[idx] * alpha
                    loss -= logsig_table[SIGMOID_TABLE_SIZE - 1 - idx]
                nterms += 1
                for d in range(D):  # one pass over the row: error to the context, then update
                    o = syn1[t, d]
                    neu[d] += g * o
                    syn1[t, d] = o + g * h[d]
            if cbow_sum is not None:  # the sum's error is shared by the C contexts (gensim)
                for d in range(D):
                    neu[d] *= inv
            for j in range(a0, a1 + 1):
                if j != i:
                    x = buf[j]
                    lk = np.float32(1.0)
                    if lockf is not None:  # pruned at compile time when lockf is None
                        lk = lockf[x]
                    for d in range(D):
                        syn0[x, d] += lk * neu[d]
        done += hi - lo
        stats[0] += hi - lo
        stats[1] += loss
        stats[2] += nterms
    return state


@njit(nogil=True, cache=True)
def merge_replicas(master, reps, lo, hi):
    """Fold the workers' replicas into `master` on rows [lo, hi) and hand the result back:
        master <- master + sum_w (rep_w - master);  rep_w <- master   for every w,
    i.e. every worker's change since the last merge is kept (as Hogwild would have applied it),
    in a fixed order (w = 0, 1, ...), so the sum does not depend on thread timing."""
    D = master.shape[1]
    W = len(reps)
    for r in range(lo, hi):
        for d in range(D):
            m = master[r, d]
            s = m
            for w in range(W):
                s += reps[w][r, d] - m
            master[r, d] = s
            for w in range(W):
                reps[w][r, d] = s


@njit(nogil=True, cache=True)
def merge_replicas_overlap(master, reps, lo, hi):
    """merge_replicas for rows every thread pulls toward the same point (the Huffman tree's top
    nodes, on every word's path): per row, with d_w = rep_w - master and S = sum_w d_w,
        master <- master + c S,   c = min(1, sum_w |d_w|^2 / |S|^2),
    so changes that agree are averaged (W equal d_w: c = 1/W) and changes that do not overlap
    (orthogonal, or one thread's only) are summed as merge_replicas does. Summing agreeing changes
    would move a row that every replica drove to the same optimum past it, round after round."""
    D = master.shape[1]
    W = len(reps)
    for r in range(lo, hi):
        own = 0.0
        tot = 0.0
        for d in range(D):
            m = master[r, d]
            s = 0.0
            for w in range(W):
                x = reps[w][r, d] - m
                own += x * x
                s += x
            tot += s * s
        c = np.float32(1.0)
        if tot > own:
            c = np.float32(own / tot)
        for d in range(D):
            m = master[r, d]
            s = np.float32(0.0)
            for w in range(W):
                s += reps[w][r, d] - m
            v = m + c * s
            master[r, d] = v
            for w in range(W):
                reps[w][r, d] = v
