"""Recursive nets on the SST trees: seconds per training epoch over SST-1's 8,544 training trees, and
test root accuracy on SST-1/SST-2 per model and seed (model picked by dev root accuracy).

Goals (issue 23): Tree-LSTM <= 30 s per epoch on the 2 cores (DyNet's example: 18.5 s on one core),
RNTN at most the same; recnn 43.2/82.4, mv-rnn 44.4/82.9, rntn 45.7/85.4 (within 1.5), tree-lstm
above our BiLSTM's 48.04/86.20.

Run:  python benchmarks/bench_tree_models.py speed [--models ...] [--threads 1 2]
      python benchmarks/bench_tree_models.py accuracy [--models ...] [--tasks sst1 sst2]
                                                     [--seeds 0] [--epochs E] [--threads 1]
      ... accuracy --models rntn --tasks sst1 --set lr=0.05     (a probe: settings over the paper's)
      python benchmarks/bench_tree_models.py mr --models mv-rnn [--folds 10] [--epochs E] [--jobs 2]
      ... mr --only-folds 1 2 --set dropout=0.5     (a probe on two folds' dev scores)
Writes benchmarks/results/tree_models_speed.{json,md}, tree_models.{json,md} or tree_models_mr.*;
the accuracy file keeps earlier cells (same model, task, seed, epochs and settings are replaced)
and is rewritten after each.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import torch

from _common import RESULTS, machine_info, write_results
from seqlab.classify.tree_classifier import TREE_MODELS, make_tree_estimator
from seqlab.classify.tree_data import (
    TREE_VECTORS,
    default_vectors,
    fit_tree_fold,
    load_treebank,
    mr_tree_folds,
    train_on_treebank,
)

PAPER = {"recnn": (43.2, 82.4), "mv-rnn": (44.4, 82.9), "rntn": (45.7, 85.4), "tree-lstm": (51.0, 88.0)}
BILSTM = (48.04, 86.20)  # our BiLSTM row (docs/classify.md): the tree-lstm's goal


def vectors_of(model: str, dataset: str = "sst1"):
    name = default_vectors(model, dataset)
    if name is None:
        return None
    from seqlab.embeddings.vector_sources import load_vectors

    return load_vectors(name)


def speed(args) -> None:
    """One epoch per (model, threads) over the 8,544 training trees, no dev scoring inside."""
    train = load_treebank()["train"]
    rows = []
    for model in args.models:
        kv = vectors_of(model)
        for threads in args.threads:
            est = make_tree_estimator(model, "sst1", vectors=kv, epochs=1, num_threads=threads)
            t0 = time.perf_counter()
            est.fit(train)
            total = time.perf_counter() - t0
            sec = est.history_[0]["seconds"]
            rows.append(
                dict(model=model, threads=threads, epoch_seconds=sec, fit_seconds=total, trees=len(train))
            )
            print(
                f"{model}\tthreads {threads}\t{sec:.1f} s/epoch\t(fit with encoding {total:.1f} s)",
                flush=True,
            )
    md = [
        "# Recursive nets: seconds per training epoch, SST-1 (8,544 trees)",
        "",
        "| model | torch threads | s / epoch | fit incl. vocabulary + encoding (s) |",
        "| --- | --- | --- | --- |",
    ]
    md += [
        f"| {r['model']} | {r['threads']} | {r['epoch_seconds']:.1f} | {r['fit_seconds']:.1f} |" for r in rows
    ]
    info = machine_info()
    md += [
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, load {info['load_avg_1m']:.1f}, {info['date']}.",
    ]
    write_results("tree_models_speed", {"machine": info, "rows": rows}, "\n".join(md))


def accuracy(args) -> None:
    path = RESULTS / "tree_models.json"
    for model in args.models:
        kv = vectors_of(model)
        for task in args.tasks:
            for seed in args.seeds:
                _, m = train_on_treebank(
                    task, model, vectors=kv, epochs=args.epochs, seed=seed, threads=args.threads, **args.set
                )
                cell = {
                    k: m[k] for k in ("dataset", "model", "accuracy", "dev_accuracy", "best_epoch", "epochs")
                }
                cell.update(seed=seed, seconds=m["seconds"], seconds_per_epoch=m["seconds_per_epoch"])
                cell["vectors"] = TREE_VECTORS.get(model)
                cell["settings"] = ",".join(f"{k}={v}" for k, v in sorted(args.set.items()))
                print(
                    f"{task}\t{model}\t{cell['settings']}\tseed {seed}\ttest {100 * m['accuracy']:.2f}"
                    f"\tdev {100 * m['dev_accuracy']:.2f}"
                    f"\tbest epoch {m['best_epoch']}/{args.epochs}\t{m['seconds_per_epoch']:.1f} s/epoch",
                    flush=True,
                )
                # read again just before writing: other runs of this script may have added cells
                cells = json.loads(path.read_text())["cells"] if path.exists() else []
                cells = [c for c in cells if cell_key(c) != cell_key(cell)] + [cell]
                info = machine_info()
                where = (
                    f"\n\nLast run on: {info['cpu']}, {info['cores']} cores, load {info['load_avg_1m']:.1f}, "
                )
                where += f"{info['date']} (torch threads {args.threads})."
                write_results("tree_models", {"machine": info, "cells": cells}, table(cells) + where)


def cell_key(c: dict) -> tuple:
    return (c["model"], c["dataset"], c["seed"], c["epochs"], c.get("settings", ""))


def table(cells: list[dict]) -> str:
    """Mean test root accuracy over the seeds of each (model, task, epochs) beside the paper."""
    md = [
        "# Recursive nets on the SST trees: test root accuracy (model picked on dev roots)",
        "",
        "| model | settings over the paper's | task | epochs | seeds | test (mean ± std) | dev "
        "| paper | goal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    groups: dict = {}
    for c in cells:
        groups.setdefault((c["model"], c.get("settings", ""), c["dataset"], c["epochs"]), []).append(c)
    for (model, settings, task, epochs), cs in sorted(groups.items()):
        acc = np.array([100 * c["accuracy"] for c in cs])
        dev = np.mean([100 * c["dev_accuracy"] for c in cs])
        paper = PAPER[model][task == "sst2"]
        goal = f"> {BILSTM[task == 'sst2']}" if model == "tree-lstm" else f">= {paper - 1.5:.1f}"
        md.append(
            f"| {model} | {settings or '—'} | {task} | {epochs} | {len(cs)} "
            f"| {acc.mean():.2f} ± {acc.std():.2f} | {dev:.2f} "
            f"| {paper} | {goal} |"
        )
    return "\n".join(md)


def mr_fold(model: str, index: int, folds: int, epochs: int, seed: int, threads: int, settings: dict):
    """One fold of MR's CV (a worker's job): (test accuracy, dev accuracy, best epoch)."""
    torch.set_num_threads(threads)
    parts, _ = mr_tree_folds(folds, seed)
    kw = dict(vectors=vectors_of(model, "mr"), epochs=epochs, seed=seed, num_threads=threads)
    est, acc = fit_tree_fold(model, parts[index], **kw, **settings)
    print(
        f"mr\t{model}\tfold {index + 1}/{folds}\ttest {100 * acc:.2f}\tdev {100 * est.dev_accuracy_:.2f}"
        f"\tbest epoch {est.best_epoch_}",
        flush=True,
    )
    return acc, est.dev_accuracy_, est.best_epoch_


def mr(args) -> None:
    """`model` on MR by the table's CV (cross_validate_mr's folds and fits), on MR's sentences' trees
    (tree_data.mr_trees), `--jobs` folds at a time. Earlier rows are kept (one of the same model,
    vectors, folds, epochs and settings is replaced)."""
    path = RESULTS / "tree_models_mr.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    for model in args.models:
        t0 = time.perf_counter()
        job = partial(
            mr_fold,
            model,
            folds=args.folds,
            epochs=args.epochs,
            seed=args.seeds[0],
            threads=args.threads,
            settings=args.set,
        )
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            out = list(pool.map(job, args.only_folds or range(args.folds)))
        accs = [a for a, _, _ in out]
        parts, found = mr_tree_folds(args.folds, args.seeds[0])
        row = dict(model=model, accuracy=float(np.mean(accs)), std=float(np.std(accs)), fold_accuracies=accs)
        row.update(folds=args.folds, epochs=args.epochs, dev_accuracies=[d for _, d, _ in out])
        row.update(best_epochs=[b for _, _, b in out], tree_coverage=found / sum(len(f.test) for f in parts))
        row.update(seconds=time.perf_counter() - t0, jobs=args.jobs, settings=args.set)
        if args.only_folds:  # a probe: these folds' dev scores choose settings, never their test
            row["only_folds"] = [i + 1 for i in args.only_folds]
        row.update(vectors=default_vectors(model, "mr"), seed=args.seeds[0])
        rows = [r for r in rows if mr_key(r) != mr_key(row)] + [row]
        print(f"mr\t{model}\t{100 * row['accuracy']:.2f} ± {100 * row['std']:.2f}", flush=True)
    md = [
        "# Recursive nets on MR (CV on its sentences' trees: the treebank's where one exists)",
        "",
        "| model | vectors | settings over the paper's | folds | epochs | accuracy (mean ± std over folds) "
        "| dev (mean) | tree coverage | paper |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        paper = {"mv-rnn": "79.0"}.get(r["model"], "—")
        dev = f"{100 * np.mean(r['dev_accuracies']):.2f}" if r.get("dev_accuracies") else "—"
        settings = ",".join(f"{k}={v}" for k, v in sorted(r.get("settings", {}).items())) or "—"
        folds = (
            f"{', '.join(map(str, r['only_folds']))} of {r['folds']}" if r.get("only_folds") else r["folds"]
        )
        md.append(
            f"| {r['model']} | {r.get('vectors') or 'random 25-d'} | {settings} | {folds} "
            f"| {r['epochs']} "
            f"| {100 * r['accuracy']:.2f} ± {100 * r['std']:.2f} | {dev} "
            f"| {100 * r['tree_coverage']:.1f}% | {paper} |"
        )
    write_results("tree_models_mr", {"machine": machine_info(), "rows": rows}, "\n".join(md))


def mr_key(r: dict) -> tuple:
    settings = json.dumps(r.get("settings", {}), sort_keys=True)
    return (r["model"], r.get("vectors"), r["folds"], r.get("only_folds"), r["epochs"], settings)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("speed", "accuracy", "mr"))
    ap.add_argument("--folds", type=int, default=10, help="mr: cross-validation folds")
    ap.add_argument("--jobs", type=int, default=1, help="mr: folds trained at once (processes)")
    ap.add_argument(
        "--only-folds",
        nargs="+",
        type=lambda k: int(k) - 1,
        default=None,
        metavar="K",
        help="mr: train only these folds (1-based), a probe whose dev scores choose settings",
    )
    ap.add_argument("--models", nargs="+", default=list(TREE_MODELS), choices=TREE_MODELS)
    ap.add_argument("--tasks", nargs="+", default=["sst1", "sst2"], choices=("sst1", "sst2"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", nargs="+", type=int, default=[1])
    ap.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="K=V",
        help="TreeClassifier settings over the paper's (probes)",
    )
    args = ap.parse_args()
    args.set = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    if args.what == "speed":
        speed(args)
    else:
        args.threads = args.threads[0]
        torch.set_num_threads(args.threads)
        accuracy(args) if args.what == "accuracy" else mr(args)


if __name__ == "__main__":
    main()
