"""Hierarchical softmax: the Huffman tree against a brute-force heapq construction (and gensim's
own), and the compiled hs kernels against a NumPy replay of the same RNG stream (as the
negative-sampling kernels are tested in test_word2vec_kernels.py)."""

import heapq
import itertools

import numpy as np
import pytest
from test_word2vec_kernels import SplitMix64, tiny_corpus  # the kernels' RNG replayed in Python

from seqlab.embeddings import word2vec_hs_kernels as H
from seqlab.embeddings import word2vec_kernels as K
from seqlab.embeddings import word2vec_sampling as S
from seqlab.embeddings.config import Word2VecConfig
from seqlab.embeddings.word2vec_train import train_word2vec
from seqlab.embeddings.word2vec_vocab import huffman_tree


def paths(counts):
    codes, points, offsets = huffman_tree(counts)
    return [(codes[a:b].tolist(), points[a:b].tolist()) for a, b in zip(offsets[:-1], offsets[1:])]


def heapq_code_lengths(counts):
    """Brute force: Huffman's algorithm with a heap of (count, tie-breaker, leaves); every merge
    adds one bit to each leaf below it."""
    depth = [0] * len(counts)
    tie = itertools.count()
    heap = [(c, next(tie), [w]) for w, c in enumerate(counts)]
    heapq.heapify(heap)
    while len(heap) > 1:
        c1, _, a = heapq.heappop(heap)
        c2, _, b = heapq.heappop(heap)
        for w in a + b:
            depth[w] += 1
        heapq.heappush(heap, (c1 + c2, next(tie), a + b))
    return depth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_huffman_tree_is_an_optimal_prefix_code_over_consistent_inner_nodes(seed):
    rng = np.random.default_rng(seed)
    counts = np.concatenate([rng.integers(1, 50, 60), rng.integers(1, 5, 40)])  # many ties
    counts = rng.permutation(counts)  # any order, not only the vocabulary's
    V = len(counts)
    ps = paths(counts)
    lengths = [len(c) for c, _ in ps]
    # optimal: the same total weighted length as the brute force (the tree may differ on ties)
    assert np.dot(counts, lengths) == np.dot(counts, heapq_code_lengths(counts.tolist()))
    codes = ["".join(map(str, c)) for c, _ in ps]
    assert not any(a != b and b.startswith(a) for a in codes for b in codes)  # prefix-free
    # every path starts at the root V-2, and one prefix of codes is always the same inner node
    node_of = {}
    for c, p in ps:
        assert p[0] == V - 2 and len(set(p)) == len(p) and all(0 <= n < V - 1 for n in p)
        for k in range(len(c)):
            assert node_of.setdefault("".join(map(str, c[:k])), p[k]) == p[k]
    assert len(set(node_of.values())) == V - 1  # all V-1 inner nodes are used
    assert lengths[int(np.argmax(counts))] == min(lengths)


def test_huffman_tree_equals_gensims_without_ties():
    """With no two equal sums anywhere (random counts up to 1e12), word2vec.c's two-queue tree,
    gensim's heap tree and ours are the same tree: same codes, same inner-node numbers."""
    word2vec = pytest.importorskip("gensim.models.word2vec")
    from gensim.models.keyedvectors import KeyedVectors as GensimKV

    counts = np.random.default_rng(5).integers(1, 10**12, 300)
    kv = GensimKV(4, count=len(counts))
    kv.index_to_key = [f"w{i}" for i in range(len(counts))]
    kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
    for w, c in zip(kv.index_to_key, counts.tolist()):
        kv.set_vecattr(w, "count", c)
    word2vec._assign_binary_codes(kv)
    for w, (c, p) in enumerate(paths(counts)):
        assert c == kv.get_vecattr(w, "code").tolist() and p == kv.get_vecattr(w, "point").tolist()


def test_huffman_tree_edge_cases():
    assert [len(c) for c, _ in paths([5])] == [0]  # one word: no tree
    assert paths([3, 7]) == [([0], [0]), ([1], [0])]  # the smaller takes branch 0 (word2vec.c)
    assert [len(c) for c, _ in paths([1, 1, 1, 1])] == [2, 2, 2, 2]


