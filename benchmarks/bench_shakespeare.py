"""Tiny Shakespeare, nanoGPT split (first 90% train, last 10% validation): validation loss after a
fixed CPU budget, with the curve of loss against minutes.

Runs `seqlab lm train tinyshakespeare --max-minutes M` with default flags (so it measures what a
user gets). Anchors (issue #2, this machine kind): nanoGPT CPU config 1.886 (75 s); a 3.2M-param
nanoGPT 1.670 after 15 min; a plain 2x512 LSTM 1.429 after 15 min (10.6K chars/s); nanoGPT's GPU
run 1.47. Goal: below 1.40 within 15 minutes on 2 cores.

    python benchmarks/bench_shakespeare.py [--minutes 15] [--extra ...flags for lm train]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, seqlab, write_results  # noqa: E402
from seqlab.datasets import dataset_path  # noqa: E402

ANCHORS = {
    "nanoGPT CPU config, 75 s": 1.886,
    "nanoGPT 3.2M params, 15 min": 1.670,
    "plain 2x512 LSTM, 15 min": 1.429,
    "nanoGPT GPU run (reported)": 1.47,
}


def _thin(curve: list, n: int) -> list:
    """About n evenly spaced points of the curve, always ending with the last one."""
    picked = curve[:: max(1, len(curve) // n)]
    return picked if picked and picked[-1] is curve[-1] else picked + curve[-1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--name", default="shakespeare", help="results file name")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra flags for lm train")
    args = ap.parse_args()
    import torch  # noqa: F401  (recorded in the machine description; training runs in a subprocess)

    info = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        out = seqlab(
            "lm",
            "train",
            dataset_path("tinyshakespeare"),
            "-o",
            run,
            "--max-minutes",
            args.minutes,
            *args.extra,
        )
        metrics = json.loads(out.stdout.strip().splitlines()[-1])
        curve = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
        sample = seqlab("lm", "sample", run, "--length", 400, "--temperature", 0.8, "--seed", 1).stdout
    info["load_avg_1m_end"] = os.getloadavg()[0]
    result = {
        "benchmark": "tinyshakespeare",
        "minutes": args.minutes,
        "extra_flags": args.extra,
        "val_loss": metrics["val_loss"],
        "train": metrics,
        "anchors": ANCHORS,
        "goal": 1.40,
        "goal_met": metrics["val_loss"] < 1.40,
        "curve": curve,
        "sample": sample,
        "machine": info,
    }
    rows = [
        f"| seqlab `lm train --max-minutes {args.minutes:g}` {' '.join(args.extra)} "
        f"| **{metrics['val_loss']:.3f}** |"
    ]
    rows += [f"| {k} | {v:.3f} |" for k, v in ANCHORS.items()]
    curve_rows = [
        f"| {c['seconds'] / 60:.1f} | {c['step']} | {c['train_loss']:.3f} | {c['val_loss']:.3f} |"
        for c in _thin(curve, 12)
    ]
    md = (
        "# Tiny Shakespeare (validation = last 10%)\n\n| model | val loss (nats/char) |\n| --- | --- |\n"
        + "\n".join(rows)
        + f"\n\nGoal < 1.40: **{'met' if result['goal_met'] else 'not met'}**. {metrics['steps']} steps, "
        f"{metrics['train_chars_per_sec']:,.0f} chars/s, {metrics['params']:,} params.\n\n"
        "| minutes | step | train loss | val loss |\n| --- | --- | --- | --- |\n"
        + "\n".join(curve_rows)
        + f"\n\nSample (T=0.8):\n\n```\n{sample.strip()}\n```\n\n"
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info.get('torch', 'n/a')}, "
        f"load {info['load_avg_1m']:.1f} -> {info['load_avg_1m_end']:.1f}, "
        f"commit {info['commit']}, {info['date']}.\n"
    )
    write_results(args.name, result, md)
    print(md)


if __name__ == "__main__":
    main()
