"""The training loop every neural sentence classifier shares (`TorchClassifier`), and the training
parameters they share (`TRAINING_PARAMS`), declared once and seen by scikit-learn's `get_params`.

The estimators themselves (CNN, DCNN, RNN, CNN-RNN) live in seqlab.classify.estimators.
`__init__` only stores parameters; `fit(X, y)` (X: whitespace-tokenized sentences or token lists,
y: labels; seqlab.classify.inputs) returns self and sets `classes_`, `vocab_`, `model_`,
`history_`, `best_epoch_`; then `predict`, `predict_proba`, `score` (NotFittedError before `fit`).
The neural ones train with Kim's recipe: mini-batches of 50 grouped by length
(seqlab.batching.bucket_batches), Adadelta (rho 0.95, eps 1e-6, lr 1.0), max-norm 3 on the
output rows after every update, up to 25 epochs, keeping the epoch that is best on a dev set —
`fit(X, y, X_dev, y_dev)` where there is one, else a random `dev_fraction` (10%) of X held out.
`dev_checks=k` scores the dev set k times per epoch instead (long epochs: SST's phrases).

The training parameters are checked when `fit` starts, before any work (ParameterError naming the
parameter; the network's own when its config is built). A fitted estimator pickles (pickle,
joblib; a `callback` must then be picklable too) and clones like any scikit-learn estimator. Under
joblib's process workers (`GridSearchCV(n_jobs=2)`) torch takes the threads joblib allows each
worker (cores / n_jobs), unless `num_threads` says otherwise.

Nothing here prints: progress is reported through the `callback` parameter, called as
callback("epoch", epoch=..., epochs=..., batches=...), callback("batch", loss=...),
callback("epoch_end", epoch=..., loss=..., dev_accuracy=..., dev_checks=[...], seconds=...).
"""

from __future__ import annotations

import inspect
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from seqlab.batching import bucket_batches, pad_sequences
from seqlab.classify.data import holdout_split
from seqlab.classify.inputs import as_texts, check_classes, check_fit_data
from seqlab.classify.neural_state import NeuralState
from seqlab.classify.optim import Optimizers, RowAdadelta
from seqlab.classify.pretrained import pretrained_matrix
from seqlab.distributed import current_group, wrap
from seqlab.errors import (
    ParameterError,
    SeqlabError,
    check_at_least,
    check_choice,
    check_positive,
    check_range,
)
from seqlab.models.textcnn import apply_max_norm
from seqlab.runtime import resolve_device, set_threads
from seqlab.vocab import Vocab

PAD, UNK = "<pad>", "<unk>"
OPTIMIZERS = ("adadelta", "adam", "adagrad")
FITTED = ("classes_", "vocab_", "model_")  # what predict needs (sklearn's check_is_fitted)

# The training parameters of every neural estimator, with Kim's recipe as the defaults; an estimator
# lists its own parameters and may change these defaults (`estimator_params`).
TRAINING_PARAMS = dict(
    max_norm=3.0,  # max L2 norm of each output row, enforced after every update (0 = off)
    optimizer="adadelta",  # adadelta (Kim) | adam | adagrad
    lr=1.0,  # the optimizer's learning rate
    batch_size=50,  # sentences per update, grouped by length
    epochs=25,  # passes over the training set; the best dev point is kept
    dev_fraction=0.1,  # share of X held out as the dev set when fit gets none
    dev_checks=1,  # dev-set scorings per epoch (long epochs: SST's phrases)
    seed=0,  # initialisation, dev split and batch order
    num_threads=None,  # torch threads (None or 0: torch's default)
    callback=None,  # progress events: callback(event, **fields), see the module docstring
    device="auto",  # auto (cuda when present) | cpu | cuda; the fitted model ends on the CPU
)


