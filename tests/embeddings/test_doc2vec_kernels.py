"""The Doc2Vec kernel against a NumPy replay of the same RNG stream, for each of the three models
(PV-DBOW with and without skip-gram words, PV-DM mean and sum, PV-DM/C) with negative sampling,
hierarchical softmax and both, and in inference mode (only the document vectors learn)."""

import numpy as np
import pytest
from test_word2vec_kernels import SplitMix64, tiny_corpus  # the kernels' RNG replayed in Python

from seqlab.embeddings import doc2vec_kernels as DK
from seqlab.embeddings import word2vec_hs_kernels as H
from seqlab.embeddings import word2vec_kernels as K
from seqlab.embeddings import word2vec_sampling as S
from seqlab.embeddings.word2vec_kernels import LOOKAHEAD
from seqlab.embeddings.word2vec_vocab import huffman_tree

SIZE, BOUND = K.SIGMOID_TABLE_SIZE, K.SIGMOID_BOUND


def replay(mode, w, corpus, tags, tables, opt, lr, state):
    """train_document_job in NumPy (float64) from the same RNG stream; returns (weights, loss, terms,
    state). w: dict of syn0, syn1neg, syn1, dv."""
    ids, starts = corpus
    tag_ids, tag_starts = tags
    keep, (codes, points, offsets), (thr, alias) = tables
    window, negative, hs = opt["window"], opt["negative"], opt["hs"]
    learn, null, T_count = opt["learn"], opt.get("null", 0), opt.get("tag_count", 1)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    sig, logsig = K.sigmoid_tables()
    scale = SIZE / (2 * BOUND)
    rng = SplitMix64(state)
    alpha0, min_alpha, pos0, total = lr
    out = {"loss": 0.0, "terms": 0}

    def predict(h, word, alpha, noise=None):
        neu = np.zeros_like(h)
        rows = []
        if hs:
            for k in range(offsets[word], offsets[word + 1]):
                rows.append(("syn1", int(points[k]), 1.0 - codes[k], True))
        if negative:
            rows.append(("syn1neg", word, 1.0, False))
            for t in noise if noise is not None else [rng.noise(thr, alias) for _ in range(negative)]:
                if t != word:
                    rows.append(("syn1neg", t, 0.0, False))
        # hs nodes first, then the noise: the draws happen before any ns dot product either way
        for name, t, label, is_hs in rows:
            o = w[name][t, : len(h)].copy()
            f = h @ o
            idx = int(np.clip((f + BOUND) * scale, 0, SIZE - 1))
            g = (label - sig[idx]) * alpha
            out["loss"] -= logsig[idx] if label == 1 else logsig[SIZE - 1 - idx]
            out["terms"] += 1
            if is_hs and abs(f) >= H.HS_MAX_LOGIT:
                g = 0.0
            neu += g * o
            if learn & DK.LEARN_HIDDEN:
                w[name][t, : len(h)] += g * h
        return neu

    done = 0
    D = w["syn0"].shape[1]
    for s in range(len(starts) - 1):
        lo, hi = int(starts[s]), int(starts[s + 1])
        doc_tags = tag_ids[tag_starts[s] : tag_starts[s + 1]].tolist()
        alpha = float(np.float32(alpha0 - (alpha0 - min_alpha) * min(1.0, (pos0 + done) / total)))
        sent = [x for x in ids[lo:hi].tolist() if rng.keep(int(keep[x]))]
        n = len(sent)
        # PV-DM with negative sampling only draws each position's noise LOOKAHEAD positions ahead
        ahead = mode == DK.DM and not hs and negative > 0
        noise = (
            [[rng.noise(thr, alias) for _ in range(negative)] for _ in range(min(LOOKAHEAD, n))]
            if ahead
            else []
        )
        for i in range(n):
            if ahead and i + LOOKAHEAD < n:
                noise.append([rng.noise(thr, alias) for _ in range(negative)])
            if mode == DK.DBOW:
                if opt.get("dbow_words"):
                    b = rng.below(window) * opt.get("shrink", 1)
                    for j in range(max(0, i - window + b), min(n, i + window + 1 - b)):
                        if j != i:
                            neu = predict(w["syn0"][sent[j]].copy(), sent[i], alpha)
                            if learn & DK.LEARN_WORDS:
                                w["syn0"][sent[j]] += neu
                for t in doc_tags:
                    neu = predict(w["dv"][t].copy(), sent[i], alpha)
                    if learn & DK.LEARN_DOCS:
                        w["dv"][t] += neu
            elif mode == DK.DM:
                b = rng.below(window) * opt.get("shrink", 1)
                ctx = [sent[j] for j in range(max(0, i - window + b), min(n, i + window + 1 - b)) if j != i]
                parts = [w["syn0"][x] for x in ctx] + [w["dv"][t] for t in doc_tags]
                h = np.sum(parts, axis=0) / (len(parts) if opt["cbow_mean"] else 1)
                neu = predict(h, sent[i], alpha, noise[i] if ahead else None) / (
                    1 if opt["cbow_mean"] else len(parts)
                )
                if learn & DK.LEARN_DOCS:
                    for t in doc_tags:
                        w["dv"][t] += neu
                if learn & DK.LEARN_WORDS:
                    for x in ctx:
                        w["syn0"][x] += neu
            elif len(doc_tags) == T_count:  # DMC
                padded = [null] * window + sent + [null] * window
                ctx = padded[i : i + window] + padded[i + window + 1 : i + 2 * window + 1]
                h = np.concatenate([w["dv"][t] for t in doc_tags] + [w["syn0"][x] for x in ctx])
                neu = predict(h, sent[i], alpha).reshape(-1, D)
                if learn & DK.LEARN_DOCS:
                    for k, t in enumerate(doc_tags):
                        w["dv"][t] += neu[k]
                if learn & DK.LEARN_WORDS:
                    for k, x in enumerate(ctx):
                        w["syn0"][x] += neu[len(doc_tags) + k]
        done += hi - lo
    return w, out["loss"], out["terms"], rng.state


