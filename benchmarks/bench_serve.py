"""`seqlab serve` under load: requests/s and p50/p95 latency per endpoint, no error, no reload, flat memory.

Starts `python -m seqlab serve` on a free port of 127.0.0.1 with real-sized runs (trained here with
time budgets when --runs-dir lacks them: latency depends on a model's size, not on how long it
trained), then:
  1. one client, each endpoint in turn (latency without queueing: the issue's goals,
     p95 under 100 ms for names, analogy and classify, under 500 ms for a beam-5 translation);
  2. 20 concurrent clients sending 500 mixed requests (throughput, latency with queueing),
and checks that every answer was 200, the server loaded no model again (its start-up log) and
its resident memory stayed flat. Loopback only, bounded in count and time.

    python benchmarks/bench_serve.py [--runs-dir /tmp/serve_bench] [--requests 500] [--clients 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, seqlab, write_results  # noqa: E402

GOALS_MS = {"names": 100, "analogy": 100, "classify": 100, "translate": 500}


# ------------------------------------------------------------------------------------ the mix
def mix(n: int, inputs: dict, seed: int = 0) -> list[tuple[str, str, dict]]:
    """n requests (endpoint, path, body) in a fixed shuffled order; seeded bodies, so the same
    request always gets the same answer. inputs: {"lm": run, "classify": run, "translate": run,
    "vectors": name, "sentences": [...], "french": [...]} (keys missing: endpoint left out)."""
    rng = np.random.default_rng(seed)
    kinds = [
        ("names", 0.2),
        ("analogy", 0.2),
        ("similar", 0.1),
        ("classify", 0.2),
        ("translate", 0.15),
        ("lm_sample", 0.1),
        ("lm_stream", 0.05),
    ]
    needs = {
        "names": "names",
        "analogy": "vectors",
        "similar": "vectors",
        "classify": "classify",
        "translate": "translate",
        "lm_sample": "lm",
        "lm_stream": "lm",
    }
    kinds = [(k, w) for k, w in kinds if needs[k] in inputs]
    p = np.array([w for _, w in kinds]) / sum(w for _, w in kinds)
    out = []
    for i, j in enumerate(rng.choice(len(kinds), size=n, p=p)):
        kind = kinds[j][0]
        if kind == "names":
            out.append((kind, "/api/names", {"n": 10, "seed": i, "temperature": 1.0}))
        elif kind == "analogy":
            q = inputs.get("analogies", ["king - man + woman"])
            out.append(
                (
                    kind,
                    "/api/embed/analogy",
                    {"vectors": inputs["vectors"], "query": q[i % len(q)], "topn": 5},
                )
            )
        elif kind == "similar":
            w = inputs.get("words", ["king"])
            out.append(
                (
                    kind,
                    "/api/embed/similar",
                    {"vectors": inputs["vectors"], "word": w[i % len(w)], "topn": 10},
                )
            )
        elif kind == "classify":
            s = inputs["sentences"]
            out.append((kind, "/api/classify", {"run": inputs["classify"], "text": s[i % len(s)]}))
        elif kind == "translate":
            s = inputs["french"]
            out.append(
                (kind, "/api/translate", {"run": inputs["translate"], "text": s[i % len(s)], "beam": 5})
            )
        elif kind == "lm_sample":
            out.append(
                (
                    kind,
                    "/api/lm/sample",
                    {
                        "run": inputs["lm"],
                        "prime": inputs.get("prime", ""),
                        "length": 200,
                        "temperature": 0.8,
                        "seed": i,
                    },
                )
            )
        else:
            out.append(
                (
                    kind,
                    "/api/lm/stream",
                    {
                        "run": inputs["lm"],
                        "prime": inputs.get("prime", ""),
                        "length": 200,
                        "temperature": 0.8,
                        "seed": i,
                    },
                )
            )
    return out


def call(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, bytes]:
    """One request on a kept-alive connection; the stream endpoint is a GET read to its end."""
    if path == "/api/lm/stream":
        from urllib.parse import urlencode

        conn.request("GET", path + "?" + urlencode(body))
    else:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def load(
    port: int, requests: list[tuple[str, str, dict]], clients: int, timeout: float = 600.0
) -> list[dict]:
    """Send `requests` from `clients` threads (each its own connection), every request once;
    returns one record per request: kind, status, seconds, body (bytes), index."""
    todo: queue.Queue = queue.Queue()
    for i, r in enumerate(requests):
        todo.put((i, *r))
    records: list[dict] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < deadline:
            try:
                i, kind, path, body = todo.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            try:
                status, data = call(conn, path, body)
            except (OSError, http.client.HTTPException) as e:
                status, data = -1, repr(e).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                records.append(
                    {
                        "index": i,
                        "kind": kind,
                        "status": status,
                        "seconds": time.perf_counter() - t0,
                        "body": data,
                    }
                )
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(records, key=lambda r: r["index"])


def summarise(records: list[dict], seconds: float | None = None) -> dict:
    by_kind: dict[str, list[float]] = {}
    for r in records:
        by_kind.setdefault(r["kind"], []).append(r["seconds"] * 1000)
    out = {
        k: {
            "n": len(v),
            "p50_ms": round(float(np.percentile(v, 50)), 1),
            "p95_ms": round(float(np.percentile(v, 95)), 1),
            "max_ms": round(max(v), 1),
        }
        for k, v in sorted(by_kind.items())
    }
    if seconds:
        out["_all"] = {"n": len(records), "requests_per_s": round(len(records) / seconds, 1)}
    return out


# ------------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], log_path: Path, timeout: float = 600.0) -> tuple[subprocess.Popen, int]:
    """`python -m seqlab serve ARGV --port P` on a free port; returns once /api/health answers
    and the names model (if any) is ready."""
    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqlab", "serve", "--port", str(port), *argv],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"seqlab serve exited: {log_path.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/names/status")
            state = json.loads(conn.getresponse().read())["state"]
            if state not in ("loading", "training"):
                return proc, port
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("seqlab serve did not come up in time")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# ------------------------------------------------------------------------------------ the runs
def prepare_runs(d: Path, minutes: float) -> dict[str, Path]:
    """Real-sized runs with their default architectures (trained briefly if missing)."""
    d.mkdir(parents=True, exist_ok=True)
    runs = {"shakespeare": d / "shakespeare", "mr": d / "mr", "fr-en": d / "fr-en"}
    if not (runs["shakespeare"] / "model.pt").exists():
        seqlab("lm", "train", "tinyshakespeare", "-o", runs["shakespeare"], "--max-minutes", minutes)
    if not (runs["mr"] / "model.pt").exists():
        seqlab(
            "classify", "train", "mr", "-o", runs["mr"], "--model", "cnn-rand", "--epochs", 3, "--folds", 2
        )
    if not (runs["fr-en"] / "model.pt").exists():
        seqlab(
            "translate",
            "train",
            "eng-fra",
            "-o",
            runs["fr-en"],
            "--reverse",
            "--prefix-filter",
            "--max-minutes",
            minutes,
        )
    return runs


FRENCH = [
    "je suis très fatigué .",
    "il est plus grand que moi .",
    "nous sommes en retard .",
    "elle est très intelligente .",
    "je ne suis pas content .",
    "tu es mon ami .",
]
SENTENCES = [
    "a gorgeous , witty , seductive movie .",
    "the plot is nothing but boilerplate clichés .",
    "an utterly charming and hilarious film that reminds us how good movies can be .",
    "it's so laddish and juvenile , only teenage boys could possibly find it funny .",
]
ANALOGIES = ["king - man + woman", "paris - france + italy", "walking - walk + swim", "brother - man + woman"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs-dir", type=Path, default=Path("/tmp/serve_bench"))
    ap.add_argument("--train-minutes", type=float, default=3.0, help="budget of each missing run")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--single", type=int, default=40, help="requests per endpoint from one client")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.requests <= 5000:
        ap.error("keep the load bounded: --clients 1..64, --requests 1..5000")
    runs = prepare_runs(args.runs_dir, args.train_minutes)
    load_before = uptime()
    argv = [a for name, path in runs.items() for a in ("--run", f"{name}={path}")]
    argv += [
        "--vectors",
        "glove-6b-50d",
        "--names",
        "--cache-dir",
        str(args.runs_dir / "cache"),
        "--workers",
        str(args.workers),
    ]
    log_path = args.runs_dir / "serve.log"
    proc, port = start_server(argv, log_path)
    try:
        inputs = {
            "names": True,
            "lm": "shakespeare",
            "classify": "mr",
            "translate": "fr-en",
            "vectors": "glove-6b-50d",
            "sentences": SENTENCES,
            "french": FRENCH,
            "analogies": ANALOGIES,
            "words": ["king", "frog", "computer", "france"],
            "prime": "ROMEO:",
        }
        loaded_at_start = log_path.read_text().count("loaded")
        load(port, mix(40, inputs, seed=99), clients=2)  # warm-up
        single = []
        for kind in ("names", "analogy", "similar", "classify", "translate", "lm_sample"):
            reqs = [r for r in mix(args.single * 12, inputs, seed=1) if r[0] == kind][: args.single]
            single += load(port, reqs, clients=1)
        rss0 = rss_mb(proc.pid)
        t0 = time.perf_counter()
        records = load(port, mix(args.requests, inputs, seed=2), clients=args.clients)
        wall = time.perf_counter() - t0
        rss1 = rss_mb(proc.pid)
        loaded_after = log_path.read_text().count("loaded")
    finally:
        proc.terminate()
        proc.wait(30)
    load_after = uptime()
    errors = [r for r in single + records if r["status"] != 200]
    one, many = summarise(single), summarise(records, wall)
    goals = {
        k: {"goal_p95_ms": g, "p95_ms": one[k]["p95_ms"], "met": one[k]["p95_ms"] < g}
        for k, g in GOALS_MS.items()
        if k in one
    }
    data = {
        "machine": machine_info(),
        "uptime_before": load_before,
        "uptime_after": load_after,
        "clients": args.clients,
        "requests": len(records),
        "workers": args.workers,
        "errors": len(errors),
        "error_samples": [e["body"][:200].decode("utf-8", "replace") for e in errors[:5]],
        "models_loaded_at_start": loaded_at_start,
        "models_loaded_after_load": loaded_after,
        "rss_mb_before": round(rss0, 1),
        "rss_mb_after": round(rss1, 1),
        "single_client": one,
        "concurrent": many,
        "goals_single_client": goals,
        "runs": {k: str(v) for k, v in runs.items()},
    }
    lines = [
        f"# seqlab serve under load ({data['machine']['date']}, commit {data['machine']['commit']})",
        "",
        f"Machine: {data['machine']['cpu']}, {data['machine']['cores']} cores"
        f"{', shared with other jobs' if os.getloadavg()[2] > data['machine']['cores'] else ''}. "
        f"`uptime` before: `{load_before}`; after: `{load_after}`.",
        "",
        f"Server: `seqlab serve --workers {args.workers}` with a 2x512 LSTM (Shakespeare), Kim's CNN "
        "(cnn-rand, MR), the attention seq2seq (fr-en, default sizes), the default names model and "
        "glove-6b-50d.",
        "",
        "## One client (no queueing): the issue's goals",
        "",
        "| endpoint | n | p50 ms | p95 ms | goal p95 | met |",
        "|---|---|---|---|---|---|",
    ]
    for k, v in one.items():
        g = GOALS_MS.get(k)
        lines.append(
            f"| {k} | {v['n']} | {v['p50_ms']} | {v['p95_ms']} | {f'< {g} ms' if g else ''} | "
            f"{('yes' if v['p95_ms'] < g else 'no') if g else ''} |"
        )
    lines += [
        "",
        f"## {args.clients} concurrent clients, {len(records)} mixed requests",
        "",
        f"{many['_all']['requests_per_s']} requests/s over {wall:.1f} s; {len(errors)} errors; models "
        f"loaded at start {loaded_at_start}, after the load {loaded_after} (no reload); resident memory "
        f"{rss0:.0f} MB before, {rss1:.0f} MB after.",
        "",
        "| endpoint | n | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {v['n']} | {v['p50_ms']} | {v['p95_ms']} | {v['max_ms']} |"
        for k, v in many.items()
        if k != "_all"
    ]
    lines += [
        "",
        f"With {args.workers} model calls at a time, the others queue: latency under load is mostly "
        "waiting, so the goals are judged on the one-client table.",
    ]
    write_results("serve", data, "\n".join(lines))
    print("\n".join(lines))
    return 1 if errors or loaded_after != loaded_at_start else 0


if __name__ == "__main__":
    sys.exit(main())
