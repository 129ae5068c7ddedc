"""seqlab against its peers on one GPU (issue 27, part 3), in one call on a lent GPU:

| work | peer | seqlab |
| --- | --- | --- |
| Tiny Shakespeare, best val loss (last 10%) | nanoGPT shakespeare_char | lm train (auto, gpu preset) |
| names, loss on makemore's test split | makemore transformer, GRU | lm train --mode lines |
| translation fr->en (full filtered set), BLEU | - | translate train |
| Kim's table, CNN-rand over the 7 datasets | - | classify table --rows cnn-rand |

    python benchmarks/gpu_bench.py --stage-only     # here: copy data + peers into benchmarks/out/gpu_bench
    python benchmarks/gpu_bench.py --dry-run        # the plan: every command, its budget, the total
    PYTHONPATH=src python benchmarks/gpu_bench.py --tasks tests,check,shakespeare --scale 0.5   # on the GPU

The device tool sends the checkout, not ../shared: stage here first and name `benchmarks/out/gpu_bench`
(git-ignored, about 15 MB) in `carry`. Each system gets the same wall-clock budget per task: a peer
is stopped at it (its best evaluation so far counts; nanoGPT's own config ends by itself after 5,000
iterations), seqlab gets it as --max-minutes (its training time; start-up and the final evaluation
come on top). Losses: nanoGPT's is the mean over 200 batches of 64 random 256-character windows of
the last 10% with a fresh state; seqlab's own is the whole last 10% read in order, state carried,
and this script also measures seqlab's the nanoGPT way (window_loss). makemore's test loss is the
mean over its 1,000 held-out names (end marker included); seqlab trains on makemore's training
names (makemore_split, the same seeded permutation) and is scored on the same 1,000 with `lm eval`.
Writes benchmarks/results/gpu_bench.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "benchmarks" / "out" / "gpu_bench"  # git-ignored (benchmarks/out/)
SHARED = ROOT.parent / "shared"
DATA_DIRS = ("tinyshakespeare", "names", "translation", "sentence_classification")
TASKS = ("tests", "check", "shakespeare", "names", "translate", "classify")
BUDGETS = {"tests": 300, "check": 300, "shakespeare": 300, "names": 120, "translate": 300, "classify": 600}
MAKEMORE_SEED = 3407  # makemore's --seed default, which also draws its test split
# makemore imports tensorboard only to log; a writer that does nothing keeps makemore.py unmodified
MAKEMORE_RUNNER = (
    "import runpy, sys, types\n"
    "class W:\n"
    "    def __init__(self, *a, **k): pass\n"
    "    def __getattr__(self, n): return lambda *a, **k: None\n"
    "m = types.ModuleType('torch.utils.tensorboard'); m.SummaryWriter = W\n"
    "sys.modules['torch.utils.tensorboard'] = m\n"
    "sys.argv = ['makemore.py'] + sys.argv[1:]\n"
    "runpy.run_path('makemore.py', run_name='__main__')\n"
)


# ---------------------------------------------------------------------------------------- staging
def stage(stage_dir: Path = STAGE, shared: Path = SHARED) -> dict:
    """Copy the data folders and the peers into `stage_dir` (once: a staged folder is kept, as on the
    GPU machine, where ../shared does not exist). Returns the staged size in bytes per folder."""
    data_src = Path(os.environ.get("SEQLAB_DATA") or shared / "data")
    for name in DATA_DIRS:
        dst = stage_dir / "data" / name
        if not dst.exists():
            if not (data_src / name).exists():
                raise SystemExit(f"gpu_bench: {data_src / name} not found, and nothing staged in {dst}")
            shutil.copytree(data_src / name, dst)
    for peer in ("nanogpt", "makemore"):
        if not (stage_dir / "peers" / peer).exists():
            shutil.copytree(shared / "peers" / peer, stage_dir / "peers" / peer)
    return {
        str(p.relative_to(stage_dir)): sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        for p in [*(stage_dir / "data").iterdir(), *(stage_dir / "peers").iterdir()]
    }


def nanogpt_prepare(text: str, out_dir: Path) -> dict:
    """What nanoGPT's data/shakespeare_char/prepare.py writes (train.bin, val.bin, meta.pkl), without
    its `import requests` (not on the GPU machine): characters sorted, first 90% train."""
    import pickle

    import numpy as np

    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    n = len(text)
    for name, part in (("train", text[: int(n * 0.9)]), ("val", text[int(n * 0.9) :])):
        np.array([stoi[c] for c in part], dtype=np.uint16).tofile(out_dir / f"{name}.bin")
    meta = {"vocab_size": len(chars), "itos": dict(enumerate(chars)), "stoi": stoi}
    with open(out_dir / "meta.pkl", "wb") as f:
        pickle.dump(meta, f)
    return meta


def makemore_split(path: Path, seed: int = MAKEMORE_SEED) -> tuple[list[str], list[str]]:
    """makemore's create_datasets split: stripped non-empty lines, torch.manual_seed(seed), then the
    last min(1000, 10%) of torch.randperm are the test names."""
    import torch

    words = [w.strip() for w in path.read_text().splitlines()]
    words = [w for w in words if w]
    torch.manual_seed(seed)
    n_test = min(1000, int(len(words) * 0.1))
    rp = torch.randperm(len(words)).tolist()
    return [words[i] for i in rp[:-n_test]], [words[i] for i in rp[-n_test:]]


# ---------------------------------------------------------------------------------------- parsing
NANOGPT_EVAL = re.compile(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)")
MAKEMORE_EVAL = re.compile(r"step (\d+) train loss: ([\d.]+) test loss: ([\d.]+)")


def parse_evals(pattern: re.Pattern, lines: list[tuple[float, str]]) -> list[dict]:
    """[{step, train, val, seconds}] from a peer's (seconds, line) log."""
    out = []
    for t, line in lines:
        m = pattern.search(line)
        if m:
            out.append({"step": int(m[1]), "train": float(m[2]), "val": float(m[3]), "seconds": round(t, 1)})
    return out


