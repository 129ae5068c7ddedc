"""Seconds per epoch of Kim's CNN on MR (one CV fold's training part, 2-core CPU), in one run:

  * length-bucketed batches (seqlab's batcher)  vs  Kim's layout: random batches, every sentence
    padded to the longest in the corpus (what process_data.py / conv_net_sentence.py do);
  * row-wise (lazy, exact) Adadelta on the embedding table  vs  dense Adadelta over all of it;
  * 1 vs 2 torch threads;
  * CNN-rand (300-d) vs CNN-non-static (50-d, the size of glove-6b-50d) vs the RNN classifiers
    and the hybrid (bucketed), and the NBSVM/MNB fits for scale.
Each row times `--batches` training batches after a warm-up and scales to a full epoch (the box is
too busy to time 10 full epochs); `--batches 0` times whole epochs.

Run:  python benchmarks/bench_classify.py [--batches 30] [--quick]
Writes benchmarks/results/classify_bench.json and .md, with the load average at the start (on a
shared machine absolute numbers are noisy: compare rows of the same run only).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from seqlab.batching import bucket_batches, pad_sequences
from seqlab.classify.data import load_dataset, stratified_folds
from seqlab.classify.estimators import PAD, UNK, CNNClassifier, make_estimator
from seqlab.files import write_json_atomic, write_text_atomic
from seqlab.models.textcnn import TextCNN, TextCNNConfig, apply_max_norm
from seqlab.models.textrnn import CNNRNN, CNNRNNConfig, TextRNN, TextRNNConfig
from seqlab.vocab import Vocab

OUT = Path(__file__).resolve().parent / "results"


def build(name: str, vocab_size: int, kv_dim: int | None = None, rowwise: bool = True):
    """The network and optimizer a model name trains with (as seqlab.classify builds them);
    `rowwise=False` gives the CNN plain dense Adadelta over the whole embedding table."""
    if name.startswith("cnn-") and name != "cnn-rnn":
        variant = name[4:]
        dim = 300 if variant == "rand" else kv_dim
        pre = None if variant == "rand" else torch.randn(vocab_size, dim) * 0.4
        model = TextCNN(TextCNNConfig(vocab_size, 2, dim, variant=variant), pre)
        if rowwise:
            return model, CNNClassifier()._optimizer(model)
        return model, torch.optim.Adadelta(
            [p for p in model.parameters() if p.requires_grad], lr=1.0, rho=0.95, eps=1e-6
        )
    if name == "cnn-rnn":
        model = CNNRNN(CNNRNNConfig(vocab_size, 2, 300))
    else:
        model = TextRNN(
            TextRNNConfig(vocab_size, 2, 300, 150, "gru" if name == "gru" else "lstm", name == "bilstm")
        )
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def epoch_seconds(
    name,
    ids,
    lengths,
    y,
    vocab_size,
    bucketed: bool,
    threads: int,
    n_batches: int,
    kv_dim: int | None = None,
    seed: int = 0,
    rowwise: bool = True,
) -> float:
    """Seconds for one training epoch (batch 50), timed over the first `n_batches` batches after
    one warm-up batch and scaled to the epoch's batch count (0 = time the whole epoch)."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model, opt = build(name, vocab_size, kv_dim, rowwise)
    gen = torch.Generator().manual_seed(seed)
    ids_t, y_t = ids, torch.from_numpy(y)
    if bucketed:
        batches = bucket_batches(lengths, 50, gen, pool=20)
    else:
        perm = torch.randperm(len(y), generator=gen)
        batches = list(perm.split(50))
    timed = batches[1 : 1 + n_batches] if n_batches else batches
    model.train()

    def step(rows):
        xb = ids_t[rows, : int(lengths[rows].max()) if bucketed else ids.shape[1]]
        loss = F.cross_entropy(model(xb), y_t[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        apply_max_norm(model.fc, 3.0)

    step(batches[0])
    t0 = time.perf_counter()
    for rows in timed:
        step(rows)
    return (time.perf_counter() - t0) * len(batches) / len(timed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--batches",
        type=int,
        default=30,
        help="batches timed per row, scaled to a full epoch (0 = time whole epochs)",
    )
    ap.add_argument("--quick", action="store_true", help="skip the RNN rows")
    args = ap.parse_args()

    ds = load_dataset("mr")
    tr, _ = stratified_folds(ds.train[1], 10, 0)[0]
    X = [ds.train[0][i] for i in tr]
    y = ds.train[1][tr]
    vocab = Vocab.from_iterable((t for s in X for t in s.split()), specials=[PAD, UNK], unk=UNK)
    ids, lengths = pad_sequences([[vocab.stoi[t] for t in s.split()] for s in X], vocab.stoi[PAD])
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPU cores "
        f"(load average {os.getloadavg()[0]:.1f} at start), torch {torch.__version__}, Python "
        f"{sys.version.split()[0]}"
    )
    rows = []

    def record(name, threads, seconds, note=""):
        rows.append({"what": name, "threads": threads, "seconds_per_epoch": round(seconds, 2), "note": note})
        print(f"{name:55s} threads={threads}  {seconds:7.2f} s/epoch  {note}", flush=True)

    padding_ratio = float(ids.shape[1] * len(lengths) / lengths.sum())
    n = args.batches
    how = f"timed on {n} batches, scaled to the epoch" if n else "whole epoch"
    for threads in (1, 2):
        record(
            "CNN-rand: bucketed batches + row-wise Adadelta (seqlab)",
            threads,
            epoch_seconds("cnn-rand", ids, lengths, y, len(vocab), True, threads, n),
            how,
        )
        record(
            "CNN-rand: bucketed batches + dense Adadelta",
            threads,
            epoch_seconds("cnn-rand", ids, lengths, y, len(vocab), True, threads, n, rowwise=False),
            how,
        )
        record(
            "CNN-rand: Kim's layout (pad to corpus max, dense Adadelta)",
            threads,
            epoch_seconds("cnn-rand", ids, lengths, y, len(vocab), False, threads, n, rowwise=False),
            f"{how}; {padding_ratio:.1f}x the real tokens",
        )
    record(
        "CNN-non-static, 50-d vectors (glove-6b-50d size)",
        1,
        epoch_seconds("cnn-non-static", ids, lengths, y, len(vocab), True, 1, n, kv_dim=50),
        how,
    )
    if not args.quick:
        for name in ("lstm", "bilstm", "gru", "cnn-rnn"):
            record(
                f"{name} classifier (300-d embeddings)",
                1,
                epoch_seconds(name, ids, lengths, y, len(vocab), True, 1, n),
                how,
            )
    for name in ("nbsvm", "mnb"):
        est = make_estimator(name)
        t0 = time.perf_counter()
        est.fit(X, y)
        record(f"{name} fit (whole training, not an epoch)", 1, time.perf_counter() - t0)

    result = {
        "benchmark": "classify MR seconds per epoch",
        "machine": machine,
        "train_sentences": len(X),
        "vocab": len(vocab),
        "batches_timed": args.batches,
        "rows": rows,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    write_json_atomic(OUT / "classify_bench.json", result)
    md = [
        "# Kim's CNN on MR: seconds per epoch",
        "",
        f"Machine: {machine}.",
        f"MR fold 1 training part: {len(X)} sentences, vocabulary {len(vocab)}, batch 50. "
        "All rows come from one run of `python benchmarks/bench_classify.py`; compare rows, "
        "not runs (a busy CPU makes absolute numbers noisy).",
        "",
        "| what | threads | s/epoch | note |",
        "| --- | --- | --- | --- |",
    ]
    md += [f"| {r['what']} | {r['threads']} | {r['seconds_per_epoch']} | {r['note']} |" for r in rows]
    write_text_atomic(OUT / "classify_bench.md", "\n".join(md) + "\n")
    print(f"-> {OUT / 'classify_bench.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
