"""The neural estimators share one list of training parameters, and scikit-learn still sees each one."""

from __future__ import annotations

import pickle

import pytest
from sklearn.base import clone

from seqlab.classify.estimators import CNNClassifier, CNNRNNClassifier, DCNNClassifier, RNNClassifier
from seqlab.classify.torch_classifier import TRAINING_PARAMS, estimator_params

ESTIMATORS = (CNNClassifier, RNNClassifier, CNNRNNClassifier, DCNNClassifier)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_get_params_lists_own_and_shared_parameters(cls):
    params = cls().get_params()
    assert set(TRAINING_PARAMS) <= set(params)
    assert len(params) > len(TRAINING_PARAMS)  # and the estimator's own
    changed = {k: v for k, v in params.items() if k in TRAINING_PARAMS and v != TRAINING_PARAMS[k]}
    expected = {
        RNNClassifier: {"optimizer": "adam", "lr": 1e-3},
        CNNRNNClassifier: {"optimizer": "adam", "lr": 1e-3},
        DCNNClassifier: {"optimizer": "adagrad", "lr": 0.05, "max_norm": 0.0},
    }.get(cls, {})
    assert changed == expected


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_clone_set_params_and_pickle_keep_every_value(cls):
    est = cls(epochs=3, seed=7, batch_size=9)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    twin.set_params(lr=0.5, dropout=0.1)
    assert (twin.lr, twin.dropout, est.lr) == (0.5, 0.1, cls().lr)
    assert pickle.loads(pickle.dumps(est)).get_params() == est.get_params()


def test_positional_arguments_bind_in_order_and_unknown_names_fail():
    assert CNNClassifier("static").variant == "static"
    assert RNNClassifier("gru", True).bidirectional is True
    with pytest.raises(TypeError):
        CNNClassifier(epoch=3)  # a typo is an error, as in scikit-learn
    with pytest.raises(TypeError):
        estimator_params({}, learning_rate=0.1)  # only shared parameters can be re-defaulted
    assert "epochs=3" in repr(CNNClassifier(epochs=3)) and "lr" not in repr(CNNClassifier(epochs=3))
