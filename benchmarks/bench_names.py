"""Names, makemore protocol: test loss (nats/char) of `seqlab lm train --mode lines --max-minutes M`.

makemore (Karpathy): names.txt, torch.manual_seed(3407), randperm, the last 1,000 names are the
test set; loss = cross-entropy over every character and the end marker of each test name.
Anchors (issue #2): bigram 2.48, MLP 2.17, WaveNet 1.99, Transformer ~1.92 (makemore README);
on this machine kind in 10 minutes: makemore Transformer 1.966, GRU 1.973; plain 2-layer LSTM 1.938.
Goal: below 1.90 within 10 minutes of 2-core CPU training.

    python benchmarks/bench_names.py [--minutes 10] [--seed 3407]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, seqlab, write_results  # noqa: E402
from seqlab.datasets import bundled_names_file  # noqa: E402

ANCHORS = {
    "makemore bigram (README)": 2.48,
    "makemore MLP (README)": 2.17,
    "makemore WaveNet (README)": 1.99,
    "makemore Transformer (README)": 1.92,
    "makemore Transformer, 10 min here": 1.966,
    "makemore GRU, 10 min here": 1.973,
    "plain 2-layer LSTM here": 1.938,
}


def makemore_split(seed: int) -> tuple[list[str], list[str]]:
    words = [w.strip() for w in bundled_names_file().read_text().splitlines()]
    words = [w for w in words if w]
    torch.manual_seed(seed)
    test_size = min(1000, int(len(words) * 0.1))
    rp = torch.randperm(len(words)).tolist()
    return [words[i] for i in rp[:-test_size]], [words[i] for i in rp[-test_size:]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=3407, help="makemore's split seed")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra flags for lm train")
    args = ap.parse_args()
    info = machine_info()
    train, test = makemore_split(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "train.txt").write_text("\n".join(train) + "\n")
        (tmp / "test.txt").write_text("\n".join(test) + "\n")
        run = tmp / "run"
        out = seqlab(
            "lm",
            "train",
            tmp / "train.txt",
            "-o",
            run,
            "--mode",
            "lines",
            "--max-minutes",
            args.minutes,
            *args.extra,
        )
        metrics = json.loads(out.stdout.strip().splitlines()[-1])
        ev = json.loads(seqlab("lm", "eval", run, tmp / "test.txt").stdout)
        curve = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
        samples = seqlab("lm", "sample", run, "-n", 10, "--seed", 1).stdout.split()
    info["load_avg_1m_end"] = __import__("os").getloadavg()[0]
    result = {
        "benchmark": "names-makemore",
        "minutes": args.minutes,
        "extra_flags": args.extra,
        "test_loss": ev["loss"],
        "test_chars": ev["chars"],
        "val_loss": metrics["val_loss"],
        "train": metrics,
        "anchors": ANCHORS,
        "goal": 1.90,
        "goal_met": ev["loss"] < 1.90,
        "samples": samples,
        "curve": curve,
        "machine": info,
    }
    rows = [
        f"| seqlab `lm train --mode lines --max-minutes {args.minutes:g}` {' '.join(args.extra)} "
        f"| **{ev['loss']:.3f}** |"
    ]
    rows += [f"| {k} | {v:.3f} |" for k, v in ANCHORS.items()]
    md = (
        f"# Names (makemore protocol: 1,000 test names, seed {args.seed})\n\n"
        f"| model | test loss (nats/char) |\n| --- | --- |\n"
        + "\n".join(rows)
        + f"\n\nGoal < 1.90: **{'met' if result['goal_met'] else 'not met'}**. "
        f"{metrics['steps']} steps, {metrics['train_chars_per_sec']:,.0f} chars/s, "
        f"{metrics['params']:,} params, "
        f"stopped by {metrics['stop_reason']}.\n\nSamples: {', '.join(samples)}\n\n"
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info.get('torch', 'n/a')}, "
        f"load {info['load_avg_1m']:.1f} -> {info['load_avg_1m_end']:.1f}, "
        f"commit {info['commit']}, {info['date']}.\n"
    )
    write_results("names", result, md)
    print(md)


if __name__ == "__main__":
    main()
