"""The recursive nets' cells of the lecture's table (issue 23): recnn, mv-rnn, rntn and tree-lstm,
trained by the code `seqlab classify train` runs (seqlab.classify.tree_data), one unit at a time so
that `seqlab.classify.table` caches each unit like any other cell's.

    SST-1/SST-2   one unit: train_on_treebank on the treebank's train/dev/test trees, the model picked
                  by its dev root accuracy, scored by root accuracy on the test trees
    MR            `folds` units (MV-RNN only, the paper's 79.0): the folds of cross_validate_mr,
                  MR's sentences on the treebank's trees (right-branching where none)

Elsewhere a tree row has no cell (table_rows.applies). As `classify train` without --vectors,
tree-lstm (and mv-rnn on MR, as Socher et al. 2012 started from 50-d pretrained words) starts from
the table's vectors (glove-6b-50d by default; tree_data.default_vectors) and the rest from random
25-d words (CoreNLP's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from seqlab.classify.data import DATASETS
from seqlab.classify.tree_classifier import TREE_MODELS
from seqlab.classify.tree_data import default_vectors, fit_tree_fold, mr_tree_folds, train_on_treebank
from seqlab.runtime import resolve_device


def tree_unit_count(dataset: str, folds: int) -> int:
    """Units of a tree row's cell: `folds` on MR (cross-validated), 1 on SST (the test split)."""
    return folds if DATASETS[dataset].cv else 1


def tree_jobs(
    cfg, dataset: str, model: str, vectors: Callable[[], object], callback: Callable | None = None
) -> Iterator[tuple[int, Callable[[], dict]]]:
    """(unit index, job) for each unit of the (dataset, model) cell, in order; job() trains that unit
    and returns its record (accuracy, n_train, n_test, best_epoch, device, ...). Nothing loads until
    a job runs, so cached units cost nothing. cfg: a TableConfig (epochs, seed, folds, num_threads,
    device, dev_checks); vectors(): the table's loaded vectors (called for tree-lstm only)."""

    pretrained = default_vectors(model, dataset) is not None  # tree-lstm; mv-rnn on MR

    def settings() -> dict:
        kv = vectors() if pretrained else None
        common = dict(epochs=cfg.epochs, seed=cfg.seed, device=cfg.device, callback=callback)
        return dict(vectors=kv, dev_checks=cfg.dev_checks, **common)

    def record(est, accuracy: float, n_train: int, n_test: int, **extra) -> dict:
        return {
            "accuracy": accuracy,
            "n_train": n_train,
            "n_test": n_test,
            "best_epoch": est.best_epoch_,
            "dev_accuracy": est.dev_accuracy_,
            "dev_checks": cfg.dev_checks,
            "vectors": cfg.vectors if pretrained else None,
            "sst_train": "trees",
            "device": resolve_device(cfg.device).type,
            "epoch_seconds": [round(h["seconds"], 2) for h in est.history_],
            **extra,
        }

    if not DATASETS[dataset].cv:  # sst1 / sst2: the treebank's own split

        def sst_job() -> dict:
            est, m = train_on_treebank(dataset, model, threads=cfg.num_threads, **settings())
            return record(est, m["accuracy"], m["train_examples"], m["test_examples"])

        yield 0, sst_job
        return

    loaded: dict = {}  # MR's folds of trees, loaded when the first fold trains

    def fold_job(i: int) -> dict:
        if not loaded:
            loaded["folds"], found = mr_tree_folds(cfg.folds, cfg.seed)
            loaded["coverage"] = found / sum(len(f.test) for f in loaded["folds"])
        fold = loaded["folds"][i]
        est, acc = fit_tree_fold(model, fold, num_threads=cfg.num_threads, **settings())
        n_train = len(fold.train) + len(fold.dev)  # as the other rows count theirs: dev included
        return record(est, acc, n_train, len(fold.test), tree_coverage=loaded["coverage"])

    for i in range(cfg.folds):
        yield i, lambda i=i: fold_job(i)


def tree_notes(cfg, models) -> list[str]:
    """The table's note on its recursive rows (none without them). models: the rows' model names."""
    tree = [m for m in dict.fromkeys(models) if m in TREE_MODELS]
    if not tree:
        return []
    words = [f"Tree-LSTM starts from {cfg.vectors} (Tai et al.: 300-d GloVe)"] if "tree-lstm" in tree else []
    if set(tree) - {"tree-lstm"}:
        words.append(("the others" if words else "They start") + " from random 25-d words (CoreNLP's)")
    return [
        "",
        f"Recursive rows ({', '.join(tree)}) train as `seqlab classify train` trains them: on every "
        "labelled node of the SST training trees, the model picked by its dev root accuracy, scored by "
        "root accuracy on the test trees"
        + (
            "; MV-RNN's MR cell cross-validates on MR's sentences on the treebank's trees (right-branching "
            f"where none), its words from {cfg.vectors} (Socher et al. 2012: 50-d pretrained words)"
            if "mv-rnn" in tree
            else ""
        )
        + f". {', '.join(words)}. "
        "`—` where the data has no trees and the paper no number.",
    ]
