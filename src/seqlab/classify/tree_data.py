"""SST-1/SST-2 on the treebank's own trees: load the three splits and train one recursive model on
them (what `seqlab classify train sst1|sst2 --model recnn|mv-rnn|rntn|tree-lstm` runs).

    est, metrics = train_on_treebank("sst2", "rntn", epochs=25)
    metrics["accuracy"]        # root accuracy on the test trees (SST-2: non-neutral roots only)

Train, dev and test are sst_trees/{train,dev,test}.txt of the data folder (8,544 / 1,101 / 2,210
trees); the model kept is the one best on the dev roots (seqlab.classify.tree_classifier).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqlab.classify.protocol import Unit
from seqlab.classify.sst_trees import Tree, node_count, read_trees
from seqlab.classify.tree_classifier import TREE_MODELS, make_tree_estimator, root_class
from seqlab.datasets import dataset_path
from seqlab.errors import SeqlabError

SPLITS = ("train", "dev", "test")
TREE_VECTORS = {"tree-lstm": "glove-6b-50d"}  # default vectors (Tai et al.: 300-d GloVe 840B)
# MR's default vectors: Socher et al. 2012 started the MV-RNN from 50-d pretrained (Collobert-Weston) words
MR_VECTORS = {"mv-rnn": "glove-6b-50d"}


def default_vectors(model: str, dataset: str) -> str | None:
    """The vectors `model` starts from on `dataset` without --vectors (None: random words)."""
    if str(dataset).lower() == "mr" and model in MR_VECTORS:
        return MR_VECTORS[model]
    return TREE_VECTORS.get(model)


def check_tree_dataset(dataset: str, model: str) -> str:
    """sst1 or sst2 (the sets with trees), or mr (its sentences on the treebank's trees, mv-rnn as
    Socher et al. 2012); SeqlabError naming the model otherwise."""
    key = str(dataset).lower().replace("-", "")
    if key not in ("sst1", "sst2", "mr"):
        raise SeqlabError(
            f"{model} trains on the Sentiment Treebank's parse trees: use sst1, sst2 or mr, not {dataset!r}"
        )
    return key


def _key(text: str) -> str:
    """A sentence reduced to its letters and digits, lowercased: MR's clean_str text and the SST
    leaves of the same sentence meet here (brackets are -LRB-/-RRB- in SST, \\( in clean_str)."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"-[lr][rsc]b-", "", text.lower()))


def _unlabelled(tree: Tree, label: int) -> Tree:
    """The tree's structure with `label` at the root and no label (-1) anywhere else."""

    def strip(t: Tree) -> Tree:
        return Tree(-1, word=t.word) if t.word is not None else Tree(-1, tuple(strip(c) for c in t.children))

    return Tree(label, tuple(strip(c) for c in tree.children), tree.word)


def _right_branching(words: list[str], label: int) -> Tree:
    t = Tree(-1, word=words[-1])
    for w in reversed(words[:-1]):
        t = Tree(-1, (Tree(-1, word=w), t))
    return Tree(label, t.children, t.word)


def mr_trees(texts: list[str], labels, treebank: dict[str, list[Tree]]) -> tuple[list[Tree], int]:
    """MR's sentences as trees: the treebank's tree of the same sentence where one exists (SST was
    built from MR's sentences; structure and words only, never its labels), else right-branching
    over the sentence's tokens; the MR label at the root, no other node labelled.
    Returns (trees, how many came from the treebank)."""
    index = {_key(" ".join(t.leaves())): t for split in treebank.values() for t in split}
    trees, found = [], 0
    for text, y in zip(texts, labels):
        t = index.get(_key(text))
        found += t is not None
        trees.append(
            _unlabelled(t, int(y)) if t is not None else _right_branching(text.split() or ["."], int(y))
        )
    return trees, found


@dataclass
class TreeFold:
    """One fold of MR on trees: the trees to train on, the 10% of them held out as dev, the trees to
    score, and the fold's texts as protocol.units gives them (for on_unit)."""

    index: int
    train: list[Tree]
    dev: list[Tree]
    test: list[Tree]
    unit: Unit


def mr_tree_folds(
    folds: int = 10, seed: int = 0, root: str | os.PathLike | None = None
) -> tuple[list[TreeFold], int]:
    """MR's sentences as trees (mr_trees) cut by the table's protocol: seqlab's stratified folds, 10%
    of each training part held out as dev. Returns (the folds, how many trees came from the treebank)."""
    from seqlab.classify.data import holdout_split, load_dataset

    ds = load_dataset("mr", root)
    texts, y = ds.train
    trees, found = mr_trees(texts, y, load_treebank(root))
    out = []
    for i, (tr, te) in enumerate(ds.folds(folds, seed)):
        keep, dev = holdout_split(len(tr), 0.1, seed)
        unit = Unit(i, folds, [texts[j] for j in tr], y[tr], [texts[j] for j in te], y[te])
        pick = lambda rows: [trees[j] for j in rows]  # noqa: E731
        out.append(TreeFold(i, pick(tr[keep]), pick(tr[dev]), pick(te), unit))
    return out, found


def fit_tree_fold(model: str, fold: TreeFold, all_words: bool = False, **kw):
    """A `binary` TreeClassifier of `model` (make_tree_estimator; `kw`: epochs, seed, vectors, ...)
    fitted on the fold's training trees, picked on its dev roots. all_words: the vocabulary holds the
    dev and test sentences' words too (their pretrained vectors; never their labels), as Kim's code
    builds MR's over every sentence. Returns (estimator, test accuracy)."""
    est = make_tree_estimator(model, "binary", **kw)
    extra = [w for t in fold.dev + fold.test for w in t.leaves()] if all_words else None
    est.fit(fold.train, X_dev=fold.dev, extra_words=extra)
    return est, est.score_trees(fold.test)


def cross_validate_mr(
    model: str,
    *,
    folds: int = 10,
    vectors=None,
    epochs: int = 25,
    seed: int = 0,
    threads: int | None = None,
    device: str = "auto",
    callback: Callable | None = None,
    on_unit: Callable | None = None,
    root: str | os.PathLike | None = None,
    **settings,
):
    """MR by the table's protocol (stratified `folds`-fold CV, seqlab's folds; 10% of each training
    part held out as dev) on mr_trees. Returns (the best fold's TreeClassifier, metrics)."""
    parts, found = mr_tree_folds(folds, seed, root)
    n_trees = sum(len(f.test) for f in parts)
    accs, best, t0 = [], None, time.perf_counter()
    for fold in parts:
        if on_unit is not None:  # the fold's texts, as protocol.evaluate reports them
            on_unit(fold.unit)
        est, acc = fit_tree_fold(
            model,
            fold,
            vectors=vectors,
            epochs=epochs,
            seed=seed,
            num_threads=threads,
            device=device,
            callback=callback,
            **settings,
        )
        accs.append(acc)
        if best is None or accs[-1] > max(accs[:-1]):
            best = est
    acc = float(np.mean(accs))
    metrics = {
        "dataset": "mr",
        "model": model,
        "accuracy": acc,
        "std": float(np.std(accs)),
        "folds": folds,
        "fold_accuracies": accs,
        "protocol": f"{folds}-fold stratified CV (10% of each training part as dev), root accuracy",
        "seconds": time.perf_counter() - t0,
        "epochs": epochs,
        "seed": seed,
        "train_examples": n_trees,
        "tree_coverage": found / n_trees,
        "checkpoint": f"the model of fold {accs.index(max(accs)) + 1} of {folds} (the best fold)",
        "notes": [
            f"{found} of {n_trees} MR sentences ({100 * found / n_trees:.1f}%) on the SST tree of "
            "the same sentence (structure only), the rest right-branching; loss at the roots only",
        ],
        "world_size": 1,
        "global_batch_size": best.batch_size,
    }
    return best, metrics


def load_treebank(root: str | os.PathLike | None = None) -> dict[str, list[Tree]]:
    """{"train", "dev", "test"} -> the trees of sst_trees/<split>.txt (errors name file and line)."""
    folder = dataset_path("sentence_classification", root) / "sst_trees"
    return {s: read_trees(folder / f"{s}.txt") for s in SPLITS}


def train_on_treebank(
    task: str,
    model: str,
    *,
    vectors=None,
    epochs: int = 25,
    seed: int = 0,
    threads: int | None = None,
    device: str = "auto",
    callback: Callable | None = None,
    dev_checks: int = 1,
    root: str | os.PathLike | None = None,
    **settings,
):
    """Fit `model` (TREE_MODELS) with its paper's settings (`settings` override them) on the
    training trees of `task` (sst1 | sst2), pick it on the dev roots, score the test roots.
    vectors: KeyedVectors, a name or path for load_vectors, or None (random words).
    Returns (the fitted TreeClassifier, metrics dict with `accuracy` = test root accuracy)."""
    if model not in TREE_MODELS:
        raise SeqlabError(f"unknown tree model {model!r}; one of {', '.join(TREE_MODELS)}")
    task = check_tree_dataset(task, model)
    trees = load_treebank(root)
    est = make_tree_estimator(
        model,
        task,
        vectors=vectors,
        epochs=epochs,
        seed=seed,
        num_threads=threads,
        device=device,
        callback=callback,
        dev_checks=dev_checks,
        **settings,
    )
    t0 = time.perf_counter()
    est.fit(trees["train"], X_dev=trees["dev"])
    seconds = time.perf_counter() - t0
    acc = est.score_trees(trees["test"])
    used = {s: [t for t in trees[s] if root_class(t.label, task) is not None] for s in SPLITS}
    epoch_s = [h["seconds"] for h in est.history_]
    metrics = {
        "dataset": task,
        "model": model,
        "accuracy": acc,
        "std": 0.0,
        "folds": 1,
        "fold_accuracies": [acc],
        "protocol": "standard train/dev/test split of the SST trees, root accuracy",
        "seconds": seconds,
        "seconds_per_epoch": sum(epoch_s) / len(epoch_s),
        "epochs": epochs,
        "best_epoch": est.best_epoch_,
        "dev_accuracy": est.dev_accuracy_,
        "train_examples": len(used["train"]),
        "train_nodes": node_count(used["train"]),
        "dev_examples": len(used["dev"]),
        "test_examples": len(used["test"]),
        "dev_checks": dev_checks,
        "seed": seed,
        "checkpoint": f"the model of epoch {est.best_epoch_} (best dev root accuracy)",
        "notes": [
            "trained on every labelled node of the training trees; accuracy at the roots",
            "text without a tree (predict) gets a right-branching tree",
        ]
        + (
            [
                "SST-2: neutral-root trees dropped; nodes labelled negative/neutral/positive, a root "
                "predicted by P(negative) vs P(positive)"
            ]
            if task == "sst2"
            else []
        ),
        "world_size": 1,
        "global_batch_size": est.batch_size,
    }
    return est, metrics
