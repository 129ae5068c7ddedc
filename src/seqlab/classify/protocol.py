"""Kim's evaluation protocol, decided in one place for `classify train`, `classify table` and Python.

A set with a fixed test split (SST-1, SST-2, TREC) trains on its training part, with its standard
dev set where it has one (SST; else the estimator holds out 10% of the training part), and is
scored on the test part: one unit. A set without (MR, Subj, CR, MPQA, a user's file) is scored by
stratified k-fold cross-validation with a fixed seed: k units, each trained on k-1 folds (the
estimator holds out its own 10% dev part) and scored on the remaining fold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from seqlab.classify.data import SentenceDataset, stratified_folds


@dataclass
class Unit:
    """One fold, or the test split: what to train on and what to score."""

    index: int
    units: int
    X_train: list[str]
    y_train: np.ndarray
    X_test: list[str]
    y_test: np.ndarray
    X_dev: list[str] | None = None
    y_dev: np.ndarray | None = None

    @property
    def name(self) -> str:
        return "test split" if self.units == 1 else f"fold {self.index + 1} of {self.units}"


def protocol_name(ds: SentenceDataset, folds: int) -> str:
    return f"{folds}-fold stratified CV" if ds.cv else "test split"


def units(ds: SentenceDataset, folds: int = 10, seed: int = 0) -> Iterator[Unit]:
    """The protocol's units for `ds`, in order (the same seed gives the same folds)."""
    if not ds.cv:
        dev = ds.dev if ds.dev is not None else (None, None)
        yield Unit(
            0, 1, list(ds.train[0]), np.asarray(ds.train[1]), list(ds.test[0]), np.asarray(ds.test[1]), *dev
        )
        return
    X = np.asarray(ds.train[0], dtype=object)
    y = np.asarray(ds.train[1])
    splits = stratified_folds(y, folds, seed)
    for k, (tr, te) in enumerate(splits):
        yield Unit(k, len(splits), list(X[tr]), y[tr], list(X[te]), y[te])


def unit_count(ds: SentenceDataset, folds: int) -> int:
    return folds if ds.cv else 1


def fit_and_score(est, unit: Unit) -> float:
    """Fit `est` on the unit's training part (with its dev set where the estimator uses one) and
    return its accuracy on the unit's test part."""
    from seqlab.classify.estimators import fit_estimator

    fit_estimator(est, unit.X_train, unit.y_train, unit.X_dev, unit.y_dev)
    return float(est.score(unit.X_test, unit.y_test))


@dataclass
class ProtocolResult:
    accuracy: float  # mean over units
    std: float  # population std over units (0 for a test split)
    accuracies: list[float]
    seconds: float
    best_unit: int  # 0-based index of the unit with the highest accuracy
    best_estimator: object = field(repr=False, default=None)
    train_examples: int = 0  # examples a unit trains on (mean over folds; where the
    # estimator holds out its own 10% dev part, they are included)


def evaluate(
    make_estimator: Callable[[], object],
    ds: SentenceDataset,
    folds: int = 10,
    seed: int = 0,
    on_unit: Callable[[Unit], None] | None = None,
) -> ProtocolResult:
    """Run every unit of the protocol with a fresh estimator from `make_estimator()`; keep the
    estimator of the best unit (the only one for a test split)."""
    t0 = time.perf_counter()
    scores, best_est, sizes = [], None, []
    for unit in units(ds, folds, seed):
        if on_unit:
            on_unit(unit)
        est = make_estimator()
        acc = fit_and_score(est, unit)
        if not scores or acc > max(scores):
            best_est = est
        scores.append(acc)
        sizes.append(len(unit.X_train))
    return ProtocolResult(
        float(np.mean(scores)),
        float(np.std(scores)),
        scores,
        time.perf_counter() - t0,
        int(np.argmax(scores)),
        best_est,
        int(round(np.mean(sizes))),
    )


def cross_validate(
    estimator, X, y, folds: int = 10, seed: int = 0, on_fold: Callable[[int, int], None] | None = None
) -> ProtocolResult:
    """Stratified k-fold CV of texts X and labels y (fixed `seed`): a fresh copy of `estimator`
    (same parameters) per fold; the estimator of the best fold is kept."""
    ds = SentenceDataset("data", tuple(str(c) for c in np.unique(y)), "kim", True, (list(X), np.asarray(y)))
    return evaluate(
        lambda: type(estimator)(**estimator.get_params()),
        ds,
        folds,
        seed,
        on_unit=(lambda u: on_fold(u.index, u.units)) if on_fold else None,
    )
