"""G-Dropout and F-Dropout (Wang & Manning 2013): the objectives against finite differences, brute
force over dropout masks and Monte Carlo; p = 1 against scikit-learn's LogisticRegression; the
estimator conventions; the CLI end to end."""

import itertools
import json
import pickle

import numpy as np
import pytest
from scipy.special import log_expit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from seqlab.classify.fast_dropout import (
    FDropoutClassifier,
    GDropoutClassifier,
    fdropout_loss,
    gaussian_moments,
    gdropout_loss,
)
from seqlab.cli import main
from seqlab.errors import ParameterError

DOCS = [
    "a good film",
    "a bad film",
    "good good fun",
    "bad plot , bad acting",
    "fun and good",
    "not good",
    "really bad",
    "good acting",
    "dull and bad",
    "great fun",
]
LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1, 0, 1])


def _problem(n=7, V=9, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, V)) * (rng.random((n, V)) < 0.6)  # real-valued, some zeros
    w = rng.normal(0, 0.7, V)
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    return X, w, 0.3, y


def _numeric_grad(f, theta, h=1e-6):
    g = np.zeros_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        g[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


@pytest.mark.parametrize("which", ["f", "g"])
def test_objective_gradient_matches_finite_differences(which):
    X, w, b, y = _problem()
    p, l2 = 0.6, 0.3
    eps = np.random.default_rng(1).standard_normal((len(y), 5))

    def loss(theta):
        args = (theta[:-1], theta[-1], X, X**2, y, p, l2)
        return (fdropout_loss(*args) if which == "f" else gdropout_loss(*args, eps))[0]

    theta = np.append(w, b)
    _, gw, gb = (
        fdropout_loss(w, b, X, X**2, y, p, l2)
        if which == "f"
        else gdropout_loss(w, b, X, X**2, y, p, l2, eps)
    )
    np.testing.assert_allclose(np.append(gw, gb), _numeric_grad(loss, theta), rtol=1e-6, atol=1e-7)


def test_moments_equal_the_exact_average_over_every_dropout_mask():
    """mu and s^2 are the mean and variance of b + sum_j z_j w_j x_j over all 2^V masks z, each
    weighted by its probability p^|z| (1-p)^(V-|z|): exact, so compared at 1e-12."""
    X, w, b, _ = _problem(n=3, V=10)
    p = 0.7
    masks = np.array(list(itertools.product([0, 1], repeat=10)), dtype=float)  # (1024, V)
    prob = np.prod(np.where(masks == 1, p, 1 - p), axis=1)  # (1024,)
    mu, s2 = gaussian_moments(w, b, X, X**2, p)
    for i in range(len(X)):
        scores = masks @ (w * X[i]) + b  # (1024,)
        mean = prob @ scores
        np.testing.assert_allclose(mu[i], mean, rtol=1e-12)
        np.testing.assert_allclose(s2[i], prob @ (scores - mean) ** 2, rtol=1e-12)


def test_losses_approximate_real_dropout_by_monte_carlo():
    """On 40 binary features the dropout loss E_z[log(1 + exp(-y Y))] is estimated from 100,000
    sampled masks (standard error ~0.2%). G-Dropout's target, the same loss integrated over the
    Gaussian N(mu, s^2) (Gauss-Hermite quadrature, the limit of its sampling), is within 1%: the
    only error is the central-limit approximation of a 20-term sum. F-Dropout's eq. 8 adds the
    probit approximation of log sigma, which errs by up to ~7% here (the measured worst case over
    these six examples), so its tolerance is 10%; it must still beat the loss that ignores the
    variance (-log sigma(y mu)), which is what dropout adds over plain logistic regression."""
    rng = np.random.default_rng(0)
    V, p = 40, 0.5
    X = (rng.random((6, V)) < 0.5).astype(float)
    w, b = rng.normal(0, 0.5, V), 0.2
    y = np.array([1, -1, 1, -1, 1, 1.0])
    t, wt = np.polynomial.hermite_e.hermegauss(80)
    mu, s2 = gaussian_moments(w, b, X, X, p)
    for i in range(len(X)):
        Y = (rng.random((100_000, V)) < p) * X[i] @ w + b  # (100000,) real dropout scores
        mc = -log_expit(y[i] * Y).mean()
        gauss = wt @ -log_expit(y[i] * (mu[i] + np.sqrt(s2[i]) * t)) / np.sqrt(2 * np.pi)
        f = fdropout_loss(w, b, X[i : i + 1], X[i : i + 1], y[i : i + 1], p, 0.0)[0]
        naive = -log_expit(y[i] * mu[i])
        assert abs(gauss - mc) / mc < 0.01
        assert abs(f - mc) / mc < 0.10
        assert abs(f - mc) < abs(naive - mc)
    # G-Dropout's sampled loss converges to that Gaussian integral
    eps = np.random.default_rng(2).standard_normal((1, 200_000))
    g = gdropout_loss(w, b, X[:1], X[:1], y[:1], p, 0.0, eps)[0]
    gauss = wt @ -log_expit(y[0] * (mu[0] + np.sqrt(s2[0]) * t)) / np.sqrt(2 * np.pi)
    assert abs(g - gauss) / gauss < 0.01


@pytest.mark.parametrize("cls", [FDropoutClassifier, GDropoutClassifier])
def test_keep_probability_one_is_plain_logistic_regression(cls):
    """p = 1: no dropout, s^2 = 0, c = 1, so both objectives are sum log(1 + exp(-y (w.x + b))) +
    l2 ||w||^2, which is scikit-learn's LogisticRegression with C = 1 / (2 l2) (bias unpenalised)."""
    l2 = 0.5
    est = cls(p=1.0, l2=l2, features="binary", max_iter=2000).fit(DOCS, LABELS)
    vec = CountVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, binary=True, ngram_range=(1, 2)
    )
    F = vec.fit_transform(DOCS)
    ref = LogisticRegression(C=1 / (2 * l2), tol=1e-10, max_iter=10_000).fit(F, LABELS)
    test = ["good fun film", "bad bad acting", "not good acting", "unseen words only"]
    np.testing.assert_allclose(est.coef_[0], ref.coef_[0], atol=1e-4)
    np.testing.assert_allclose(
        est.decision_function(test), ref.decision_function(vec.transform(test)), atol=1e-4
    )
    np.testing.assert_allclose(est.predict_proba(test), ref.predict_proba(vec.transform(test)), atol=1e-4)