# ---------------------------------------------------------------- the kernels vs a NumPy replay
def hs_job_reference(model, syn0, syn1, syn1neg, corpus, tables, window, negative, lr, state, **opt):
    """train_sg_hs_job / train_cbow_hs_job in NumPy from the same RNG stream. opt: shrink,
    cbow_mean, lockf as the kernels; skip_saturated=False or flip_labels=True switch a feature off
    (to show the comparison sees it). Returns (syn0, syn1, syn1neg, loss, terms, final state)."""
    ids, starts = corpus
    keep, (codes, points, offsets), (thr, alias) = tables
    alpha0, min_alpha, pos0, total = lr
    shrink, cbow_mean, lockf = opt.get("shrink", 1), opt.get("cbow_mean", 1), opt.get("lockf")
    syn0, syn1, syn1neg = (a.astype(np.float64) for a in (syn0, syn1, syn1neg))
    sig, logsig = K.sigmoid_tables()
    size, scale = K.SIGMOID_TABLE_SIZE, K.SIGMOID_TABLE_SIZE / (2 * K.SIGMOID_BOUND)

    def bins(f):
        return np.clip(((np.asarray(f) + K.SIGMOID_BOUND) * scale).astype(np.int64), 0, size - 1)

    def grad(f, labels, alpha, hs):  # (label - sigmoid) * alpha, loss, saturated hs nodes skipped
        idx = bins(f)
        g = (labels - sig[idx]) * alpha
        loss = -np.where(labels == 1, logsig[idx], logsig[size - 1 - idx]).sum()
        if hs and opt.get("skip_saturated", True):
            g = np.where(np.abs(f) >= H.HS_MAX_LOGIT, 0.0, g)
        return g, loss, np.size(idx)

    rng = SplitMix64(state)
    done, loss, terms = 0, 0.0, 0
    for s in range(len(starts) - 1):
        lo, hi = int(starts[s]), int(starts[s + 1])
        alpha = float(np.float32(alpha0 - (alpha0 - min_alpha) * min(1.0, (pos0 + done) / total)))
        sent = [w for w in ids[lo:hi].tolist() if rng.keep(int(keep[w]))]
        n = len(sent)
        for i in range(n):
            b = rng.below(window) * shrink
            centre = sent[i]
            noise = [rng.noise(thr, alias) for _ in range(negative)]
            tgt = [centre] + [w for w in noise if w != centre] if negative else []
            ctx = [sent[j] for j in range(max(0, i - window + b), min(n - 1, i + window - b) + 1) if j != i]
            if not ctx:
                continue
            path = points[offsets[centre] : offsets[centre + 1]].tolist()
            labels = 1.0 - codes[offsets[centre] : offsets[centre + 1]]
            if opt.get("flip_labels"):
                labels = 1.0 - labels
            ns_labels = np.array([1.0] + [0.0] * (len(tgt) - 1))
            lk = (lockf[ctx] if lockf is not None else np.ones(len(ctx)))[:, None]
            if model == "sg":  # all contexts at once, from the old values
                X, P, T = syn0[ctx], syn1[path], syn1neg[tgt]
                Gh, lh, th = grad(X @ P.T, labels, alpha, True)
                Gn, ln, tn = (
                    grad(X @ T.T, ns_labels, alpha, False) if tgt else (np.zeros((len(ctx), 0)), 0, 0)
                )
                loss, terms = loss + lh + ln, terms + th + tn
                dX = Gh @ P + Gn @ T
                np.add.at(syn1, path, Gh.T @ X)
                np.add.at(syn1neg, tgt, Gn.T @ X)
                np.add.at(syn0, ctx, dX * lk)
            else:  # the mean (or sum) context, nodes then NS targets one after another
                h = syn0[ctx].sum(0) / (len(ctx) if cbow_mean else 1)
                neu = np.zeros_like(h)
                for rows, labs, hs in ((path, labels, True), (tgt, ns_labels, False)):
                    out = syn1 if hs else syn1neg
                    for t, label in zip(rows, labs):
                        g, lt, _ = grad(h @ out[t], label, alpha, hs)
                        loss, terms = loss + lt, terms + 1
                        neu += g * out[t]
                        out[t] += g * h
                neu = neu if cbow_mean else neu / len(ctx)
                for c, k in zip(ctx, lk[:, 0]):
                    syn0[c] += neu * k
        done += hi - lo
    return syn0, syn1, syn1neg, loss, terms, rng.state


