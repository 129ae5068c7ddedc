"""Helpers shared by the benchmark scripts: machine description and result files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info() -> dict:
    """CPU, cores, load (benchmarks on a shared box are noisy: the load average says how much), commit."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except OSError:
        commit = ""
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if "torch" in sys.modules:  # the embedding benchmarks never import torch
        torch = sys.modules["torch"]
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    return info


def write_results(name: str, data: dict, markdown: str) -> None:
    """benchmarks/results/<name>.json and <name>.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")


def seqlab(*args, timeout=None) -> subprocess.CompletedProcess:
    """Run the seqlab CLI exactly as a user would (python -m seqlab ...), stderr passed through."""
    return subprocess.run(
        [sys.executable, "-m", "seqlab", *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
    )
