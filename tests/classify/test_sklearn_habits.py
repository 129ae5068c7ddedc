"""Every classifier keeps scikit-learn's habits (issue 25): NotFittedError before fit, ValueError on
bad X/y, token lists as X, pickle/joblib round trips, clone, Pipeline and GridSearchCV(n_jobs=2);
and their parameter errors name Python parameters."""

from __future__ import annotations

import functools
import os
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from seqlab.classify.baselines import MNBClassifier, NBSVMClassifier
from seqlab.classify.estimators import CNNClassifier, CNNRNNClassifier, DCNNClassifier, RNNClassifier
from seqlab.errors import ParameterError, SeqlabError

TINY = dict(epochs=2, batch_size=16, seed=0)
FACTORIES = {  # tiny settings: these tests are about the estimator's surface, not its accuracy
    "cnn": lambda: CNNClassifier(embedding_dim=8, num_filters=4, filter_widths=(2, 3), **TINY),
    "rnn": lambda: RNNClassifier(hidden_size=8, embedding_dim=8, **TINY),
    "cnn-rnn": lambda: CNNRNNClassifier(
        hidden_size=4, embedding_dim=8, num_filters=4, filter_widths=(2, 3), **TINY
    ),
    "dcnn": lambda: DCNNClassifier(embedding_dim=8, **TINY),
    "nbsvm": lambda: NBSVMClassifier(),
    "mnb": lambda: MNBClassifier(),
}
ALL = pytest.mark.parametrize("name", list(FACTORIES))


def toy(n=80, seed=0):
    """Filler words and one cue word per class ("yes"/"no" labels, strings as a user's would be)."""
    rng = np.random.default_rng(seed)
    cues = {"yes": ["great", "superb"], "no": ["awful", "dull"]}
    X, y = [], []
    for i in range(n):
        label = "yes" if i % 2 else "no"
        words = [f"w{j}" for j in rng.integers(0, 20, size=rng.integers(2, 7))]
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cues[label])))
        X.append(" ".join(words))
        y.append(label)
    return X, np.array(y)


def fitted(name, X=None, y=None):
    np.random.seed(0)  # LinearSVC (NBSVM) draws its coordinate order from NumPy's global state
    if X is None:
        X, y = toy()
    return FACTORIES[name]().fit(X, y)


@ALL
def test_before_fit_every_prediction_is_not_fitted_error(name):
    est = FACTORIES[name]()
    X, y = toy(10)
    calls = [est.predict, est.predict_proba, lambda X: est.score(X, y)]
    if hasattr(est, "decision_function"):
        calls.append(est.decision_function)
    for call in calls:
        with pytest.raises(NotFittedError, match="not fitted"):
            call(X)


@ALL
def test_bad_x_and_y_are_value_errors_before_any_training(name):
    est = FACTORIES[name]()
    X, y = toy(12)
    cases = [
        ((X, y[:-1]), r"y has 11 labels but X has 12 sentences"),
        (([], []), r"X is empty"),
        (("one sentence", ["yes"]), r"not one string"),
        (([1, 2], ["a", "b"]), r"item 0 is int"),
        ((X, ["yes"] * 12), r"y holds one class \('yes'\).*at least two classes"),
        ((X, np.zeros((12, 2))), r"y must be one label per sentence"),
    ]
    for (bad_X, bad_y), match in cases:
        with pytest.raises(ValueError, match=match) as e:
            est.fit(bad_X, bad_y)
        assert isinstance(e.value, ParameterError) and isinstance(e.value, SeqlabError)
        assert not hasattr(est, "classes_")  # refused before anything was fitted


@ALL
def test_token_lists_fit_and_predict_as_the_joined_strings(name):
    X, y = toy()
    Xt, _ = toy(30, seed=1)
    tokens, tokens_t = [s.split() for s in X], [tuple(s.split()) for s in Xt]
    from_strings, from_tokens = fitted(name, X, y), fitted(name, tokens, y)
    expected = from_strings.predict(Xt)
    assert from_tokens.predict(tokens_t).tolist() == expected.tolist()
    assert from_strings.predict(tokens_t).tolist() == expected.tolist()
    np.testing.assert_allclose(from_tokens.predict_proba(Xt), from_strings.predict_proba(Xt), atol=1e-6)


def test_token_lists_that_whitespace_would_not_give_back_are_refused():
    est = MNBClassifier()
    for bad, match in (
        ([["new york", "is", "big"], ["no"]], r"item 0: token 'new york'.*whitespace"),
        ([["a", ""], ["b"]], r"item 0: token ''"),
        ([["a", 3], ["b"]], r"item 0 is a token list holding int"),
    ):
        with pytest.raises(ValueError, match=match):
            est.fit(bad, ["x", "y"])


