"""Why do the pretrained CNN rows trail CNN-rand with GloVe 6B 50d? An ablation on MR (issue 13).

Each configuration trains Kim's CNN (narrow convolution, Adadelta, 25 epochs, dev-selected) on the
first FOLDS folds of MR's seeded 10-fold split (seqlab.classify.protocol) — fewer folds than the
table, to fit a shared 2-core CPU; compare rows with each other, and the fold-by-fold columns. Also
printed without training: vocabulary coverage of the vectors after clean_str, and the vectors'
scale against CNN-rand's U[-0.25, 0.25] rows.

    python benchmarks/ablate_pretrained.py [--folds 2] [--configs rand nonstatic ...]

Resumable: each (config, fold) result is kept in benchmarks/results/classify_pretrained_ablation.json
as soon as it finishes; the markdown table beside it is rewritten after each.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from seqlab.classify import protocol
from seqlab.classify.data import load_dataset
from seqlab.classify.estimators import CNNClassifier
from seqlab.classify.pretrained import KIM_STD
from seqlab.embeddings.vector_sources import load_vectors
from seqlab.files import write_json_atomic, write_text_atomic

OUT = Path(__file__).resolve().parent / "results" / "classify_pretrained_ablation"

# name -> (what it tests, CNNClassifier keyword arguments)
CONFIGS = {
    "rand": ("CNN-rand, 300-d U[-0.25, 0.25] (reference)", dict(variant="rand")),
    "nonstatic": (
        "non-static as before: GloVe as given (std 0.64), unknown words variance-matched",
        dict(variant="non-static"),
    ),
    "nonstatic-kim-unk": (
        "non-static, unknown words U[-0.25, 0.25] (Kim's code)",
        dict(variant="non-static", unknown_init="kim"),
    ),
    "nonstatic-scaled": (
        "non-static, GloVe rescaled to std 0.144 (CNN-rand's scale)",
        dict(variant="non-static", vector_std=KIM_STD),
    ),
    "nonstatic-scaled+250": (
        "non-static, rescaled GloVe + 250 random trained dims (300-d, as CNN-rand)",
        dict(variant="non-static", vector_std=KIM_STD, min_width=300),
    ),
    "nonstatic+250": (
        "non-static, GloVe as given + 250 random trained dims",
        dict(variant="non-static", min_width=300),
    ),
    "static": ("static as before", dict(variant="static")),
    "static-scaled": ("static, GloVe rescaled to std 0.144", dict(variant="static", vector_std=KIM_STD)),
}


def coverage(kv) -> list[str]:
    """Vocabulary and token coverage of `kv` on each set's training words, after Kim's cleaning."""
    lines = [
        "| set | types | types found | tokens found | most frequent missing |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in ("mr", "sst2", "subj", "trec", "cr", "mpqa"):
        ds = load_dataset(name)
        cnt = collections.Counter(t for s in ds.train[0] for t in s.split())
        known = {w for w in cnt if w in kv.key_to_index or w.lower() in kv.key_to_index}
        tokens = sum(cnt[w] for w in known) / sum(cnt.values())
        missing = sorted((w for w in cnt if w not in known), key=lambda w: -cnt[w])[:6]
        lines.append(
            f"| {name} | {len(cnt):,} | {len(known) / len(cnt):.1%} | {tokens:.1%} | "
            + ", ".join(f"`{w}` ({cnt[w]})" for w in missing)
            + " |"
        )
    return lines


def scale(kv) -> list[str]:
    v = np.asarray(kv.vectors, dtype=np.float32)
    return [
        f"- GloVe 6B 50d: std {v.std():.3f} over all entries, per-dimension std {v.std(0).min():.2f}–"
        f"{v.std(0).max():.2f}, mean row norm {np.linalg.norm(v, axis=1).mean():.2f}.",
        f"- CNN-rand's rows U[-0.25, 0.25]: std {KIM_STD:.3f} ({v.std() / KIM_STD:.1f}x smaller); "
        f"mean row norm {KIM_STD * np.sqrt(300):.2f} in 300-d, {KIM_STD * np.sqrt(50):.2f} in 50-d.",
    ]


def markdown(results: dict, folds: int, head: list[str]) -> str:
    lines = head + [
        "",
        f"| config | what it tests | MR, folds 1–{folds} of 10 | mean | s per fold | load |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, (what, _) in CONFIGS.items():
        recs = [results.get(f"{name}/{k}") for k in range(folds)]
        done = [r for r in recs if r]
        if not done:
            continue
        accs = " / ".join(f"{100 * r['accuracy']:.1f}" for r in done)
        mean = 100 * np.mean([r["accuracy"] for r in done])
        secs = np.mean([r["seconds"] for r in done])
        load = np.mean([np.mean(r["load_avg"]) for r in done])
        lines.append(
            f"| `{name}` | {what} | {accs}{'' if len(done) == folds else ' (partial)'} | {mean:.1f} | "
            f"{secs:.0f} | {load:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=2, help="how many of MR's 10 folds to run")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    kv = load_vectors("glove-6b-50d")
    head = [
        "# Pretrained rows with GloVe 6B 50d: ablation on MR (issue 13)",
        "",
        f"Written by `python benchmarks/ablate_pretrained.py --folds {args.folds}`; machine "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs (load = 1-minute load "
        "average, mean of before and after each fold). Kim's CNN, narrow convolution, Adadelta, "
        "up to 25 epochs, dev-selected (10% of each training part).",
        "",
        "Coverage of the training vocabulary after Kim's `clean_str` (exact, then lowercased lookup):",
        "",
    ]
    head += coverage(kv) + ["", "Scale:", ""] + scale(kv)
    path = OUT.with_suffix(".json")
    results = json.loads(path.read_text())["results"] if path.exists() else {}
    ds = load_dataset("mr")
    units = [u for u in protocol.units(ds, 10, 0)][: args.folds]
    for name in args.configs:
        for unit in units:
            key = f"{name}/{unit.index}"
            if key in results:
                continue
            kw = dict(CONFIGS[name][1])
            est = CNNClassifier(
                vectors=kv if kw["variant"] != "rand" else None, num_threads=args.threads, seed=0, **kw
            )
            t0, load0 = time.perf_counter(), os.getloadavg()[0]
            acc = protocol.fit_and_score(est, unit)
            results[key] = {
                "accuracy": acc,
                "seconds": time.perf_counter() - t0,
                "best_epoch": est.best_epoch_,
                "load_avg": [load0, os.getloadavg()[0]],
                "found": getattr(est, "vectors_found_", None),
                "vocab": len(est.vocab_),
            }
            write_json_atomic(path, {"folds": args.folds, "results": results})
            write_text_atomic(OUT.with_suffix(".md"), markdown(results, args.folds, head))
            print(
                f"{key}\t{100 * acc:.2f}\tbest epoch {est.best_epoch_}\t{results[key]['seconds']:.0f} s",
                flush=True,
            )
    write_text_atomic(OUT.with_suffix(".md"), markdown(results, args.folds, head))
    print(markdown(results, args.folds, head))


if __name__ == "__main__":
    main()
