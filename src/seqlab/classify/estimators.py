"""Sentence classifiers with one scikit-learn surface, and the cross-validation that serves them all.

    CNNClassifier(variant="rand" | "static" | "non-static" | "multichannel")   Kim (2014)
    RNNClassifier(cell="lstm" | "gru", bidirectional=..., pooling=...)
    CNNRNNClassifier()                         recurrent layer under Kim's convolution
    MNBClassifier(), NBSVMClassifier()         Wang & Manning (2012), in seqlab.classify.baselines

`__init__` only stores parameters; `fit(X, y)` (X: whitespace-tokenized sentences, y: labels)
returns self and sets `classes_`, `vocab_`, `model_`, `history_`, `best_epoch_`; then `predict`,
`predict_proba`, `score`. The neural ones train with Kim's recipe: mini-batches of 50 grouped by
length (seqlab.batching.bucket_batches), Adadelta (rho 0.95, eps 1e-6, lr 1.0), max-norm 3 on the
output rows after every update, up to 25 epochs, keeping the epoch that is best on a dev set —
`fit(X, y, X_dev, y_dev)` where there is one, else a random `dev_fraction` (10%) of X held out.

Nothing here prints: progress is reported through the `callback` parameter, called as
callback("epoch", epoch=..., epochs=..., batches=...), callback("batch", loss=...),
callback("epoch_end", epoch=..., loss=..., dev_accuracy=..., seconds=...).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin

from seqlab.batching import bucket_batches, pad_sequences
from seqlab.classify.baselines import MNBClassifier, NBSVMClassifier
from seqlab.classify.data import holdout_split
from seqlab.errors import SeqlabError
from seqlab.models.textcnn import VARIANTS, TextCNN, TextCNNConfig, apply_max_norm
from seqlab.models.textrnn import CNNRNN, CNNRNNConfig, TextRNN, TextRNNConfig
from seqlab.runtime import resolve_device, set_threads
from seqlab.vocab import Vocab

PAD, UNK = "<pad>", "<unk>"


# --------------------------------------------------------------------------- pretrained vectors


def pretrained_matrix(words: Sequence[str], kv, seed: int = 0) -> tuple[np.ndarray, int]:
    """Rows for `words` from KeyedVectors `kv` (exact match, then lowercase); the words it lacks get
    U[-a, a] per dimension with a = sqrt(3 var_d), so they have the known vectors' variance (Kim's
    recipe). Returns (matrix (len(words), D) float32, number of words found)."""
    vecs = np.asarray(kv.vectors, dtype=np.float32)                     # (N, D), maybe memory-mapped
    index = kv.key_to_index
    rows = np.full(len(words), -1, dtype=np.int64)
    for i, w in enumerate(words):
        j = index.get(w)
        if j is None:
            j = index.get(w.lower())
        if j is not None:
            rows[i] = j
    found = rows >= 0
    D = vecs.shape[1]
    known = vecs[rows[found]] if found.any() else vecs[: min(len(vecs), 10000)]
    a = np.sqrt(3.0 * known.var(axis=0)) if len(known) > 1 else np.full(D, 0.25, np.float32)
    rng = np.random.default_rng(seed)
    out = (rng.uniform(-1.0, 1.0, size=(len(words), D)) * a).astype(np.float32)
    if found.any():
        out[found] = known
    return out, int(found.sum())


# --------------------------------------------------------------------------- lazy Adadelta


class RowAdadelta:
    """Adadelta for an embedding matrix that touches only the rows of the current batch, yet gives
    the same numbers as dense `torch.optim.Adadelta` over the whole matrix.

    For a row whose gradient is zero, dense Adadelta leaves the row unchanged and only decays its
    two accumulators by rho. So a row untouched for k steps needs its accumulators multiplied by
    rho**k when it is next used — done lazily here from a per-row "last step" counter. This turns a
    per-step cost of O(vocabulary x D) into O(batch words x D): on MR the dense update of the
    18K x 300 table was about a third of each step. Needs the embedding's `sparse=True` gradients.
    """

    def __init__(self, weight: torch.nn.Parameter, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6):
        self.weight, self.lr, self.rho, self.eps = weight, lr, rho, eps
        self.square_avg = torch.zeros_like(weight)                # E[g^2]
        self.acc_delta = torch.zeros_like(weight)                 # E[dx^2]
        self.last = torch.zeros(weight.shape[0], dtype=torch.long, device=weight.device)
        self.t = 0

    def zero_grad(self) -> None:
        self.weight.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        g = self.weight.grad
        if g is None:
            return
        g = g.coalesce() if g.is_sparse else g.to_sparse().coalesce()
        rows, gv = g.indices()[0], g.values()                     # (R,), (R, D)
        decay = self.rho ** (self.t - 1 - self.last[rows]).to(gv.dtype)[:, None]   # missed steps
        sq = self.square_avg[rows] * decay * self.rho + (1 - self.rho) * gv * gv
        acc = self.acc_delta[rows] * decay
        delta = (acc + self.eps).sqrt() / (sq + self.eps).sqrt() * gv
        self.acc_delta[rows] = acc * self.rho + (1 - self.rho) * delta * delta
        self.square_avg[rows] = sq
        self.weight[rows] -= self.lr * delta
        self.last[rows] = self.t


class _Optimizers:
    """The dense optimizer for most weights plus an optional RowAdadelta for the embedding."""

    def __init__(self, *opts):
        self.opts = [o for o in opts if o is not None]

    def zero_grad(self) -> None:
        for o in self.opts:
            o.zero_grad()

    def step(self) -> None:
        for o in self.opts:
            o.step()


# --------------------------------------------------------------------------- the torch estimators


def _no_callback(*args, **kw) -> None:
    pass


class _TorchClassifier(ClassifierMixin, BaseEstimator):
    """The shared training loop; subclasses say which network to build (`_build`)."""

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
        Adam over everything."""
        name = self.optimizer
        params = [p for p in model.parameters() if p.requires_grad]
        if name == "adadelta":
            emb = model.embedding
            rowwise = None
            if emb.weight.requires_grad:
                emb.sparse = True                                     # sparse gradients for RowAdadelta
                rowwise = RowAdadelta(emb.weight, lr=self.lr, rho=0.95, eps=1e-6)
                params = [p for p in params if p is not emb.weight]
            return _Optimizers(torch.optim.Adadelta(params, lr=self.lr, rho=0.95, eps=1e-6), rowwise)
        if name == "adam":
            return torch.optim.Adam(params, lr=self.lr)
        raise SeqlabError(f"unknown optimizer {name!r}; use adadelta or adam")

    # -- sklearn surface ----------------------------------------------------------------------
    def fit(self, X, y, X_dev=None, y_dev=None):
        """Train; keep the epoch with the best dev accuracy. Returns self."""
        X, y_idx, X_dev, y_dev = self._prepare(X, y, X_dev, y_dev)
        device = resolve_device(self.device)             # cpu, cuda or auto; the fitted model ends on the CPU
        self.model_.to(device)
        ids, lengths = self._encode(X)
        y_t = torch.from_numpy(y_idx).to(device)
        dev = (*self._encode(X_dev), np.asarray(y_dev)) if X_dev is not None and len(X_dev) else None
        opt = self._optimizer(self.model_)
        gen = torch.Generator().manual_seed(self.seed)
        best, best_state, self.history_, self.best_epoch_ = -1.0, None, [], 0
        for epoch in range(1, self.epochs + 1):
            rec = self._train_epoch(epoch, ids, lengths, y_t, opt, gen, device)
            rec["dev_accuracy"] = self._dev_accuracy(*dev) if dev is not None else None
            self.history_.append(rec)
            (self.callback or _no_callback)("epoch_end", **rec)
            if dev is None or rec["dev_accuracy"] > best:
                best, self.best_epoch_ = (rec["dev_accuracy"] if dev is not None else best), epoch
                best_state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
        self.model_.load_state_dict(best_state)
        self.model_.embedding.sparse = False
        self.model_.to("cpu")                  # a fitted estimator predicts and saves on the CPU
        self.model_.eval()
        self.dev_accuracy_ = best if dev is not None else None
        return self

    def _prepare(self, X, y, X_dev, y_dev):
        """Check the data, hold out a dev part where none is given, build vocabulary and network."""
        X = list(X)
        y = np.asarray(y)
        if len(X) != len(y) or not len(X):
            raise SeqlabError(f"fit needs as many labels as sentences, got {len(X)} and {len(y)}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise SeqlabError("a classifier needs at least two classes in its training data")
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
            if dim is not None and dim != kv.vector_size:
                raise SeqlabError(f"the vectors have dimension {kv.vector_size} but embedding_dim is {dim}")
            mat, self.vectors_found_ = pretrained_matrix(self.vocab_.itos, kv, self.seed)
            pretrained, dim = torch.from_numpy(mat), kv.vector_size
        self.model_ = self._build(len(self.vocab_), len(self.classes_), pretrained, dim or 300)
        return X, y_idx, X_dev, y_dev

    def _train_epoch(self, epoch, ids, lengths, y_t, opt, gen, device) -> dict:
        """One pass of Kim's recipe over length buckets of `batch_size`; max-norm after each update."""
        t0 = time.perf_counter()
        cb = self.callback or _no_callback
        self.model_.train()
        batches = bucket_batches(lengths, self.batch_size, gen, pool=20)
        cb("epoch", epoch=epoch, epochs=self.epochs, batches=len(batches))
        total, seen = 0.0, 0
        for rows in batches:
            xb = ids[rows, : max(1, int(lengths[rows].max()))].to(device)          # (B, T_batch)
            loss = F.cross_entropy(self.model_(xb), y_t[rows.to(device)])          # logits (B, C)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if self.max_norm:
                apply_max_norm(self.model_.fc, self.max_norm)
            total += float(loss.detach()) * len(rows)
            seen += len(rows)
            cb("batch", loss=float(loss.detach()))
        return {"epoch": epoch, "loss": total / max(seen, 1), "seconds": time.perf_counter() - t0}

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

    def predict_proba(self, X) -> np.ndarray:
        """(N, C) softmax probabilities, columns in the order of `classes_`."""
        ids, lengths = self._encode(list(X))
        return torch.softmax(torch.from_numpy(self._logits(ids, lengths)), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        ids, lengths = self._encode(list(X))
        return self.classes_[self._predict_idx(ids, lengths)]

    # -- vectors and checkpoints --------------------------------------------------------------
    def _load_vectors(self):
        if self.vectors is None:
            raise SeqlabError(f"{type(self).__name__} with pretrained embeddings needs vectors "
                              "(a word2vec/GloVe file or 'glove-6b-50d')")
        if isinstance(self.vectors, (str, bytes)) or hasattr(self.vectors, "__fspath__"):
            from seqlab.embeddings.keyedvectors import load_vectors

            return load_vectors(self.vectors)
        return self.vectors                                                     # a KeyedVectors

    def get_state(self) -> dict:
        """Plain dict (tensors, lists, strings) for seqlab.checkpoint; `from_state` inverts it."""
        params = {k: v for k, v in self.get_params().items() if k not in ("callback", "vectors", "device")}
        params["vectors"] = self.vectors if isinstance(self.vectors, str) else None
        return {"params": params, "classes": self.classes_.tolist(), "vocab": self.vocab_.to_dict(),
                "config": self.model_.config.to_dict(), "state_dict": self.model_.state_dict(),
                "best_epoch": self.best_epoch_}

    @classmethod
    def from_state(cls, state: dict):
        est = cls(**state["params"])
        est.classes_ = np.asarray(state["classes"])
        est.vocab_ = Vocab.from_dict(state["vocab"])
        est.model_ = est._from_config(state["config"])
        est.model_.load_state_dict(state["state_dict"])
        est.model_.eval()
        est.best_epoch_ = state.get("best_epoch", 0)
        return est


class CNNClassifier(_TorchClassifier):
    """Kim's CNN. `variant`: rand | static | non-static | multichannel. `vectors`: path or name of
    word2vec/GloVe vectors (or a KeyedVectors) for the pretrained variants; `embedding_dim`: 300 for
    rand (Kim), else the vectors' dimension."""

    def __init__(self, variant: str = "rand", vectors=None, embedding_dim: int | None = None,
                 filter_widths: tuple = (3, 4, 5), num_filters: int = 100, dropout: float = 0.5,
                 max_norm: float = 3.0, optimizer: str = "adadelta", lr: float = 1.0, batch_size: int = 50,
                 epochs: int = 25, dev_fraction: float = 0.1, seed: int = 0, num_threads: int | None = None,
                 callback: Callable | None = None, device: str = "cpu"):
        self.variant = variant
        self.vectors = vectors
        self.embedding_dim = embedding_dim
        self.filter_widths = filter_widths
        self.num_filters = num_filters
        self.dropout = dropout
        self.max_norm = max_norm
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.num_threads = num_threads
        self.callback = callback
        self.device = device

    def _needs_vectors(self) -> bool:
        if self.variant not in VARIANTS:
            raise SeqlabError(f"unknown CNN variant {self.variant!r}; one of {', '.join(VARIANTS)}")
        return self.variant != "rand"

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = TextCNNConfig(vocab_size, num_classes, dim, tuple(self.filter_widths), self.num_filters,
                            self.dropout, self.variant)
        return TextCNN(cfg, pretrained)

    def _from_config(self, d):
        return TextCNN(TextCNNConfig.from_dict(d), None if d["variant"] == "rand" else
                       torch.zeros(d["vocab_size"], d["embedding_dim"]))


class RNNClassifier(_TorchClassifier):
    """LSTM/GRU classifier (uni- or bidirectional) pooling its states (max, mean or last).
    Trained like the CNN (same batches, dev selection, max-norm on the output rows) but with Adam
    (lr 1e-3) by default. Random embeddings unless `vectors` is given (then fine-tuned)."""

    def __init__(self, cell: str = "lstm", bidirectional: bool = False, pooling: str = "max",
                 hidden_size: int = 150, vectors=None, embedding_dim: int | None = None,
                 dropout: float = 0.5, max_norm: float = 3.0, optimizer: str = "adam", lr: float = 1e-3,
                 batch_size: int = 50, epochs: int = 25, dev_fraction: float = 0.1, seed: int = 0,
                 num_threads: int | None = None, callback: Callable | None = None, device: str = "cpu"):
        self.cell = cell
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.hidden_size = hidden_size
        self.vectors = vectors
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.max_norm = max_norm
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.num_threads = num_threads
        self.callback = callback
        self.device = device

    def _needs_vectors(self) -> bool:
        return self.vectors is not None

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = TextRNNConfig(vocab_size, num_classes, dim, self.hidden_size, self.cell, self.bidirectional,
                            1, self.pooling, self.dropout)
        return TextRNN(cfg, pretrained)

    def _from_config(self, d):
        return TextRNN(TextRNNConfig.from_dict(d))


class CNNRNNClassifier(_TorchClassifier):
    """Hybrid: a bidirectional LSTM/GRU under Kim's convolution (seqlab.models.textrnn.CNNRNN)."""

    def __init__(self, cell: str = "lstm", hidden_size: int = 100, vectors=None,
                 embedding_dim: int | None = None, filter_widths: tuple = (3, 4, 5), num_filters: int = 100,
                 dropout: float = 0.5, max_norm: float = 3.0, optimizer: str = "adam", lr: float = 1e-3,
                 batch_size: int = 50, epochs: int = 25, dev_fraction: float = 0.1, seed: int = 0,
                 num_threads: int | None = None, callback: Callable | None = None, device: str = "cpu"):
        self.cell = cell
        self.hidden_size = hidden_size
        self.vectors = vectors
        self.embedding_dim = embedding_dim
        self.filter_widths = filter_widths
        self.num_filters = num_filters
        self.dropout = dropout
        self.max_norm = max_norm
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.num_threads = num_threads
        self.callback = callback
        self.device = device

    def _needs_vectors(self) -> bool:
        return self.vectors is not None

    def _build(self, vocab_size, num_classes, pretrained, dim):
        cfg = CNNRNNConfig(vocab_size, num_classes, dim, self.hidden_size, self.cell,
                           tuple(self.filter_widths), self.num_filters, self.dropout)
        return CNNRNN(cfg, pretrained)

    def _from_config(self, d):
        return CNNRNN(CNNRNNConfig.from_dict(d))


# --------------------------------------------------------------------------- names -> estimators

MODELS = ("cnn-rand", "cnn-static", "cnn-non-static", "cnn-multichannel", "lstm", "bilstm", "gru",
          "cnn-rnn", "nbsvm", "mnb")
PRETRAINED_MODELS = ("cnn-static", "cnn-non-static", "cnn-multichannel")
ESTIMATORS = {"CNNClassifier": CNNClassifier, "RNNClassifier": RNNClassifier,
              "CNNRNNClassifier": CNNRNNClassifier, "MNBClassifier": MNBClassifier,
              "NBSVMClassifier": NBSVMClassifier}


def make_estimator(model: str, vectors=None, epochs: int = 25, seed: int = 0,
                   num_threads: int | None = None, callback: Callable | None = None, device: str = "cpu"):
    """The estimator a model name stands for, with the paper's settings. `vectors` is used by the
    pretrained CNN variants (and by the RNNs when given)."""
    common = dict(epochs=epochs, seed=seed, num_threads=num_threads, callback=callback, device=device)
    if model == "cnn-rand":
        return CNNClassifier("rand", **common)
    if model in PRETRAINED_MODELS:
        if vectors is None:
            raise SeqlabError(f"{model} needs pretrained vectors (--vectors FILE or glove-6b-50d)")
        return CNNClassifier(model[4:], vectors=vectors, **common)
    if model in ("lstm", "bilstm", "gru"):
        return RNNClassifier("gru" if model == "gru" else "lstm", bidirectional=model == "bilstm", **common)
    if model == "cnn-rnn":
        return CNNRNNClassifier(**common)
    if model == "nbsvm":
        return NBSVMClassifier()
    if model == "mnb":
        return MNBClassifier()
    raise SeqlabError(f"unknown model {model!r}; one of {', '.join(MODELS)}")


def is_neural(est) -> bool:
    return isinstance(est, _TorchClassifier)


def fit_estimator(est, X, y, X_dev=None, y_dev=None):
    """fit with a dev set where the estimator uses one (the baselines train on X only)."""
    if is_neural(est):
        return est.fit(X, y, X_dev, y_dev)
    return est.fit(X, y)


def estimator_state(est) -> dict:
    return {"estimator": type(est).__name__, **est.get_state()}


def estimator_from_state(state: dict):
    cls = ESTIMATORS.get(state.get("estimator"))
    if cls is None:
        raise SeqlabError(f"unknown estimator {state.get('estimator')!r} in checkpoint")
    return cls.from_state(state)
