"""Training throughput (chars/s) in one run: a plain torch.nn.LSTM loop vs seqlab's default (fused)
path vs the scratch cells, same model size, batch and data (Tiny Shakespeare).

Goal (issue #2): the product's default path within 10% of the plain loop.

    python benchmarks/bench_lm_throughput.py [--steps 30] [--hidden 512] [--layers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from seqlab.charlm import corpus as lmcorpus  # noqa: E402
from seqlab.charlm.train import LMTrainConfig, train_lm  # noqa: E402
from seqlab.datasets import dataset_path  # noqa: E402
from seqlab.files import read_text  # noqa: E402


class PlainLSTM(nn.Module):
    def __init__(self, V, E, H, L):
        super().__init__()
        self.emb, self.rnn, self.out = nn.Embedding(V, E), nn.LSTM(E, H, L, batch_first=True), nn.Linear(H, V)

    def forward(self, x, s=None):
        o, s = self.rnn(self.emb(x), s)
        return self.out(o), s


def plain_loop(ids, V, args) -> float:
    """The loop a user would write by hand: random windows, AdamW, clipping."""
    torch.manual_seed(0)
    m = PlainLSTM(V, 64, args.hidden, args.layers)
    opt = torch.optim.AdamW(m.parameters(), lr=2e-3)
    B, T = args.batch_size, args.seq_len
    total, t_total = 0, 0.0
    for step in range(args.steps + 2):
        starts = torch.randint(0, len(ids) - T - 1, (B,))
        win = ids[starts[:, None] + torch.arange(T + 1)]
        t0 = time.perf_counter()
        logits, _ = m(win[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), win[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        if step >= 2:  # two warm-up steps
            t_total += time.perf_counter() - t0
            total += B * T
    return total / t_total


def seqlab_path(corpus, impl, args, steps, precision="auto") -> float:
    cfg = LMTrainConfig(
        mode="stream",
        impl=impl,
        layers=args.layers,
        hidden=args.hidden,
        embed=64,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        max_steps=steps,
        eval_every=10**9,
        precision=precision,
    )
    with tempfile.TemporaryDirectory() as tmp:
        m = train_lm(corpus, cfg, tmp, show_progress=False)
    return m["train_chars_per_sec"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    info = machine_info()
    corpus = lmcorpus.stream_corpus(read_text(dataset_path("tinyshakespeare")), 0.1)
    V = len(corpus.vocab)
    res = {}
    # Interleave the measurements so load changes on a shared machine hit every path alike.
    for _ in range(2):
        res.setdefault("plain torch.nn.LSTM loop", []).append(plain_loop(corpus.train, V, args))
        res.setdefault("seqlab fused (default)", []).append(seqlab_path(corpus, "fused", args, args.steps))
        res.setdefault("seqlab fused, fp32", []).append(
            seqlab_path(corpus, "fused", args, args.steps, "fp32")
        )
    res["seqlab scratch, fp32"] = [seqlab_path(corpus, "scratch", args, max(3, args.steps // 5), "fp32")]
    best = {k: max(v) for k, v in res.items()}
    ratio = best["seqlab fused (default)"] / best["plain torch.nn.LSTM loop"]
    ratio32 = best["seqlab fused, fp32"] / best["plain torch.nn.LSTM loop"]
    precision = LMTrainConfig(precision="auto").resolved().precision
    info["load_avg_1m_end"] = os.getloadavg()[0]
    data = {
        "benchmark": "lm-throughput",
        "config": vars(args),
        "chars_per_sec": best,
        "all_runs": res,
        "fused_over_plain": ratio,
        "fused_fp32_over_plain": ratio32,
        "default_precision": precision,
        "goal": "fused within 10% of plain",
        "goal_met": ratio >= 0.9,
        "machine": info,
    }
    md = (
        f"# Char-LM training throughput ({args.layers}x{args.hidden} LSTM, "
        f"batch {args.batch_size}x{args.seq_len})\n\n"
        "| path | chars/s (best of runs) |\n| --- | --- |\n"
        + "\n".join(f"| {k} | {v:,.0f} |" for k, v in best.items())
        + f"\n\nThe default path trains in {precision} on this CPU. "
        f"seqlab default / plain fp32 loop = **{ratio:.2f}** "
        f"(goal >= 0.90: {'met' if ratio >= 0.9 else 'not met'}); seqlab fp32 / plain = {ratio32:.2f}.\n\n"
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['torch_threads']} torch threads, "
        f"load {info['load_avg_1m']:.1f} -> {info['load_avg_1m_end']:.1f}, "
        f"commit {info['commit']}, {info['date']}.\n"
    )
    write_results("lm_throughput", data, md)
    print(md)


if __name__ == "__main__":
    main()