def best(evals: list[dict]) -> dict | None:
    return min(evals, key=lambda e: e["val"]) if evals else None


def window_loss(model, ids, block: int = 256, batches: int = 200, batch_size: int = 64, seed: int = 1337):
    """nanoGPT's estimate_loss on a seqlab model: mean cross-entropy over `batches` x `batch_size`
    random windows of `block` + 1 ids, each read from a fresh (zero) state."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    total = 0.0
    model.eval()
    with torch.no_grad():
        for _ in range(batches):
            start = torch.randint(len(ids) - block - 1, (batch_size,), generator=gen)
            win = torch.stack([ids[s : s + block + 1] for s in start.tolist()]).to(dev)  # (B, block+1)
            logits, _ = model(win[:, :-1])  # (B, block, V)
            total += float(F.cross_entropy(logits.float().flatten(0, 1), win[:, 1:].flatten()))
    return total / batches


# ---------------------------------------------------------------------------------------- the plan
def plan(tasks: list[str], budgets: dict[str, float], stage_dir: Path = STAGE) -> list[dict]:
    """The steps to run: {task, name, argv, cwd, timeout (s)}; seqlab's budget is its --max-minutes."""
    py, runs, steps = sys.executable, stage_dir / "runs", []

    def add(task, name, argv, cwd=ROOT, timeout=None):
        steps.append({"task": task, "name": name, "argv": argv, "cwd": str(cwd), "timeout": timeout})

    b = budgets
    if "tests" in tasks:
        add(
            "tests",
            "pytest -m gpu",
            [py, "-m", "pytest", "-m", "gpu", "-q", "tests/test_gpu.py"],
            timeout=b["tests"],
        )
    if "check" in tasks:
        add("check", "gpu_check.py", [py, "benchmarks/gpu_check.py"], timeout=b["check"])
    if "shakespeare" in tasks:
        nano = stage_dir / "work" / "nanogpt"
        add(
            "shakespeare",
            "nanoGPT",
            [py, "train.py", "config/train_shakespeare_char.py"],
            nano,
            b["shakespeare"],
        )
        add(
            "shakespeare",
            "seqlab",
            [py, "-m", "seqlab", "lm", "train", "tinyshakespeare", "-o", runs / "shakespeare",
             "--max-minutes", b["shakespeare"] / 60],
            timeout=b["shakespeare"] + 180,
        )  # fmt: skip
    if "names" in tasks:
        mm = stage_dir / "work" / "makemore"
        for kind in ("transformer", "gru"):
            argv = [py, "-c", MAKEMORE_RUNNER, "-i", "names_train_all.txt", "-o", f"out-{kind}",
                    "--type", kind, "--device", "cuda"]  # fmt: skip
            add("names", f"makemore {kind}", argv, mm, b["names"])
        add(
            "names",
            "seqlab",
            [py, "-m", "seqlab", "lm", "train", mm / "names_train.txt", "-o", runs / "names",
             "--mode", "lines", "--max-minutes", b["names"] / 60],
            timeout=b["names"] + 120,
        )  # fmt: skip
        add(
            "names",
            "seqlab eval",
            [py, "-m", "seqlab", "lm", "eval", runs / "names", mm / "names_test.txt"],
            timeout=120,
        )
    if "translate" in tasks:
        add(
            "translate",
            "seqlab",
            [py, "-m", "seqlab", "translate", "train", "eng-fra", "--reverse", "-o", runs / "fr-en",
             "--max-minutes", b["translate"] / 60],
            timeout=b["translate"] + 240,
        )  # fmt: skip
    if "classify" in tasks:
        add(
            "classify",
            "seqlab",
            [py, "-m", "seqlab", "classify", "table", "-o", runs / "kim" / "table.md", "--rows", "cnn-rand",
             "--device", "cuda"],
            timeout=b["classify"],
        )  # fmt: skip
    for s in steps:
        s["argv"] = [str(a) for a in s["argv"]]
    return steps


