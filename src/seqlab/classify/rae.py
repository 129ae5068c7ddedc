"""The lecture table's RAE row: semi-supervised recursive autoencoder features (Socher et al. 2011,
seqlab.models.rae) under a logistic regression, as the authors' code (codeDataMoviesEMNLP) does.

fit: (1) train the RAE on the sentences and labels: random d = 50 word vectors, alpha = 0.2,
beta = 0.5, the authors' L2 weights lambda_W = 1e-5 (encoder, decoder), lambda_L = 1e-4 (words),
lambda_cat = 1e-7 (node classifier) on the mean loss over sentences; each batch's trees are rebuilt
greedily with the current weights before its gradient step, as each of the authors' cost
evaluations did. They ran 70 full-batch L-BFGS iterations; here Adam on batches of `batch_size`
length-sorted sentences (an L-BFGS evaluation and an epoch cost the same tree search, and batches
reach a good point in far fewer passes on 2 cores), for at most `epochs` epochs, keeping the epoch
whose features score best on a held-out 10% of the training data (the other classifiers' dev
protocol) and stopping `patience` epochs after it. (2) Features [top node; mean of all nodes]
(2d) of every training sentence on its greedy tree, and an L2 logistic regression on them (`C`,
scikit-learn's lbfgs).

Unknown words at prediction share one vector (id 0, never trained). X: sentences or token lists,
y: labels (seqlab.classify.inputs); NotFittedError before `fit`; state for checkpoints is
tensors, NumPy arrays, lists and strings (`get_state` / `from_state`); the estimator pickles.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from seqlab.classify.inputs import as_texts, check_classes, check_fit_data
from seqlab.errors import check_at_least, check_positive, check_range
from seqlab.models.rae import RAE, RAEConfig

UNK = "<unk>"
LAMBDA_W, LAMBDA_L, LAMBDA_CAT = 1e-5, 1e-4, 1e-7  # the authors' params.lambda


class RAEClassifier(ClassifierMixin, BaseEstimator):
    """RAE features + logistic regression. `dim`: d; `alpha`: weight of reconstruction against
    cross-entropy; `beta`: weight of the parents' cross-entropy against the words'; `epochs`:
    maximum epochs of Adam (`lr`, batches of `batch_size`), the epoch best on a stratified
    `dev_fraction` of the training data kept, training stopped after `patience` epochs without
    a better one (dev_fraction 0: all `epochs`, no dev); `C`: inverse L2 strength of the final
    logistic regression; `seed`: initialisation, dev split and batch order; `num_threads`: torch
    CPU threads (None: leave as set)."""

    def __init__(
        self,
        dim: int = 50,
        alpha: float = 0.2,
        beta: float = 0.5,
        epochs: int = 10,
        batch_size: int = 50,
        lr: float = 3e-3,
        C: float = 10.0,
        dev_fraction: float = 0.1,
        patience: int = 2,
        seed: int = 0,
        num_threads: int | None = None,
    ):
        self.dim = dim
        self.alpha = alpha
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.C = C
        self.dev_fraction = dev_fraction
        self.patience = patience
        self.seed = seed
        self.num_threads = num_threads

    def _check(self) -> None:
        check_at_least(self, 1, "dim", "epochs", "batch_size", "patience", "num_threads")
        check_at_least(self, 0, "seed")
        check_range(self, "alpha", 0, 1, closed=True)
        check_range(self, "beta", 0, 1, closed=True)
        check_range(self, "dev_fraction", 0, 1)
        check_positive(self, "lr", "C")

    def fit(self, X, y):
        self._check()
        X, y = check_fit_data(X, y)
        self.classes_ = check_classes(y)
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        torch.manual_seed(self.seed)
        sents = [s.split() for s in X]
        target = torch.as_tensor(np.searchsorted(self.classes_, y))  # (N,)
        train, dev = self._split(target.numpy())
        counts = Counter(w for i in train for w in sents[i])  # dev words are unknown, as test words
        self.vocab_ = [UNK] + sorted(counts, key=lambda w: (-counts[w], w))
        self._index = {w: i for i, w in enumerate(self.vocab_)}
        cfg = RAEConfig(len(self.vocab_), len(self.classes_), self.dim, self.alpha, self.beta)
        self.model_ = RAE(cfg)
        with torch.no_grad():
            self.model_.embedding.weight[0].zero_()
        self._train(sents, target, train, dev)
        self.logreg_ = self._logreg(self._sentence_features(sents), target.numpy())
        return self

    def _split(self, target: np.ndarray) -> tuple[list[int], list[int]]:
        """Stratified train / dev indices (no dev where dev_fraction is 0 or a class is too small)."""
        n_dev = int(round(self.dev_fraction * len(target)))
        if n_dev < len(self.classes_) or np.bincount(target).min() < 2:
            return list(range(len(target))), []
        from sklearn.model_selection import train_test_split

        tr, dv = train_test_split(
            np.arange(len(target)), test_size=n_dev, stratify=target, random_state=self.seed
        )
        return sorted(tr.tolist()), sorted(dv.tolist())

    def _logreg(self, feats: np.ndarray, target: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=self.C, max_iter=1000).fit(feats, target)

    def _train(self, sents, target: torch.Tensor, train: list[int], dev: list[int]) -> None:
        """Adam over length-sorted batches, each batch's trees rebuilt under the current weights;
        after each epoch the logistic regression on the train part's features scores the dev part."""
        model = self.model_
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        batches = self._batches([sents[i] for i in train])
        tr_target = target[train]
        self.history_, best, self.best_epoch_ = [], -1.0, self.epochs
        best_state = None
        for epoch in range(1, self.epochs + 1):
            model.train()
            total = 0.0
            for b in torch.randperm(len(batches), generator=gen).tolist():
                idx, ids, lengths = batches[b]
                merges = model.search(ids, lengths)  # greedy trees under the current weights
                loss = model.loss(ids, lengths, merges, tr_target[idx]) + _l2(model)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            record = {"epoch": epoch, "loss": total / len(train)}
            if dev:
                lr = self._logreg(self._sentence_features([sents[i] for i in train]), tr_target.numpy())
                acc = lr.score(self._sentence_features([sents[i] for i in dev]), target[dev].numpy())
                record["dev_accuracy"] = float(acc)
                if acc > best:
                    best, self.best_epoch_ = acc, epoch
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
            self.history_.append(record)
            if dev and epoch - self.best_epoch_ >= self.patience:
                break
        if best_state is not None:
            model.load_state_dict(best_state)

    def _batches(self, sents):
        """Length-sorted batches: (indices, ids (B, L), lengths (B,)) each."""
        order = sorted(range(len(sents)), key=lambda i: len(sents[i]))
        out = []
        for k in range(0, len(order), self.batch_size):
            idx = order[k : k + self.batch_size]
            out.append((torch.tensor(idx), *self._encode([sents[i] for i in idx])))
        return out

    def _encode(self, sents):
        L = max(1, max(len(s) for s in sents))
        ids = torch.zeros(len(sents), L, dtype=torch.long)
        for r, s in enumerate(sents):
            ids[r, : len(s)] = torch.tensor([self._index.get(w, 0) for w in s] or [0])[: len(s)]
        lengths = torch.tensor([max(1, len(s)) for s in sents])  # an empty sentence is one unknown word
        return ids, lengths

    def _sentence_features(self, sents) -> np.ndarray:
        feats = np.zeros((len(sents), 2 * self.dim), dtype=np.float64)
        self.model_.eval()
        for idx, ids, lengths in self._batches(sents):
            feats[idx.numpy()] = self.model_.features(ids, lengths).double().numpy()
        return feats

    def transform(self, X) -> np.ndarray:
        """(N, 2d) RAE features [top node; mean of all nodes] of each sentence's greedy tree."""
        check_is_fitted(self, ("classes_", "model_"))
        if not hasattr(self, "_index"):
            self._index = {w: i for i, w in enumerate(self.vocab_)}
        return self._sentence_features([s.split() for s in as_texts(X)])

    def predict_proba(self, X) -> np.ndarray:
        feats = self.transform(X)  # NotFittedError before fit
        return self.logreg_.predict_proba(feats)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # NotFittedError first
        return self.classes_[proba.argmax(axis=1)]

    def get_state(self) -> dict:
        return {
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "vocab": list(self.vocab_),
            "config": self.model_.cfg.to_dict(),
            "weights": {k: v.detach().clone() for k, v in self.model_.state_dict().items()},
            "logreg_coef": self.logreg_.coef_,
            "logreg_intercept": self.logreg_.intercept_,
        }

    @classmethod
    def from_state(cls, state: dict) -> RAEClassifier:
        est = cls(**state["params"])
        est.classes_ = np.asarray(state["classes"])
        est.vocab_ = list(state["vocab"])
        est.model_ = RAE(RAEConfig.from_dict(state["config"]))
        est.model_.load_state_dict(state["weights"])
        est.logreg_ = LogisticRegression(C=est.C)
        est.logreg_.classes_ = np.arange(len(est.classes_))
        est.logreg_.coef_ = np.asarray(state["logreg_coef"], dtype=np.float64)
        est.logreg_.intercept_ = np.asarray(state["logreg_intercept"], dtype=np.float64)
        return est


def _l2(model: RAE) -> torch.Tensor:
    """The authors' lambda/2 ||.||^2 per weight group (biases unregularised)."""
    return 0.5 * (
        LAMBDA_W * (model.encoder.weight.pow(2).sum() + model.decoder.weight.pow(2).sum())
        + LAMBDA_L * model.embedding.weight.pow(2).sum()
        + LAMBDA_CAT * model.classifier.weight.pow(2).sum()
    )
