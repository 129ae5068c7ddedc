"""Hyper-parameter sweep for the Tiny Shakespeare default, run on a GPU with CPU-sized budgets.

The product's goal is a validation loss after 15 minutes on 2 CPU cores. A 15-minute CPU run per
candidate is too slow to search with, so each candidate here trains on a GPU for the number of
characters that the same model shape processes in 15 CPU minutes (its `chars` budget, measured
on the 2-core machine with bf16 autocast, evaluations subtracted). The loop mirrors
seqlab.charlm.train.train_lm: same model, batcher, AdamW, clipping, warm-up + cosine schedule over the
budget, stateful validation on the last 10%. The winner is then confirmed on the CPU by
benchmarks/bench_shakespeare.py; only that CPU number is quoted anywhere.

    python benchmarks/sweep_charlm_gpu.py --out sweep.json --parallel 4
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# (layers, hidden) -> training chars that fit in 15 CPU minutes (2 cores, bf16), evaluations excluded.
CPU_CHARS_15MIN = {
    (2, 512): 11.6e6,
    (3, 512): 7.3e6,
    (2, 768): 5.2e6,
    (2, 384): 16.7e6,
    (1, 1024): 8.3e6,
    (3, 384): 10.7e6,
}

BASE = dict(
    layers=2,
    hidden=512,
    embed=64,
    dropout=0.2,
    batch=64,
    seq=128,
    lr=2e-3,
    wd=0.01,
    ema=0.0,
    windows="sequential",
    warmup=100,
    min_lr=0.05,
)


def candidates() -> list[dict]:
    c = []
    for d in (0.1, 0.2, 0.3, 0.4, 0.5):
        c.append(dict(dropout=d))
    c += [
        dict(dropout=0.3, wd=0.1),
        dict(dropout=0.3, ema=0.998),
        dict(dropout=0.3, lr=3e-3),
        dict(dropout=0.3, lr=1e-3),
        dict(dropout=0.3, seq=256),
        dict(dropout=0.3, batch=32),
        dict(dropout=0.3, windows="random"),
        dict(dropout=0.3, embed=128),
    ]
    for d in (0.2, 0.3, 0.4):
        c.append(dict(layers=3, dropout=d))
    for d in (0.3, 0.5):
        c.append(dict(hidden=768, dropout=d))
    for d in (0.1, 0.2):
        c.append(dict(hidden=384, dropout=d))
    for d in (0.2, 0.4):
        c.append(dict(layers=1, hidden=1024, dropout=d))
    for d in (0.2, 0.3):
        c.append(dict(layers=3, hidden=384, dropout=d))
    return [{**BASE, **x} for x in c]


def run_one(cfg: dict) -> dict:
    import torch
    import torch.nn.functional as F

    from seqlab.charlm import data as lmdata
    from seqlab.charlm.corpus import stream_corpus
    from seqlab.charlm.evaluation import evaluate as seqlab_evaluate
    from seqlab.datasets import dataset_path
    from seqlab.models.rnn import CharRNN, CharRNNConfig

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(1337)
    text = Path(dataset_path("tinyshakespeare")).read_text(encoding="utf-8")
    corpus = stream_corpus(text, 0.1)
    model = CharRNN(
        CharRNNConfig(
            vocab_size=len(corpus.vocab),
            hidden_size=cfg["hidden"],
            num_layers=cfg["layers"],
            embed_size=cfg["embed"],
            dropout=cfg["dropout"],
        )
    ).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"], betas=(0.9, 0.99))
    ema = [p.detach().clone() for p in model.parameters()] if cfg["ema"] > 0 else None
    gen = torch.Generator().manual_seed(1337)
    batcher = lmdata.StreamBatcher(corpus.train, cfg["batch"], cfg["seq"], cfg["windows"] == "sequential")
    budget = CPU_CHARS_15MIN[(cfg["layers"], cfg["hidden"])] * cfg.get("scale", 1.0)
    total = int(budget // (cfg["batch"] * cfg["seq"]))
    eval_every = max(1, total // 12)
    val_cols = lmdata.fold_columns(corpus.val, 64).to(dev)

    train_ids, val_ids = corpus.train.to(dev), corpus.val.to(dev)

    def evaluate_ctx() -> float:
        """The product's validation: every val char scored once, columns warmed on the text before."""
        nll, n = seqlab_evaluate(model, "stream", val_ids, context=train_ids)
        return nll / n

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        tot, n, state = 0.0, 0, None
        for r in range(0, val_cols.shape[0] - 1, 256):
            ch = val_cols[r : r + 257]
            x, y = ch[:-1].t(), ch[1:].t()
            lo, state = model(x, state)
            tot += F.cross_entropy(lo.reshape(-1, lo.shape[-1]), y.reshape(-1), reduction="sum").item()
            n += y.numel()
        model.train()
        return tot / n

    def lr_at(step: int) -> float:
        if step < cfg["warmup"]:
            return cfg["lr"] * (step + 1) / cfg["warmup"]
        p = min(1.0, step / total)
        return cfg["lr"] * (cfg["min_lr"] + (1 - cfg["min_lr"]) * 0.5 * (1 + math.cos(math.pi * p)))

    curve, best, best_ctx, state, t0 = [], float("inf"), float("inf"), None, time.time()
    model.train()
    for step in range(1, total + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(step - 1)
        x, y, reset = batcher.next(gen)
        x, y = x.to(dev), y.to(dev)
        if reset:
            state = None
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            logits, state = model(x, state)
        state = tuple(s.detach().float() for s in state)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema, model.parameters()):
                    e.mul_(cfg["ema"]).add_(p.detach(), alpha=1 - cfg["ema"])
        if step % eval_every == 0 or step == total:
            if ema is not None:
                live = [p.detach().clone() for p in model.parameters()]
                with torch.no_grad():
                    for p, e in zip(model.parameters(), ema):
                        p.copy_(e)
            v = evaluate()
            if ema is not None:
                with torch.no_grad():
                    for p, l in zip(model.parameters(), live):
                        p.copy_(l)
            if v < best:
                best, best_ctx = v, evaluate_ctx()
            curve.append((step, round(loss.item(), 4), round(v, 4)))
    return {
        "config": cfg,
        "steps": total,
        "chars": total * cfg["batch"] * cfg["seq"],
        "best_val": best,
        "best_val_ctx": best_ctx,
        "curve": curve,
        "gpu_seconds": round(time.time() - t0, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="sweep_charlm.json")
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--only", type=int, nargs="*", help="indices of candidates to run")
    ap.add_argument("--grid", help="JSON list of overrides of BASE to run instead of the built-in candidates")
    ap.add_argument("--scale", type=float, default=1.0, help="budget multiplier (a smoke test uses 0.002)")
    args = ap.parse_args()
    import multiprocessing as mp

    cands = [{**BASE, **x} for x in json.loads(args.grid)] if args.grid else candidates()
    if args.only:
        cands = [cands[i] for i in args.only]
    cands = [{**c, "scale": args.scale} for c in cands]
    results = []
    with mp.get_context("spawn").Pool(args.parallel) as pool:
        for r in pool.imap_unordered(run_one, cands):
            results.append(r)
            c = r["config"]
            print(
                f"{r['best_val']:.4f} ctx {r['best_val_ctx']:.4f}  "
                f"L{c['layers']} H{c['hidden']} d{c['dropout']} wd{c['wd']} lr{c['lr']} "
                f"B{c['batch']} T{c['seq']} E{c['embed']} ema{c['ema']} {c['windows']}  "
                f"({r['steps']} steps, {r['gpu_seconds']} s)",
                flush=True,
            )
            Path(args.out).write_text(json.dumps(results, indent=1))
    print("\nbest first:")
    for r in sorted(results, key=lambda r: r["best_val"]):
        c = r["config"]
        print(f"{r['best_val']:.4f}  " + " ".join(f"{k}={c[k]}" for k in BASE if c[k] != BASE[k]))


if __name__ == "__main__":
    main()
