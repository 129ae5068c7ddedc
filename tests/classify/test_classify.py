"""The scikit-learn surface of the classifiers, pretrained-vector initialisation and cross_validate."""

import numpy as np
import pytest
import torch

from seqlab.classify.estimators import (
    CNNClassifier,
    CNNRNNClassifier,
    DCNNClassifier,
    RNNClassifier,
    estimator_from_state,
    estimator_state,
    make_estimator,
)
from seqlab.classify.pretrained import KIM_STD, pretrained_matrix
from seqlab.classify.protocol import cross_validate
from seqlab.embeddings.vector_sources import from_pairs
from seqlab.errors import SeqlabError


def toy_data(n=160, seed=0):
    """Sentences of filler words with one cue word per class somewhere inside."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(30)]
    cues = {"pos": ["great", "superb", "lovely"], "neg": ["awful", "boring", "dull"]}
    X, y = [], []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(filler, size=rng.integers(3, 12)))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cues[label])))
        X.append(" ".join(words))
        y.append(label)
    return X, np.array(y)


def tiny_vectors(dim=8, seed=0):
    """Like real pretrained vectors, the cue words share a direction (dim 0: +2 good, -2 bad)."""
    rng = np.random.default_rng(seed)
    words = ["great", "superb", "lovely", "awful", "boring", "dull"] + [f"w{i}" for i in range(20)]
    vecs = rng.normal(0, 0.5, size=(len(words), dim)).astype(np.float32)
    vecs[:3, 0] += 2.0
    vecs[3:6, 0] -= 2.0
    return from_pairs(zip(words, vecs))


SMALL = dict(epochs=8, batch_size=16, seed=0)


@pytest.mark.parametrize(
    "est",
    [
        CNNClassifier("rand", embedding_dim=16, num_filters=8, **SMALL),
        CNNClassifier("multichannel", vectors=tiny_vectors(), num_filters=16, **SMALL),
        CNNClassifier("rand", embedding_dim=16, num_filters=8, conv="wide", **SMALL),
        DCNNClassifier(embedding_dim=16, lr=0.1, **SMALL),
        RNNClassifier("gru", bidirectional=True, hidden_size=16, embedding_dim=16, lr=0.01, **SMALL),
        CNNRNNClassifier(hidden_size=8, embedding_dim=16, num_filters=8, lr=0.01, **SMALL),
    ],
    ids=["cnn-rand", "cnn-multichannel", "cnn-rand-wide", "dcnn", "bigru", "cnn-rnn"],
)
def test_estimators_learn_the_cue_words(est):
    X, y = toy_data()
    Xt, yt = toy_data(60, seed=1)
    assert est.fit(X, y) is est
    assert est.classes_.tolist() == ["neg", "pos"]
    assert len(est.history_) == 8 and 1 <= est.best_epoch_ <= 8
    proba = est.predict_proba(Xt)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert est.score(Xt, yt) > 0.8  # chance: 0.5
    # state round trip (what the checkpoint stores) predicts the same
    back = estimator_from_state(estimator_state(est))
    np.testing.assert_allclose(back.predict_proba(Xt), proba, atol=1e-6)


def test_same_seed_same_model_and_max_norm_respected():
    X, y = toy_data()
    a = CNNClassifier("rand", embedding_dim=16, num_filters=8, epochs=2, batch_size=16, seed=3).fit(X, y)
    b = CNNClassifier("rand", embedding_dim=16, num_filters=8, epochs=2, batch_size=16, seed=3).fit(X, y)
    assert torch.equal(a.model_.fc.weight, b.model_.fc.weight)
    assert float(a.model_.fc.weight.detach().norm(dim=1).max()) <= 3.0 + 1e-5


def test_dev_checks_within_epochs_keep_the_best_weights():
    X, y = toy_data()
    Xd, yd = toy_data(60, seed=2)
    est = DCNNClassifier(embedding_dim=16, lr=0.1, epochs=2, batch_size=16, seed=0, dev_checks=3).fit(
        X, y, Xd, yd
    )
    checks = [a for h in est.history_ for a in h["dev_checks"]]
    assert [len(h["dev_checks"]) for h in est.history_] == [3, 3]
    assert est.dev_accuracy_ == max(checks)  # the best check's weights are kept
    assert est.score(Xd, yd) == pytest.approx(max(checks))
    i = checks.index(max(checks))  # first best: epoch and fraction
    assert est.best_epoch_ == i // 3 + 1 and est.best_check_ > i // 3
    # one check per epoch is the epoch-end check of before: same weights as checking every epoch end
    one = DCNNClassifier(embedding_dim=16, lr=0.1, epochs=2, batch_size=16, seed=0).fit(X, y, Xd, yd)
    assert [h["dev_checks"] for h in one.history_] == [[h["dev_accuracy"]] for h in one.history_]
    assert one.best_check_ == one.best_epoch_


def test_dcnn_layer_decay_and_adagrad_reset():
    X, y = toy_data(40)
    est = DCNNClassifier(
        embedding_dim=8, epochs=1, batch_size=16, layer_decay=(1e-4, 3e-5, 3e-6, 2e-4), adagrad_reset=1
    ).fit(X, y)
    opt = est._optimizer(est.model_)
    decay = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    m = est.model_
    assert decay[id(m.embedding.weight)] == 1e-4 and decay[id(m.fc.weight)] == 2e-4
    assert [decay[id(c.conv.weight)] for c in m.convs] == [3e-5, 3e-6]
    assert decay[id(m.fc.bias)] == 0.0 and all(decay[id(b)] == 0.0 for b in m.biases)
    assert len(decay) == len(list(m.parameters()))  # every parameter in one group
    loss = m(torch.tensor([[2, 3, 4]])).sum()
    loss.backward()
    opt.step()
    assert all(float(st["sum"].abs().sum()) > 0 for st in opt.state.values() if "sum" in st)
    est._end_epoch(1, opt)  # reset every epoch here
    assert all(float(st["sum"].abs().sum()) == 0 for st in opt.state.values())
    with pytest.raises(SeqlabError, match="layer_decay needs 4 values"):
        DCNNClassifier(embedding_dim=8, epochs=1, layer_decay=(1e-4, 1e-4)).fit(X, y)


def test_static_keeps_vectors_non_static_tunes_them():
    X, y = toy_data()
    kv = tiny_vectors()
    st = CNNClassifier("static", vectors=kv, num_filters=8, epochs=2, batch_size=16).fit(X, y)
    ns = CNNClassifier("non-static", vectors=kv, num_filters=8, epochs=2, batch_size=16).fit(X, y)
    i = st.vocab_.stoi["great"]
    np.testing.assert_array_equal(st.model_.embedding.weight[i].detach().numpy(), kv["great"])
    assert not np.allclose(ns.model_.embedding.weight[ns.vocab_.stoi["great"]].detach().numpy(), kv["great"])


def test_pretrained_matrix_copies_known_and_matches_variance_for_unknown():
    rng = np.random.default_rng(0)
    kv = from_pairs((f"k{i}", rng.normal(0, 0.7, size=4).astype(np.float32)) for i in range(500))
    words = [f"k{i}" for i in range(500)] + [f"unknown{i}" for i in range(20000)]
    mat, found = pretrained_matrix(words, kv, seed=0)
    assert found == 500
    np.testing.assert_array_equal(mat[:500], kv.vectors)
    unk = mat[500:]
    assert np.all(np.abs(unk) <= np.sqrt(3 * kv.vectors.var(0)) + 1e-6)  # U[-a, a]
    np.testing.assert_allclose(unk.var(0), kv.vectors.var(0), rtol=0.05)  # same variance


def test_pretrained_matrix_rescales_and_kims_unknown_init():
    rng = np.random.default_rng(0)
    kv = from_pairs((f"k{i}", rng.normal(0, 0.7, size=4).astype(np.float32)) for i in range(500))
    words = [f"k{i}" for i in range(500)] + [f"unknown{i}" for i in range(20000)]
    mat, _ = pretrained_matrix(words, kv, seed=0, std=KIM_STD)
    assert mat[:500].std() == pytest.approx(KIM_STD, rel=1e-4)  # U[-0.25, 0.25]'s std
    np.testing.assert_allclose(mat[:500], kv.vectors * (KIM_STD / kv.vectors.std()), rtol=1e-5)  # one factor
    np.testing.assert_allclose(mat[500:].var(0), mat[:500].var(0), rtol=0.06)  # unknowns follow the scale
    mat, _ = pretrained_matrix(words, kv, seed=0, unknown="kim")
    assert np.abs(mat[500:]).max() <= 0.25 and mat[500:].std() == pytest.approx(KIM_STD, rel=0.02)
    X, y = toy_data(40)
    est = CNNClassifier("non-static", vectors=tiny_vectors(8), min_width=20, num_filters=4, epochs=1).fit(
        X, y
    )
    w = est.model_.embedding.weight.detach().numpy()
    assert w.shape[1] == 8 + 12 and np.abs(w[2:, 8:]).max() <= 0.25  # 8 pretrained + 12 random dims
    np.testing.assert_allclose(w[est.vocab_.stoi["w3"], :8], tiny_vectors()["w3"], atol=0.05)


def test_vectors_of_another_dimension_are_refused():
    X, y = toy_data(40)
    with pytest.raises(SeqlabError, match="dimension 8 but embedding_dim is 300"):
        CNNClassifier("static", vectors=tiny_vectors(8), embedding_dim=300, epochs=1).fit(X, y)


def test_make_estimator_names_and_errors():
    assert isinstance(make_estimator("bilstm"), RNNClassifier) and make_estimator("bilstm").bidirectional
    assert make_estimator("gru").cell == "gru"
    assert make_estimator("cnn-multichannel", vectors="x").variant == "multichannel"
    assert (
        make_estimator("cnn-rand", conv="wide").conv == "wide" and make_estimator("cnn-rand").conv == "narrow"
    )
    ns, st = make_estimator("cnn-non-static", vectors="x"), make_estimator("cnn-static", vectors="x")
    assert (ns.vector_std, ns.min_width, st.min_width) == (KIM_STD, 300, 0)  # issue 13's fix
    d = make_estimator("dcnn")
    assert isinstance(d, DCNNClassifier) and (d.embedding_dim, d.widths, d.maps, d.k_top) == (
        48,
        (7, 5),
        (6, 14),
        4,
    )
    assert (d.batch_size, d.lr, d.weight_decay, d.layer_decay) == (50, 0.05, 1e-5, None)  # recipe b50
    b4 = make_estimator("dcnn", recipe="b4")
    assert (b4.batch_size, b4.lr, b4.adagrad_reset) == (4, 0.1, 5) and len(b4.layer_decay) == 4
    with pytest.raises(SeqlabError, match="unknown DCNN recipe"):
        make_estimator("dcnn", recipe="b5")
    with pytest.raises(SeqlabError, match="unknown model"):
        make_estimator("svm")
    with pytest.raises(SeqlabError, match="unknown convolution 'full'; use narrow or wide"):
        make_estimator("cnn-rand", conv="full")
    with pytest.raises(SeqlabError, match="even"):
        DCNNClassifier(embedding_dim=7, epochs=1).fit(["a b", "c d"], ["x", "y"])
    with pytest.raises(SeqlabError, match="needs pretrained vectors"):
        make_estimator("cnn-static")
    with pytest.raises(SeqlabError, match="at least two classes"):
        CNNClassifier(epochs=1).fit(["a b", "c d"], ["x", "x"])


def test_cross_validate_is_stratified_deterministic_and_serves_every_estimator():
    X, y = toy_data(200)
    mnb = make_estimator("mnb")
    r1 = cross_validate(mnb, X, y, folds=5, seed=0)
    r2 = cross_validate(mnb, X, y, folds=5, seed=0)
    assert r1.accuracies == r2.accuracies and len(r1.accuracies) == 5
    assert r1.accuracy > 0.9 and r1.std == pytest.approx(np.std(r1.accuracies))
    assert r1.best_estimator is not None and r1.best_estimator is not mnb
    seen = []
    cnn = CNNClassifier("rand", embedding_dim=8, num_filters=4, epochs=1, batch_size=32)
    r3 = cross_validate(cnn, X, y, folds=3, seed=0, on_fold=lambda k, n: seen.append((k, n)))
    assert seen == [(0, 3), (1, 3), (2, 3)] and len(r3.accuracies) == 3
    assert not hasattr(cnn, "model_")  # the template itself is never fitted


def test_row_adadelta_equals_dense_adadelta():
    """The lazy row-wise update must give the same embedding as torch's dense Adadelta, including
    rows that skip several steps (their accumulators decay by rho per missed step)."""
    from seqlab.classify.optim import RowAdadelta

    torch.manual_seed(0)
    dense = torch.nn.Embedding(30, 5, padding_idx=0)
    lazy = torch.nn.Embedding(30, 5, padding_idx=0, sparse=True)
    lazy.weight.data.copy_(dense.weight.data)
    opt_d = torch.optim.Adadelta(dense.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    opt_l = RowAdadelta(lazy.weight, lr=1.0, rho=0.95, eps=1e-6)
    g = torch.Generator().manual_seed(1)
    target = torch.randn(30, 5, generator=g)
    for step in range(40):
        hi = 10 if step % 3 else 30  # rows 10..29 are used only every 3rd step
        ids = torch.randint(0, hi, (4, 6), generator=g)
        for emb, opt in ((dense, opt_d), (lazy, opt_l)):
            opt.zero_grad()
            ((emb(ids) - target[ids]) ** 2).sum().backward()
            opt.step()
    torch.testing.assert_close(lazy.weight.data, dense.weight.data, atol=1e-6, rtol=1e-5)
    assert not torch.equal(dense.weight.data[10:], lazy.weight.data[10:] * 0)  # rows really moved


def test_device_auto_is_the_cpu_here_and_cuda_without_a_gpu_is_a_clear_error():
    X, y = toy_data(60)
    kw = dict(embedding_dim=16, num_filters=8, epochs=2, batch_size=16, seed=3)
    a = CNNClassifier("rand", device="cpu", **kw).fit(X, y)
    b = CNNClassifier("rand", device="auto", **kw).fit(X, y)
    if not torch.cuda.is_available():
        assert torch.equal(a.model_.fc.weight, b.model_.fc.weight)
        with pytest.raises(SeqlabError, match="no CUDA GPU"):
            CNNClassifier("rand", device="cuda", **kw).fit(X, y)
    with pytest.raises(SeqlabError, match="unknown device"):
        CNNClassifier("rand", device="tpu9", **kw).fit(X, y)
    assert "device" not in estimator_state(a)["params"]  # a checkpoint loads anywhere


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_learns_and_predicts_on_the_cpu():
    X, y = toy_data()
    Xt, yt = toy_data(60, seed=1)
    est = CNNClassifier("non-static", vectors=tiny_vectors(), num_filters=16, device="cuda", **SMALL).fit(
        X, y
    )
    assert next(est.model_.parameters()).device.type == "cpu"
    assert est.score(Xt, yt) > 0.8