def estimator_params(own: dict, **training_defaults):
    """An `__init__` that stores the estimator's `own` parameters then TRAINING_PARAMS (defaults
    overridden by `training_defaults`), with an explicit signature: scikit-learn's `get_params`,
    `clone` and `set_params` read it, positional arguments bind in that order."""
    unknown = set(training_defaults) - set(TRAINING_PARAMS)
    if unknown:
        raise TypeError(f"not training parameters: {', '.join(sorted(unknown))}")
    defaults = {**own, **TRAINING_PARAMS, **training_defaults}
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter("self", kind)]
        + [inspect.Parameter(k, kind, default=v) for k, v in defaults.items()]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def _no_callback(*args, **kw) -> None:
    pass


class TorchClassifier(NeuralState, ClassifierMixin, BaseEstimator):
    """The shared training loop; subclasses say which network to build (`_build`, `_from_config`)."""

    def _needs_vectors(self) -> bool:
        return False

    def _build(self, vocab_size: int, num_classes: int, pretrained: torch.Tensor | None, dim: int):
        raise NotImplementedError

    # -- data ---------------------------------------------------------------------------------
    def _encode(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        """Whitespace tokens -> ids (N, T_max) padded with <pad>, and the lengths (N,)."""
        stoi, unk = self.vocab_.stoi, self.vocab_.stoi[UNK]
        return pad_sequences([[stoi.get(t, unk) for t in s.split()] for s in X], self.vocab_.stoi[PAD])

    def _optimizer(self, model):
        """Adadelta (Kim) with the tuned embedding updated row-wise (RowAdadelta, same numbers), or
        Adam or Adagrad over everything (with `weight_decay` where the estimator has one: L2)."""
        name = self.optimizer
        params = [p for p in model.parameters() if p.requires_grad]
        if name == "adagrad":
            return torch.optim.Adagrad(params, lr=self.lr, weight_decay=getattr(self, "weight_decay", 0.0))
        if name == "adadelta":
            emb = model.embedding
            rowwise = None
            if emb.weight.requires_grad:
                emb.sparse = True  # sparse gradients for RowAdadelta
                rowwise = RowAdadelta(emb.weight, lr=self.lr, rho=0.95, eps=1e-6)
                params = [p for p in params if p is not emb.weight]
            return Optimizers(torch.optim.Adadelta(params, lr=self.lr, rho=0.95, eps=1e-6), rowwise)
        if name == "adam":
            return torch.optim.Adam(params, lr=self.lr)
        raise ParameterError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {name!r}")

    # -- sklearn surface ----------------------------------------------------------------------
    def fit(self, X, y, X_dev=None, y_dev=None):
        """Train; keep the weights with the best dev accuracy (checked `dev_checks` times per epoch,
        evenly spaced, the last at the epoch's end). Returns self."""
        self._check_params()
        device = resolve_device(self.device)  # cpu, cuda or auto; the fitted model ends on the CPU
        X, y_idx, X_dev, y_dev = self._prepare(X, y, X_dev, y_dev)
        self.model_.to(device)
        ids, lengths = self._encode(X)
        y_t = torch.from_numpy(y_idx).to(device)
        dev = (*self._encode(X_dev), np.asarray(y_dev)) if X_dev is not None and len(X_dev) else None
        opt = self._optimizer(self.model_)
        gen = torch.Generator().manual_seed(self.seed)
        group = current_group()  # under torchrun: each rank trains on its rows of each batch
        net = wrap(self.model_, group)
        self.history_, self.best_epoch_, self.best_check_ = [], 0, None
        best = {"acc": -1.0, "state": None}

        def check(epoch: int, batch: int, batches: int) -> float | None:
            """Dev accuracy now; keep a copy of the weights when it is the best so far."""
            acc = group.agree(self._dev_accuracy(*dev)) if dev is not None else None
            if dev is None or acc > best["acc"]:
                best["acc"] = acc if dev is not None else best["acc"]
                best["state"] = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
                self.best_epoch_, self.best_check_ = epoch, round(epoch - 1 + batch / batches, 3)
            self.model_.train()
            return acc

        for epoch in range(1, self.epochs + 1):
            rec = self._train_epoch(epoch, ids, lengths, y_t, opt, gen, device, net, group, check)
            self.history_.append(rec)
            (self.callback or _no_callback)("epoch_end", **rec)
            self._end_epoch(epoch, opt)
        self.model_.load_state_dict(best["state"])
        self.model_.embedding.sparse = False
        self.model_.to("cpu")  # a fitted estimator predicts and saves on the CPU
        self.model_.eval()
        self.dev_accuracy_ = best["acc"] if dev is not None else None
        return self

    def _end_epoch(self, epoch: int, opt) -> None:
        """A hook after each epoch (the DCNN resets Adagrad's sums here)."""

    def _check_params(self) -> None:
        """The training parameters, checked before any work (the network's own are checked by its
        config when it is built); ParameterError naming the parameter."""
        check_at_least(self, 1, "epochs", "batch_size", "dev_checks")
        check_at_least(self, 0, "max_norm", "num_threads", "seed")
        check_positive(self, "lr")
        check_range(self, "dev_fraction", 0, 1)
        check_choice(self, "optimizer", OPTIMIZERS)

    def _prepare(self, X, y, X_dev, y_dev):
        """Check the data, hold out a dev part where none is given, build vocabulary and network."""
        X, y = check_fit_data(X, y)
        if X_dev is not None or y_dev is not None:
            if X_dev is None or y_dev is None:
                missing = "X_dev" if X_dev is None else "y_dev"
                raise ParameterError(missing, "is missing: a dev set needs both X_dev and y_dev")
            X_dev, y_dev = as_texts(X_dev, "X_dev"), np.asarray(y_dev)
            if len(X_dev) != len(y_dev):
                raise ParameterError("y_dev", f"has {len(y_dev)} labels but X_dev has {len(X_dev)} sentences")
        self.classes_ = check_classes(y)
        set_threads(self.num_threads)
        torch.manual_seed(self.seed)
        y_idx = np.searchsorted(self.classes_, y)
        if X_dev is None and self.dev_fraction and len(X) >= 10:
            tr, dv = holdout_split(len(X), self.dev_fraction, self.seed)
            X_dev, y_dev = [X[i] for i in dv], y[dv]
            X, y_idx = [X[i] for i in tr], y_idx[tr]
        self.vocab_ = Vocab.from_iterable((t for s in X for t in s.split()), specials=[PAD, UNK], unk=UNK)
        pretrained, dim = None, self.embedding_dim
        if self._needs_vectors():
            kv = self._load_vectors()
            if dim is not None and dim != max(kv.vector_size, getattr(self, "min_width", 0) or 0):
                raise SeqlabError(f"the vectors have dimension {kv.vector_size} but embedding_dim is {dim}")
            mat, self.vectors_found_ = pretrained_matrix(
                self.vocab_.itos,
                kv,
                self.seed,
                getattr(self, "unknown_init", "matched"),
                getattr(self, "vector_std", None),
            )
            extra = max(0, (getattr(self, "min_width", 0) or 0) - kv.vector_size)
            if extra:  # random dimensions beside the pretrained ones, up to min_width
                rng = np.random.default_rng(self.seed + 1)
                mat = np.concatenate([mat, rng.uniform(-0.25, 0.25, (len(mat), extra)).astype(np.float32)], 1)
            pretrained, dim = torch.from_numpy(mat), kv.vector_size + extra
        self.model_ = self._build(len(self.vocab_), len(self.classes_), pretrained, dim or 300)
        return X, y_idx, X_dev, y_dev

    def _train_epoch(self, epoch, ids, lengths, y_t, opt, gen, device, net, group, check) -> dict:
        """One pass of Kim's recipe over length buckets of `batch_size`; max-norm after each update;
        `check` (dev accuracy, best weights kept) after the batches that end each of the epoch's
        `dev_checks` parts. Every rank draws the same batches and trains on its block of each
        batch's rows, its summed loss scaled so DDP's mean of the gradients is the global batch's."""
        t0 = time.perf_counter()
        cb = self.callback or _no_callback
        self.model_.train()
        batches = bucket_batches(lengths, self.batch_size, gen, pool=20)
        n = len(batches)
        k = max(1, min(self.dev_checks, n))
        checkpoints = {-(-n * j // k) for j in range(1, k + 1)}  # ceil(n j / k), ends at n
        cb("epoch", epoch=epoch, epochs=self.epochs, batches=n)
        total, seen, dev_accs, check_seconds = 0.0, 0, [], 0.0
        for i, rows in enumerate(batches, 1):
            T = max(1, int(lengths[rows].max()))  # the global batch's width
            mine = rows[group.shard(len(rows))]
            xb = ids[mine, :T].to(device)  # (B/N, T)
            loss_sum = F.cross_entropy(net(xb), y_t[mine.to(device)], reduction="sum")  # logits (B/N, C)
            opt.zero_grad()
            (loss_sum * (group.world_size / len(rows))).backward()
            opt.step()
            if self.max_norm:
                apply_max_norm(self.model_.fc, self.max_norm)
            batch_loss = group.totals(float(loss_sum.detach()))[0] / len(rows)
            total += batch_loss * len(rows)
            seen += len(rows)
            cb("batch", loss=batch_loss)
            if i in checkpoints:
                tc = time.perf_counter()
                dev_accs.append(check(epoch, i, n))
                check_seconds += time.perf_counter() - tc
        return {
            "epoch": epoch,
            "loss": total / max(seen, 1),
            "dev_accuracy": dev_accs[-1],
            "dev_checks": dev_accs,
            "seconds": time.perf_counter() - t0 - check_seconds,
        }

    def _dev_accuracy(self, ids, lengths, y_dev) -> float:
        """Accuracy on the dev set; dev labels never seen in training count as errors."""
        pred = self.classes_[self._predict_idx(ids, lengths)]
        return float((pred == y_dev).mean())

    @torch.no_grad()
    def _logits(self, ids: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
        self.model_.eval()
        out = np.zeros((len(ids), len(self.classes_)), dtype=np.float32)
        device = next(self.model_.parameters()).device
        for rows in bucket_batches(lengths, 500):
            xb = ids[rows, : max(1, int(lengths[rows].max()))].to(device)
            out[rows.numpy()] = self.model_(xb).float().cpu().numpy()
        return out

    def _predict_idx(self, ids, lengths) -> np.ndarray:
        return self._logits(ids, lengths).argmax(axis=1)

    def _logits_of(self, X) -> np.ndarray:
        """(N, C) logits of the sentences (or token lists) X; NotFittedError before `fit`."""
        check_is_fitted(self, FITTED)
        texts = as_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        return self._logits(*self._encode(texts))

    def predict_proba(self, X) -> np.ndarray:
        """(N, C) softmax probabilities, columns in the order of `classes_`."""
        return torch.softmax(torch.from_numpy(self._logits_of(X)), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        best = self._logits_of(X).argmax(axis=1)  # (N,)
        return self.classes_[best]

    # -- vectors (checkpoint state: NeuralState) ------------------------------------------------
    def _load_vectors(self):
        if self.vectors is None:
            raise ParameterError(
                "vectors",
                f"must be given: {type(self).__name__} with pretrained embeddings needs vectors "
                "(a word2vec/GloVe file, 'glove-6b-50d' or a KeyedVectors)",
            )
        if isinstance(self.vectors, (str, bytes)) or hasattr(self.vectors, "__fspath__"):
            from seqlab.embeddings.vector_sources import load_vectors

            return load_vectors(self.vectors)
        return self.vectors  # a KeyedVectors