def setup(mode, hs, negative, dm_window=2, tag_count=1, seed=3):
    ids, starts, counts = tiny_corpus(seed=0, V=12, sentences=18)
    S_ = len(starts) - 1
    rng = np.random.default_rng(seed)
    # documents 0..S-1 tagged by their number, every third also "shared" (row S)
    tag_lists = [[d] + ([S_] if d % 3 == 0 and tag_count == 1 and mode != DK.DMC else []) for d in range(S_)]
    if tag_count == 2:
        tag_lists = [[d, S_] for d in range(S_)]
    tag_ids = np.array([t for ts in tag_lists for t in ts], dtype=np.int32)
    tag_starts = np.concatenate([[0], np.cumsum([len(ts) for ts in tag_lists])]).astype(np.int64)
    V, D = len(counts), 5
    L = (tag_count + 2 * dm_window) * D if mode == DK.DMC else D
    w = {
        "syn0": rng.uniform(-0.5, 0.5, (V, D)).astype(np.float32),
        "syn1neg": rng.normal(0, 0.4, (V, L)).astype(np.float32),
        "syn1": rng.normal(0, 0.4, (V, L)).astype(np.float32),
        "dv": rng.uniform(-0.5, 0.5, (S_ + 1, D)).astype(np.float32),
    }
    keep = S.keep_thresholds(S.keep_probabilities(counts, 0.05))
    tables = (keep, huffman_tree(counts), S.build_alias_table(counts.astype(np.float64) ** 0.75))
    return (ids, starts), (tag_ids, tag_starts), w, tables


def run_kernel(mode, w, corpus, tags, tables, opt, lr, state):
    ids, starts = corpus
    keep, (codes, points, offsets), (thr, alias) = tables
    stats = np.zeros(3)
    lockf_w = np.ones(len(w["syn0"]), np.float32)
    lockf_d = np.ones(len(w["dv"]), np.float32)
    new_state = DK.train_document_job(
        w["syn0"], w["syn1neg"], w["syn1"], w["dv"], ids, starts, *tags, 0, len(starts) - 1, keep,
        thr, alias, codes, points, offsets, *K.sigmoid_tables(),
        mode, opt.get("cbow_mean", 1), opt.get("dbow_words", 0), opt["window"], opt["negative"], opt["hs"],
        opt.get("null", 0), opt.get("tag_count", 1), *lr, np.uint64(state), stats, w["syn0"].shape[1],
        opt.get("shrink", 1), opt["learn"], lockf_w, lockf_d, np.zeros(0, np.uint64),
    )  # fmt: skip
    return new_state, stats


