"""The lecture's results table (Kim 2014, Table 2) reproduced: paper numbers, a resumable runner,
and a markdown writer that puts the paper's number, ours and the difference in every cell.

Rows are model names, or `MODEL:wide` / `MODEL:narrow` for Kim's CNN with that convolution (a bare
cnn-* name is narrow, the paper's c in R^{n-h+1}): the default rows hold CNN-rand both ways. The
recursive nets' cells train on the treebank's trees by classify train's code (table_trees).

Every (dataset, row, fold) result is one small JSON file in a cache folder, written atomically as
soon as that fold finishes, so a run that is killed resumes at the first missing fold. Each fold
also records its epochs' seconds and the 1-minute load average before and after it (the machine
may be shared). The cache key holds every setting that changes a result (model, convolution, SST
training set, epochs, folds, seed, vectors for the pretrained models, the dataset's revision when
its texts have changed: TREC's `__data2` since issue 25), so changing one starts fresh cells
instead of mixing numbers.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from seqlab.classify import protocol
from seqlab.classify.data import DATASETS, check_sst_train, load_dataset
from seqlab.classify.estimators import (
    DCNN_RECIPE,
    KIM_CNN_MODELS,
    LINEAR_MODELS,
    MODELS,
    PRETRAINED_MODELS,
    check_dev_checks,
    is_neural,
    make_estimator,
)
from seqlab.classify.run import check_writable
from seqlab.classify.table_rows import (
    DATASET_TITLES,
    DEFAULT_ROWS,
    MODEL_TITLES,
    ORDER,
    PAPER,
    TABLE_ROWS,
    UNAVAILABLE,
    applies,
    parse_row,
    row_title,
    untrainable_message,
)
from seqlab.classify.table_trees import tree_jobs, tree_notes, tree_unit_count
from seqlab.classify.tree_classifier import TREE_MODELS
from seqlab.classify.tree_data import default_vectors
from seqlab.errors import SeqlabError, check_at_least
from seqlab.files import write_json_atomic, write_text_atomic
from seqlab.runtime import resolve_device


@dataclass
class TableConfig:
    datasets: tuple[str, ...] = ORDER
    models: tuple[str, ...] = (
        DEFAULT_ROWS  # rows: model names, MODEL:wide for Kim's CNN with wide convolution
    )
    vectors: str = "glove-6b-50d"  # for the pretrained variants; the paper used GoogleNews word2vec 300d
    epochs: int = 25
    folds: int = 10  # for the CV sets (MR, Subj, CR, MPQA)
    seed: int = 0
    num_threads: int | None = None
    device: str = "auto"  # where the neural cells train (auto, cpu, cuda); recorded per fold
    sst_train: str = "phrases"  # what SST-1/SST-2 train on: Kim's phrases, or sentences only
    dev_checks: int = 1  # dev-set scorings per epoch (the best point is kept)

    def validate(self) -> TableConfig:
        """Check every field (ParameterError naming it, or the unknown name); returns self."""
        for d in self.datasets:
            if d not in DATASETS:
                raise SeqlabError(f"unknown dataset {d!r}; one of {', '.join(DATASETS)}")
        for m in self.models:
            parse_row(m)
        check_sst_train(self.sst_train)
        check_at_least(self, 1, "epochs")
        check_at_least(self, 2, "folds")
        check_at_least(self, 0, "seed", "num_threads")
        check_dev_checks(self.dev_checks)
        return self

    def check_can_train(self) -> None:
        """Every row to train has an estimator (else one line naming it) and the device the neural
        rows train on exists ("cuda" without a GPU fails now). UNAVAILABLE rows are never trained."""
        for m in self.models:
            model = parse_row(m)[0]
            if model not in UNAVAILABLE and model not in MODELS:
                raise SeqlabError(untrainable_message(model))
        if any(parse_row(m)[0] in MODELS and parse_row(m)[0] not in LINEAR_MODELS for m in self.models):
            resolve_device(self.device)


@dataclass
class Cell:
    """One (dataset, model) cell: the folds done so far out of `units`."""

    dataset: str
    model: str
    units: int
    accuracies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    devices: dict[str, int] = field(default_factory=dict)  # folds trained per device ("cpu", "cuda")
    n_train: int | None = None  # training examples of the last unit added

    def add(self, accuracy: float, seconds: float, device: str, n_train: int | None = None) -> None:
        self.accuracies.append(accuracy)
        self.seconds += seconds
        self.devices[device] = self.devices.get(device, 0) + 1
        self.n_train = n_train if n_train is not None else self.n_train

    @property
    def done(self) -> int:
        return len(self.accuracies)

    @property
    def mean(self) -> float | None:
        return 100 * float(np.mean(self.accuracies)) if self.accuracies else None

    @property
    def std(self) -> float | None:
        return 100 * float(np.std(self.accuracies)) if self.accuracies else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", Path(text).name if "/" in text else text).strip("-")[:60]


def cache_file(cache_dir: Path, cfg: TableConfig, dataset: str, row: str, unit: int, cv: bool) -> Path:
    """Where one fold's (or the test split's) result lives; its name holds every relevant setting:
    dataset, model, convolution (Kim's CNN) or recipe (DCNN), vectors (pretrained rows), SST training
    set (`trees` for the recursive nets), data revision (when above 1: its texts changed), epochs
    (neural rows), dev checks per epoch (neural rows, when more than one), seed and fold."""
    model, opt = parse_row(row)
    cnv = f"__{opt}" if model in KIM_CNN_MODELS else ""
    if model == "dcnn" and opt != "b50":  # b50: the first recipe, whose cells came before b4
        cnv = f"__{opt}"
    # pretrained rows since issue 13: rescaled to U[-0.25, 0.25]'s std, trained rows widened to 300
    vec = (
        f"__{_slug(cfg.vectors)}__std0.144" + ("" if model == "cnn-static" else "__w300")
        if model in PRETRAINED_MODELS
        else ""
    )
    vec += f"__{_slug(cfg.vectors)}" if model in TREE_MODELS and default_vectors(model, dataset) else ""
    sst = "__trees" if model in TREE_MODELS else f"__{cfg.sst_train}" if DATASETS[dataset].phrases else ""
    revision = DATASETS[dataset].revision
    sst += f"__data{revision}" if revision > 1 else ""
    neural = model not in LINEAR_MODELS
    ep = (f"__e{cfg.epochs}" + (f"__dc{cfg.dev_checks}" if cfg.dev_checks > 1 else "")) if neural else ""
    split = f"fold{unit + 1}of{cfg.folds}" if cv else "test"
    return cache_dir / f"{dataset}__{model}{cnv}{vec}{sst}{ep}__s{cfg.seed}__{split}.json"


def run_table(
    cfg: TableConfig,
    cache_dir: str | Path,
    callback: Callable | None = None,
    vectors_loader: Callable | None = None,
    train: bool = True,
) -> dict[tuple[str, str], Cell]:
    """Fill every cell, reading finished folds from `cache_dir` and writing each new one there.
    With `train=False` only the cache is read (missing folds stay missing).

    callback("unit", dataset=, model=, unit=, units=, cached=) before each fold, and the
    estimators' own epoch/batch events in between (see seqlab.classify).
    """
    cfg.validate()
    if train:
        cfg.check_can_train()
    cache_dir = Path(cache_dir)
    check_writable(cache_dir, folder=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cb = callback or (lambda *a, **k: None)
    kv = []

    def vectors():  # loaded once, by the first unit that needs them
        if not kv:
            from seqlab.embeddings.vector_sources import load_vectors

            kv.append((vectors_loader or load_vectors)(cfg.vectors))
        return kv[0]

    cells: dict[tuple[str, str], Cell] = {}
    for dname in cfg.datasets:
        ds = None
        for row in cfg.models:
            model = parse_row(row)[0]
            if model in UNAVAILABLE or not applies(model, dname):
                continue  # nothing to train: the table prints "—" (and a footnote)
            if model in TREE_MODELS:  # the treebank's trees, by classify train's code
                n_units = tree_unit_count(dname, cfg.folds)
                jobs = tree_jobs(cfg, dname, model, vectors, callback)
            else:
                ds = ds or load_dataset(dname, sst_train=cfg.sst_train)
                n_units = protocol.unit_count(ds, cfg.folds)
                units = protocol.units(ds, cfg.folds, cfg.seed)
                jobs = ((u.index, partial(_fit_unit, cfg, dname, row, u, vectors, callback)) for u in units)
            cell = cells[(dname, row)] = Cell(dname, row, n_units)
            for index, job in jobs:
                path = cache_file(cache_dir, cfg, dname, row, index, DATASETS[dname].cv)
                if path.is_file():
                    rec = json.loads(path.read_text())
                    cb("unit", dataset=dname, model=row, unit=index, units=n_units, cached=True)
                    cell.add(rec["accuracy"], rec["seconds"], rec.get("device", "cpu"), rec.get("n_train"))
                    continue
                if not train:
                    continue
                cb("unit", dataset=dname, model=row, unit=index, units=n_units, cached=False)
                t0, load0 = time.perf_counter(), os.getloadavg()[0]
                rec = job()
                secs = time.perf_counter() - t0
                rec.update(
                    dataset=dname,
                    data_revision=DATASETS[dname].revision,
                    model=model,
                    row=row,
                    unit=index,
                    units=n_units,
                    seconds=secs,
                    epochs=cfg.epochs,
                    seed=cfg.seed,
                    load_avg=[load0, os.getloadavg()[0]],
                )
                write_json_atomic(path, rec)
                cell.add(rec["accuracy"], secs, rec["device"], rec["n_train"])
    return cells


def _fit_unit(cfg: TableConfig, dname: str, row: str, unit, vectors: Callable, callback) -> dict:
    """Train one fold (or the test split) of an estimator row; its record for the cache."""
    model, opt = parse_row(row)
    conv = opt if model in KIM_CNN_MODELS else "narrow"
    recipe = opt if model == "dcnn" else DCNN_RECIPE
    est = make_estimator(
        model,
        vectors=vectors() if model in PRETRAINED_MODELS else None,
        epochs=cfg.epochs,
        seed=cfg.seed,
        num_threads=cfg.num_threads,
        callback=callback,
        device=cfg.device,
        conv=conv,
        dev_checks=cfg.dev_checks,
        recipe=recipe,
    )
    acc = protocol.fit_and_score(est, unit)
    return {
        "accuracy": acc,
        "n_train": len(unit.X_train),
        "n_test": len(unit.X_test),
        "best_epoch": getattr(est, "best_epoch_", None),
        "dev_checks": cfg.dev_checks if is_neural(est) else None,
        "best_check": getattr(est, "best_check_", None),
        "conv": conv if model in KIM_CNN_MODELS else None,
        "recipe": recipe if model == "dcnn" else None,
        "sst_train": cfg.sst_train if dname in ("sst1", "sst2") else None,
        "vectors": cfg.vectors if model in PRETRAINED_MODELS else None,
        "device": resolve_device(cfg.device).type if is_neural(est) else "cpu",
        "epoch_seconds": [round(h["seconds"], 2) for h in getattr(est, "history_", [])],
    }


def _fmt_cell(cell: Cell | None, paper: float | None) -> str:
    p = "–" if paper is None else f"{paper:.1f}"
    if cell is None or cell.done == 0:
        return f"· / {p}"
    ours = f"{cell.mean:.1f}"
    if cell.done < cell.units:
        ours += f" [{cell.done}/{cell.units} folds]"
    if paper is None:
        return f"{ours} / {p}"
    return f"{ours} / {p} ({cell.mean - paper:+.1f})"


def _fmt_unavailable(paper: float | None) -> str:
    return "—" if paper is None else f"— / {paper:.1f}"


def _row_notes(rows) -> list[str]:
    """² footnotes: what each unavailable row would need; and the rows not trainable here yet."""
    models = [parse_row(r)[0] for r in rows]
    lines = [
        f"- ² {MODEL_TITLES[m]}: would need {UNAVAILABLE[m]}."
        for m in dict.fromkeys(models)
        if m in UNAVAILABLE
    ]
    if lines:
        lines = [
            "",
            "² Rows that need resources the lecture does not give (— = not reproducible here):",
            "",
        ] + lines
    pending = [m for m in dict.fromkeys(models) if m not in UNAVAILABLE and m not in MODELS]
    if pending:
        lines += ["", f"Rows not trainable in this seqlab yet (paper numbers only): {', '.join(pending)}."]
    return lines


def markdown_table(
    cells: dict[tuple[str, str], Cell],
    cfg: TableConfig,
    total_seconds: float | None = None,
    machine: str | None = None,
) -> str:
    """The table as markdown: each cell `ours / paper (ours - paper)`; `·` = not run, `–` = not in
    the paper; `[k/10 folds]` = cross-validation still incomplete (mean over the folds done)."""
    datasets = [d for d in ORDER if d in cfg.datasets]
    head = "| Model | " + " | ".join(DATASET_TITLES[d] for d in datasets) + " |"
    lines = [
        "# Kim (2014) Table 2, reproduced by `seqlab classify table`",
        "",
        "Each cell: **ours / paper (difference)** in % accuracy. `·` = not run yet, `–` = not "
        "reported in the paper, `[k/n folds]` = mean over the folds finished so far "
        "(run the same command again to resume).",
        "",
        head,
        "|" + " --- |" * (len(datasets) + 1),
    ]
    order = TABLE_ROWS + MODELS
    rows = sorted(cfg.models, key=lambda r: (order.index(parse_row(r)[0]), r))  # the lecture's order
    for r in rows:
        model = parse_row(r)[0]
        title = (
            row_title(r)
            + (" ¹" if model in PRETRAINED_MODELS else "")
            + (" ²" if model in UNAVAILABLE else "")
        )
        if model in UNAVAILABLE:
            row = [_fmt_unavailable(PAPER[model].get(d)) for d in datasets]
        else:
            row = [
                _fmt_cell(cells.get((d, r)), PAPER.get(model, {}).get(d))
                if applies(model, d)
                else _fmt_unavailable(PAPER.get(model, {}).get(d))
                for d in datasets
            ]
        lines.append(f"| {title} | " + " | ".join(row) + " |")
    lines += ["", "Per-cell detail (std over folds, time, training examples per unit):", ""]
    for (d, m), c in cells.items():
        if c.done:
            n = f", {c.n_train:,} training examples" if c.n_train else ""
            spread = f" ± {c.std:.2f} over {c.done}/{c.units} folds" if c.units > 1 else " on the test split"
            lines.append(f"- {DATASET_TITLES[d]} {m}: {c.mean:.2f}{spread}, {c.seconds / 60:.1f} min{n}")
    beyond = []
    for d in datasets:
        cnn = cells.get((d, "cnn-rand"))
        if cnn is None or cnn.done < cnn.units:
            continue
        for m in ("lstm", "bilstm", "gru", "cnn-rnn"):
            c = cells.get((d, m))
            if c is not None and c.done == c.units:
                verdict = "beats" if c.mean > cnn.mean else "does not beat"
                beyond.append(
                    f"- {DATASET_TITLES[d]}: {m} {c.mean:.1f} {verdict} CNN-rand {cnn.mean:.1f} "
                    f"({c.mean - cnn.mean:+.1f})"
                )
    if beyond:
        lines += [
            "",
            "Beyond the paper — RNN and hybrid rows against CNN-rand (same data, same protocol):",
            "",
        ]
        lines += beyond
    compute = sum(c.seconds for c in cells.values())
    lines += [
        "",
        "Notes:",
        "",
        f"1. ¹ Pretrained variants here use **{cfg.vectors}**, not the paper's 300-d GoogleNews "
        "word2vec (not available offline); pass `--vectors FILE` to use it. Since issue 13 the vectors "
        "are rescaled to the std of U[-0.25, 0.25] and the trained rows (non-static, multichannel) are "
        "widened to 300 dimensions with random ones (docs/classify.md, the ablation).",
        (
            "2. SST-1/SST-2 are trained, as Kim did, on every distinct labelled phrase of the training trees "
            "(SST-1 156,817, SST-2 76,961 examples; dev and test are whole sentences)."
            if cfg.sst_train == "phrases"
            else "2. SST-1/SST-2 are trained on the training sentences only (`--sst-train sentences`), "
            "not on Kim's phrase-level set, so expect a few points below the paper there."
        ),
        f"3. Settings: up to {cfg.epochs} epochs (best on dev"
        + (f", scored {cfg.dev_checks} times per epoch" if cfg.dev_checks > 1 else "")
        + f"), {cfg.folds}-fold CV for MR/Subj/CR/MPQA, "
        f"seed {cfg.seed}; TREC and CV folds hold out 10% of training as dev.",
    ]
    if machine:
        lines.append(f"4. Machine: {machine}.")
    if total_seconds is not None:
        lines.append(
            f"5. Wall time of this invocation: {total_seconds / 60:.1f} min (cached folds cost nothing); "
            f"training time of all the cells shown, as cached: {compute / 3600:.2f} h."
        )
    lines += _row_notes(cfg.models) + tree_notes(cfg, [parse_row(r)[0] for r in cfg.models])
    gpu = [
        f"{DATASET_TITLES[d]} {m} ({c.done - c.devices.get('cpu', 0)}/{c.units})"
        for (d, m), c in cells.items()
        if c.done and c.done - c.devices.get("cpu", 0) > 0
    ]
    if gpu:
        lines.append(
            "6. Folds trained on a GPU (`--device cuda`: the same code and protocol, so the accuracy is "
            "comparable, but their times are GPU times): " + ", ".join(gpu) + "."
        )
    return "\n".join(lines) + "\n"


def cells_json(cells: dict[tuple[str, str], Cell]) -> list[dict]:
    out = []
    for (d, m), c in cells.items():
        out.append(
            {
                "dataset": d,
                "model": m,
                "accuracy": c.mean,
                "std": c.std,
                "folds_done": c.done,
                "units": c.units,
                "seconds": c.seconds,
                "paper": PAPER.get(parse_row(m)[0], {}).get(d),
                "devices": dict(c.devices),
                "n_train": c.n_train,
            }
        )
    return out


def machine_description() -> str:
    import platform

    import torch

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores (cells' times come from "
        f"several sessions, some on a machine shared with other jobs; each fold's epoch times and load "
        f"average are in its cache file), torch {torch.__version__}"
    )


def build_table(
    cfg: TableConfig,
    out: str | Path,
    cache_dir: str | Path | None = None,
    callback: Callable | None = None,
    train: bool = True,
) -> str:
    """Fill the table (resuming from the cache, default TABLE_cache/ beside `out`) and write it as
    markdown to `out` and JSON beside it, atomically. Returns the markdown. Every setting and path
    is checked before any work."""
    cfg.validate()
    if train:
        cfg.check_can_train()
    out = Path(out)
    cache = Path(cache_dir) if cache_dir else out.parent / f"{out.stem}_cache"
    check_writable(out, folder=False)
    check_writable(cache, folder=True)
    loader = None
    rows = [parse_row(m)[0] for m in cfg.models]
    tree_vectors = any(m in TREE_MODELS and default_vectors(m, d) for m in rows for d in cfg.datasets)
    if train and (tree_vectors or any(m in PRETRAINED_MODELS for m in rows)):
        from seqlab.embeddings.vector_sources import load_vectors

        kv = load_vectors(cfg.vectors)  # fail fast on bad vectors
        loader = lambda spec: kv  # noqa: E731
    t0 = time.perf_counter()
    cells = run_table(cfg, cache, callback=callback, vectors_loader=loader, train=train)
    total = time.perf_counter() - t0
    md = markdown_table(cells, cfg, total, machine_description())
    write_text_atomic(out, md)
    write_json_atomic(
        out.with_suffix(".json"),
        {
            "cells": cells_json(cells),
            "seconds": total,
            "machine": machine_description(),
            "config": {
                "datasets": list(cfg.datasets),
                "models": list(cfg.models),
                "vectors": cfg.vectors,
                "epochs": cfg.epochs,
                "folds": cfg.folds,
                "seed": cfg.seed,
                "sst_train": cfg.sst_train,
                "dev_checks": cfg.dev_checks,
            },
        },
    )
    return md
