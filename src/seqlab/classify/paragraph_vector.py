"""The lecture table's Paragraph-Vec row (Le and Mikolov 2014, "Distributed Representations of
Sentences and Documents"), as Mesnil et al. (2014, "Ensemble of Generative and Discriminative
Techniques for Sentiment Analysis of Movie Reviews") ran it: a vector for every training sentence
from seqlab.Doc2Vec, then a logistic regression on those vectors.

    fit(X, y):   Doc2Vec on the training sentences (tag = the sentence's row), then
                 LogisticRegression on model.dv, its C chosen by 5-fold CV on the training
                 vectors (never on test or dev)
    predict(X):  infer_vector for each sentence (a fresh vector trained with the rest frozen),
                 then the logistic regression; test sentences are never trained on

Defaults are Mesnil et al.'s word2vec -sentence-vectors run (PV-DBOW with skip-gram words,
100 dimensions, window 10, negative 5, sample 1e-4, 20 epochs, min_count 1). The paper's
numbers (SST-1 48.7, SST-2 87.8) were not reproduced by others; see docs/classify.md.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from seqlab.classify.inputs import as_texts, check_classes, check_fit_data
from seqlab.errors import ParameterError, check_at_least

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


class ParagraphVectorClassifier(ClassifierMixin, BaseEstimator):
    """Doc2Vec sentence vectors + logistic regression. dm: 0 PV-DBOW (with dbow_words, word
    vectors trained by skip-gram beside it), 1 PV-DM mean; infer_epochs: inference passes per
    test sentence (None: `epochs`); workers: threads (0: all cores)."""

    def __init__(
        self,
        vector_size: int = 100,
        dm: int = 0,
        dbow_words: int = 1,
        window: int = 10,
        negative: int = 5,
        sample: float = 1e-4,
        epochs: int = 20,
        min_count: int = 1,
        infer_epochs: int | None = None,
        seed: int = 0,
        workers: int = 0,
    ):
        self.vector_size, self.dm, self.dbow_words, self.window = vector_size, dm, dbow_words, window
        self.negative, self.sample, self.epochs, self.min_count = negative, sample, epochs, min_count
        self.infer_epochs, self.seed, self.workers = infer_epochs, seed, workers

    def _doc2vec_options(self) -> dict:
        check_at_least(self, 1, "vector_size", "window", "epochs", "min_count")
        if self.infer_epochs is not None and self.infer_epochs < 1:
            raise ParameterError("infer_epochs", f"must be at least 1, got {self.infer_epochs}")
        return dict(
            vector_size=self.vector_size, dm=self.dm, dbow_words=self.dbow_words, window=self.window,
            negative=self.negative, sample=self.sample, epochs=self.epochs, min_count=self.min_count,
            seed=self.seed + 1, workers=self.workers, alpha=0.025,
        )  # fmt: skip

    def _train_vectors(self, sentences: list[list[str]]):
        """(the model that infers, the training sentences' vectors)."""
        from seqlab.embeddings.doc2vec import Doc2Vec, TaggedDocument

        docs = [TaggedDocument(s, [k]) for k, s in enumerate(sentences)]
        model = Doc2Vec(docs, **self._doc2vec_options())
        return model, model.dv.vectors[: len(docs)]

    def _infer(self, model, sentences: list[list[str]]) -> np.ndarray:
        return model.infer_vectors(sentences, epochs=self.infer_epochs or self.epochs)

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        self._doc2vec_options()  # every setting checked before any training
        texts, y = check_fit_data(X, y)
        self.classes_ = check_classes(y)
        self.doc2vec_, vectors = self._train_vectors([t.split() for t in texts])
        folds = int(min(5, np.bincount(np.searchsorted(self.classes_, y)).min()))
        cv = StratifiedKFold(max(folds, 2), shuffle=True, random_state=self.seed)
        search = GridSearchCV(LogisticRegression(max_iter=2000), {"C": list(C_GRID)}, cv=cv)
        self.logistic_ = search.fit(vectors, y).best_estimator_
        return self

    def transform(self, X) -> np.ndarray:
        """The sentences' inferred vectors, (N, vector_size)."""
        check_is_fitted(self, "logistic_")
        return self._infer(self.doc2vec_, [t.split() for t in as_texts(X)])

    def predict_proba(self, X) -> np.ndarray:
        vectors = self.transform(X)  # NotFittedError before fit
        return self.logistic_.predict_proba(vectors)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # NotFittedError before fit
        return self.classes_[proba.argmax(axis=1)]

    def get_state(self) -> dict:
        """Plain arrays and lists: what inference needs of the Doc2Vec, and the regression."""
        check_is_fitted(self, "logistic_")
        m, lr = self.doc2vec_, self.logistic_
        return {
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "words": list(m.wv.index_to_key),
            "counts": np.asarray(m.wv.expandos["count"]),
            "syn0": m.wv.vectors,
            "syn1neg": m.syn1neg,
            "coef": lr.coef_,
            "intercept": lr.intercept_,
            "C": float(lr.C),
        }

    @classmethod
    def from_state(cls, state: dict) -> ParagraphVectorClassifier:
        from sklearn.linear_model import LogisticRegression

        from seqlab.embeddings.doc2vec import Doc2Vec
        from seqlab.embeddings.word2vec_vocab import new_vectors, sample_thresholds

        est = cls(**state["params"])
        est.classes_ = np.asarray(state["classes"])
        model = Doc2Vec(**est._doc2vec_options())
        counts = np.asarray(state["counts"], dtype=np.int64)
        model.wv = new_vectors(list(state["words"]), counts, est.vector_size)
        model.wv.expandos["sample_int"] = sample_thresholds(counts, est.sample)
        model.wv.vectors = np.ascontiguousarray(np.asarray(state["syn0"], dtype=np.float32))
        model.syn1neg = np.ascontiguousarray(np.asarray(state["syn1neg"], dtype=np.float32))
        est.doc2vec_ = model
        lr = LogisticRegression(C=state["C"])
        lr.classes_ = est.classes_
        lr.coef_ = np.asarray(state["coef"], dtype=np.float64)
        lr.intercept_ = np.asarray(state["intercept"], dtype=np.float64)
        est.logistic_ = lr
        return est
