"""MNB and NBSVM (Wang & Manning 2012): parity with scikit-learn / brute force, real-data sanity,
and state round trips."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from seqlab.classify.baselines import MNBClassifier, NBSVMClassifier
from seqlab.classify.data import load_dataset

DOCS = [
    "a good film",
    "a bad film",
    "good good fun",
    "bad plot , bad acting",
    "fun and good",
    "not good",
    "really bad",
    "good acting",
]
LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1])


def _binary(docs):
    vec = CountVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, binary=True, ngram_range=(1, 2)
    )
    return vec, vec.fit_transform(docs)


def test_mnb_matches_sklearn_multinomialnb_on_binarized_bigrams():
    vec, Xb = _binary(DOCS)
    ref = MultinomialNB(alpha=1.0).fit(Xb, LABELS)
    ours = MNBClassifier().fit(DOCS, LABELS)
    test = ["good fun film", "bad bad acting", "unseen words only"]
    np.testing.assert_allclose(ours.predict_proba(test), ref.predict_proba(vec.transform(test)), atol=1e-10)
    assert ours.predict(test).tolist() == ref.predict(vec.transform(test)).tolist()


def test_nbsvm_log_count_ratio_by_brute_force():
    ours = NBSVMClassifier().fit(DOCS, LABELS)
    vec, Xb = _binary(DOCS)
    Xb = Xb.toarray()
    p = 1 + Xb[LABELS == 1].sum(0)
    q = 1 + Xb[LABELS == 0].sum(0)
    r = np.log((p / p.sum()) / (q / q.sum()))
    np.testing.assert_allclose(ours.r_[0], r, atol=1e-12)
    # the SVM on r * f, then the interpolation w' = 0.75 mean|w| + 0.25 w, b' = 0.25 b
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=1.0, loss="squared_hinge", dual=True, max_iter=10000).fit(Xb * r, LABELS)
    w = svm.coef_.ravel()
    np.testing.assert_allclose(ours.coef_[0], 0.75 * np.abs(w).mean() + 0.25 * w, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_[0], 0.25 * svm.intercept_[0], atol=1e-4)


def test_nbsvm_multiclass_is_one_vs_rest():
    """Three classes: per class c, the binary NBSVM of c against the rest (its own r, SVM and
    interpolation, computed here by brute force); the scores are F (r_c * w'_c) + b'_c; the
    prediction is the class with the highest score."""
    from sklearn.svm import LinearSVC

    y = np.array(["a", "b", "c", "a", "b", "c", "a", "b"])
    est = NBSVMClassifier().fit(DOCS, y)
    vec, Xb = _binary(DOCS)
    Xb = Xb.toarray()
    test = ["good fun film", "bad bad acting", "not good acting", "unseen words only"]
    Ft = vec.transform(test).toarray()
    scores = []
    for k, c in enumerate(["a", "b", "c"]):
        pos = y == c
        p, q = 1 + Xb[pos].sum(0), 1 + Xb[~pos].sum(0)
        r = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=1.0, loss="squared_hinge", dual=True, max_iter=10000).fit(Xb * r, pos.astype(int))
        w = 0.75 * np.abs(svm.coef_.ravel()).mean() + 0.25 * svm.coef_.ravel()
        np.testing.assert_allclose(est.r_[k], r, atol=1e-12)
        np.testing.assert_allclose(est.coef_[k], w, atol=1e-4)
        scores.append(Ft @ (r * w) + 0.25 * svm.intercept_[0])
    scores = np.stack(scores, axis=1)  # (4, 3)
    np.testing.assert_allclose(est.decision_function(test), scores, atol=1e-4)
    assert est.predict(test).tolist() == np.array(["a", "b", "c"])[scores.argmax(1)].tolist()
    assert len(set(est.predict(DOCS))) == 3  # not one class for all
    np.testing.assert_allclose(
        est.predict_proba(test), np.exp(scores) / np.exp(scores).sum(1, keepdims=True), atol=1e-4
    )


@pytest.fixture(scope="module")
def mr_subset():
    ds = load_dataset("mr")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(ds.train[0]))[:3000]
    X = [ds.train[0][i] for i in idx]
    y = ds.train[1][idx]
    return X[:2500], y[:2500], X[2500:], y[2500:]


@pytest.mark.needs_data("sentence_classification")
@pytest.mark.parametrize("cls", [MNBClassifier, NBSVMClassifier])
def test_baselines_beat_chance_clearly_on_real_mr(cls, mr_subset):
    Xtr, ytr, Xte, yte = mr_subset
    acc = cls().fit(Xtr, ytr).score(Xte, yte)
    assert acc > 0.68, acc  # chance is 0.5; the full-data 10-fold CV gives ~0.79


@pytest.mark.needs_data("sentence_classification")
@pytest.mark.parametrize("cls", [MNBClassifier, NBSVMClassifier])
def test_state_round_trip_gives_identical_predictions(cls, mr_subset):
    Xtr, ytr, Xte, _ = mr_subset
    est = cls().fit(Xtr[:800], ytr[:800])
    back = cls.from_state(est.get_state())
    np.testing.assert_allclose(back.predict_proba(Xte), est.predict_proba(Xte), atol=1e-12)
