"""A classifier run directory: train one model on a dataset by Kim's protocol into RUN/ (what
`seqlab classify train` calls), and load it back to label raw sentences.

    metrics = train_classifier("mr", "cnn-rand", "runs/mr")       # RUN/model.pt, RUN/metrics.json
    clf = TrainedClassifier.load("runs/mr")
    clf.predict(["a gorgeous , witty film"])                        # -> ["positive"]
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.classify import protocol
from seqlab.classify.data import CLEANERS, check_dataset, check_sst_train, load_any
from seqlab.classify.estimators import (
    DCNN_RECIPE,
    KIM_CNN_MODELS,
    LINEAR_MODELS,
    MODELS,
    PRETRAINED_MODELS,
    check_conv,
    check_dev_checks,
    check_recipe,
    estimator_from_state,
    estimator_state,
    make_estimator,
)
from seqlab.classify.tree_classifier import TREE_MODELS
from seqlab.classify.tree_data import check_tree_dataset, default_vectors, train_on_treebank
from seqlab.distributed import current_group
from seqlab.errors import ParameterError, SeqlabError
from seqlab.files import write_json_atomic

CHECKPOINT_KIND = "sentence-classifier"


def train_classifier(
    dataset: str,
    model: str,
    run_dir: str | os.PathLike,
    vectors: str | None = None,
    folds: int = 10,
    epochs: int = 25,
    seed: int = 0,
    threads: int | None = None,
    device: str = "auto",
    callback: Callable | None = None,
    on_unit: Callable[[protocol.Unit], None] | None = None,
    conv: str = "narrow",
    sst_train: str = "phrases",
    dev_checks: int = 1,
    recipe: str = DCNN_RECIPE,
) -> dict:
    """Train `model` (one of MODELS) on a named dataset or a user's file by Kim's protocol and write
    RUN/model.pt (the model of the test split, or of the best fold) and RUN/metrics.json.

    vectors: pretrained vectors for the cnn-static/non-static/multichannel models (default
    glove-6b-50d; the paper used 300-d GoogleNews word2vec), optional for the RNNs and the DCNN.
    conv: narrow | wide convolution of Kim's CNN. sst_train: SST-1/SST-2 train on Kim's
    "phrases" (default) or on "sentences" only. dev_checks: dev-set scorings per epoch (the best
    point is kept). recipe: how the DCNN trains (DCNN_RECIPES). callback: the estimators' epoch/batch events;
    on_unit(unit): before each fold or the test split.
    Returns the metrics (accuracy, std, folds, fold_accuracies, protocol, seconds, train_examples, ...).

    Every argument is checked before any work (check_training_arguments), then the vectors load,
    then the data, then training.
    """
    check_training_arguments(
        dataset,
        model,
        run_dir,
        vectors=vectors,
        folds=folds,
        epochs=epochs,
        seed=seed,
        threads=threads,
        device=device,
        conv=conv,
        sst_train=sst_train,
        dev_checks=dev_checks,
        recipe=recipe,
    )
    if model in TREE_MODELS:  # the recursive nets train on the SST trees themselves
        return _train_tree_run(
            dataset,
            model,
            Path(run_dir),
            vectors,
            epochs,
            seed,
            threads,
            device,
            callback,
            dev_checks,
            folds,
            on_unit,
        )
    neural = model not in LINEAR_MODELS
    run = Path(run_dir)
    vectors = vectors or ("glove-6b-50d" if model in PRETRAINED_MODELS else None)
    kv = None
    if vectors and neural:
        from seqlab.embeddings.vector_sources import load_vectors

        kv = load_vectors(vectors)
    ds = load_any(dataset, sst_train=sst_train)
    res = protocol.evaluate(
        lambda: make_estimator(
            model,
            vectors=kv,
            epochs=epochs,
            seed=seed,
            num_threads=threads,
            callback=callback,
            device=device,
            conv=conv,
            dev_checks=dev_checks,
            recipe=recipe,
        ),
        ds,
        folds,
        seed,
        on_unit,
    )
    accs = res.accuracies
    if ds.cv:
        which = (
            f"the model of fold {res.best_unit + 1} of {folds} (the best fold, "
            f"{100 * accs[res.best_unit]:.2f}% on its held-out part)"
        )
    elif neural:
        which = "the model trained on the training split (dev: " + (
            "the standard dev set)" if ds.dev is not None else "10% of train held out)"
        )
    else:  # the baselines use no dev set
        which = "the model trained on the training split"
    est = res.best_estimator
    labels = [ds.labels[int(c)] for c in est.classes_]
    group = current_group()  # under torchrun every rank trained; rank 0 writes
    if group.is_main:
        save_checkpoint(
            run / "model.pt",
            CHECKPOINT_KIND,
            {
                "estimator": checkpoint_values(estimator_state(est)),
                "labels": labels,
                "cleaner": ds.cleaner,
                "dataset": ds.name,
                "model": model,
                "vectors": vectors,
            },
        )
    metrics = {
        "dataset": ds.name,
        "model": model,
        "accuracy": res.accuracy,
        "std": res.std,
        "folds": len(accs) if ds.cv else 1,
        "fold_accuracies": accs,
        "protocol": protocol.protocol_name(ds, folds),
        "seconds": res.seconds,
        "epochs": epochs,
        "train_examples": res.train_examples,
        "conv": conv if model in KIM_CNN_MODELS else None,
        "sst_train": sst_train if ds.name in ("sst1", "sst2") else None,
        "dev_checks": dev_checks,
        "recipe": recipe if model == "dcnn" else None,
        "seed": seed,
        "vectors": vectors,
        "checkpoint": which,
        "notes": ds.notes
        + (
            [f"pretrained vectors: {vectors} (the paper used 300-d GoogleNews word2vec)"]
            if model in PRETRAINED_MODELS
            else []
        ),
        "world_size": group.world_size,
        "device": _device_used(device) if neural else "cpu",
        "global_batch_size": getattr(est, "batch_size", None),
    }
    if group.is_main:
        write_json_atomic(run / "metrics.json", metrics)
    return metrics


def _train_tree_run(
    dataset, model, run, vectors, epochs, seed, threads, device, callback, dev_checks, folds, on_unit
) -> dict:
    """train_classifier for the recursive nets (seqlab.classify.tree_data): same files, same metrics
    keys. sst1/sst2: the treebank's splits; mr: cross-validated on its sentences' trees."""
    from seqlab.classify.data import DATASETS
    from seqlab.classify.tree_data import cross_validate_mr

    vectors = vectors or default_vectors(model, dataset)
    kv = None
    if vectors:
        from seqlab.embeddings.vector_sources import load_vectors

        kv = load_vectors(vectors)
    common = dict(vectors=kv, epochs=epochs, seed=seed, threads=threads, device=device, callback=callback)
    if check_tree_dataset(dataset, model) == "mr":
        est, metrics = cross_validate_mr(model, folds=folds, on_unit=on_unit, dev_checks=dev_checks, **common)
    else:
        est, metrics = train_on_treebank(dataset, model, dev_checks=dev_checks, **common)
    spec = DATASETS[metrics["dataset"]]
    payload = {"estimator": checkpoint_values(estimator_state(est)), "labels": list(spec.labels)}
    payload.update(cleaner=spec.cleaner, dataset=metrics["dataset"], model=model, vectors=vectors)
    save_checkpoint(run / "model.pt", CHECKPOINT_KIND, payload)
    sst_train = "trees" if metrics["dataset"] != "mr" else None
    metrics.update(vectors=vectors, conv=None, sst_train=sst_train, recipe=None, dev_checks=dev_checks)
    metrics.update(device=_device_used(device))
    write_json_atomic(run / "metrics.json", metrics)
    return metrics


def _device_used(device: str) -> str:
    """The device a run trained on, resolved ("auto" -> "cuda" or "cpu"), as metrics.json says."""
    from seqlab.runtime import resolve_device

    return resolve_device(device).type


def check_writable(path: Path, folder: bool) -> None:
    """Fail now, not after hours of training, where `path` (a folder to create or fill, or a file to
    write) cannot be written: it exists as the other kind, or its nearest existing parent is not a
    writable folder."""
    if path.exists() and path.is_dir() != folder:
        kind = "is a file, not a folder" if folder else "is a folder, not a file"
        raise SeqlabError(f"output path {path} {kind}")
    parent = path if folder and path.is_dir() else path.parent  # where files are created
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SeqlabError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SeqlabError(f"cannot write {path}: no permission to write in {parent}")


def checkpoint_values(obj):
    """NumPy arrays -> tensors (and NumPy scalars -> Python) so weights_only loading accepts them."""
    import torch

    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: checkpoint_values(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(checkpoint_values(v) for v in obj)
    return obj


def check_training_arguments(
    dataset: str,
    model: str,
    run_dir: str | os.PathLike,
    *,
    vectors: str | None = None,
    folds: int = 10,
    epochs: int = 25,
    seed: int = 0,
    threads: int | None = None,
    device: str = "auto",
    conv: str = "narrow",
    sst_train: str = "phrases",
    dev_checks: int = 1,
    recipe: str = DCNN_RECIPE,
) -> None:
    """Every argument of `train_classifier`, checked in a moment (no data, vectors or training):
    ParameterError naming the parameter, or SeqlabError for an unknown name, a missing dataset or
    vectors file, a device torch cannot see, a run folder that cannot be written."""
    from seqlab.runtime import resolve_device

    if model not in MODELS:
        raise SeqlabError(f"unknown model {model!r}; one of {', '.join(MODELS)}")
    if epochs < 1:
        raise ParameterError("epochs", f"must be at least 1, got {epochs}")
    if folds < 2:
        raise ParameterError("folds", f"must be at least 2, got {folds}")
    check_conv(conv)
    check_recipe(recipe)
    check_dev_checks(dev_checks)
    check_sst_train(sst_train)
    if model in TREE_MODELS:
        check_tree_dataset(dataset, model)
    for name, value in (("seed", seed), ("threads", threads)):
        if value is not None and value < 0:
            raise ParameterError(name, f"must be at least 0, got {value}")
    neural = model not in LINEAR_MODELS
    if neural:
        resolve_device(device)  # "cuda" without a GPU fails here, not after the data has loaded
    check_dataset(dataset)
    check_writable(Path(run_dir), folder=True)
    if vectors and neural and str(vectors).lower() != "glove-6b-50d" and not Path(vectors).exists():
        from seqlab.embeddings.vector_sources import load_vectors

        load_vectors(vectors)  # raises its one line (file not found, or a name it does not know)


class TrainedClassifier:
    """A trained run: the fitted estimator, its label names and the cleaning its data had, so raw
    sentences are cleaned exactly as the training sentences were."""

    def __init__(self, estimator, labels: list[str], cleaner: str, info: dict | None = None):
        self.estimator, self.labels, self.cleaner = estimator, list(labels), cleaner
        self.info = info or {}

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> TrainedClassifier:
        run = Path(run_dir)
        path = run / "model.pt" if run.is_dir() else run
        if not path.exists():
            raise SeqlabError(
                f"run folder not found: {run}"
                if not run.exists()
                else f"{run} is not a trained classifier run (no model.pt inside)"
            )
        ck = load_checkpoint(path, CHECKPOINT_KIND)
        try:
            est = estimator_from_state(ck["estimator"])
            return cls(
                est,
                ck["labels"],
                ck.get("cleaner") or "kim",
                {k: ck.get(k) for k in ("dataset", "model", "vectors")},
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise SeqlabError(
                f"{path}: damaged classifier checkpoint ({type(e).__name__}: {str(e)[:100]})"
            ) from None

    def clean(self, text: str) -> str:
        return CLEANERS.get(self.cleaner, CLEANERS["kim"])(text)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """(N, C) probabilities of raw sentences, columns in the order of `labels`."""
        if not texts:
            raise SeqlabError("no sentences to classify")
        return self.estimator.predict_proba([self.clean(t) for t in texts])

    def predict(self, texts: list[str]) -> list[str]:
        return [self.labels[int(i)] for i in self.predict_proba(texts).argmax(axis=1)]