CASES = {
    "dbow": (DK.DBOW, {}),
    "dbow+words": (DK.DBOW, {"dbow_words": 1}),
    "dm-mean": (DK.DM, {"cbow_mean": 1}),
    "dm-sum": (DK.DM, {"cbow_mean": 0}),
    "dm-mean-fixed-window": (DK.DM, {"cbow_mean": 1, "shrink": 0}),
    "dm-concat": (DK.DMC, {"null": 11}),
}


@pytest.mark.parametrize("layer", ["ns", "hs", "both"])
@pytest.mark.parametrize("case", list(CASES))
def test_document_kernel_matches_the_numpy_replay(case, layer):
    """Two epochs (learning rate 0.1 -> 0.001 over both, window 2, subsampling at 0.05, a tag shared
    by every third document): the kernel equals the replay up to float32 rounding, with the same
    loss and number of terms, and leaves the RNG where the replay does."""
    mode, extra = CASES[case]
    hs, negative = {"ns": (0, 3), "hs": (1, 0), "both": (1, 2)}[layer]
    corpus, tags, w, tables = setup(mode, hs, negative)
    opt = dict(window=2, negative=negative, hs=hs, learn=7, **extra)
    N = len(corpus[0])
    k = {name: a.copy() for name, a in w.items()}
    r = w
    for epoch, seed in enumerate((21, 22)):
        lr = (0.1, 0.001, float(epoch * N), float(2 * N))
        state, stats = run_kernel(mode, k, corpus, tags, tables, opt, lr, seed)
        r, loss, terms, ref_state = replay(mode, r, corpus, tags, tables, opt, lr, seed)
        assert int(state) == ref_state
        assert stats[2] == terms and stats[0] == N
        assert stats[1] == pytest.approx(loss, rel=1e-4)
    for name in ("syn0", "syn1neg", "syn1", "dv"):
        np.testing.assert_allclose(k[name], r[name], rtol=1e-4, atol=1e-4, err_msg=name)
    moved = {name: not np.allclose(k[name], w[name]) for name in k}
    assert moved["dv"] and moved["syn1neg"] == bool(negative) and moved["syn1"] == bool(hs)
    assert moved["syn0"] == (mode != DK.DBOW or bool(extra.get("dbow_words")))


def test_dm_concat_with_two_tags_and_inference_mode():
    """PV-DM/C with two tags per document, and learn = documents only (infer_vector's mode): the
    word and output rows stay bit for bit, the document rows match the replay."""
    corpus, tags, w, tables = setup(DK.DMC, 0, 3, tag_count=2)
    opt = dict(window=2, negative=3, hs=0, learn=DK.LEARN_DOCS, null=11, tag_count=2)
    k = {name: a.copy() for name, a in w.items()}
    state, _ = run_kernel(DK.DMC, k, corpus, tags, tables, opt, (0.05, 0.05, 0.0, 1.0), 5)
    r, _, _, ref_state = replay(DK.DMC, w, corpus, tags, tables, opt, (0.05, 0.05, 0.0, 1.0), 5)
    assert int(state) == ref_state
    for name in ("syn0", "syn1neg", "syn1"):
        assert np.array_equal(k[name], w[name]), name
    np.testing.assert_allclose(k["dv"], r["dv"], atol=2e-5)
    assert not np.allclose(k["dv"], w["dv"])


def test_replay_notices_a_wrong_sum_division():
    """The comparison can fail: PV-DM sum replayed as the mean differs from the kernel."""
    corpus, tags, w, tables = setup(DK.DM, 0, 3)
    k = {name: a.copy() for name, a in w.items()}
    run_kernel(DK.DM, k, corpus, tags, tables, dict(window=2, negative=3, hs=0, learn=7, cbow_mean=0),
               (0.1, 0.1, 0.0, 1.0), 9)  # fmt: skip
    r, *_ = replay(DK.DM, w, corpus, tags, tables, dict(window=2, negative=3, hs=0, learn=7, cbow_mean=1),
                   (0.1, 0.1, 0.0, 1.0), 9)  # fmt: skip
    assert not np.allclose(k["dv"], r["dv"], rtol=1e-4, atol=1e-4)
