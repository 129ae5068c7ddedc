"""Compiled inner loop of Doc2Vec (numba, GIL released): one job of documents, any of the three
Paragraph Vector models of Le and Mikolov (2014), "Distributed Representations of Sentences and
Documents", with negative sampling and/or hierarchical softmax as the output layer:

    PV-DBOW (mode DBOW)     each document vector d predicts each word w of its document:
                                h = d,                        maximise log p(w | h)
                            (dbow_words=1 also trains word vectors by skip-gram, as gensim)
    PV-DM   (mode DM)       the mean (cbow_mean=1) or sum of the document vectors and the words
                            around position i predicts the word at i:
                                h = mean(d_1..d_T, x_{i-c}..x_{i+c} without x_i)
    PV-DM/C (mode DMC)      the concatenation of the document vectors and the `window` words on
                            each side (padded with the null word) predicts the word at i:
                                h = [d_1; ..; d_T; x_{i-c}; ..; x_{i-1}; x_{i+1}; ..; x_{i+c}]

The output layer, the subsampling, the reduced windows and the random numbers are word2vec's
own (seqlab.embeddings.word2vec_kernels, word2vec_hs_kernels, word2vec_sampling): a Doc2Vec is
word2vec with document vectors added to the input layer. The driver is word2vec's
(seqlab.embeddings.word2vec_train.train_weights, with this kernel): threads, replicas, merges.

`learn` switches what changes (bit 1 document vectors, 2 word vectors, 4 output layer), so
`infer_vector` runs the same loop with everything but its new document vectors frozen.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqlab.embeddings.word2vec_hs_kernels import _alpha_at, _node_step
from seqlab.embeddings.word2vec_kernels import (
    LOOKAHEAD,
    SIGMOID_TABLE_SIZE,
    _prefetch_row,
    _sig_index,
    scale_of_table,
)
from seqlab.embeddings.word2vec_sampling import _S32, _draw_negative, _splitmix, _subsample

DBOW, DM, DMC = 0, 1, 2  # the three models
LEARN_DOCS, LEARN_WORDS, LEARN_HIDDEN = 1, 2, 4  # bits of `learn`


@njit(inline="always")
def _ns_step(h, neu, L, word, negs, syn1neg, alpha, learn_hidden, sig, logsig, scale):
    """Negative sampling for one prediction of `word` from h[:L] with the noise words `negs`
    (one equal to the word is skipped): labels 1 for the word, 0 for the noise.
        g = (label - sigmoid(h . o)) * alpha;   neu += g o;   o += g h      (o: an output row)
    Returns (loss, terms)."""
    loss = 0.0
    terms = 0
    for k in range(negs.shape[0] + 1):
        t = np.int64(word)
        if k > 0:
            t = negs[k - 1]
            if t == word:
                continue
        f = np.float32(0.0)
        for d in range(L):
            f += h[d] * syn1neg[t, d]
        idx = _sig_index(f, scale)
        if k == 0:
            g = (np.float32(1.0) - sig[idx]) * alpha
            loss -= logsig[idx]
        else:
            g = -sig[idx] * alpha
            loss -= logsig[SIGMOID_TABLE_SIZE - 1 - idx]
        terms += 1
        for d in range(L):
            o = syn1neg[t, d]
            neu[d] += g * o
            if learn_hidden:
                syn1neg[t, d] = o + g * h[d]
    return loss, terms


@njit(inline="always")
def _predict(h, neu, L, word, syn1neg, syn1, negs, hs, neg_threshold, neg_alias, codes, points, offsets,
             alpha, learn_hidden, state, sig, logsig, scale):  # fmt: skip
    """One prediction of `word` from the hidden layer h[:L]: hierarchical softmax over the word's
    Huffman path (hs), then negative sampling with len(negs) fresh noise words (drawn into negs).
    Adds the error for h into neu[:L]; the output rows learn unless learn_hidden is 0.
    Returns (state, loss, terms)."""
    loss = 0.0
    terms = 0
    if hs:
        for k in range(offsets[word], offsets[word + 1]):
            node = points[k]
            f = np.float32(0.0)
            for d in range(L):
                f += h[d] * syn1[node, d]
            g, lo = _node_step(f, codes[k], alpha, sig, logsig, scale)
            loss += lo
            terms += 1
            for d in range(L):
                o = syn1[node, d]
                neu[d] += g * o
                if learn_hidden:
                    syn1[node, d] = o + g * h[d]
    if negs.shape[0] > 0:  # negative sampling on (negative > 0)
        nv = neg_threshold.shape[0]
        for k in range(negs.shape[0]):
            state, r = _splitmix(state)
            negs[k] = _draw_negative(r, neg_threshold, neg_alias, nv)
        lo, te = _ns_step(h, neu, L, word, negs, syn1neg, alpha, learn_hidden, sig, logsig, scale)
        loss += lo
        terms += te
    return state, loss, terms


@njit(inline="always")
def _train_row(mat, row, lk, learn, neu, D, word, syn1neg, syn1, negs, hs, neg_threshold, neg_alias, codes,
               points, offsets, alpha, learn_hidden, state, sig, logsig, scale):  # fmt: skip
    """mat[row] (a word or document vector) predicts `word`, then learns the error (if `learn`,
    scaled by its lock factor lk). Returns (state, loss, terms)."""
    for d in range(D):
        neu[d] = 0.0
    state, loss, terms = _predict(mat[row], neu, D, word, syn1neg, syn1, negs, hs, neg_threshold,
                                  neg_alias, codes, points, offsets, alpha, learn_hidden, state, sig,
                                  logsig, scale)  # fmt: skip
    if learn:
        for d in range(D):
            mat[row, d] += lk * neu[d]
    return state, loss, terms


@njit(inline="always")
def _draw_ahead(ring, slot, negative, state, neg_threshold, neg_alias, syn1neg, prefetch):
    """One position's `negative` noise words into ring[slot], their rows prefetched if asked."""
    nv = neg_threshold.shape[0]
    for k in range(negative):
        state, r = _splitmix(state)
        w = _draw_negative(r, neg_threshold, neg_alias, nv)
        ring[slot, k] = w
        if prefetch:
            _prefetch_row(syn1neg, w)
    return state


