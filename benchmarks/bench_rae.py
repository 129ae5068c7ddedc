"""RAE (Socher et al. 2011) on MR and MPQA: 10-fold CV accuracy against the paper (77.7 / 86.4) and
seconds per fold, with the estimator's defaults (`seqlab classify train mr --model rae`).

Run:  python benchmarks/bench_rae.py [--datasets mr mpqa] [--folds 10] [--threads 1]
Writes benchmarks/results/rae.json and .md (rewritten after every fold).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from _common import RESULTS, machine_info, write_results
from seqlab.classify import protocol
from seqlab.classify.data import load_dataset
from seqlab.classify.rae import RAEClassifier

PAPER = {"mr": 77.7, "mpqa": 86.4}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["mr", "mpqa"])
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--markdown-only", action="store_true", help="rewrite rae.md from rae.json")
    args = ap.parse_args()
    if args.markdown_only:
        results = json.loads((RESULTS / "rae.json").read_text())
        (RESULTS / "rae.md").write_text(markdown(results, args.folds) + "\n")
        return
    torch.set_num_threads(args.threads)
    results = {"machine": machine_info(), "params": RAEClassifier().get_params(), "cells": []}
    for dname in args.datasets:
        ds = load_dataset(dname)
        cell = {"dataset": dname, "paper": PAPER[dname], "folds": []}
        results["cells"].append(cell)
        for unit in protocol.units(ds, args.folds, 0):
            t0 = time.perf_counter()
            est = RAEClassifier(num_threads=args.threads).fit(unit.X_train, unit.y_train)
            acc = est.score(unit.X_test, unit.y_test)
            secs = time.perf_counter() - t0
            cell["folds"].append(
                {"fold": unit.index, "accuracy": acc, "seconds": secs, "losses": est.history_}
            )
            print(f"{dname} fold {unit.index + 1}: {100 * acc:.2f} in {secs:.0f} s", flush=True)
            write_results("rae", results, markdown(results, args.folds))


def markdown(results: dict, folds: int) -> str:
    p = results["params"]
    lines = [
        "# RAE (Socher et al. 2011), 10-fold CV",
        "",
        f"d = {p['dim']}, alpha = {p['alpha']}, beta = {p['beta']}, Adam lr {p['lr']} on batches of "
        f"{p['batch_size']}, at most {p['epochs']} epochs (the epoch best on {p['dev_fraction']:.0%} of the "
        f"training part kept, stopped {p['patience']} epochs after it), logistic regression C = {p['C']} "
        "on [top; mean of nodes]. Seconds: one whole fold (training, dev scoring, features), 1 torch "
        "thread, on a box shared with other jobs (load 5-8).",
        "",
        "| dataset | paper | ours | diff | std | folds | s / fold | epoch kept (mean) | epochs run (mean) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in results["cells"]:
        f = c["folds"]
        if not f:
            continue
        acc = 100 * np.array([x["accuracy"] for x in f])
        secs = np.mean([x["seconds"] for x in f])
        kept = np.mean(
            [x.get("best_epoch") or 1 + int(np.argmax([h["dev_accuracy"] for h in x["losses"]])) for x in f]
        )
        run = np.mean([len(x["losses"]) for x in f])
        lines.append(
            f"| {c['dataset']} | {c['paper']:.1f} | {acc.mean():.2f} | {acc.mean() - c['paper']:+.2f} | "
            f"{acc.std():.2f} | {len(f)}/{folds} | {secs:.0f} | {kept:.1f} | {run:.1f} |"
        )
    m = results["machine"]
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (shared), load {m['load_avg_1m']:.1f}, torch threads "
        f"{m.get('torch_threads')}, commit {m['commit']}, {m['date']}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