def run_hs_kernel(model, syn0, syn1, syn1neg, corpus, tables, window, negative, lr, state, **opt):
    ids, starts = corpus
    keep, (codes, points, offsets), (thr, alias) = tables
    stats = np.zeros(3)
    args = (syn0, syn1, syn1neg, ids, starts, 0, len(starts) - 1, keep, codes, points, offsets, thr, alias)
    args += K.sigmoid_tables() + (window, negative) + tuple(lr) + (np.uint64(state), stats)
    extra = (0, opt.get("shrink", 1), opt.get("lockf"))
    if model == "sg":
        return H.train_sg_hs_job(*args, *extra), stats
    return H.train_cbow_hs_job(*args, *extra, None if opt.get("cbow_mean", 1) else True), stats


def hs_setup(scale=1.0, seed=1):
    ids, starts, counts = tiny_corpus()
    V, D = len(counts), 6
    rng = np.random.default_rng(seed)
    weights = (
        rng.uniform(-0.5, 0.5, (V, D)).astype(np.float32) * np.float32(scale),
        rng.normal(0, 0.4, (V, D)).astype(np.float32) * np.float32(scale),
        rng.normal(0, 0.3, (V, D)).astype(np.float32),
    )
    keep = S.keep_thresholds(S.keep_probabilities(counts, 0.02))
    tables = (keep, huffman_tree(counts), S.build_alias_table(counts.astype(np.float64) ** 0.75))
    return (ids, starts), weights, tables


@pytest.mark.parametrize("negative", [0, 3])
@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_hs_kernels_match_the_numpy_replay(model, negative):
    """Two epochs as the driver runs them (window 3, subsampling at 0.02, learning rate 0.1 ->
    0.001 over both), hierarchical softmax alone and beside 3 negatives: the kernel equals the
    replay up to float32 rounding, with the same loss, the same number of terms and the RNG left
    where the replay leaves it."""
    corpus, (syn0, syn1, syn1neg), tables = hs_setup(scale=3.0)  # large logits: some nodes saturate
    N = len(corpus[0])
    k = [a.copy() for a in (syn0, syn1, syn1neg)]
    r = [syn0, syn1, syn1neg]
    k_loss = r_loss = r_terms = 0
    for epoch, seed in enumerate((11, 12)):
        lr = (0.1, 0.001, float(epoch * N), float(2 * N))
        state, stats = run_hs_kernel(model, *k, corpus, tables, 3, negative, lr, seed)
        *r, loss, terms, ref_state = hs_job_reference(model, *r, corpus, tables, 3, negative, lr, seed)
        assert int(state) == ref_state and stats[2] == terms and stats[0] == N
        k_loss, r_loss, r_terms = k_loss + stats[1], r_loss + loss, r_terms + terms
    assert np.abs(r[0] - syn0).max() > 0.05 and np.abs(r[1] - syn1).max() > 0.05
    for ours, ref in zip(k, r):
        np.testing.assert_allclose(ours, ref, atol=5e-5)
    assert (np.abs(r[2] - syn1neg).max() > 0.01) == bool(negative)  # syn1neg trained only with negatives
    assert k_loss == pytest.approx(r_loss, rel=1e-4)