def prepare_work(tasks: list[str], stage_dir: Path = STAGE) -> None:
    """Fresh copies of the peers with their data in place (nanoGPT's .bin files, makemore's names)."""
    work = stage_dir / "work"
    if "shakespeare" in tasks:
        nano = work / "nanogpt"
        shutil.rmtree(nano, ignore_errors=True)
        shutil.copytree(stage_dir / "peers" / "nanogpt", nano)
        text = (stage_dir / "data" / "tinyshakespeare" / "input.txt").read_text()
        nanogpt_prepare(text, nano / "data" / "shakespeare_char")
    if "names" in tasks:
        mm = work / "makemore"
        shutil.rmtree(mm, ignore_errors=True)
        shutil.copytree(stage_dir / "peers" / "makemore", mm)
        names = stage_dir / "data" / "names" / "makemore_names.txt"
        shutil.copy(names, mm / "names_train_all.txt")  # makemore splits it itself
        train, test = makemore_split(names)
        (mm / "names_train.txt").write_text("\n".join(train) + "\n")
        (mm / "names_test.txt").write_text("\n".join(test) + "\n")
    shutil.rmtree(stage_dir / "runs", ignore_errors=True)


# ---------------------------------------------------------------------------------------- running
def run_step(step: dict, env: dict, log_dir: Path) -> dict:
    """Run one step, its output timestamped into LOG_DIR/<task>_<name>.log; at its timeout a timer
    stops its process group (SIGTERM, then SIGKILL), which is how a peer's budget ends."""
    log_dir.mkdir(parents=True, exist_ok=True)
    lines: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        step["argv"], cwd=step["cwd"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.perf_counter() + grace
            while proc.poll() is None and time.perf_counter() < deadline:
                time.sleep(0.2)

    timer = threading.Timer(step["timeout"], stop) if step["timeout"] else None
    if timer:
        timer.start()
    for line in proc.stdout:  # ends when the process (and its children) close stdout
        lines.append((time.perf_counter() - t0, line.rstrip()))
    proc.wait()
    if timer:
        timer.cancel()
    name = re.sub(r"\W+", "_", f"{step['task']}_{step['name']}")
    (log_dir / f"{name}.log").write_text("\n".join(f"{t:8.1f} {ln}" for t, ln in lines) + "\n")
    wall = round(time.perf_counter() - t0, 1)
    return {"rc": proc.returncode, "stopped_at_budget": stopped.is_set(), "wall_s": wall, "lines": lines}


def summarise(step: dict, out: dict, stage_dir: Path) -> dict:
    """The figures of one finished step."""
    r = {k: out[k] for k in ("rc", "stopped_at_budget", "wall_s")}
    runs = stage_dir / "runs"
    if step["name"] == "nanoGPT":
        evals = parse_evals(NANOGPT_EVAL, out["lines"])
        r.update(best=best(evals), last=evals[-1] if evals else None, evals=len(evals))
    elif step["name"].startswith("makemore"):
        evals = parse_evals(MAKEMORE_EVAL, out["lines"])
        r.update(best=best(evals), last=evals[-1] if evals else None, evals=len(evals))
    elif (
        step["task"] in ("shakespeare", "names", "translate") and step["name"] == "seqlab" and out["rc"] == 0
    ):
        run = runs / {"shakespeare": "shakespeare", "names": "names", "translate": "fr-en"}[step["task"]]
        m = json.loads((run / "metrics.json").read_text())
        keep = ("val_loss", "bleu", "seconds", "steps", "epochs", "best_step", "device", "preset", "params")
        r.update({k: m[k] for k in keep if k in m})
        if step["task"] == "shakespeare":
            r["window_loss"] = shakespeare_window_loss(run, stage_dir)
    elif step["name"] == "seqlab eval" and out["rc"] == 0:
        r["test_loss"] = json.loads([ln for _, ln in out["lines"] if ln.startswith("{")][-1])["loss"]
    else:
        r["tail"] = [ln for _, ln in out["lines"][-5:]]
    return r


def shakespeare_window_loss(run: Path, stage_dir: Path) -> float:
    """seqlab's best model scored as nanoGPT scores its own (window_loss on the last 10%)."""
    import torch

    from seqlab.charlm.language_model import CharLM

    lm = CharLM.load(run)
    text = (stage_dir / "data" / "tinyshakespeare" / "input.txt").read_text()
    val = text[int(len(text) * 0.9) :]
    ids = torch.tensor([lm.vocab.stoi[c] for c in val])
    return round(window_loss(lm.model, ids), 4)


def markdown(results: dict, info: dict) -> str:
    md = [f"# seqlab and its peers on {info.get('gpu', 'no GPU')} ({info['date']})", ""]
    md += [
        "| task | system | budget s | wall s | figure | how measured |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    how = {
        "nanoGPT": "best val loss: mean over 200x64 random 256-char windows, fresh state",
        "makemore transformer": "best test loss over its 1,000 test names (end marker counted)",
        "makemore gru": "best test loss over its 1,000 test names (end marker counted)",
    }
    for s in results["steps"]:
        r, fig = s["result"], ""
        if r.get("best"):
            fig = f"{r['best']['val']:.4f} at step {r['best']['step']} ({r['best']['seconds']} s)"
        elif "val_loss" in r and s["task"] == "shakespeare":
            fig = (
                f"{r['val_loss']:.4f} (whole last 10%, state carried); {r.get('window_loss')} (nanoGPT's way)"
            )
        elif "test_loss" in r:
            fig = f"{r['test_loss']:.4f} on makemore's 1,000 test names"
        elif "bleu" in r:
            fig = f"test BLEU {r['bleu']:.2f}"
        else:
            fig = f"rc {r['rc']}"
        note = how.get(s["name"], f"{r.get('device', '')} {r.get('preset', '')}".strip())
        md.append(f"| {s['task']} | {s['name']} | {s['timeout']} | {r['wall_s']} | {fig} | {note} |")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, from {', '.join(TASKS)}")
    ap.add_argument(
        "--scale", type=float, default=1.0, help="multiply every budget (e.g. 0.5 to fit one call)"
    )
    ap.add_argument("--budget", action="append", default=[], metavar="TASK=SECONDS", help="one task's budget")
    ap.add_argument("--stage-only", action="store_true", help="copy data and peers, then stop")
    ap.add_argument("--dry-run", action="store_true", help="stage and print the plan; run nothing")
    args = ap.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown or args.scale <= 0:
        ap.error(f"unknown task(s) {', '.join(unknown)}" if unknown else "--scale must be positive")
    budgets = {k: v * args.scale for k, v in BUDGETS.items()}
    for spec in args.budget:
        task, _, seconds = spec.partition("=")
        if task not in TASKS or not seconds.replace(".", "", 1).isdigit():
            ap.error(f"--budget {spec!r} should be TASK=SECONDS with TASK one of {', '.join(TASKS)}")
        budgets[task] = float(seconds)
    sizes = stage(STAGE, SHARED)
    if args.stage_only:
        print(f"staged {sum(sizes.values()) / 1e6:.1f} MB in {STAGE}: carry benchmarks/out/gpu_bench")
        return 0
    steps = plan(tasks, budgets, STAGE)
    if args.dry_run:
        for s in steps:
            where = f"{s['task']}] {s['name']}: up to {s['timeout']:.0f} s"
            shown = ["<makemore.py, tensorboard stubbed>" if a == MAKEMORE_RUNNER else a for a in s["argv"]]
            print(f"[{where}: {' '.join(shown)}  (in {s['cwd']})")
        total = sum(s["timeout"] for s in steps)
        print(
            f"at most {total:.0f} s in all"
            + ("; over one device call (600 s): use --tasks/--scale" if total > 540 else "")
        )
        return 0
    import torch

    if not torch.cuda.is_available():
        print("gpu_bench: torch sees no CUDA GPU here; stage here, run it on a lent GPU", file=sys.stderr)
        return 2
    prepare_work(tasks, STAGE)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SEQLAB_DATA": str(STAGE / "data"),
           "SEQLAB_CACHE": str(STAGE / "cache"), "MPLBACKEND": "Agg"}  # fmt: skip
    info = {**machine_info(), "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    results = {"machine": info, "budgets": budgets, "steps": []}
    for s in steps:
        print(f"[{s['task']}] {s['name']} (up to {s['timeout']:.0f} s)", file=sys.stderr, flush=True)
        out = run_step(s, env, STAGE / "logs")
        results["steps"].append(
            {**{k: s[k] for k in ("task", "name", "argv", "timeout")}, "result": summarise(s, out, STAGE)}
        )
        write_results(
            "gpu_bench", results, markdown(results, info)
        )  # after every step: a killed call keeps the rest
    print(markdown(results, info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
