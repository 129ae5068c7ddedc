"""Recursive networks trained on the Sentiment Treebank's parse trees, as their papers trained them.

    TreeClassifier(model="recnn" | "mv-rnn" | "rntn" | "tree-lstm", task="sst1" | "sst2" | "binary", ...)

fit(trees) reads the labels of every node of the SST trees (seqlab.classify.sst_trees.Tree); the
loss of a tree is the cross-entropy summed over all of its labelled nodes, a batch's loss the mean
over its trees plus L2 terms (CoreNLP's SentimentCostAndGradient):

    J = 1/B sum_trees sum_nodes -log p(label | node) + l2_transform/2 |W, V, W_M, U|^2
        + l2_classifier/2 |W_s|^2 + l2_words/2 |the word rows the batch uses|^2

Accuracy is the roots' (whole sentences); the model kept is the one best on the dev trees' roots.
SST-1: five classes at every node. SST-2 (Tai et al. 2015's treatment, which the issue asks for):
trees whose root is neutral are dropped, every node keeps its label as negative (0-1), neutral (2)
or positive (3-4), so the net has three outputs, and a root is predicted by comparing P(negative)
with P(positive) (predict_proba gives those two, renormalised). With sst2_labels="fine" the nodes
keep their five labels (a 5-way net, as CoreNLP's default model, which it scores on binary too by
its equivalence classes {0, 1} and {3, 4}) and the root compares P(0) + P(1) with P(3) + P(4).
`binary`: sentence-labelled data such as MR on trees of its sentences
(seqlab.classify.tree_data.mr_trees): two classes, the loss at the labelled nodes only (the roots; a
negative node label means none).

Text that comes without a tree (predict on raw sentences) gets a right-branching tree,
(w1 (w2 (... (w_n-1 w_n)))): the parse trees themselves are not recomputed here.

Settings (`make_tree_estimator` gives each model its paper's): recnn, mv-rnn and rntn as Socher et
al. 2013 via Stanford CoreNLP's defaults: 25-d random word vectors, AdaGrad lr 0.01 (eps 1e-3, its sums
reset every epoch), minibatch 27, L2 1e-3 on the transforms, 1e-4 on the classifier and words. tree-lstm
as Tai et al. 2015: 150 memory cells, AdaGrad lr 0.05, batch 25, L2 1e-4 on everything but the
words, which are fine-tuned by plain SGD at lr 0.1, dropout 0.5; GloVe vectors (here glove-6b-50d).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from seqlab.classify.data import clean_str_sst
from seqlab.classify.inputs import as_texts
from seqlab.classify.neural_state import NeuralState
from seqlab.classify.pretrained import pretrained_matrix
from seqlab.classify.sst_trees import Tree
from seqlab.errors import ParameterError, SeqlabError, check_at_least, check_choice, check_positive
from seqlab.models.recursive import COMPOSITIONS, RecursiveConfig, RecursiveNet
from seqlab.models.tree_batch import TreeArrays, TreeBatch
from seqlab.runtime import resolve_device, set_threads
from seqlab.vocab import Vocab

UNK = "<unk>"
TREE_MODELS = COMPOSITIONS  # recnn, rntn, mv-rnn, tree-lstm
TASKS = ("sst1", "sst2", "binary")  # binary: 0/1 where labelled (MR's roots), negative labels = none
SST2_LABELS = ("polarity", "fine")  # sst2 nodes: negative/neutral/positive (Tai et al.) or the five labels
IGNORE = -1  # a node without a label for the loss
FITTED = ("classes_", "vocab_", "model_")


def leaf_token(word: str) -> str:
    """A treebank leaf as the vocabulary holds it: Kim's clean_str_sst (what raw text gets at predict
    time), kept as one token; a leaf it empties ("--", "...") keeps its lowercased self."""
    return clean_str_sst(word).replace(" ", "") or word.lower()


def node_label(label: int, task: str) -> int:
    """The training label of a node: 0-4 for sst1; sst2: 0 negative, 1 neutral, 2 positive; binary:
    the label itself. A negative label means none (IGNORE)."""
    if label < 0:
        return IGNORE
    return label if task != "sst2" else (0 if label < 2 else 1 if label == 2 else 2)


def root_class(label: int, task: str) -> int | None:
    """The class of a sentence (root): 0-4 for sst1; sst2: 0/1, None for a neutral root (dropped)."""
    if task != "sst2":
        return label
    return None if label == 2 else int(label > 2)


def encode_tree(tree: Tree, stoi: dict, task: str) -> tuple[TreeArrays, np.ndarray]:
    """(TreeArrays, node labels (2n-1,)) of an SST tree, nodes numbered as TreeArrays says (leaves
    first). A unary node passes its child through (its own label is the one kept); a node of more
    than two children is binarised to the right, the added nodes unlabelled."""
    unk = stoi[UNK]
    words, leaf_labels, inner, inner_labels = [], [], [], []

    def walk(t: Tree, label: int) -> tuple[str, int]:  # returns a ("leaf"|"inner", index) handle
        if t.word is not None:
            words.append(stoi.get(leaf_token(t.word), unk))
            leaf_labels.append(label)
            return ("leaf", len(words) - 1)
        kids = [walk(c, node_label(c.label, task)) for c in t.children]
        if len(kids) == 1:  # unary: the child's handle, relabelled by this node
            kind, i = kids[0]
            (leaf_labels if kind == "leaf" else inner_labels)[i] = label
            return kids[0]
        right = kids[-1]
        for j, left in enumerate(reversed(kids[:-1])):
            inner.append((left, right))
            inner_labels.append(label if j == len(kids) - 2 else IGNORE)
            right = ("inner", len(inner) - 1)
        return right

    walk(tree, node_label(tree.label, task))
    n = len(words)
    ids = [[i if kind == "leaf" else n + i for kind, i in pair] for pair in inner]
    return TreeArrays.from_children(words, np.array(ids, dtype=np.int64).reshape(-1, 2)), np.array(
        leaf_labels + inner_labels, dtype=np.int64
    )


class TreeClassifier(NeuralState, ClassifierMixin, BaseEstimator):
    """A recursive net (seqlab.models.recursive) trained on SST trees; sklearn conventions.

    model: recnn | mv-rnn | rntn | tree-lstm. task: sst1 (5 classes), sst2 or binary (see the module).
    embedding_dim: word vector size (25 in CoreNLP; the vectors' size when `vectors` is given).
    hidden_size: the tree-lstm's memory cells (Tai et al.: 150). dropout: on the leaves' inputs and
    the classifier's (0.5 for tree-lstm). vectors: a name/path for load_vectors or a KeyedVectors
    (None: random N(0, word_std^2) words; CoreNLP's word_std is 0.1, the 2013 paper's code 1.0).
    lr: AdaGrad's; adagrad_reset: its sums are zeroed every that many epochs (CoreNLP: 1; 0 never).
    adagrad_eps: the step is lr g / (sqrt(sum g^2) + eps); CoreNLP
    uses 1e-3, which keeps parameters with tiny gradients (the RNTN's tensor, rare words) from
    taking lr-sized steps (Torch7's optim.adagrad, Tai et al.: 1e-10). word_lr: None trains the
    words with AdaGrad like the rest, a number with plain SGD at that rate (Tai et al.: 0.1). l2_*:
    see the module docstring.
    dev_checks: dev scorings per epoch (the best point is kept). sst2_labels: polarity (3-way nodes)
    or fine (5-way nodes, the root by P(0) + P(1) against P(3) + P(4)); sst2 only. l2_bias: whether
    the L2 terms cover the biases too (CoreNLP leaves them out); classifier_bias: "zero" or
    "uniform" U(0, 1) at the start (CoreNLP's). binary_nodes: where a sentence label trains (task
    binary): at the root only, or "inner": at every inner node too (Socher et al. 2011's RAE put the
    sentence's label on every parent). matrix_rank: mv-rnn's word matrices, full (0) or
    U V + diag(a) of that rank (Socher et al. 2012's low-rank plus diagonal approximation)."""

    def __init__(
        self,
        model="rntn",
        task="sst1",
        embedding_dim=25,
        hidden_size=25,
        dropout=0.0,
        vectors=None,
        lr=0.01,
        batch_size=27,
        epochs=25,
        adagrad_reset=1,
        adagrad_eps=1e-3,
        word_lr=None,
        l2_transform=1e-3,
        l2_classifier=1e-4,
        l2_words=1e-4,
        dev_checks=1,
        seed=0,
        num_threads=None,
        callback=None,
        device="auto",
        word_std=0.1,
        sst2_labels="polarity",
        l2_bias=True,
        classifier_bias="zero",
        binary_nodes="root",
        matrix_rank=0,
    ):
        self.model, self.task, self.embedding_dim, self.hidden_size = model, task, embedding_dim, hidden_size
        self.dropout, self.vectors, self.lr, self.batch_size, self.epochs = (
            dropout,
            vectors,
            lr,
            batch_size,
            epochs,
        )
        self.adagrad_reset, self.adagrad_eps, self.word_lr = adagrad_reset, adagrad_eps, word_lr
        self.l2_transform, self.l2_classifier, self.l2_words = l2_transform, l2_classifier, l2_words
        self.dev_checks, self.seed, self.num_threads = dev_checks, seed, num_threads
        self.callback, self.device, self.word_std = callback, device, word_std
        self.sst2_labels, self.l2_bias, self.classifier_bias = sst2_labels, l2_bias, classifier_bias
        self.binary_nodes, self.matrix_rank = binary_nodes, matrix_rank

    # -- data ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_choice(self, "model", TREE_MODELS)
        check_choice(self, "task", TASKS)
        check_choice(self, "sst2_labels", SST2_LABELS)
        check_choice(self, "classifier_bias", ("zero", "uniform"))
        check_choice(self, "binary_nodes", ("root", "inner"))
        check_at_least(self, 1, "epochs", "batch_size", "dev_checks", "embedding_dim", "hidden_size")
        check_at_least(
            self, 0, "adagrad_reset", "l2_transform", "l2_classifier", "l2_words", "seed", "word_std"
        )
        check_positive(self, "lr", "adagrad_eps")
        if self.word_lr is not None and self.word_lr <= 0:
            raise ParameterError("word_lr", f"must be None or > 0, got {self.word_lr}")

    def _usable(self, trees) -> list[Tree]:
        """The trees this task trains and scores on (sst2: those with a non-neutral root)."""
        trees = list(trees)
        bad = next((t for t in trees if not isinstance(t, Tree)), None)
        if bad is not None:
            raise ParameterError(
                "X", f"must hold SST trees (seqlab.classify.sst_trees.Tree), got {type(bad).__name__}"
            )
        return [t for t in trees if root_class(t.label, self.task) is not None]

    def _fine(self) -> bool:
        """Whether the net reads five classes at every node while the task is sst2."""
        return self.task == "sst2" and self.sst2_labels == "fine"

    def _encode(self, trees) -> tuple[list[TreeArrays], list[np.ndarray], np.ndarray]:
        node_task = "sst1" if self._fine() else self.task  # the labels the nodes train on
        enc = [encode_tree(t, self.vocab_.stoi, node_task) for t in trees]
        if self.task == "binary" and self.binary_nodes == "inner":  # the root's label on every parent
            for a, y in enc:
                y[len(a.words) :] = y[-1]
        roots = np.array([root_class(t.label, self.task) for t in trees], dtype=np.int64)
        return [a for a, _ in enc], [y for _, y in enc], roots

    def _text_trees(self, X) -> list[TreeArrays]:
        """Raw sentences (whitespace tokens) -> right-branching trees; SST trees -> their own."""
        if not isinstance(X, (str, bytes)) and all(isinstance(t, Tree) for t in X) and len(X):
            return [encode_tree(t, self.vocab_.stoi, self.task)[0] for t in X]
        unk = self.vocab_.stoi[UNK]
        return [
            TreeArrays.right_branching([self.vocab_.stoi.get(w, unk) for w in s.split()] or [unk])
            for s in as_texts(X)
        ]

    # -- training ------------------------------------------------------------------------------
    def fit(self, X, y=None, X_dev=None, y_dev=None, extra_words=None):
        """Train on SST trees X (labels read from their nodes; y, if given, is ignored: the roots
        carry it), keeping the weights best on the roots of X_dev (the trees of the dev split;
        without it, the last epoch's). extra_words: words to give rows besides the training leaves
        (unlabelled text's, as Kim's code builds MR's vocabulary over every sentence): with `vectors`
        they keep their pretrained vectors where a training word would be unknown. Returns self."""
        self._check_params()
        device = resolve_device(self.device)
        train = self._usable(X)
        dev = self._usable(X_dev) if X_dev is not None else []
        if not train:
            raise ParameterError("X", "holds no tree this task can train on")
        set_threads(self.num_threads)
        torch.manual_seed(self.seed)
        self.classes_ = np.arange(5 if self.task == "sst1" else 2)
        tokens = [leaf_token(w) for t in train for w in t.leaves()]
        tokens += [leaf_token(w) for w in extra_words or ()]
        self.vocab_ = Vocab.from_iterable(tokens, specials=[UNK], unk=UNK)
        self.model_ = self._build().to(device)
        trees, labels, _ = self._encode(train)
        dev_data = (
            (self._text_trees(dev), np.array([root_class(t.label, self.task) for t in dev])) if dev else None
        )
        opts = self._optimizers()
        gen = np.random.default_rng(self.seed)
        best = {"acc": -1.0, "state": None}
        self.history_, self.best_epoch_ = [], 0
        cb = self.callback or (lambda *a, **k: None)
        n_batches = -(-len(trees) // self.batch_size)
        checks = {-(-n_batches * j // min(self.dev_checks, n_batches)) for j in range(1, self.dev_checks + 1)}
        for epoch in range(1, self.epochs + 1):
            if self.adagrad_reset and epoch > 1 and (epoch - 1) % self.adagrad_reset == 0:
                for st in opts[0].state.values():
                    st["sum"].zero_()
            cb("epoch", epoch=epoch, epochs=self.epochs, batches=n_batches)
            t0, total, dev_accs, check_s = time.perf_counter(), 0.0, [], 0.0
            order = gen.permutation(len(trees))
            self.model_.train()
            for i in range(n_batches):
                rows = order[i * self.batch_size : (i + 1) * self.batch_size]
                loss = self._step([trees[r] for r in rows], [labels[r] for r in rows], opts, device)
                total += loss * len(rows)
                cb("batch", loss=loss)
                if i + 1 in checks and dev_data is not None:
                    tc = time.perf_counter()
                    acc = float((self._root_predict(dev_data[0]) == dev_data[1]).mean())
                    dev_accs.append(acc)
                    if acc > best["acc"]:
                        best["acc"], self.best_epoch_ = acc, epoch
                        best["state"] = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
                    self.model_.train()
                    check_s += time.perf_counter() - tc
            rec = {
                "epoch": epoch,
                "loss": total / len(trees),
                "dev_accuracy": dev_accs[-1] if dev_accs else None,
                "dev_checks": dev_accs,
                "seconds": time.perf_counter() - t0 - check_s,
            }
            self.history_.append(rec)
            cb("epoch_end", **rec)
        for t in self.model_.word_tables():
            t.sparse = False
        if best["state"] is not None:
            self.model_.load_state_dict(best["state"])
        else:
            self.best_epoch_ = self.epochs
        self.model_.to("cpu").eval()
        self.dev_accuracy_ = best["acc"] if dev_data is not None else None
        return self

    def _build(self) -> RecursiveNet:
        dim, pretrained = self.embedding_dim, None
        if self.vectors is not None:
            kv = self.vectors
            if isinstance(kv, (str, bytes)) or hasattr(kv, "__fspath__"):
                from seqlab.embeddings.vector_sources import load_vectors

                kv = load_vectors(kv)
            mat, self.vectors_found_ = pretrained_matrix(self.vocab_.itos, kv, self.seed)
            pretrained, dim = torch.from_numpy(mat), kv.vector_size
        cfg = RecursiveConfig(
            len(self.vocab_),
            5 if self._fine() else {"sst1": 5, "sst2": 3, "binary": 2}[self.task],
            self.model,
            dim,
            self.hidden_size,
            self.dropout,
            word_std=self.word_std,
            classifier_bias=self.classifier_bias,
            matrix_rank=self.matrix_rank,
        )
        return RecursiveNet(cfg, pretrained)

    def _optimizers(self) -> list[torch.optim.Optimizer]:
        """AdaGrad over the net (and the words unless `word_lr`: then plain SGD on them, Tai et al.).
        The word tables get sparse gradients: a step touches only the rows its batch uses (MV-RNN's
        word matrices are 16,485 x 625 numbers on SST; dense steps took 85 s per epoch, not ~20)."""
        for t in self.model_.word_tables():
            t.sparse = True
        words = {id(p) for t in self.model_.word_tables() for p in t.parameters()}
        rest = [p for p in self.model_.parameters() if id(p) not in words]
        tables = [t.weight for t in self.model_.word_tables()]
        if self.word_lr is None:
            return [torch.optim.Adagrad(rest + tables, lr=self.lr, eps=self.adagrad_eps)]
        return [
            torch.optim.Adagrad(rest, lr=self.lr, eps=self.adagrad_eps),
            torch.optim.SGD(tables, lr=self.word_lr),
        ]

    def _step(self, trees, labels, opts, device) -> float:
        """One update on a batch of trees; returns the batch's mean loss per tree (without L2)."""
        net = self.model_
        batch = TreeBatch.build(trees).to(device)
        y = batch.to_batch_order(torch.from_numpy(np.concatenate(labels))).to(device)  # (N,)
        logits = net(batch)  # (N, C)
        data = F.cross_entropy(logits, y, ignore_index=IGNORE, reduction="sum") / len(trees)
        reg = self._l2(batch.words)
        for opt in opts:
            opt.zero_grad()
        (data + reg).backward()
        with torch.sparse.check_sparse_tensor_invariants(enable=False):  # said, so torch need not warn
            for opt in opts:
                opt.step()
        return float(data.detach())

    def _l2(self, words: torch.Tensor) -> torch.Tensor | float:
        """The L2 terms of a batch whose leaves are `words`: l2_classifier/2 |W_s|^2 + l2_transform/2
        |cell|^2 (biases left out unless l2_bias) + l2_words/2 |the rows of `words`|^2."""
        reg = 0.0
        for name, p in self.model_.named_parameters():
            if not self.l2_bias and name.endswith(".bias"):
                continue
            if name.startswith("fc."):
                reg = reg + self.l2_classifier / 2 * p.pow(2).sum()
            elif name.startswith("cell."):
                reg = reg + self.l2_transform / 2 * p.pow(2).sum()
        if self.l2_words:
            used = torch.unique(words)
            for table in self.model_.word_tables():  # only the rows this batch uses (CoreNLP), sparse grad
                reg = reg + self.l2_words / 2 * table(used).pow(2).sum()
        return reg

    # -- prediction ----------------------------------------------------------------------------
    @torch.no_grad()
    def _root_proba(self, trees: list[TreeArrays]) -> np.ndarray:
        """(B, len(classes_)) probabilities of the roots; sst2 compares P(negative) with P(positive)."""
        self.model_.eval()
        device = next(self.model_.parameters()).device
        out = []
        for i in range(0, len(trees), 500):
            batch = TreeBatch.build(trees[i : i + 500]).to(device)
            p = torch.softmax(self.model_(batch)[batch.roots].double(), 1)  # (b, C)
            if self._fine():  # P(negative) = P(0) + P(1), P(positive) = P(3) + P(4)
                p = torch.stack([p[:, 0] + p[:, 1], p[:, 3] + p[:, 4]], 1)
                p = p / p.sum(1, keepdim=True)
            elif self.task == "sst2":
                p = p[:, [0, 2]] / p[:, [0, 2]].sum(1, keepdim=True)
            out.append(p.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes_)))

    def _root_predict(self, trees: list[TreeArrays]) -> np.ndarray:
        return self._root_proba(trees).argmax(1)

    def predict_proba(self, X) -> np.ndarray:
        """(B, C) root probabilities of SST trees or raw sentences (right-branching trees)."""
        check_is_fitted(self, FITTED)
        return self._root_proba(self._text_trees(X))

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # NotFittedError before fit
        return self.classes_[proba.argmax(1)]

    def score_trees(self, trees) -> float:
        """Root accuracy on SST trees (sst2: the trees with a non-neutral root)."""
        trees = self._usable(trees)
        y = np.array([root_class(t.label, self.task) for t in trees])
        return float((self.predict(trees) == y).mean())

    # -- checkpoints ---------------------------------------------------------------------------
    def _from_config(self, config: dict) -> RecursiveNet:
        return RecursiveNet(RecursiveConfig.from_dict(config))


# The papers' settings per model (module docstring); epochs, seed etc. come from the caller
PAPER_SETTINGS = {
    "recnn": dict(embedding_dim=25),
    "mv-rnn": dict(embedding_dim=25),
    "rntn": dict(embedding_dim=25),
    "tree-lstm": dict(
        hidden_size=150,
        dropout=0.5,
        lr=0.05,
        batch_size=25,
        adagrad_reset=0,
        adagrad_eps=1e-10,
        word_lr=0.1,
        l2_transform=1e-4,
        l2_classifier=1e-4,
        l2_words=0.0,
    ),
}


def make_tree_estimator(model: str, task: str, vectors=None, **kw) -> TreeClassifier:
    """The TreeClassifier of `model` with its paper's settings; `kw` (epochs, seed, ...) on top."""
    if model not in PAPER_SETTINGS:
        raise SeqlabError(f"unknown tree model {model!r}; one of {', '.join(TREE_MODELS)}")
    return TreeClassifier(model, task, vectors=vectors, **{**PAPER_SETTINGS[model], **kw})