@njit(inline="always")
def _reduced(state, window, shrink):
    """word2vec's reduced window: b uniform in 0..window-1 (0 when shrink is 0); the draw is made
    either way, so the random stream does not depend on shrink."""
    state, r = _splitmix(state)
    return state, np.int64(((r >> _S32) * np.uint64(window)) >> _S32) * shrink


@njit(nogil=True, cache=True, fastmath=True)
def train_document_job(
    syn0, syn1neg, syn1, dv, ids, starts, tag_ids, tag_starts, d_lo, d_hi, keep,
    neg_threshold, neg_alias, codes, points, offsets, sig, logsig,
    mode, cbow_mean, dbow_words, window, negative, hs, null_index, tag_count,
    alpha0, min_alpha, pos0, total, state, stats, dim, shrink, learn, word_lockf, doc_lockf, doc_seeds,
):  # fmt: skip
    """Train documents d_lo..d_hi-1 (words ids[starts[d]:starts[d+1]], tags
    tag_ids[tag_starts[d]:tag_starts[d+1]], rows of dv) in place; returns the new RNG state.

    syn0 (V, Dp) word vectors, dv (T, Dp) document vectors, syn1neg / syn1 (V, Lp) output rows
    (L = D, or (tag_count + 2 window) D for DMC; a (1, 1) dummy when that layer is off). mode:
    DBOW, DM or DMC; cbow_mean: DM's mean (1) or sum (0); dbow_words: DBOW also trains skip-gram.
    null_index: the null word that pads DMC's windows; tag_count: DMC's tags per document (others
    are skipped, as gensim). The learning rate falls linearly with the word position pos0 + (words
    done here) out of `total`. stats: (3,) [words, loss sum, loss terms]. word_lockf (V,) and
    doc_lockf (T,): factors on each row's updates (gensim's vectors_lockf; 0 freezes a row).
    doc_seeds: empty, or (d_hi,) RNG states, one per document, that replace the running state at
    each document's start (inference: a document's result then depends on nothing else)."""
    D = dim
    L = D if mode != DMC else (tag_count + 2 * window) * D
    maxlen = 0
    for s in range(d_lo, d_hi):
        if starts[s + 1] - starts[s] > maxlen:
            maxlen = starts[s + 1] - starts[s]
    buf = np.empty(maxlen + 2 * window, dtype=np.int32)  # the kept words (DMC: padded both sides)
    negs = np.empty(negative, dtype=np.int64)  # one prediction's noise words
    R = LOOKAHEAD + 1
    ring = np.empty((R, negative), dtype=np.int64)  # PV-DBOW's noise, drawn LOOKAHEAD words ahead
    h = np.empty(L, dtype=np.float32)  # the hidden layer
    neu = np.empty(L, dtype=np.float32)  # its error
    scale = scale_of_table()
    learn_docs = (learn & LEARN_DOCS) != 0
    learn_words = (learn & LEARN_WORDS) != 0
    learn_hidden = (learn & LEARN_HIDDEN) != 0
    done = 0
    for s in range(d_lo, d_hi):
        lo = starts[s]
        hi = starts[s + 1]
        t_lo = tag_starts[s]
        t_hi = tag_starts[s + 1]
        alpha = _alpha_at(alpha0, min_alpha, pos0 + done, total)
        if doc_seeds.shape[0] > 0:
            state = doc_seeds[s]
        loss = 0.0
        terms = 0
        pad = window if mode == DMC else 0
        n, state = _subsample(ids, lo, hi, keep, buf[pad:], state)
        if mode == DBOW and not dbow_words and not hs and negative > 0 and t_hi - t_lo == 1:
            # the common case on its fast path: one document vector h predicts every word, the
            # noise drawn LOOKAHEAD words ahead (the same stream) and its rows prefetched
            t = tag_ids[t_lo]
            for q in range(min(LOOKAHEAD, n)):
                state = _draw_ahead(ring, q, negative, state, neg_threshold, neg_alias, syn1neg, False)
            lk = doc_lockf[t]
            for i in range(n):
                ahead = i + LOOKAHEAD
                if ahead < n:
                    state = _draw_ahead(
                        ring, ahead % R, negative, state, neg_threshold, neg_alias, syn1neg, True
                    )
                    _prefetch_row(syn1neg, buf[ahead])
                for d in range(D):
                    neu[d] = 0.0
                lo_, te = _ns_step(dv[t], neu, D, buf[i], ring[i % R], syn1neg, alpha, learn_hidden, sig,
                                   logsig, scale)  # fmt: skip
                loss += lo_
                terms += te
                if learn_docs:
                    for d in range(D):
                        dv[t, d] += lk * neu[d]
        elif mode == DBOW:
            for i in range(n):
                word = buf[i]
                if dbow_words:  # skip-gram: each word of the window predicts the centre
                    state, b = _reduced(state, window, shrink)
                    for j in range(max(0, i - window + b), min(n, i + window + 1 - b)):
                        if j == i:
                            continue
                        x = buf[j]
                        state, lo_, te = _train_row(syn0, x, word_lockf[x], learn_words, neu, D, word,
                                                    syn1neg, syn1, negs, hs, neg_threshold, neg_alias,
                                                    codes, points, offsets, alpha, learn_hidden, state,
                                                    sig, logsig, scale)  # fmt: skip
                        loss += lo_
                        terms += te
                for q in range(t_lo, t_hi):  # each document vector predicts the word
                    t = tag_ids[q]
                    state, lo_, te = _train_row(dv, t, doc_lockf[t], learn_docs, neu, D, word, syn1neg, syn1,
                                                negs, hs, neg_threshold, neg_alias, codes, points, offsets,
                                                alpha, learn_hidden, state, sig, logsig, scale)  # fmt: skip
                    loss += lo_
                    terms += te
        elif mode == DM:
            ahead_ns = not hs and negative > 0  # negative sampling only: noise drawn ahead, prefetched
            if ahead_ns:
                for q in range(min(LOOKAHEAD, n)):
                    state = _draw_ahead(ring, q, negative, state, neg_threshold, neg_alias, syn1neg, False)
            for i in range(n):
                ahead = i + LOOKAHEAD
                if ahead_ns and ahead < n:
                    state = _draw_ahead(
                        ring, ahead % R, negative, state, neg_threshold, neg_alias, syn1neg, True
                    )
                    _prefetch_row(syn1neg, buf[ahead])
                    if ahead + window < n:
                        _prefetch_row(syn0, buf[ahead + window])
                state, b = _reduced(state, window, shrink)
                a0 = max(0, i - window + b)
                a1 = min(n, i + window + 1 - b)
                for d in range(D):
                    h[d] = 0.0
                    neu[d] = 0.0
                count = 0
                for j in range(a0, a1):
                    if j != i:
                        x = buf[j]
                        for d in range(D):
                            h[d] += syn0[x, d]
                        count += 1
                for q in range(t_lo, t_hi):
                    t = tag_ids[q]
                    for d in range(D):
                        h[d] += dv[t, d]
                    count += 1
                if count == 0:
                    continue
                inv = np.float32(1.0) / np.float32(count)
                if cbow_mean:
                    for d in range(D):
                        h[d] *= inv
                if ahead_ns:
                    lo_, te = _ns_step(h, neu, D, buf[i], ring[i % R], syn1neg, alpha, learn_hidden, sig,
                                       logsig, scale)  # fmt: skip
                else:
                    state, lo_, te = _predict(h, neu, D, buf[i], syn1neg, syn1, negs, hs, neg_threshold,
                                              neg_alias, codes, points, offsets, alpha, learn_hidden, state,
                                              sig, logsig, scale)  # fmt: skip
                loss += lo_
                terms += te
                if not cbow_mean:  # the sum's error is shared by its parts (gensim)
                    for d in range(D):
                        neu[d] *= inv
                if learn_docs:
                    for q in range(t_lo, t_hi):
                        t = tag_ids[q]
                        lk = doc_lockf[t]
                        for d in range(D):
                            dv[t, d] += lk * neu[d]
                if learn_words:
                    for j in range(a0, a1):
                        if j != i:
                            x = buf[j]
                            lk = word_lockf[x]
                            for d in range(D):
                                syn0[x, d] += lk * neu[d]
        elif t_hi - t_lo == tag_count:  # DMC: documents with another number of tags are skipped
            for j in range(window):
                buf[j] = null_index
                buf[pad + n + j] = null_index
            for i in range(n):
                # h = [tags; the window words before i; the window words after i]
                slot = 0
                for q in range(t_lo, t_hi):
                    t = tag_ids[q]
                    for d in range(D):
                        h[slot * D + d] = dv[t, d]
                    slot += 1
                for j in range(i, i + 2 * window + 1):
                    if j == i + window:
                        continue
                    x = buf[j]
                    for d in range(D):
                        h[slot * D + d] = syn0[x, d]
                    slot += 1
                for d in range(L):
                    neu[d] = 0.0
                state, lo_, te = _predict(h, neu, L, buf[i + window], syn1neg, syn1, negs, hs,
                                          neg_threshold, neg_alias, codes, points, offsets, alpha,
                                          learn_hidden, state, sig, logsig, scale)  # fmt: skip
                loss += lo_
                terms += te
                slot = 0
                for q in range(t_lo, t_hi):
                    t = tag_ids[q]
                    if learn_docs:
                        lk = doc_lockf[t]
                        for d in range(D):
                            dv[t, d] += lk * neu[slot * D + d]
                    slot += 1
                for j in range(i, i + 2 * window + 1):
                    if j == i + window:
                        continue
                    if learn_words:
                        x = buf[j]
                        lk = word_lockf[x]
                        for d in range(D):
                            syn0[x, d] += lk * neu[slot * D + d]
                    slot += 1
        done += hi - lo
        stats[0] += hi - lo
        stats[1] += loss
        stats[2] += terms
    return state
