"""`seqlab classify train|predict|table`: Kim's sentence CNN, RNN classifiers and NB baselines.

Thin layer: parse flags, call seqlab.classify / seqlab.classify.table, draw progress bars on stderr,
print results on stdout.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from seqlab.errors import SeqlabError

MODELS_HELP = ("cnn-rand, cnn-static, cnn-non-static, cnn-multichannel (Kim 2014), lstm, bilstm, gru, "
               "cnn-rnn (BiLSTM under Kim's convolution), nbsvm, mnb (Wang & Manning 2012)")
DATASETS_HELP = "mr, sst1, sst2, subj, trec, cr, mpqa"
CKPT_KIND = "sentence-classifier"


def register(sub) -> None:
    """Add `classify` and its subcommands to the top-level parser."""
    p = sub.add_parser("classify", help="sentence classification: Kim's CNN, RNNs, NBSVM/MNB",
                       description="Train and use sentence classifiers and reproduce Kim (2014), Table 2.")
    s = p.add_subparsers(dest="classify_command", metavar="SUBCOMMAND")
    s.required = True
    fmt = argparse.ArgumentDefaultsHelpFormatter

    t = s.add_parser("train", formatter_class=fmt, help="train (and cross-validate) one classifier",
                     description="Train a classifier on a named dataset or your own file and write "
                     "RUN/metrics.json (accuracy, std, folds, seconds) and RUN/model.pt. Sets without a "
                     "test split (MR, Subj, CR, MPQA, your files) are cross-validated; the checkpoint "
                     "is then the model of the best fold.")
    t.add_argument("dataset", metavar="DATASET",
                   help=f"one of {DATASETS_HELP}, or a file of 'label<TAB>text' lines or CSV label,text")
    t.add_argument("-o", "--output", required=True, metavar="RUN", help="run folder to write")
    t.add_argument("--model", required=True, metavar="MODEL", help=f"one of {MODELS_HELP}")
    t.add_argument("--vectors", default=None, metavar="V",
                   help="pretrained vectors for the cnn-static/non-static/multichannel models: a word2vec "
                   "(text or binary) or GloVe file, or 'glove-6b-50d' (the default for those models; "
                   "the paper used 300-d GoogleNews word2vec). Given with lstm/bilstm/gru/cnn-rnn, "
                   "they initialise the embeddings")
    t.add_argument("--folds", type=int, default=10, metavar="K",
                   help="cross-validation folds for sets without a test split")
    t.add_argument("--epochs", type=int, default=25, metavar="E",
                   help="maximum epochs (the epoch best on the dev set is kept)")
    t.add_argument("--seed", type=int, default=0, help="random seed (folds, dev split, init, batches)")
    t.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch CPU threads (default: torch's choice)")
    t.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                   help="where the neural models train (default cpu; auto = cuda when present). "
                        "The saved model always predicts on the CPU")
    t.set_defaults(func=cmd_train)

    pr = s.add_parser("predict", formatter_class=fmt, help="label new sentences with a trained run",
                      description="Print, for each TEXT, the predicted label and the probability of "
                      "every class (tab-separated: label, probabilities, text).")
    pr.add_argument("run", metavar="RUN", help="a folder written by `seqlab classify train`")
    pr.add_argument("texts", nargs="+", metavar="TEXT", help="sentences to classify")
    pr.set_defaults(func=cmd_predict)

    tb = s.add_parser("table", formatter_class=fmt, help="reproduce the lecture's table (Kim 2014, Table 2)",
                      description="Train every (dataset, model) cell and write a markdown table with the "
                      "paper's number, ours and the difference. Each fold's result is cached next to "
                      "TABLE.md, so a killed run resumes where it stopped.")
    tb.add_argument("-o", "--output", required=True, metavar="TABLE.md", help="markdown file to write "
                    "(a .json with the same numbers is written beside it)")
    tb.add_argument("--datasets", nargs="+", default=["mr", "sst1", "sst2", "subj", "trec", "cr", "mpqa"],
                    metavar="D", help=f"datasets (columns), from {DATASETS_HELP}")
    tb.add_argument("--models", nargs="+", default=["cnn-rand", "cnn-static", "cnn-non-static",
                                                    "cnn-multichannel", "nbsvm", "mnb"],
                    metavar="M", help=f"models (rows), from {MODELS_HELP}")
    tb.add_argument("--vectors", default="glove-6b-50d", metavar="V",
                    help="pretrained vectors for the static/non-static/multichannel rows")
    tb.add_argument("--folds", type=int, default=10, metavar="K", help="CV folds for MR, Subj, CR, MPQA")
    tb.add_argument("--epochs", type=int, default=25, metavar="E", help="maximum epochs per neural model")
    tb.add_argument("--seed", type=int, default=0, help="random seed")
    tb.add_argument("--threads", type=int, default=None, metavar="N", help="torch CPU threads")
    tb.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                    help="where the neural cells train (default cpu); each fold records its device and "
                         "the table says which cells came from a GPU")
    tb.add_argument("--cache", default=None, metavar="DIR",
                    help="result cache (default: TABLE_cache/ next to TABLE.md)")
    tb.add_argument("--cached-only", action="store_true",
                    help="train nothing: write the table from the folds already in the cache")
    tb.set_defaults(func=cmd_table)


# --------------------------------------------------------------------------- progress


class _Bars:
    """An outer bar (folds or cells) and an inner bar (batches of the current epoch)."""

    def __init__(self, total: int, desc: str, unit: str):
        from seqlab.runtime import progress

        self._progress = progress
        self.outer = progress(total=total, desc=desc, unit=unit, position=0)
        self.inner = None
        self.prefix = ""

    def __call__(self, event: str, **k) -> None:
        if event == "epoch":
            if self.inner is not None:
                self.inner.close()
            self.inner = self._progress(total=k["batches"], unit="batch", position=1,
                                        desc=f"{self.prefix}epoch {k['epoch']}/{k['epochs']}")
        elif event == "batch" and self.inner is not None:
            self.inner.update(1)
            self.inner.set_postfix(loss=f"{k['loss']:.3f}", refresh=False)
        elif event == "epoch_end" and self.outer is not None and k.get("dev_accuracy") is not None:
            self.outer.set_postfix(dev=f"{100 * k['dev_accuracy']:.1f}", refresh=False)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
        self.outer.close()


def _check_positive(name: str, value: int, minimum: int = 1) -> None:
    if value < minimum:
        raise SeqlabError(f"{name} must be at least {minimum}, got {value}")


# --------------------------------------------------------------------------- train / predict


def cmd_train(args) -> int:
    import torch

    from seqlab.checkpoint import save_checkpoint
    from seqlab.classify.estimators import (MODELS, PRETRAINED_MODELS, cross_validate, estimator_state, fit_estimator,
                                 make_estimator)
    from seqlab.files import write_json_atomic
    from seqlab.runtime import seed_everything
    from seqlab.classify.data import load_any

    if args.model not in MODELS:
        raise SeqlabError(f"unknown model {args.model!r}; one of {', '.join(MODELS)}")
    _check_positive("--epochs", args.epochs)
    _check_positive("--folds", args.folds, 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    ds = load_any(args.dataset)
    vectors_spec = args.vectors or ("glove-6b-50d" if args.model in PRETRAINED_MODELS else None)
    kv = None
    if vectors_spec and args.model not in ("nbsvm", "mnb"):
        from seqlab.embeddings.keyedvectors import load_vectors

        kv = load_vectors(vectors_spec)
    run = Path(args.output)
    t0 = time.perf_counter()
    if ds.cv:
        bars = _Bars(args.folds, f"{ds.name} {args.model} folds", "fold")

        def on_fold(k, n):
            if k:
                bars.outer.update(1)
            bars.prefix = f"fold {k + 1}/{n} "

        est = make_estimator(args.model, vectors=kv, epochs=args.epochs, seed=args.seed,
                             num_threads=args.threads, callback=bars, device=args.device)
        try:
            res = cross_validate(est, ds.train[0], ds.train[1], folds=args.folds, seed=args.seed,
                                 on_fold=on_fold)
        finally:
            bars.close()
        final, acc, std, folds = res.best_estimator, res.accuracy, res.std, res.fold_accuracies
        which = (f"the model of fold {res.best_fold + 1} of {args.folds} (the best fold, "
                 f"{100 * folds[res.best_fold]:.2f}% on its held-out part)")
    else:
        bars = _Bars(1, f"{ds.name} {args.model}", "run")
        est = make_estimator(args.model, vectors=kv, epochs=args.epochs, seed=args.seed,
                             num_threads=args.threads, callback=bars, device=args.device)
        try:
            dev = ds.dev if ds.dev is not None else (None, None)
            fit_estimator(est, ds.train[0], ds.train[1], *dev)
        finally:
            bars.close()
        acc = float(est.score(*ds.test))
        final, std, folds = est, 0.0, [acc]
        which = "the model trained on the training split (dev: " + \
            ("the standard dev set)" if ds.dev is not None else "10% of train held out)")
    seconds = time.perf_counter() - t0
    labels = [ds.labels[int(c)] for c in final.classes_]
    save_checkpoint(run / "model.pt", CKPT_KIND, {
        "estimator": _to_torch(estimator_state(final)), "labels": labels, "cleaner": ds.cleaner,
        "dataset": ds.name, "model": args.model, "vectors": vectors_spec})
    metrics = {"dataset": ds.name, "model": args.model, "accuracy": acc, "std": std,
               "folds": len(folds) if ds.cv else 1, "fold_accuracies": folds,
               "protocol": f"{args.folds}-fold stratified CV" if ds.cv else "test split",
               "seconds": seconds, "epochs": args.epochs, "seed": args.seed, "vectors": vectors_spec,
               "checkpoint": which, "notes": ds.notes + (
                   [f"pretrained vectors: {vectors_spec} (the paper used 300-d GoogleNews word2vec)"]
                   if args.model in PRETRAINED_MODELS else [])}
    write_json_atomic(run / "metrics.json", metrics)
    print(f"{ds.name}\t{args.model}\taccuracy {100 * acc:.2f} ± {100 * std:.2f}\t"
          f"({metrics['protocol']}, {seconds:.0f} s)\t-> {run}/metrics.json, {run}/model.pt ({which})")
    return 0


def _to_torch(obj):
    """NumPy arrays -> tensors (and NumPy scalars -> Python) so weights_only loading accepts them."""
    import torch

    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v) for v in obj)
    return obj


def cmd_predict(args) -> int:
    from seqlab.checkpoint import load_checkpoint
    from seqlab.classify.estimators import estimator_from_state
    from seqlab.classify.data import CLEANERS

    run = Path(args.run)
    if not run.is_dir():
        raise SeqlabError(f"run folder not found: {run}")
    ck = load_checkpoint(run / "model.pt", CKPT_KIND)
    est = estimator_from_state(ck["estimator"])
    clean = CLEANERS.get(ck.get("cleaner"), CLEANERS["kim"])
    texts = [clean(t) for t in args.texts]
    proba = est.predict_proba(texts)                                   # (N, C)
    labels = ck["labels"]
    for text, p in zip(args.texts, proba):
        best = int(np.argmax(p))
        probs = " ".join(f"{labels[i]}={p[i]:.3f}" for i in range(len(labels)))
        print(f"{labels[best]}\t{probs}\t{text}")
    return 0


# --------------------------------------------------------------------------- table


def machine_description() -> str:
    import os

    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores (cells' times come from "
            f"several sessions, some on a machine shared with other jobs), torch {torch.__version__}, {torch.get_num_threads()} threads")


def cmd_table(args) -> int:
    import torch

    from seqlab.classify.table import TableConfig, cells_json, markdown_table, run_table
    from seqlab.files import write_json_atomic, write_text_atomic

    cfg = TableConfig(tuple(d.lower().replace("-", "") for d in args.datasets), tuple(args.models),
                      args.vectors, args.epochs, args.folds, args.seed, args.threads, args.device)
    cfg.validate()
    _check_positive("--folds", args.folds, 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.output)
    cache = Path(args.cache) if args.cache else out.parent / f"{out.stem}_cache"
    if not args.cached_only and any(m in ("cnn-static", "cnn-non-static", "cnn-multichannel")
                                    for m in cfg.models):
        from seqlab.embeddings.keyedvectors import load_vectors

        kv = load_vectors(cfg.vectors)                                  # fail fast on bad vectors
        loader = lambda spec: kv  # noqa: E731
    else:
        loader = None
    from seqlab.classify.data import DATASETS

    units = sum((cfg.folds if DATASETS[d].cv else 1) for d in cfg.datasets) * len(cfg.models)
    bars = _Bars(units, "table", "fold")
    started = [False]

    def cb(event, **k):
        if event == "unit":
            if started[0]:
                bars.outer.update(1)
            started[0] = True
            bars.prefix = f"{k['dataset']} {k['model']} {k['unit'] + 1}/{k['units']} "
            bars.outer.set_description(f"table: {k['dataset']} {k['model']}" + (" (cached)" if k["cached"] else ""))
        else:
            bars(event, **k)

    t0 = time.perf_counter()
    try:
        cells = run_table(cfg, cache, callback=cb, vectors_loader=loader, train=not args.cached_only)
    finally:
        bars.close()
    total = time.perf_counter() - t0
    md = markdown_table(cells, cfg, total, machine_description())
    write_text_atomic(out, md)
    write_json_atomic(out.with_suffix(".json"), {"cells": cells_json(cells), "seconds": total,
                                                 "machine": machine_description(), "config": {
                                                     "datasets": list(cfg.datasets), "models": list(cfg.models),
                                                     "vectors": cfg.vectors, "epochs": cfg.epochs,
                                                     "folds": cfg.folds, "seed": cfg.seed}})
    print(md)
    print(f"total time: {total:.1f} s; table -> {out}, cache -> {cache}")
    return 0
