"""Data-parallel training of the Shakespeare model (issue 14), three ways in one run, the same steps:

    1 process x 2 threads           seqlab lm train ...                  (the baseline)
    2 processes x 1 thread          seqlab lm train ... --nproc 2        (torchrun --standalone, gloo)
    2 "machines" x 1 process        two `torchrun --nnodes 2 --node-rank R --rdzv-backend c10d
                                    --rdzv-endpoint 127.0.0.1:PORT` launchers on this host

Each run trains the default 2x512 LSTM (batch 64 x 128, bf16 where the CPU has it) for --steps
steps from the same seed and reports chars/s (training steps only) and the training loss at each
validation; the losses should agree within noise (each process draws its own dropout masks).
Goal: 2 processes at least 0.9x the throughput of 1 process with 2 threads.

    python benchmarks/bench_ddp.py [--steps 60] [--eval-every 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402
from seqlab.datasets import dataset_path  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(text: Path, run: Path, args) -> list[str]:
    return [
        "lm",
        "train",
        str(text),
        "-o",
        str(run),
        "--max-steps",
        str(args.steps),
        "--eval-every",
        str(args.eval_every),
        "--seed",
        "1",
    ]


def record(name: str, run: Path, wall: float) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    hist = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {
        "setup": name,
        "world_size": m["world_size"],
        "chars_per_sec": round(m["train_chars_per_sec"]),
        "steps": m["steps"],
        "wall_seconds": round(wall, 1),
        "val_loss": round(m["val_loss"], 4),
        "train_loss": [h["train_loss"] for h in hist],
        "load_avg_1m_after": os.getloadavg()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--eval-every", type=int, default=20)
    args = ap.parse_args()
    text = dataset_path("tinyshakespeare")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        py = [sys.executable, "-m", "seqlab"]

        t0 = time.perf_counter()
        subprocess.run(
            [*py, *train_args(text, tmp / "one", args), "--threads", "2"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows.append(record("1 process x 2 threads", tmp / "one", time.perf_counter() - t0))

        t0 = time.perf_counter()
        subprocess.run(
            [*py, *train_args(text, tmp / "two", args), "--nproc", "2", "--threads", "1"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows.append(record("2 processes x 1 thread (--nproc 2)", tmp / "two", time.perf_counter() - t0))

        port = free_port()
        t0 = time.perf_counter()
        launchers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "torch.distributed.run",
                    "--nnodes",
                    "2",
                    "--node-rank",
                    str(r),
                    "--nproc-per-node",
                    "1",
                    "--rdzv-backend",
                    "c10d",
                    "--rdzv-endpoint",
                    f"127.0.0.1:{port}",
                    "--rdzv-id",
                    "bench-ddp",
                    "-m",
                    "seqlab",
                    *train_args(text, tmp / "nodes", args),
                    "--threads",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
            )
            for r in (0, 1)
        ]
        for p in launchers:
            if p.wait(timeout=3600) != 0:
                raise SystemExit("the two-node run failed")
        rows.append(
            record("2 machines x 1 process (c10d on 127.0.0.1)", tmp / "nodes", time.perf_counter() - t0)
        )

    base = rows[0]["chars_per_sec"]
    for r in rows:
        r["speed_vs_1x2"] = round(r["chars_per_sec"] / base, 3)
    info = machine_info()
    md = [
        f"# Data-parallel Shakespeare LM ({args.steps} steps, 2x512 LSTM, batch 64 x 128)",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, load average {info['load_avg_1m']:.1f} at the end; "
        f"commit {info['commit']}, {info['date']}.",
        "",
        "| setup | chars/s | vs 1x2 | train loss at each validation | final val loss |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for r in rows:
        md.append(
            f"| {r['setup']} | {r['chars_per_sec']:,} | {r['speed_vs_1x2']:.2f}x | "
            f"{', '.join(f'{x:.3f}' for x in r['train_loss'])} | {r['val_loss']:.4f} |"
        )
    md += [
        "",
        "Goal: 2 processes at least 0.9x the throughput of 1 process with 2 threads; the loss curves "
        "agree within noise (each process draws its own dropout masks).",
    ]
    write_results("ddp", {"rows": rows, "machine": info, "steps": args.steps}, "\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
