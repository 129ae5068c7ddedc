r"""Is one row of the Kim table really above another, or is it the seed? The same cells under
several seeds (the table's own code, protocol and cache), with each row's mean, spread and the
paired differences seed by seed.

    python benchmarks/classify_seeds.py --dataset trec --models cnn-rand cnn-non-static --seeds 0 1 2 3
    python benchmarks/classify_seeds.py --dataset sst1 --models cnn-rand cnn-non-static --epochs 10
    python benchmarks/classify_seeds.py --dataset sst1 --models cnn-rand cnn-non-static --epochs 5 \
        --dev-checks 4

A table cell is one training (TREC, SST: one test split) or the mean of 10 folds, under seed 0;
the seed moves a single test-split number by about a point, so a difference of 0.2-0.3 between
two rows says nothing until it survives other seeds. Seed 0 is the table's own cell (read from
the cache, not retrained). Results: results/classify_seeds_<dataset>.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine_info, write_results  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="one of mr, sst1, sst2, subj, trec, cr, mpqa")
    ap.add_argument("--models", nargs="+", required=True, help="table rows (cnn-rand, cnn-non-static, ...)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    ap.add_argument("--epochs", type=int, default=25, help="as the table's --epochs (SST cells: 10)")
    ap.add_argument(
        "--dev-checks", type=int, default=1, help="as the table's --dev-checks (dev scored K times per epoch)"
    )
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cache", default=str(HERE / "results" / "classify_table_cache"))
    args = ap.parse_args(argv)

    from seqlab.classify.table import TableConfig, run_table

    t0 = time.perf_counter()
    acc: dict[str, dict[int, float]] = {m: {} for m in args.models}
    for seed in args.seeds:
        cfg = TableConfig(
            datasets=(args.dataset,),
            models=tuple(args.models),
            epochs=args.epochs,
            seed=seed,
            num_threads=args.threads,
            dev_checks=args.dev_checks,
        )
        cells = run_table(cfg, args.cache)
        for m in args.models:
            cell = cells[(args.dataset, m)]
            acc[m][seed] = cell.mean
            print(f"[seeds] {args.dataset} {m} seed {seed}: {cell.mean:.2f}", file=sys.stderr, flush=True)
    result = {
        "dataset": args.dataset,
        "epochs": args.epochs,
        "dev_checks": args.dev_checks,
        "seeds": args.seeds,
        "accuracy": acc,
        "summary": summarize(acc, args.models),
        "wall_seconds": time.perf_counter() - t0,
        "machine": machine_info(),
    }
    md = to_markdown(result)
    dc = f"_dc{args.dev_checks}" if args.dev_checks > 1 else ""
    write_results(
        f"classify_seeds_{args.dataset}_e{args.epochs}{dc}" if dc else f"classify_seeds_{args.dataset}",
        result,
        md,
    )
    print(md)
    return 0


def summarize(acc: dict[str, dict[int, float]], models: list[str]) -> dict:
    out = {
        m: {
            "mean": statistics.mean(a.values()),
            "sd": statistics.stdev(a.values()) if len(a) > 1 else 0.0,
            "min": min(a.values()),
            "max": max(a.values()),
        }
        for m, a in acc.items()
    }
    base = models[0]
    for m in models[1:]:
        d = [acc[m][s] - acc[base][s] for s in acc[base]]
        out[m]["minus_" + base] = {
            "mean": statistics.mean(d),
            "wins": sum(x > 0 for x in d),
            "ties": sum(x == 0 for x in d),
            "runs": len(d),
        }
    return out


def to_markdown(r: dict) -> str:
    seeds, models, acc, s = r["seeds"], list(r["accuracy"]), r["accuracy"], r["summary"]
    m0 = r["machine"]
    lines = [
        f"# {r['dataset']}: the same table cells under {len(seeds)} seeds",
        "",
        f"`seqlab classify table`'s code and cache, up to {r['epochs']} epochs (best on dev"
        + (f", scored {r['dev_checks']} times per epoch" if r.get("dev_checks", 1) > 1 else "")
        + "); "
        f"seed 0 is the table's own cell. Machine: {m0['cores']} cores ({m0['cpu']}), "
        f"commit {m0['commit']}, {m0['date']}.",
        "",
        "| row | " + " | ".join(f"seed {x}" for x in seeds) + " | mean | sd |",
        "| --- | " + " | ".join("---:" for _ in seeds) + " | ---: | ---: |",
    ]
    for m in models:
        lines.append(
            f"| {m} | "
            + " | ".join(f"{acc[m][x]:.2f}" for x in seeds)
            + f" | **{s[m]['mean']:.2f}** | {s[m]['sd']:.2f} |"
        )
    lines.append("")
    for m in models[1:]:
        d = s[m]["minus_" + models[0]]
        lines.append(
            f"- {m} − {models[0]}: {d['mean']:+.2f} points on average; above it under "
            f"{d['wins']} of {d['runs']} seeds ({d['ties']} ties)"
        )
    lines.append(f"- wall time of this run: {r['wall_seconds'] / 60:.1f} min (cached cells cost nothing)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