@ALL
def test_pickle_and_joblib_round_trips_predict_identically(name, tmp_path):
    est = fitted(name)
    Xt, _ = toy(40, seed=2)
    proba, labels = est.predict_proba(Xt), est.predict(Xt)
    joblib.dump(est, tmp_path / "model.joblib")
    for back in (pickle.loads(pickle.dumps(est)), joblib.load(tmp_path / "model.joblib")):
        assert type(back) is type(est) and back.get_params() == est.get_params()
        np.testing.assert_array_equal(back.predict_proba(Xt), proba)
        assert back.predict(Xt).tolist() == labels.tolist()


@ALL
def test_scikit_learn_conventions(name):
    est = FACTORIES[name]()
    params = est.get_params()
    assert set(vars(est)) == set(params)  # __init__ stores its parameters and nothing else
    X, y = toy()
    np.random.seed(0)
    assert est.fit(X, y) is est
    assert est.get_params() == params  # fit leaves the parameters alone
    assert est.classes_.tolist() == ["no", "yes"]
    assert set(est.predict(X[:10])) <= {"no", "yes"}
    assert est.predict_proba(X[:5]).shape == (5, 2) and est.predict_proba([]).shape == (0, 2)
    twin = clone(est)
    assert twin.get_params() == params
    with pytest.raises(NotFittedError):
        twin.predict(X[:2])  # a clone is a fresh, unfitted estimator


def lowercase(texts):
    return [t.lower() for t in texts]


def record_threads(folder, event, **fields):
    """A callback that notes, per process, how many threads torch uses while it trains."""
    import torch

    if event == "epoch":
        with open(os.path.join(folder, f"{os.getpid()}.txt"), "w") as f:
            f.write(str(torch.get_num_threads()))


def test_pipeline_and_grid_search_in_two_processes(tmp_path):
    X, y = toy(120)
    X = [s.upper() if i % 3 == 0 else s for i, s in enumerate(X)]  # the pipeline's step undoes this
    pipe = Pipeline(
        [
            ("lower", FunctionTransformer(lowercase)),
            (
                "cnn",
                CNNClassifier(
                    embedding_dim=8,
                    filter_widths=(2,),
                    epochs=6,
                    batch_size=16,
                    optimizer="adam",
                    lr=0.05,
                    callback=functools.partial(record_threads, str(tmp_path)),
                ),
            ),
        ]
    )
    grid = GridSearchCV(pipe, {"cnn__num_filters": [4, 8]}, cv=2, n_jobs=2).fit(X, y)
    assert len(grid.cv_results_["params"]) == 2
    assert grid.best_score_ > 0.8  # the cue words are learnable; chance is 0.5
    assert grid.best_estimator_.predict(["GREAT w1 w2", "w3 DULL"]).tolist() == ["yes", "no"]
    workers = {p.stem for p in tmp_path.glob("*.txt")} - {str(os.getpid())}
    assert workers, "no fit ran in a worker process"
    # joblib gives each of its n_jobs workers cores / n_jobs threads, and torch takes them
    limit = int(os.environ.get("OMP_NUM_THREADS") or max(1, joblib.cpu_count() // 2))
    assert all(int((tmp_path / f"{w}.txt").read_text()) <= limit for w in workers)


@pytest.mark.parametrize(
    "make, parameter",
    [
        (lambda: CNNClassifier(epochs=0), "epochs"),
        (lambda: CNNClassifier(lr=-1.0), "lr"),
        (lambda: RNNClassifier(optimizer="sgd"), "optimizer"),
        (lambda: DCNNClassifier(batch_size=0), "batch_size"),
        (lambda: CNNClassifier(num_threads=-1), "num_threads"),
        (lambda: CNNClassifier(dev_fraction=1.5), "dev_fraction"),
        (lambda: CNNClassifier(variant="random"), "variant"),
        (lambda: CNNClassifier(variant="static"), "vectors"),
        (lambda: NBSVMClassifier(C=0), "C"),
        (lambda: NBSVMClassifier(calibration_folds=1), "calibration_folds"),
        (lambda: MNBClassifier(ngram_max=0), "ngram_max"),
    ],
)
def test_parameter_errors_name_the_python_parameter(make, parameter):
    X, y = toy(20)
    with pytest.raises(ParameterError) as e:
        make().fit(X, y)
    assert e.value.parameter == parameter and str(e.value).startswith(parameter + " ")
    assert "--" not in str(e.value)  # flags are the CLI's business