def test_nb_features_scale_by_the_log_count_ratio():
    est = FDropoutClassifier(features="nb", l2=0.01).fit(DOCS, LABELS)
    vec = CountVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, binary=True, ngram_range=(1, 2)
    )
    Xb = vec.fit_transform(DOCS).toarray()
    p, q = 1 + Xb[LABELS == 1].sum(0), 1 + Xb[LABELS == 0].sum(0)
    np.testing.assert_allclose(est.scale_[0], np.log((p / p.sum()) / (q / q.sum())), atol=1e-12)
    assert est.score(DOCS, LABELS) == 1.0


@pytest.mark.parametrize("cls", [FDropoutClassifier, GDropoutClassifier])
def test_estimator_conventions(cls):
    est = cls(p=0.5, l2=0.1, features="binary")
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.predict(["good"])
    assert est.fit(DOCS, LABELS) is est
    assert est.score(DOCS, LABELS) == 1.0
    proba = est.predict_proba(["good fun", "bad plot"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 1] > 0.5 > proba[1, 1]
    again = pickle.loads(pickle.dumps(est))
    state = cls.from_state(est.get_state())
    for other in (again, state):
        np.testing.assert_allclose(other.predict_proba(DOCS), est.predict_proba(DOCS))
    # three classes: one-vs-rest
    y3 = np.array(["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"])
    est3 = cls(p=0.5, l2=0.01, features="binary").fit(DOCS, y3)
    assert est3.predict_proba(DOCS).shape == (10, 3) and est3.score(DOCS, y3) == 1.0


@pytest.mark.parametrize(
    "kw, name",
    [({"p": 0.0}, "p"), ({"p": 1.5}, "p"), ({"l2": -1}, "l2"), ({"features": "tfidf"}, "features")],
)
def test_bad_parameters_name_themselves(kw, name):
    with pytest.raises(ParameterError) as e:
        FDropoutClassifier(**kw).fit(DOCS, LABELS)
    assert e.value.parameter == name
    with pytest.raises(ParameterError) as e:
        GDropoutClassifier(samples=0).fit(DOCS, LABELS)
    assert e.value.parameter == "samples"


def test_g_dropout_is_deterministic_given_its_seed():
    kw = dict(p=0.5, l2=0.1, features="binary")
    a = GDropoutClassifier(seed=3, **kw).fit(DOCS, LABELS).coef_
    np.testing.assert_array_equal(a, GDropoutClassifier(seed=3, **kw).fit(DOCS, LABELS).coef_)
    assert not np.allclose(a, GDropoutClassifier(seed=4, **kw).fit(DOCS, LABELS).coef_)


@pytest.mark.parametrize("model", ["f-dropout", "g-dropout"])
def test_cli_train_then_predict(tmp_path, capsys, model):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(90):
        label = "pos" if i % 2 else "neg"
        cue = rng.choice(["great", "superb"] if i % 2 else ["awful", "dull"])
        words = list(rng.choice([f"w{j}" for j in range(20)], size=4)) + [str(cue)]
        lines.append(f"{label}\t{' '.join(words)}")
    data = tmp_path / "toy.tsv"
    data.write_text("\n".join(lines) + "\n")
    run = tmp_path / "run"
    assert main(["classify", "train", str(data), "-o", str(run), "--model", model, "--folds", "3"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == model and metrics["folds"] == 3 and metrics["accuracy"] > 0.95
    capsys.readouterr()
    assert main(["classify", "predict", str(run), "a superb w3", "dull w1 w2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pos\t") and out[1].startswith("neg\t")


@pytest.mark.parametrize("cls", [FDropoutClassifier, GDropoutClassifier])
def test_settings_left_as_none_are_chosen_on_a_held_out_tenth(cls):
    """The choice is the grid setting with the best accuracy on stratified_folds(y, 10, 1)[0]'s
    held-out part, each trained on the rest (replayed here setting by setting); given settings stay."""
    from seqlab.classify.data import stratified_folds

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    X = [" ".join(rng.choice(words, 4)) + (" good" if i % 3 else " bad") for i in range(80)]
    y = np.array([1 if i % 3 and rng.random() < 0.9 else 0 for i in range(80)])
    est = cls().fit(X, y)
    tr, va = stratified_folds(y, 10, 1)[0]
    Xa = np.asarray(X, dtype=object)
    scores = {}
    for f, p, l2 in itertools.product(("binary", "nb"), (0.5, 0.8, 0.9), (0.1, 1.0, 0.01, 0.03)):
        ref = cls(features=f, p=p, l2=l2).fit(list(Xa[tr]), y[tr])
        scores[(f, p, l2)] = ref.score(list(Xa[va]), y[va])
    assert dict(est.selection_) == scores
    best = max(scores.values())
    assert (est.features_, est.p_, est.l2_) == next(k for k, v in scores.items() if v == best)
    fixed = cls(p=0.8, features="nb").fit(X, y)
    assert fixed.p_ == 0.8 and fixed.features_ == "nb" and len(fixed.selection_) == 4
    # the chosen settings travel with the state
    again = cls.from_state(est.get_state())
    assert (again.features_, again.p_, again.l2_) == (est.features_, est.p_, est.l2_)
    np.testing.assert_allclose(again.predict_proba(X), est.predict_proba(X))
