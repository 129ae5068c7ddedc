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
from seqlab.classify.data import CLEANERS, load_any
from seqlab.classify.estimators import (
    DCNN_RECIPE,
    KIM_CNN_MODELS,
    MODELS,
    PRETRAINED_MODELS,
    check_conv,
    check_recipe,
    estimator_from_state,
    estimator_state,
    make_estimator,
)
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
    device: str = "cpu",
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
    """
    if model not in MODELS:
        raise SeqlabError(f"unknown model {model!r}; one of {', '.join(MODELS)}")
    if epochs < 1:
        raise ParameterError("epochs", f"must be at least 1, got {epochs}")
    if folds < 2:
        raise ParameterError("folds", f"must be at least 2, got {folds}")
    check_conv(conv)
    check_recipe(recipe)
    ds = load_any(dataset, sst_train=sst_train)
    vectors = vectors or ("glove-6b-50d" if model in PRETRAINED_MODELS else None)
    kv = None
    if vectors and model not in ("nbsvm", "mnb"):
        from seqlab.embeddings.vector_sources import load_vectors

        kv = load_vectors(vectors)
    run = Path(run_dir)
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
    else:
        which = "the model trained on the training split (dev: " + (
            "the standard dev set)" if ds.dev is not None else "10% of train held out)"
        )
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
        "global_batch_size": getattr(est, "batch_size", None),
    }
    if group.is_main:
        write_json_atomic(run / "metrics.json", metrics)
    return metrics


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