@pytest.mark.parametrize("feature", ["skip_saturated", "flip_labels", "cbow_mean", "shrink"])
def test_the_hs_replay_comparison_sees_each_feature(feature):
    """Change one feature in the replay only (same draws): the kernel no longer matches it."""
    corpus, weights, tables = hs_setup(scale=3.0)
    lr = (0.1, 0.001, 0.0, float(2 * len(corpus[0])))
    model = "cbow" if feature == "cbow_mean" else "sg"
    kernel = [a.copy() for a in weights]
    run_hs_kernel(model, *kernel, corpus, tables, 3, 0, lr, 7)
    changed = {"skip_saturated": False, "flip_labels": True, "cbow_mean": 0, "shrink": 0}[feature]
    ref = hs_job_reference(model, *weights, corpus, tables, 3, 0, lr, 7, **{feature: changed})
    assert np.abs(kernel[0] - ref[0]).max() > 1e-3


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_hs_kernel_options_sum_fixed_window_and_locked_rows(model):
    """cbow_mean=0, shrink=0 and a lockf that freezes word 0 and halves word 1's steps: the kernel
    equals the replay with the same options; word 0's vector does not move."""
    corpus, weights, tables = hs_setup()
    lockf = np.ones(len(weights[0]), dtype=np.float32)
    lockf[0], lockf[1] = 0.0, 0.5
    opt = dict(shrink=0, cbow_mean=0, lockf=lockf)
    lr = (0.1, 0.001, 0.0, float(len(corpus[0])))
    kernel = [a.copy() for a in weights]
    run_hs_kernel(model, *kernel, corpus, tables, 3, 2, lr, 5, **opt)
    ref = hs_job_reference(model, *weights, corpus, tables, 3, 2, lr, 5, **opt)
    for ours, theirs in zip(kernel, ref[:3]):
        np.testing.assert_allclose(ours, theirs, atol=5e-5)
    assert np.array_equal(kernel[0][0], weights[0][0]) and not np.array_equal(kernel[0][1], weights[0][1])


def test_ns_kernels_take_the_same_options():
    """The negative-sampling kernels: lockf freezes a row, shrink=0 and cbow_mean=0 change the result
    (their compiled variants without a lockf are the ones the plain tests check)."""
    corpus, (syn0, _, syn1neg), (keep, _, (thr, alias)) = hs_setup()
    ids, starts = corpus
    lockf = np.ones(len(syn0), dtype=np.float32)
    lockf[0] = 0.0
    results = []
    for opt in ((1, None, None), (1, lockf, None), (0, None, None), (1, None, True)):
        a, b = syn0.copy(), syn1neg.copy()
        args = (a, b, ids, starts, 0, len(starts) - 1, keep, thr, alias) + K.sigmoid_tables()
        args += (3, 4, 0.1, 0.001, 0.0, float(len(ids)), np.uint64(3), np.zeros(3))
        K.train_cbow_job(*args, 1, 0, *opt)
        results.append(a)
    assert np.array_equal(results[1][0], syn0[0]) and not np.array_equal(results[0][0], syn0[0])
    assert all(not np.array_equal(results[0], r) for r in results[1:])


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
@pytest.mark.parametrize("sync", ["replicas", "hogwild"])
def test_hs_trains_with_replicas_and_hogwild(monkeypatch, model, sync):
    """hs=1 (alone, and with negatives) on 2 threads: topics separate and the loss falls;
    replicas repeat bit for bit."""
    from test_word2vec import topic_corpus, within_minus_across

    import seqlab.embeddings.word2vec_train as w2v

    monkeypatch.setattr(w2v, "JOB_WORDS", 500)
    sents, topics = topic_corpus()
    for negative in (0, 2):
        cfg = Word2VecConfig(
            model=model, hs=1, negative=negative, vector_size=16, window=3, sample=0, min_count=1,
            epochs=3, workers=2, seed=1, sync=sync, sync_words=1000, sync_hot_rows=6, sync_full_words=4000,
        )  # fmt: skip
        kv, stats = train_word2vec(sents, cfg, progress=False)
        assert stats["sync"] == sync and within_minus_across(kv, topics) > 0.5
        assert stats["loss_per_epoch"][-1] < stats["loss_per_epoch"][0]
        if sync == "replicas":
            again, _ = train_word2vec(sents, cfg, progress=False)
            assert np.array_equal(kv.vectors, again.vectors)
